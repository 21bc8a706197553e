"""The Zipf table shipped in bot/data agrees with wordfreq, its source."""

from __future__ import annotations

import pytest
from wordfreq import top_n_list
from wordfreq import zipf_frequency as wordfreq_zipf

from bot.analysis import zipf_frequency
from bot.frequencies import FLOOR
from bot.textnorm import fold


@pytest.mark.parametrize("lang", ["en", "ru", "uk"])
def test_table_matches_wordfreq(lang: str) -> None:
    checked = 0
    for word in top_n_list(lang, 3000)[::7]:
        if fold(word) != word or not word.isalpha():
            continue
        assert abs(zipf_frequency(word, lang) - wordfreq_zipf(word, lang)) <= 0.11, word
        checked += 1
    assert checked > 200


@pytest.mark.parametrize(
    ("word", "lang"), [("bucha", "en"), ("zelensky", "en"), ("буча", "ru"), ("плиз", "ru")]
)
def test_rare_words_are_below_the_floor_in_both(word: str, lang: str) -> None:
    assert wordfreq_zipf(word, lang) < FLOOR
    assert zipf_frequency(word, lang) == 0.0


@pytest.mark.parametrize(("word", "lang"), [("morning", "en"), ("привет", "ru"), ("дякую", "uk")])
def test_common_words_are_listed(word: str, lang: str) -> None:
    assert zipf_frequency(word, lang) == pytest.approx(wordfreq_zipf(word, lang), abs=0.11)
