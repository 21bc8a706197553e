"""The pruned phrasing search gives exactly what scoring every phrasing gives: entries, scores, phrases, order.

`PhraseIndex.rank` skips phrasings whose bound cannot reach the k-th best entry; a wrong bound or a
tie settled in another order would change an answer. Checked on every question set against the real
knowledge, and on random indexes built to be full of ties.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import phrase_index
from bot.engine import Engine
from bot.evaluation import load_questions, question_sets
from bot.phrase_index import SHARED, PhraseIndex

TESTS = Path(__file__).resolve().parent
QUESTIONS = sorted({q.text for path in question_sets(TESTS) for q in load_questions(path)})


def test_every_question_set_is_checked():
    assert len(question_sets(TESTS)) >= 8
    assert len(QUESTIONS) > 1000


@pytest.mark.parametrize("limit", [1, 5, 10])
def test_pruned_search_matches_the_exhaustive_scorer_on_every_question(
    engine: Engine, limit: int, monkeypatch: pytest.MonkeyPatch
):
    matcher = engine.matcher
    monkeypatch.setattr(phrase_index, "EXHAUSTIVE_POSTINGS", -1)  # the pruned search, whatever the size
    compared = 0
    for question in QUESTIONS:
        pruned = matcher.match(question, limit)
        exhaustive = matcher.match(question, limit, exhaustive=True)
        assert [(c.entry.id, c.score, c.phrase) for c in pruned.candidates] == [
            (c.entry.id, c.score, c.phrase) for c in exhaustive.candidates
        ], question
        compared += bool(exhaustive.candidates)
    assert compared > 0.9 * len(QUESTIONS)


def test_pruned_search_agrees_to_the_last_bit(engine: Engine):
    """Unrounded scores and the phrasing chosen, straight from the index."""
    matcher, index = engine.matcher, engine.matcher.index
    for question in QUESTIONS:
        lang = matcher.match(question).lang
        tokens = matcher.analyse(question, lang)
        if not tokens:
            continue
        query = index.query((token, weight) for token, weight, _ in tokens)
        scale = tokens[0][2] / sum(weight for _, weight, _ in tokens)
        exhaustive = index.rank_exhaustive(query, scale, lang, 5)
        assert index.rank_pruned(query, scale, lang, 5) == exhaustive, question
        assert index.rank(query, scale, lang, 5) == exhaustive, question


def test_an_entry_without_phrasings_owns_none():
    index = PhraseIndex()
    index.add(0, "a", ["x"], 1.0, 1.0, SHARED)
    index.add(2, "c", ["x"], 1.0, 1.0, SHARED)
    index.freeze(4)
    assert [index.entry_starts[e + 1] - index.entry_starts[e] for e in range(4)] == [1, 0, 1, 0]
    assert index.rank_pruned(index.query([("x", 1.0)]), 1.0, "en", 5) == [(0, 100.0, 0), (2, 100.0, 1)]


# Few tokens, few distinct weights and duplicated phrasings: ties everywhere, and lists long enough
# for the bound to cut them.
TOKENS = [f"t{i}" for i in range(12)]
WEIGHTS = [0.5, 1.0, 1.0, 2.0, 3.5]
phrasing = st.tuples(
    st.integers(0, 40),  # entry
    st.sets(st.sampled_from(TOKENS), min_size=1, max_size=5),
    st.sampled_from([1.0, 0.9]),  # factor
    st.sampled_from([SHARED, SHARED, "ru", "uk"]),
)


@settings(max_examples=300, deadline=None)
@given(
    phrasings=st.lists(phrasing, min_size=1, max_size=120),
    weights=st.lists(st.sampled_from(WEIGHTS), min_size=len(TOKENS), max_size=len(TOKENS)),
    asked=st.lists(st.sampled_from(TOKENS), min_size=1, max_size=6, unique=True),
    lang=st.sampled_from(["en", "ru", "uk"]),
    certainty=st.sampled_from([1.0, 0.8]),
    limit=st.integers(1, 6),
)
def test_pruned_search_matches_the_exhaustive_scorer_on_random_indexes(
    phrasings, weights, asked, lang, certainty, limit
):
    idf = dict(zip(TOKENS, weights, strict=True))
    index = PhraseIndex()
    for entry, tokens, factor, phrase_lang in sorted(phrasings, key=lambda p: p[0]):
        index.add(entry, " ".join(sorted(tokens)), tokens, sum(idf[t] for t in tokens), factor, phrase_lang)
    index.freeze(41)
    query = index.query((token, idf[token]) for token in asked)
    scale = certainty / sum(idf[token] for token in asked)
    assert index.rank_pruned(query, scale, lang, limit) == index.rank_exhaustive(query, scale, lang, limit)
