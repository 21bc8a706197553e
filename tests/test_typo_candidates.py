"""Typo correction asks rapidfuzz only about words of a length that can be similar enough; the
answer must be exactly what asking about every word gives (the best score, the first of equals)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.matcher import _by_length, _closest, fuzzy_cutoff, indel_cutoff

LETTERS = "abcdeнар"
words = st.text(alphabet=LETTERS, min_size=1, max_size=14)


@settings(max_examples=300, deadline=None)
@given(st.sets(words, min_size=1, max_size=60), words)
def test_length_buckets_give_what_every_choice_gives(vocabulary: set[str], typo: str):
    flat = sorted(vocabulary)
    buckets = _by_length(vocabulary)
    for scorer, cutoff, full in (
        (OSA.normalized_similarity, fuzzy_cutoff(typo), 1.0),
        (fuzz.ratio, indel_cutoff(typo), 100.0),
    ):
        everything = process.extractOne(typo, flat, scorer=scorer, score_cutoff=cutoff)
        expected = (everything[0], everything[1]) if everything else None
        assert _closest(typo, buckets, scorer, cutoff, full) == expected


def test_a_typo_of_a_known_word_is_found_among_its_lengths():
    buckets = _by_length({"talks", "talk", "peskov", "ceasefire", "kremlin"})
    assert _closest("tlaks", buckets, OSA.normalized_similarity, fuzzy_cutoff("tlaks"), 1.0) == ("talks", 0.8)
    assert _closest("kremlinn", buckets, fuzz.ratio, indel_cutoff("kremlinn"), 100.0) is not None
