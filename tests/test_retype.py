"""Russian and Ukrainian typed in Latin letters are matched as the Cyrillic they stand for."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import retype
from bot.engine import Engine
from bot.evaluation import load_questions, question_sets

QUESTIONS = Path(__file__).resolve().parent / "questions.yaml"


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("ult ghj[jlbkb gthtujdjhs", "где проходили переговоры"),  # Russian layout left on English
        ("xnj crfpfk kfdhjd", "что сказал лавров"),
        ("chto skazal lavrov pro sanktsii", "что сказал лавров про санкции"),  # transliterated Russian
        ("shcho skazav lavrov", "що сказав лавров"),  # transliterated Ukrainian
        ("pryvit, shcho tam po perehovorakh", "привіт, що там по переговорах"),
        ("shcho hoche ukraina vid rosii", "що хоче украіна від росіі"),  # h for х, as chats spell it
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
        "ок, а что Лавров сказал про NATO? lol",  # English and the knowledge's own Latin words
        "peskov что сказал",
    ],
)
def test_english_and_cyrillic_questions_stay_as_written(engine: Engine, text: str) -> None:
    assert engine.retyper.retype(text) == text


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("ghbdtn, что сказал песков", "привет, что сказал песков"),  # one word on the English layout
        ("Пєсков сказав ojcm про переговори", "Пєсков сказав щось про переговори"),
    ],
)
def test_a_word_typed_on_the_english_layout_in_a_cyrillic_message_is_retyped(
    engine: Engine, typed: str, meant: str
) -> None:
    assert engine.retyper.retype(typed) == meant


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("коли обстрiляли чернiгiв", "коли обстріляли чернігів"),  # a Latin i for the Ukrainian і
        ("Лавpов что сказал", "Лавров что сказал"),  # a Latin p inside a Russian name
        ("КPEМЛЬ нічого не каже", "КРЕМЛЬ нічого не каже"),  # capitals: P, E
    ],
)
def test_latin_look_alikes_inside_a_cyrillic_word_are_read_as_cyrillic(engine: Engine, typed: str, meant: str) -> None:
    assert engine.retyper.retype(typed) == meant


@pytest.mark.parametrize("text", ["лавров's words", "песков/peskov сказал", "что сказал peskov"])
def test_a_latin_letter_with_no_cyrillic_look_alike_keeps_its_word(engine: Engine, text: str) -> None:
    """Only a word whose every Latin letter looks like a Cyrillic one is retyped: "лавров's" has
    an s, "peskov" is a word of its own."""
    assert engine.retyper.retype(text) == text


def test_the_look_alikes_are_unicodes_confusables() -> None:
    table = {chr(k): v for k, v in retype.cyrillic_lookalikes().items()}
    assert table["i"] == "і" and table["p"] == "р" and table["H"] == "Н"
    assert all(v.lower() in "абвгґдеєжзиіїйклмнопрстуфхцчшщьюяыэъё" for v in table.values())
    assert "s" not in table and "d" not in table


def test_no_english_question_of_the_curated_set_is_retyped(engine: Engine) -> None:
    english = [q.text for q in load_questions(QUESTIONS) if q.lang == "en"]
    assert [t for t in english if engine.retyper.retype(t) != t] == []


def test_a_retyped_question_is_answered_in_its_language_and_echoed_as_written(engine: Engine) -> None:
    reply = engine.ask("ult ghj[jlbkb gthtujdjhs")
    assert reply.matched and reply.entry is not None and reply.entry.id == "talks-where"
    assert reply.lang == "ru"
    assert reply.question == "ult ghj[jlbkb gthtujdjhs"


def _reference(spellings: retype.Spellings, text: str) -> str:
    """The spelling tables read as they were before one regular expression read them: at each
    place of a Latin word (lowercased), the first spelling it has there, else the letter as it is."""

    def word(found: re.Match[str]) -> str:
        latin, out, i = found.group().lower(), [], 0
        while i < len(latin):
            for spelling, letter in spellings:
                if latin.startswith(spelling, i):
                    out.append(letter)
                    i += len(spelling)
                    break
            else:
                out.append(latin[i])
                i += 1
        return "".join(out)

    return re.sub(r"[a-z]+", word, text, flags=re.IGNORECASE)


TABLES = retype.transliteration_tables()


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzKHSZYJ '-,.?яії1\n", max_size=40))
def test_the_transliteration_tables_read_as_the_reference_reads_them(text: str) -> None:
    for spellings in TABLES:
        assert retype._inverted(spellings)(text) == _reference(spellings, text)


def test_the_tables_read_every_question_as_the_reference_does() -> None:
    texts = [q.text for path in question_sets(QUESTIONS.parent) for q in load_questions(path)]
    for spellings in TABLES:
        inverted = retype._inverted(spellings)
        assert [inverted(t) for t in texts] == [_reference(spellings, t) for t in texts]
