"""Accuracy on the project's question set (tests/questions.yaml): answer what the article covers, refuse the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine import Engine
from bot.evaluation import EvalReport, evaluate, load_questions

QUESTIONS = Path(__file__).resolve().parent / "questions.yaml"
MIN_ACCURACY = 0.95
MIN_REJECTION = 0.95


@pytest.fixture(scope="module")
def questions():
    return load_questions(QUESTIONS)


@pytest.fixture(scope="module")
def report(engine: Engine, questions) -> EvalReport:
    return evaluate(engine, questions)


def failures(report: EvalReport, off_topic: bool) -> str:
    lines = [
        f"  [{q.category}] {q.text!r}: expected {', '.join(q.expect) or 'decline'}; {verdict}"
        for q, verdict in report.failures
        if q.off_topic == off_topic
    ]
    return f"{len(lines)} failures:\n" + "\n".join(lines)


def test_question_set_is_big_enough(questions):
    assert len(questions) >= 250
    assert sum(q.off_topic for q in questions) >= 50
    assert sum(not q.off_topic for q in questions) >= 150


def test_question_set_has_no_duplicates(questions):
    seen: dict[str, str] = {}
    for q in questions:
        key = " ".join(q.text.casefold().split())
        assert key not in seen, f"{q.text!r} appears twice"
        seen[key] = q.category


def test_every_expected_entry_exists(engine: Engine, questions):
    ids = {e.id for e in engine.entries}
    missing = sorted({(q.text, e) for q in questions for e in q.expect if e not in ids})
    assert not missing, f"expected entries not in the knowledge base: {missing}"


def test_in_scope_accuracy(report: EvalReport):
    assert report.accuracy >= MIN_ACCURACY, (
        f"in-scope accuracy {report.accuracy:.1%} < {MIN_ACCURACY:.0%}; " + failures(report, off_topic=False)
    )


def test_off_topic_rejection(report: EvalReport):
    assert report.rejection >= MIN_REJECTION, (
        f"off-topic rejection {report.rejection:.1%} < {MIN_REJECTION:.0%}; "
        + failures(report, off_topic=True)
    )


# The held-out set was never used for tuning: its figures are the honest estimate for new wording.
# Floors sit under what was measured (83.7 % in-scope and 98.5 % rejection when it was written, 88.1 %
# and 100 % now; 1-2 % wrong answers), to catch regressions, not to claim the 95 % of the tuned set.
HOLDOUT = Path(__file__).resolve().parent / "questions_holdout.yaml"
HOLDOUT_MIN_ACCURACY = 0.80
HOLDOUT_MIN_REJECTION = 0.95
HOLDOUT_MAX_WRONG_ANSWERS = 0.03


def test_held_out_questions(engine: Engine) -> None:
    questions = load_questions(HOLDOUT)
    report = evaluate(engine, questions)
    wrong = [q for q, verdict in report.failures if verdict.startswith("answered")]
    assert report.accuracy >= HOLDOUT_MIN_ACCURACY, failures(report, off_topic=False)
    assert report.rejection >= HOLDOUT_MIN_REJECTION, failures(report, off_topic=True)
    assert len(wrong) / len(questions) <= HOLDOUT_MAX_WRONG_ANSWERS, [q.text for q in wrong]
