"""`bot check` refuses vocabulary that the language libraries or the other knowledge files already cover."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.analysis import shared_analyzer
from bot.loader import load_knowledge
from bot.vocabulary_check import vocabulary_problems

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
