"""Typo correction asks rapidfuzz only about words of a length that can be similar enough and, in a
long list, only about those sharing enough letter pairs; the answer must be exactly what asking
about every word gives (the best score, the first of equals in alphabetical order)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.matcher import fuzzy_cutoff, indel_cutoff
from bot.typo_index import TypoIndex

LETTERS = "abcdeнар"
words = st.text(alphabet=LETTERS, min_size=1, max_size=14)
# Few letters, so that words share many letter pairs and the cutoffs are met often.
near = st.text(alphabet="abcd", min_size=3, max_size=12)


def _every_choice(typo: str, vocabulary: set[str], scorer, cutoff: float):
    everything = process.extractOne(typo, sorted(vocabulary), scorer=scorer, score_cutoff=cutoff)
    return (everything[0], everything[1]) if everything else None


def _check(vocabulary: set[str], typo: str, small_bucket: int) -> None:
    index = TypoIndex(vocabulary)
    index.small_bucket = small_bucket
    for scorer, cutoff, full in (
        (OSA.normalized_similarity, fuzzy_cutoff(typo), 1.0),
        (fuzz.ratio, indel_cutoff(typo), 100.0),
    ):
        assert index.closest(typo, scorer, cutoff, full) == _every_choice(typo, vocabulary, scorer, cutoff)


@settings(max_examples=300, deadline=None)
@given(st.sets(words, min_size=1, max_size=60), words)
def test_length_buckets_give_what_every_choice_gives(vocabulary: set[str], typo: str):
    _check(vocabulary, typo, TypoIndex.small_bucket)


@settings(max_examples=500, deadline=None)
@given(st.sets(near, min_size=1, max_size=80), near, st.sampled_from([0, 3]))
def test_bigram_candidates_give_what_every_choice_gives(vocabulary: set[str], typo: str, small_bucket: int):
    _check(vocabulary, typo, small_bucket)


@settings(max_examples=300, deadline=None)
@given(st.sets(near, min_size=1, max_size=40), near, st.lists(st.integers(0, 11), max_size=3))
def test_a_word_one_or_two_edits_away_is_found_as_every_choice_finds(vocabulary: set[str], word: str, cuts: list[int]):
    """Typos made from a known word (a swap, a dropped or doubled letter), which do reach the cutoff."""
    typo = word
    for cut in cuts:
        cut %= len(typo)
        typo = typo[:cut] + typo[cut + 1 : cut + 2] + typo[cut : cut + 1] + typo[cut + 2 :] if cut % 2 else typo[:cut] + typo[cut:][1:]
        if len(typo) < 2:
            typo = word
    _check(vocabulary | {word}, typo, 0)


def test_a_typo_of_a_known_word_is_found_among_its_lengths():
    index = TypoIndex({"talks", "talk", "peskov", "ceasefire", "kremlin"})
    index.small_bucket = 0
    assert index.closest("tlaks", OSA.normalized_similarity, fuzzy_cutoff("tlaks"), 1.0) == ("talks", 0.8)
    assert index.closest("kremlinn", fuzz.ratio, indel_cutoff("kremlinn"), 100.0) is not None
