"""Russian and Ukrainian typed in Latin letters are matched as the Cyrillic they stand for."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine import Engine
from bot.evaluation import load_questions

QUESTIONS = Path(__file__).resolve().parent / "questions.yaml"


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("ult ghj[jlbkb gthtujdjhs", "где проходили переговоры"),  # Russian layout left on English
        ("xnj crfpfk kfdhjd", "что сказал лавров"),
        ("chto skazal lavrov pro sanktsii", "что сказал лавров про санкции"),  # transliterated Russian
        ("shcho skazav lavrov", "що сказав лавров"),  # transliterated Ukrainian
        ("pryvit, shcho tam po perehovorakh", "привіт, що там по переговорах"),
    ],
)
def test_latin_typed_russian_and_ukrainian_are_retyped(engine: Engine, typed: str, meant: str) -> None:
    assert engine.retyper.retype(typed) == meant


@pytest.mark.parametrize(
    "text",
    [
        "What did Peskov say?",
        "Peskov?",
        "Lavrov i Peskov",  # names alone say nothing about the language
        "pro nato",
        "so like did they actually get anywhere in istanbul or nah",
        "what did lavrov say кратко",  # mixed scripts are written so on purpose
        "Что сказал Песков?",
    ],
)
def test_english_and_cyrillic_questions_stay_as_written(engine: Engine, text: str) -> None:
    assert engine.retyper.retype(text) == text


def test_no_english_question_of_the_curated_set_is_retyped(engine: Engine) -> None:
    english = [q.text for q in load_questions(QUESTIONS) if q.lang == "en"]
    assert [t for t in english if engine.retyper.retype(t) != t] == []


def test_a_retyped_question_is_answered_in_its_language_and_echoed_as_written(engine: Engine) -> None:
    reply = engine.ask("ult ghj[jlbkb gthtujdjhs")
    assert reply.matched and reply.entry is not None and reply.entry.id == "talks-where"
    assert reply.lang == "ru"
    assert reply.question == "ult ghj[jlbkb gthtujdjhs"
