"""Accuracy on the project's question set (tests/questions.yaml): answer what the article covers, refuse the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine import Engine
from bot.evaluation import EvalReport, evaluate, load_questions, question_sets

QUESTIONS = Path(__file__).resolve().parent / "questions.yaml"
# 95 % until the confident-wrong-answer guards (question words, weak margins): 95.6 % -> 94.4 %.
MIN_ACCURACY = 0.94
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


# Regression floors per question set: (in-scope accuracy, off-topic rejection, wrong answers as a
# share of all questions). They sit under what was measured, to catch regressions, not to claim
# more. Every tests/questions*.yaml set needs a row here; `python -m bot eval` prints the figures.
# questions_holdout.yaml was written before any tuning (83.7 % / 98.5 % then); it has since been
# looked at and is a tuning set now.
FLOORS: dict[str, tuple[float, float, float]] = {
    "questions.yaml": (MIN_ACCURACY, MIN_REJECTION, 0.01),
    # 94.8 % / 98.5 % / 0.5 % after the knowledge round of issue 7 (three new entries, ru/uk alternates).
    "questions_holdout.yaml": (0.93, 0.97, 0.01),  # 92.6 % / 98.5 % / 0.5 % after the matching round (issue 7)
    # Written from the article only by people who never saw the FAQ (62 % in-scope when it came;
    # floor 70 % until the wrong-answer guards, which turned 72.9 % into 65.9 % and "did you mean";
    # 69.4 % with the alternates written since).
    # 74.1 % after the 2026-12-02 tuning round (retyping, speech guard, ru/uk alternates);
    # 81.2 % after the matching round of issue 7 (chatter, glued words, ru/uk parties, vocabulary).
    # 82.4 % / 100 % / 0 % after the knowledge round of issue 7.
    "questions_tuning_article.yaml": (0.81, 0.99, 0.01),
    # The same in Russian and Ukrainian, by people who never saw the FAQ (50 % in-scope, 78.6 %
    # rejection, 6.1 % wrong answers when it came; 3.0 % after the knowledge fixes of that day;
    # floor 48 % until the wrong-answer guards: 50.0 % -> 44.2 %;
    # 48.1 % with the alternates written since).
    # 78.8 % after the 2026-12-02 tuning round; 82.7 % after the matching round of issue 7.
    "questions_tuning_article_ruuk.yaml": (0.87, 0.99, 0.01),  # 88.5 % with the curated ru/uk alternates
    # Written from the headline only, in en/ru/uk (33 % in-scope when it came, 14 % wrong answers;
    # floor 33 % until the wrong-answer guards: 36.6 % -> 32.9 %, wrong answers 11.3 % -> 2.1 %).
    # 41.5 % and 1.4 % wrong answers after the 2026-12-02 tuning round; 42.7 % and 1.4 % after the
    # matching round of issue 7.
    # 60.2 % / 96.6 % / 1.4 % after the knowledge round of issue 7 (new entries mixed-messages,
    # ceasefire and article-sources; the questions they answer were labelled with them).
    "questions_tuning_headline.yaml": (0.59, 0.96, 0.02),  # 46.3 % with the curated alternates
    # Held out until 2026-12-02, then looked at (questions_seen_*.yaml): tuning sets now. Their rows
    # record what they measured when that day's work was merged (on the old matcher: 47.1 % / 100 % /
    # 0 %, 31.0 % / 100 % / 2.7 % and 17.2 % / 96.7 % / 7.4 %).
    # After the 2026-12-02 tuning round: 67.1 % / 100 % / 1.0 %, 74.1 % / 100 % / 0 %, and
    # 40.2 % / 98.4 % / 2.7 % (rejection floor 100 % -> 98 %: "ок дякую а туреччина там є?",
    # labelled off-topic, is now answered with where the talks were held, in Türkiye).
    # After the matching round of issue 7: 72.9 % / 100 % / 1.0 %, 89.7 % / 100 % / 0 %, and
    # 44.8 % / 98.4 % / 2.0 %.
    # After the knowledge round of issue 7 (new entries labelled in, as above): 75.3 % / 100 % / 0 %,
    # 100 % / 100 % / 0 % and 61.3 % / 98.2 % / 2.0 %; with the second matching round merged beside
    # it: 71.8 % / 100 % / 0 %, 100 % / 100 % / 0 % and 62.4 % / 98.2 % / 2.7 %.
    # After the decision round of issue 7 (benchmarks/fit_decision.py): 76.5 % / 100 % / 0 % and
    # 63.4 % / 98.2 % / 2.7 % (was 71.8 % and 62.4 %).
    "questions_seen_article_en.yaml": (0.76, 1.0, 0.01),
    "questions_seen_article_ruuk.yaml": (0.98, 1.0, 0.01),  # 51.7 % before the ru/uk alternates; 96.6 % then
    "questions_seen_headline.yaml": (0.63, 0.98, 0.03),  # 47.1 % with the curated alternates
    # Round 2 (2026-12-02), written blind from the article (220, en/ru/uk) and from the headline only
    # (200, en/ru/uk), labelled by another helper, split at random into a tuning half
    # (questions_tuning_r2_*) and a frozen half (questions_blind_r2_*, never tuned on). Rows: what
    # each measured when it came, before any change made for it.
    # Tuning halves after the 2026-12-02 tuning round: 68.2 % / 100 % / 0 % and 61.4 % / 93.0 % / 5.0 %
    # (56.5 % / 95.5 % / 2.8 % and 43.2 % / 93.0 % / 5.0 % when they came).
    # After the matching round of issue 7: 74.1 % / 100 % / 0 % and 72.7 % / 96.5 % / 2.0 %.
    # After the knowledge round of issue 7: 83.5 % / 100 % / 0 % and 80.0 % / 98.0 % / 1.0 %.
    # 82.4 % and 78.0 % before the decision round of issue 7; 83.5 % / 100 % / 0 % and 80.0 % / 98.0 %
    # / 1.0 % after it.
    "questions_tuning_r2_article.yaml": (0.83, 0.99, 0.01),  # 77.6 % with the curated alternates
    # The sixth round of issue 7 (a clear match about exactly the people named has no rival about
    # them and others): one more off-topic one-liner about Peskov answered with his verdict.
    "questions_tuning_r2_headline.yaml": (0.80, 0.96, 0.02),
    # Frozen half from the article: 45.3 % when it came, 54.7 % after that day's tuning round (on
    # the tuning halves only); the headline half did not move (34.1 %).
    # After the third round of that day (the matching round of issue 7 and about 500 curated
    # alternates, tuned on the other sets): 58.1 % / 96.3 % / 1.8 % (one more wrong answer) and
    # 39.0 % / 96.6 % / 3.0 %. The curator of that round saw this test pass or fail (not its
    # questions) while removing generic alternates: the headline half is no longer quite blind.
    # Relabelled on 2026-12-03 for the three entries of the knowledge round of issue 7 (by a helper
    # who did no tuning): the code before that round measures 58.1 % / 96.3 % / 1.8 % and 31.4 % /
    # 100 % / 3.0 % on them; after the fourth round (matching and knowledge, tuned on other sets):
    # 62.8 % / 96.3 % / 0.9 % and 39.2 % / 100 % / 2.0 %.
    # Relabelled again on 2026-12-03 for the entries russia-demands and photo (same helper rule):
    # the code before them measures 61.4 % / 96.0 % / 0.9 % and 37.7 % / 100 % / 2.0 % (the new
    # in-scope questions count as misses there); with them the same.
    "questions_blind_r2_article.yaml": (0.69, 0.96, 0.009),
    "questions_blind_r2_headline.yaml": (0.43, 0.99, 0.031),
    # Round 3 (2026-12-02, written while round 2's tuning halves were being tuned on): blind from
    # the article (224, en/ru/uk, eight styles) and from the headline only (200), labelled by
    # another helper, split at random into tuning halves (questions_tuning_r3_*) and frozen halves
    # (questions_blind_r3_*). Rows: what each measured when it came, before any change made for it
    # (article 65.6 % / 95.5 % / 0.9 % frozen, 62.1 % / 100 % / 0.9 % tuning; headline 33.8 % / 100 %
    # / 5.0 % frozen, 41.4 % / 93.3 % / 5.0 % tuning).
    # After the third round (tuned on other sets; these were written after that work began and
    # no helper of it saw them): frozen 68.9 % / 95.5 % / 0.9 % and 35.2 % / 93.1 % / 7.0 % (two
    # more off-topic questions answered: the wrong-answer ceiling follows what it measures, it is
    # a finding, not a target); tuning halves 63.2 % / 100 % / 0.9 % and 42.9 % / 96.7 % / 4.0 %.
    # Relabelled on 2026-12-03 as round 2's frozen halves were: before the fourth round 68.9 % /
    # 95.5 % / 0.9 % and 34.2 % / 92.6 % / 7.0 %; after it 72.2 % / 90.9 % / 2.7 % (two more
    # off-topic questions answered) and 43.8 % / 96.3 % / 4.0 %.
    "questions_blind_r3_article.yaml": (0.74, 0.95, 0.018),
    # Tuning halves after the knowledge round of issue 7: 79.3 % / 100 % / 0.9 % and 65.7 % / 96.7 %
    # / 2.0 % (the headline half now under MAX_WRONG_SHARE).
    "questions_tuning_r3_article.yaml": (0.78, 1.0, 0.009),
    "questions_blind_r3_headline.yaml": (0.43, 0.99, 0.03),
    "questions_tuning_r3_headline.yaml": (0.64, 0.96, 0.03),
    # Round 4 (2026-12-03), written blind from the article (160, en/ru/uk) and from the headline
    # only (130), labelled by another helper, frozen whole (no tuning half). Before that day's
    # merged work (on the matcher and knowledge it was written beside): 53.1 % / 95.7 % / 1.9 % and
    # 36.2 % / 91.7 % / 6.2 %. Rows: what it measured after the matching and knowledge rounds of issue 7
    # (the wrong-answer ceiling follows what it measures: a finding, not a target).
    # Relabelled for russia-demands and photo as round 2 was (six photo questions of the article set
    # were gaps): before those entries 52.9 % / 95.1 % / 3.1 % and 50.0 % / 91.7 % / 3.1 %; with them
    # 53.8 % / 95.1 % / 3.1 % and 50.0 % / 91.7 % / 3.8 % (one more wrong answer).
    "questions_blind_r4_article.yaml": (0.58, 0.95, 0.025),
    # After the sixth round's decision rules (tuned on other sets): 50.0 % / 94.4 % / 3.8 %. After
    # the opinion guard of 2026-12-04 (vocabulary `opinion`): 48.9 % / 97.2 % / 3.1 % (one in-scope
    # question now met with "did you mean", one off-topic question no longer answered).
    "questions_blind_r4_headline.yaml": (0.48, 0.94, 0.039),
    # Round 5 (2026-12-03), written blind from the article (293 after removing duplicates, en/ru/uk,
    # eight styles) and from the headline only (229), labelled by another helper, split at random
    # into frozen halves (questions_blind_r5_*) and tuning halves (questions_tuning_r5_*). Rows: what
    # each measured when it came, before any change made for it (frozen 56.6 % / 100 % / 1.4 % and
    # 46.2 % / 96.0 % / 7.8 %; tuning 61.3 % / 100 % / 1.4 % and 54.0 % / 86.3 % / 6.1 %).
    # The frozen halves relabelled for russia-demands and photo (written for the headline half's
    # demands gap): before those entries 56.6 % / 100 % / 1.4 % and 43.5 % / 97.8 % / 7.8 %; with
    # them 55.8 % / 100 % / 1.4 % and 44.9 % / 97.8 % / 7.0 %.
    "questions_blind_r5_article.yaml": (0.61, 1.00, 0.014),
    # After the sixth round's decision rules (tuned on other sets): 49.3 % / 97.8 % / 7.0 %.
    "questions_blind_r5_headline.yaml": (0.49, 0.97, 0.071),
    # Tuning halves after the fifth round (tuned on): 70.8 % / 100 % / 1.4 % and 58.5 % / 95.9 % / 1.8 %.
    "questions_tuning_r5_article.yaml": (0.70, 1.0, 0.014),
    "questions_tuning_r5_headline.yaml": (0.58, 0.95, 0.019),
    # Round 6 (2026-12-03, written after that day's decision rules and knowledge edits, from the
    # article only: 261 after removing duplicates of every earlier set, en/ru/uk, eight styles),
    # labelled by another helper, split at random into a frozen half (questions_blind_r6_article)
    # and a tuning half. Rows: what each measured when it came, before any change made for it; the
    # code before that day (95f9799) measures 66.0 % / 100 % / 0 % and 68.9 % / 100 % / 3.1 %.
    "questions_blind_r6_article.yaml": (0.66, 1.00, 0.0),
    # The tuning half after alternates and variants from its misses: 73.8 % / 100 % / 1.5 %.
    "questions_tuning_r6_article.yaml": (0.73, 1.00, 0.016),
    # Round 6 from the headline and subtitle only (218 after removing duplicates, en/ru/uk; curious,
    # sceptical and sloppy readers; almost half of them off-topic), labelled by another helper and
    # split the same way. When they came: 42.1 % / 84.6 % / 13.8 % frozen (15 wrong answers of 109,
    # 8 of them to off-topic questions) and 44.6 % / 96.2 % / 5.5 % tuning; the code before that day
    # measures 38.6 % / 86.5 % / 11.9 % and 37.5 % / 96.2 % / 5.5 %.
    "questions_blind_r6_headline.yaml": (0.42, 0.84, 0.138),
    # The tuning half after 'peace' was taken out of four alternates it only decorated: 44.6 % /
    # 98.1 % / 4.6 %.
    "questions_tuning_r6_headline.yaml": (0.44, 0.98, 0.046),
    # Round 7 (2026-12-04), written the same two ways after every earlier round (480 questions after
    # removing duplicates of every earlier set; about 40 % Russian and 35 % Ukrainian, as the
    # readers are), labelled by two other helpers, split at random into frozen and tuning halves.
    # When they came (the code of 92e3140, before any change of that day): from the article 52.7 % /
    # 85.2 % / 5.9 % frozen and 59.4 % / 80.8 % / 5.7 % tuning; from the headline 29.4 % / 93.2 % /
    # 6.2 % frozen and 41.3 % / 91.1 % / 5.6 % tuning. Far under the earlier rounds: more Russian
    # and Ukrainian, and more of it colloquial.
    "questions_blind_r7_article.yaml": (0.52, 0.85, 0.06),
    "questions_tuning_r7_article.yaml": (0.59, 0.80, 0.058),
    "questions_blind_r7_headline.yaml": (0.29, 0.93, 0.063),
    "questions_tuning_r7_headline.yaml": (0.41, 0.91, 0.057),
    # Round 8 (2026-12-04), written the same two ways after that day's decision rules and knowledge
    # edits (474 after removing duplicates of every earlier set), labelled by two other helpers and
    # split at random. When they came: from the article 64.6 % / 93.3 % / 4.8 % frozen and 64.5 % /
    # 85.2 % / 4.2 % tuning; from the headline 31.6 % / 93.0 % / 5.3 % and 36.2 % / 85.7 % / 9.6 %.
    # The code of the day before (92e3140) measures 64.6 % / 93.3 % / 4.8 %, 63.4 % / 85.2 % / 4.2 %,
    # 33.3 % / 93.0 % / 5.3 % and 36.2 % / 83.9 % / 10.5 %: that day's tuning carried over to
    # fresh questions hardly at all.
    # Measured once after the same-quotes rival rule of round 9's evening was chosen: 65.6 % / 93.3 % /
    # 5.6 % (one more right answer and one more wrong; the questions were not looked at). Over every
    # frozen set the rule gave 12 more right answers and that one wrong.
    "questions_blind_r8_article.yaml": (0.64, 0.93, 0.056),
    "questions_tuning_r8_article.yaml": (0.64, 0.85, 0.042),
    "questions_blind_r8_headline.yaml": (0.31, 0.92, 0.053),
    "questions_tuning_r8_headline.yaml": (0.36, 0.85, 0.097),
    # Round 9 (2026-12-04, evening), written the same two ways after round 8's day (414 after
    # removing duplicates of every earlier set), labelled by two other helpers and split at random.
    # When they came (the code of 1c1c54a): from the article 59.8 % / 84.6 % / 8.3 % frozen and
    # 68.6 % / 81.0 % / 3.7 % tuning; from the headline 43.6 % / 88.6 % / 6.1 % and 33.9 % / 93.2 % /
    # 4.0 %. After that evening's rules (the same-quotes rival from the answer threshold, "when"
    # after "where", "how long" as a decoy): 61.0 % / 84.6 % / 8.3 %, 69.8 % / 85.7 % / 2.8 %,
    # 43.6 % / 88.6 % / 6.1 % and 33.9 % / 95.5 % / 3.0 %.
    "questions_blind_r9_article.yaml": (0.60, 0.84, 0.084),
    "questions_tuning_r9_article.yaml": (0.69, 0.85, 0.029),
    "questions_blind_r9_headline.yaml": (0.43, 0.88, 0.061),
    "questions_tuning_r9_headline.yaml": (0.33, 0.95, 0.03),
    # Round 10 (2026-12-04, late evening), written the same two ways after round 9's evening, to
    # measure it (418 after removing duplicates), labelled by two other helpers and split at random.
    # When they came (the evening's code): from the article 61.4 % / 100 % / 0.9 % frozen and
    # 58.3 % / 85.7 % / 5.4 % tuning; from the headline 46.3 % / 97.7 % / 2.0 % and 42.1 % / 97.7 % /
    # 3.0 %. The code before the evening (1c1c54a): 61.4 % / 100 % / 0.9 %, 57.1 % / 82.1 % / 6.2 %,
    # 44.4 % / 97.7 % / 2.0 % and 42.1 % / 97.7 % / 3.0 %.
    "questions_blind_r10_article.yaml": (0.61, 1.0, 0.01),
    "questions_tuning_r10_article.yaml": (0.58, 0.85, 0.054),
    "questions_blind_r10_headline.yaml": (0.46, 0.97, 0.021),
    "questions_tuning_r10_headline.yaml": (0.42, 0.97, 0.03),
    # Round 11 (2026-12-05), written the same two ways by four new helpers (new reader personas) and
    # labelled by four others, 434 after removing duplicates of earlier sets, split at random. When
    # they came (the code of bbfcec8): from the article 62.4 % / 82.6 % / 5.6 % frozen and 54.2 % /
    # 100 % / 0.9 % tuning. After the whole-reading rule: the same; after that day's alternates (from
    # the tuning half): 55.4 % / 100 % / 0.9 % tuning, the frozen half the same. From the headline
    # (one of its two labellers did not finish: 106 questions of one writer): 38.5 % / 85.2 % /
    # 11.3 % frozen and 34.8 % / 96.7 % / 7.5 % tuning, when they came and after.
    "questions_blind_r11_article.yaml": (0.62, 0.82, 0.056),
    "questions_tuning_r11_article.yaml": (0.55, 1.0, 0.01),
    "questions_blind_r11_headline.yaml": (0.38, 0.85, 0.114),
    "questions_tuning_r11_headline.yaml": (0.34, 0.96, 0.076),
}
# Frozen rows after the fifth round of issue 7 (2026-12-03: the answer decision fitted on the tuning
# sets, russia-demands and photo, alternates from the round-5 tuning halves; tuned on other sets):
# r2 69.3 % / 96.0 % / 0.9 % and 43.4 % / 100 % / 3.0 % (one more wrong answer); r3 74.7 % / 95.2 % /
# 1.8 % and 43.8 % / 100 % / 3.0 %; r4 58.8 % / 95.1 % / 2.5 % and 50.0 % / 94.4 % / 3.1 %; r5 61.9 %
# / 100 % / 1.4 % and 49.3 % / 97.8 % / 6.1 %.
# Sets above MAX_WRONG_SHARE: frozen sets (never tuned on, so their ceiling is what they measure),
# and a tuning set only while it has not been brought under it (questions_tuning_r3_headline.yaml
# was, in the knowledge round of issue 7).
AS_THEY_CAME = frozenset(
    {
        "questions_blind_r2_headline.yaml",
        "questions_blind_r3_headline.yaml",
        "questions_blind_r4_article.yaml",
        "questions_blind_r4_headline.yaml",
        "questions_blind_r5_headline.yaml",
        "questions_blind_r6_headline.yaml",
        "questions_tuning_r6_headline.yaml",  # 5 wrong answers of 109: still to be brought under
        "questions_blind_r7_article.yaml",
        "questions_blind_r7_headline.yaml",
        "questions_tuning_r7_article.yaml",  # still to be brought under
        "questions_tuning_r7_headline.yaml",  # still to be brought under
        "questions_blind_r8_article.yaml",
        "questions_blind_r8_headline.yaml",
        "questions_tuning_r8_article.yaml",  # still to be brought under
        "questions_tuning_r8_headline.yaml",  # still to be brought under
        "questions_blind_r9_article.yaml",
        "questions_blind_r9_headline.yaml",
        "questions_blind_r10_article.yaml",
        "questions_tuning_r10_article.yaml",  # still to be brought under
        "questions_blind_r11_article.yaml",
        "questions_blind_r11_headline.yaml",
        "questions_tuning_r11_headline.yaml",  # still to be brought under
    }
)
# A confident wrong answer is the worst outcome: no set may allow more than this share of them.
MAX_WRONG_SHARE = 0.03
QUESTION_SETS = question_sets(QUESTIONS.parent)


@pytest.mark.parametrize("path", QUESTION_SETS, ids=[p.name for p in QUESTION_SETS])
def test_question_set_floors(engine: Engine, path: Path) -> None:
    assert path.name in FLOORS, f"{path.name}: add its regression floors to FLOORS"
    min_accuracy, min_rejection, max_wrong = FLOORS[path.name]
    report = evaluate(engine, load_questions(path))
    wrong = [(q.text, verdict) for q, verdict in report.failures if verdict.startswith("answered")]
    assert report.accuracy >= min_accuracy, failures(report, off_topic=False)
    assert report.rejection >= min_rejection, failures(report, off_topic=True)
    assert report.wrong_share <= max_wrong, wrong


def test_no_set_tolerates_many_wrong_answers() -> None:
    """The wrong-answer ceiling of every set stays at or under MAX_WRONG_SHARE (raise it only with a reason)."""
    # A set's ceiling is what it measured when it came, not a target: a frozen set is never tuned
    # on, and a new tuning set starts from what it found; the tuning must bring it under the ceiling.
    loose = {
        name: wrong
        for name, (_, _, wrong) in FLOORS.items()
        if wrong > MAX_WRONG_SHARE and name not in AS_THEY_CAME
    }
    assert not loose, loose


def test_questions_may_carry_their_language(tmp_path: Path) -> None:
    path = tmp_path / "questions_x.yaml"
    path.write_text(
        "questions:\n"
        "- q: Где проходили переговоры?\n  expect: [talks-where]\n  category: direct\n  lang: ru\n"
        "- q: Who is Peskov?\n  expect: [who-peskov]\n  category: direct\n",
        encoding="utf-8",
    )
    assert [q.lang for q in load_questions(path)] == ["ru", "en"]
