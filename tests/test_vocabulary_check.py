"""`bot check` refuses vocabulary that the language libraries or the other knowledge files already cover."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.analysis import shared_analyzer
from bot.loader import load_knowledge
from bot.matcher import Matcher
from bot.vocabulary_check import bare_name_alternates, indistinct_phrasings, vocabulary_problems

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


def test_the_shipped_vocabulary_is_clean() -> None:
    assert vocabulary_problems(KNOWLEDGE, load_knowledge(KNOWLEDGE), shared_analyzer()) == []


def test_the_shipped_vocabulary_is_short() -> None:
    assert len((KNOWLEDGE / "vocabulary.yaml").read_text(encoding="utf-8").splitlines()) < 250


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("  kyiv: [", "  kyiv: [kyivs, ", "the analysis reads it as"),  # an English plural
        ("  kyiv: [", "  kyiv: [києва, ", "the analysis reads it as"),  # a Ukrainian case form
        ("  kyiv: [", "  kyiv: [песков, ", "already a name in speakers or parties"),
        ("stopwords: [", "stopwords: [because, ", "the standard list has it"),
        ("keep: [", "keep: [crimea, ", "no standard list drops it"),
        ("opinion: [", "opinion: [believes, ", "reads as"),  # 'believe' further on reads the same
    ],
)
def test_redundant_vocabulary_is_refused(tmp_path: Path, old: str, new: str, reason: str) -> None:
    folder = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, folder)
    path = folder / "vocabulary.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text, "test setup"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    problems = vocabulary_problems(folder, load_knowledge(folder), shared_analyzer())
    assert problems and all(p.file.endswith("vocabulary.yaml") and p.line > 0 for p in problems)
    assert any(reason in p.reason for p in problems), problems


def test_the_shipped_faq_has_no_bare_name_alternates() -> None:
    folder = KNOWLEDGE
    assert bare_name_alternates(folder, Matcher(load_knowledge(folder))) == []


def test_a_bare_name_alternate_is_refused(tmp_path: Path) -> None:
    """ "china" alone as a phrasing would make "best things to see in Beijing" a perfect match."""
    folder = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, folder)
    path = folder / "faq.yaml"
    text = path.read_text(encoding="utf-8")
    old = "    alternates:\n"
    assert old in text, "test setup"
    path.write_text(text.replace(old, old + "      - China\n      - Китай нет\n", 1), encoding="utf-8")
    problems = bare_name_alternates(folder, Matcher(load_knowledge(folder)))
    assert [p.reason.split(" of ")[0] for p in problems] == ["alternate 'China'"], problems
    assert problems[0].file.endswith("faq.yaml") and problems[0].line > 0


def test_phrasings_two_entries_share_word_for_word_are_listed_with_their_line(tmp_path: Path) -> None:
    """An alternate of one entry that reads as the same words as another entry's can only tie with it;
    the list names the new one's file and line and the entry it collides with."""
    folder = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, folder)
    before = {(p.line, p.reason) for p in indistinct_phrasings(folder, Matcher(load_knowledge(folder)))}
    path = folder / "faq.yaml"
    text = path.read_text(encoding="utf-8")
    old = "  - id: talks-where\n"
    assert old in text, "test setup"
    start = text.index(old)
    at = text.index("    alternates:\n", start) + len("    alternates:\n")
    path.write_text(text[:at] + "      - what happened at the peace talks\n" + text[at:], encoding="utf-8")
    found = indistinct_phrasings(folder, Matcher(load_knowledge(folder)))
    new = [p for p in found if (p.line, p.reason) not in before and "'talks-where'" in p.reason]
    assert len(new) == 1, found
    line = text[:at].count("\n") + 1
    assert new[0].file.endswith("faq.yaml") and new[0].line == line, new
    assert "'talks-overview'" in new[0].reason


def test_the_shipped_faq_lists_only_phrasings_where_either_answer_would_do() -> None:
    """What the shipped knowledge still shares on purpose (see the README): a reworded one is not listed."""
    alike = indistinct_phrasings(KNOWLEDGE, Matcher(load_knowledge(KNOWLEDGE)))
    texts = {p.reason.split("' of '")[0].strip("'") for p in alike}
    assert "будут ли ещё переговоры" not in texts and "did they meet face to face" not in texts
    assert len(alike) <= 7, alike
