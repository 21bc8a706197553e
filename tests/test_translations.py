"""Russian and Ukrainian: phrasings matched in their language, and every curator text written in each
language the knowledge declares, quotes staying the article's English words beside a translation."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.loader import KnowledgeError, load_knowledge
from bot.model import KnowledgeBase, Translatable

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"


def test_entries_carry_phrasings_per_language(engine: Engine) -> None:
    with_both = [e for e in engine.entries if e.translations.get("ru") and e.translations.get("uk")]
    assert len(with_both) == len(engine.entries)


@pytest.mark.parametrize(
    ("replacement", "reason"),
    [
        ("    ru:\n      alternates:\n        - Де відбулися переговори?\n", "listed as 'ru' but reads as 'uk'"),
        ("    uk:\n      alternates:\n        - Где прошли переговоры? Ещё раз\n", "listed as 'uk' but reads as 'ru'"),
        ("    ru: [a list]\n", "must be a mapping"),
        ("    ru:\n      alternate: [где]\n", "unknown field 'alternate'"),
    ],
)
def test_broken_translations_name_file_and_line(tmp_path: Path, replacement: str, reason: str) -> None:
    folder = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, folder)
    faq = folder / "faq.yaml"
    lines = faq.read_text(encoding="utf-8").splitlines(keepends=True)
    start = lines.index("  - id: talks-where\n")
    block = replacement.split(":", 1)[0] + ":\n"
    ru = next(i for i in range(start, len(lines)) if lines[i] == block)
    end = next(i for i in range(ru + 1, len(lines)) if not lines[i].startswith("      "))
    lines[ru:end] = [replacement]
    faq.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(folder)
    problems = caught.value.problems
    assert any(reason in p.reason and p.file.endswith("faq.yaml") and p.line > ru for p in problems), problems


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("Как Мединский охарактеризовал переговоры в Стамбуле?", "medinsky-meaningful"),
        ("Чи обстрілювали Чернігів після переговорів?", "chernigiv-bombardment"),
        ("Що Лавров сказав про західні санкції?", "western-sanctions"),
        ("Кто такой Николенко?", "who-nikolenko"),
    ],
)
def test_russian_and_ukrainian_questions_are_answered(engine: Engine, question: str, entry: str) -> None:
    reply = engine.ask(question)
    assert reply.matched and reply.entry is not None and reply.entry.id == entry
    assert reply.lang in {"ru", "uk"}


# -- the curator's texts in every declared language -------------------------------------------------

_UKRAINIAN_ONLY = re.compile("[іїєґ]", re.IGNORECASE)
_RUSSIAN_ONLY = re.compile("[ыэъё]", re.IGNORECASE)
_CYRILLIC_WORD = re.compile(r"[\u0400-\u04ff]+")


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge(KNOWLEDGE)


def translated(kb: KnowledgeBase) -> Iterator[tuple[str, Translatable, tuple[str, ...]]]:
    """Every value with curator text, and the fields it must have in each declared language."""
    yield "article", kb.article, ("title", "summary", "published_text")
    for speaker in kb.speakers.values():
        yield f"speaker {speaker.id}", speaker, ("name", "role") if speaker.role else ("name",)
    for note in kb.notes.values():
        yield f"note {note.id}", note, ("text",)
    for party in kb.parties:
        yield f"party {party.id}", party, ("name", "mentioned")
    for entry in kb.entries:
        yield f"entry {entry.id}", entry, ("topic", "question", "answer")
        for n, quote in enumerate(entry.quotes, 1):
            fields = ("translation", "channel", "role") if quote.role else ("translation", "channel")
            yield f"entry {entry.id} quote #{n}", quote, fields


def test_the_knowledge_declares_three_languages(kb: KnowledgeBase) -> None:
    assert kb.languages == ("en", "ru", "uk")


def test_every_text_exists_in_every_declared_language(kb: KnowledgeBase) -> None:
    missing = [
        f"{what}: {lang} {field}"
        for what, value, fields in translated(kb)
        for lang in kb.languages[1:]
        for field in fields
        if not value.local.get(lang, {}).get(field, "").strip()
    ]
    assert not missing
    values = list(translated(kb))
    assert sum(1 for what, _, _ in values if what.startswith("entry ") and "quote" not in what) == len(kb.entries)
    assert sum(len(e.quotes) for e in kb.entries) == sum(1 for what, _, _ in values if "quote #" in what)


def test_tr_gives_the_curators_words_in_a_declared_language_and_english_otherwise(kb: KnowledgeBase) -> None:
    for _, value, fields in translated(kb):
        for field in fields:
            if field == "translation":
                continue
            for lang in kb.languages[1:]:
                assert value.tr(field, lang) == value.local[lang][field]
            assert value.tr(field, "en") == getattr(value, field)
            assert value.tr(field, "de") == getattr(value, field)  # a language nobody declared


def test_each_text_is_written_in_its_own_language(kb: KnowledgeBase) -> None:
    """Independent of the loader's check: no Russian text has a letter only Ukrainian has, nor the
    other way round; a value's Ukrainian texts together use Ukrainian letters (a short one alone may
    not: "Як Мединський охарактеризував переговори?"); Russian ones are not mostly Latin."""
    wrong = []
    for what, value, fields in translated(kb):
        for field in fields:
            ru, uk = value.local["ru"][field], value.local["uk"][field]
            if _UKRAINIAN_ONLY.search(ru) or _RUSSIAN_ONLY.search(uk):
                wrong.append(f"{what} {field}: {ru!r} / {uk!r}")
            if len(_CYRILLIC_WORD.findall(ru)) < len(re.findall(r"[a-z]+", ru, re.IGNORECASE)):
                wrong.append(f"{what} {field}: ru mostly Latin: {ru!r}")
        ukrainian = " ".join(value.local["uk"][field] for field in fields)
        if len(_CYRILLIC_WORD.findall(ukrainian)) >= 8 and not _UKRAINIAN_ONLY.search(ukrainian):
            wrong.append(f"{what}: uk without і ї є ґ: {ukrainian!r}")
    assert not wrong


def test_a_quote_is_the_articles_english_and_its_translation_is_not(kb: KnowledgeBase) -> None:
    """The quote's text is verbatim English from the article; the translation is nowhere in it, is
    not the English, and exists only beside the quote (None in English)."""
    article = kb.article.text.replace("’", "'").replace("“", '"').replace("”", '"')
    for entry in kb.entries:
        for quote in entry.quotes:
            assert quote.text.replace("’", "'").replace("“", '"').replace("”", '"') in article
            assert quote.translation("en") is None
            for lang in kb.languages[1:]:
                translation = quote.translation(lang)
                assert translation and translation != quote.text
                assert translation not in kb.article.text
                assert not any(piece in kb.article.text for piece in re.split(r"[,.;:«»]", translation) if len(piece) > 12)


def test_a_quote_takes_its_speakers_role_in_each_language(kb: KnowledgeBase) -> None:
    for entry in kb.entries:
        for quote in entry.quotes:
            for lang in kb.languages[1:]:
                if quote.role == quote.speaker.role:
                    assert quote.tr("role", lang) == quote.speaker.tr("role", lang)


def test_one_topic_has_one_name_per_language(kb: KnowledgeBase) -> None:
    for lang in kb.languages[1:]:
        names: dict[str, set[str]] = {}
        for entry in kb.entries:
            names.setdefault(entry.topic, set()).add(entry.tr("topic", lang))
        assert all(len(found) == 1 for found in names.values()), names
        assert len({next(iter(found)) for found in names.values()}) == len(names)
