"""Every quote is the article's own words, said by whom the FAQ says — checked without the loader.

This reads the knowledge files with plain ``yaml.safe_load`` and re-implements the rule from the
schema in the simplest possible way, so a bug in the loader's own check cannot hide a misquote.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
import yaml

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"
SEED_ARTICLE = Path(__file__).resolve().parent.parent.parent / "shared" / "seed" / "article.txt"
# The reference: the AFP text as published (knowledge/article.txt). Every check here reads that file;
# this digest proves it is still the published text, whether or not a shared seed copy is around.
ARTICLE_SHA256 = "120fa31b93afa96f35bcb3c63adc24c22fdfe82c8865ffe4cea8dbbca2e817ca"
CONTEXT_LINES = 3  # the speaker must be named in the quote's line or in this many lines before it

# The only liberty a quote may take: curly quote marks written straight (or the other way round).
QUOTE_MARKS = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "‟": '"'})


def straight(text: str) -> str:
    return text.translate(QUOTE_MARKS)


def load(name: str):
    return yaml.safe_load((KNOWLEDGE / name).read_text(encoding="utf-8"))


def article_lines() -> list[str]:
    """The article's lines that may be quoted: not empty, not page boilerplate, in order."""
    meta = load("article.yaml")
    boilerplate = {line.strip() for line in meta.get("not_quotable") or []}
    text = (KNOWLEDGE / meta["text_file"]).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and line.strip() not in boilerplate]


def speakers() -> dict[str, dict]:
    return {s["id"]: s for s in load("speakers.yaml")["speakers"]}


def all_quotes() -> list[tuple[str, dict]]:
    """(faq file, entry id, quote) for every quote of every entry in every faq*.yaml file."""
    found = []
    for path in sorted(KNOWLEDGE.glob("faq*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for entry in data["entries"]:
            for number, quote in enumerate(entry["quotes"], 1):
                found.append((f"{path.name}:{entry['id']}#{number}", quote))
    return found


def names(line: str, phrase: str) -> bool:
    """Whether a line names someone by this phrase: whole words, any case, any quote marks."""
    pattern = r"(?<!\w)" + re.escape(straight(phrase).casefold()) + r"(?!\w)"
    return re.search(pattern, straight(line).casefold()) is not None


QUOTES = all_quotes()


def test_knowledge_has_quotes():
    assert list(KNOWLEDGE.glob("faq*.yaml")), "no faq*.yaml in knowledge/"
    assert len(QUOTES) >= 20, f"only {len(QUOTES)} quotes in the FAQ"


@pytest.mark.parametrize(("where", "quote"), QUOTES, ids=[where for where, _ in QUOTES])
def test_quote_is_verbatim_and_attributed(where: str, quote: dict):
    lines = article_lines()
    who = speakers()
    text = quote["text"]
    assert isinstance(text, str) and text.strip() == text and text, f"{where}: quote text {text!r}"
    assert quote["speaker"] in who, f"{where}: unknown speaker {quote['speaker']!r}"
    speaker = who[quote["speaker"]]
    holders = [i for i, line in enumerate(lines) if straight(text) in straight(line)]
    assert holders, f"{where}: not verbatim in any quotable article line: {text!r}"
    if speaker.get("narrator"):
        return  # the report's own voice: nobody is named as saying it
    # A person's words are words the article puts in quotation marks...
    spoken = [i for i in holders if any(straight(text) in span for span in quotations(lines[i]))]
    assert spoken, (
        f"{where}: {text!r} is not inside quotation marks in the article, so not {speaker['name']}'s words"
    )
    # ...in a line that names them, or that follows the nearest line naming anyone who speaks.
    people = {k: v for k, v in who.items() if not v.get("narrator")}
    attributed = []
    for i in spoken:
        for j in range(i, max(-1, i - CONTEXT_LINES - 1), -1):
            named = {k for k, v in people.items() if any(names(outside(lines[j]), p) for p in phrases_of(v))}
            if named:
                if quote["speaker"] in named:
                    attributed.append((i, j))
                break
    assert attributed, f"{where}: the article gives {text!r} to someone other than {speaker['name']}"
    # The channel is the article's own wording, found where the article attributes the words.
    words = [w for w in re.findall(r"\w+", straight(quote["channel"]).casefold()) if len(w) > 3]
    assert any(
        all(names(outside(lines[i]) + " " + outside(lines[j]), w) for w in words) for i, j in attributed
    ), f"{where}: the article does not say {text!r} came {quote['channel']!r}"
    role = quote.get("role")
    if role:
        assert any(
            straight(role).casefold() == straight(p).casefold()
            for p in [*phrases_of(speaker), speaker.get("role") or ""]
        ), f"{where}: {role!r} is not how the article describes {speaker['name']}"


def quotations(line: str) -> list[str]:
    return re.findall(r'"([^"]*)"', straight(line))


def outside(line: str) -> str:
    """A line without its quotations: the reporter's words about who said what."""
    return re.sub(r'"[^"]*"', " ", straight(line))


def phrases_of(speaker: dict) -> list[str]:
    return [speaker["name"], *(speaker.get("mentions") or [])]


def test_quote_roles_are_the_articles_words():
    article = straight((KNOWLEDGE / load("article.yaml")["text_file"]).read_text(encoding="utf-8")).casefold()
    who = speakers()
    for where, quote in QUOTES:
        role = quote.get("role") or who[quote["speaker"]].get("role")
        if role:
            assert straight(role).casefold() in article, f"{where}: role {role!r} is not in the article"


def test_speakers_are_named_in_the_article():
    text = (KNOWLEDGE / load("article.yaml")["text_file"]).read_text(encoding="utf-8")
    for speaker in speakers().values():
        for phrase in [speaker["name"], *(speaker.get("mentions") or [])]:
            assert names(text, phrase), f"speaker {speaker['id']}: {phrase!r} is not in the article"


def test_article_is_the_published_text():
    ours = KNOWLEDGE / load("article.yaml")["text_file"]
    assert hashlib.sha256(ours.read_bytes()).hexdigest() == ARTICLE_SHA256, f"{ours.name} was altered"


SEEDS = [SEED_ARTICLE] if SEED_ARTICLE.is_file() else []  # only where a shared seed copy exists


@pytest.mark.parametrize("seed", SEEDS, ids=["shared-seed"] * len(SEEDS))
def test_article_is_the_seed_byte_for_byte(seed: Path):
    ours = KNOWLEDGE / load("article.yaml")["text_file"]
    assert ours.read_bytes() == seed.read_bytes(), f"{ours.name} differs from the seed article"
