"""Russian and Ukrainian phrasings: loaded per entry, validated with file and line, matched in their language."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.loader import KnowledgeError, load_knowledge

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
