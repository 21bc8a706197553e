"""Fit the engine's answer / "did you mean" decision on the tuning question sets, honestly.

For every tuning question it records what the decision reads (`Engine.view`: the best answerable
entry's score, the runner-up among its rivals, the unknown share, the guards...) and what answering
would give (right, wrong), then scores decision rules: in-sample on all tuning sets, and with
leave-one-set-out cross-validation (each rule family's thresholds fitted on all sets but one,
measured on the one left out, summed). Frozen sets (questions_blind_*) are never read.

Run from the repository:  python benchmarks/fit_decision.py  [--dump FILE.jsonl] [--extra FILE.yaml ...]
(--extra: another tuning set, such as a fresh tuning half; about a minute with every family).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import engine as engine_module  # noqa: E402
from bot.analysis import detect_language  # noqa: E402
from bot.engine import Engine, View, _clean  # noqa: E402
from bot.evaluation import load_questions  # noqa: E402
from bot.matcher import Candidate, Match  # noqa: E402
from bot.replies import Outcome  # noqa: E402
from bot.textnorm import fold  # noqa: E402

TESTS = ROOT / "tests"
TUNING = ("questions.yaml", "questions_holdout.yaml", "questions_seen_*.yaml", "questions_tuning_*.yaml")
WRONG_BUDGET = 0.005  # confident wrong answers allowed, as a share of all questions fitted on


def tuning_sets(extra: Iterable[Path] = ()) -> list[Path]:
    """The tuning sets (never a frozen questions_blind_* one), plus any extra tuning files given."""
    paths = [p for pattern in TUNING for p in sorted(TESTS.glob(pattern))]
    paths += list(extra)
    assert not any("blind" in p.name or "frozen" in p.name for p in paths), "frozen sets are never fitted on"
    return paths


def features(engine: Engine, text: str, expect: tuple[str, ...]) -> dict[str, object]:
    """One question as the decision sees it, beside whether answering would be right."""
    cleaned = _clean(text)
    retyped = engine.retyper.retype(cleaned)
    lang = detect_language(retyped)
    folded = fold(retyped)
    row: dict[str, object] = {"lang": lang}
    actual = engine.ask(text)
    row["actual"] = actual.outcome.value
    row["actual_right"] = bool(actual.entry and actual.outcome is Outcome.ANSWER and actual.entry.id in expect)
    # What the reader gets when the engine does not answer: "did you mean" or a decline.
    confident = engine._confident
    engine._confident = lambda view: False  # type: ignore[method-assign]
    try:
        fallback = engine.ask(text)
    finally:
        del engine._confident
    assert engine._confident == confident
    row["fallback"] = fallback.outcome.value
    row["fallback_has_expected"] = any(e.id in expect for e in fallback.suggestions) and fallback.outcome is Outcome.CLARIFY
    if not folded or engine._silent_party(folded, lang) is not None:
        row["stage"] = "early"
        return row
    match = engine.matcher.match(retyped, lang=lang, folded=folded)
    if not match.candidates and not match.unknown:
        row["stage"] = "early"
        return row
    row["stage"] = "view"
    view = engine.view(match, folded, lang)
    # Every rival, those about who someone is included (the engine drops them for some questions:
    # Rule.who_rivals), so that the decision before 2026-12-03 can be scored from the same rows.
    rivals = every_rival(engine, match, view)
    row["engine_runner_up"] = view.runner_up
    best = view.best
    top = match.candidates[0] if match.candidates else None
    row.update(
        top_right=bool(top and top.entry.id in expect),
        best=best.entry.id if best else None,
        best_right=bool(best and best.entry.id in expect),
        score=best.score if best else 0.0,
        best_asks=bool(best and best.asks),
        runner_up=rivals[0].score if rivals else 0.0,
        runner_right=bool(rivals and rivals[0].entry.id in expect),
        runner_same_topic=bool(best and rivals and rivals[0].entry.topic == best.entry.topic),
        unknown_share=match.unknown_share,
        rare_unknown=bool(match.rare_unknown),
        specific=match.specific,
        hollow=match.hollow,
        asks=sorted(match.asks),
        asks_ok=view.asks_ok,
        other_side=view.other_side,
        people=bool(match.people),
        who_passed_over=view.who_passed_over,
        exact_rival=view.exact_rival,
        opinion=view.opinion,
        window=sum(1 for c in match.candidates if top and top.score - c.score <= engine_module.SUGGEST_WINDOW),
        coverage=coverage(engine, retyped, lang, best.phrase) if best else 0.0,
        known_tokens=sum(1 for t, _, _ in engine.matcher.analyse(retyped, lang) if t in engine.matcher.idf),
    )
    row.update(evidence(engine, retyped, lang, best, rivals[0] if rivals else None))
    row["best_first"] = bool(best and best is match.candidates[0])
    row["best_is_who"] = bool(best and best.entry.id in engine.matcher.about_who)
    row["rivals"] = [(c.entry.id, c.score, c.entry.id in engine.matcher.about_who, c.asks) for c in rivals]
    tokens = engine.matcher.analyse(retyped, lang)
    total = sum(w for _, w, _ in tokens) or 1.0
    row["unknown_words"] = [(t, round(w / total, 3)) for t, w, _ in tokens if t not in engine.matcher.idf]
    return row


def every_rival(engine: Engine, match: Match, view: View) -> list[Candidate]:
    """The candidates after view.best that Engine.view counts as rivals, without its rule about
    entries about who someone is."""
    if view.best is None:
        return []
    people = engine.matcher.entry_people
    best = view.best
    clear = best.asks and best.score >= engine_module.CLEAR_SCORE
    exact_people = bool(match.people) and best.score >= engine_module.CLEAR_SCORE and people[best.entry.id] == match.people
    after = match.candidates[[c.entry.id for c in match.candidates].index(best.entry.id) + 1 :]
    return [
        c
        for c in after
        if (c.asks or not clear)
        and match.people <= people[c.entry.id]
        and not (exact_people and match.people < people[c.entry.id])
        and not (best.score >= engine_module.ANSWER_THRESHOLD and Engine._same_quotes(best, c))
    ]


def held_tokens(engine: Engine, candidate: Candidate) -> frozenset[str]:
    """The tokens of the phrasing that earned a candidate its score."""
    matcher = engine.matcher
    index = matcher.index
    entry = next(i for i, e in enumerate(matcher.entries) if e.id == candidate.entry.id)
    names = {i: t for t, i in index.token_ids.items()}
    for phrasing, text in enumerate(matcher.phrases):
        if text == candidate.phrase and index.entries[phrasing] == entry:
            return frozenset(names[i] for i in matcher._held(phrasing))
    return frozenset()


def evidence(engine: Engine, question: str, lang: str, best: Candidate | None, runner: Candidate | None) -> dict[str, object]:
    """What the best and the runner-up phrasings each hold of the question's known words."""
    matcher = engine.matcher
    tokens = {t: w for t, w, _ in matcher.analyse(question, lang) if t in matcher.idf}
    total = sum(tokens.values()) or 1.0
    b = held_tokens(engine, best) & tokens.keys() if best else frozenset()
    r = held_tokens(engine, runner) & tokens.keys() if runner else frozenset()
    speakers = {c: {q.speaker.id for q in c.entry.quotes} for c in (best, runner) if c}
    return {
        "best_recall": sum(tokens[t] for t in b) / total,
        "runner_recall": sum(tokens[t] for t in r) / total,
        "best_extra": sum(tokens[t] for t in b - r) / total,
        "runner_extra": sum(tokens[t] for t in r - b) / total,
        "same_speakers": bool(best and runner and speakers[best] & speakers[runner]),
        "runner": runner.entry.id if runner else None,
    }


def coverage(engine: Engine, question: str, lang: str, phrase: str) -> float:
    """The share of the question's known-word weight the best phrasing holds."""
    matcher = engine.matcher
    tokens = [(t, w) for t, w, _ in matcher.analyse(question, lang) if t in matcher.idf]
    held = {t for t, _ in matcher._content(matcher._words(phrase), detect_language(phrase))}
    total = sum(w for _, w in tokens)
    return sum(w for t, w in tokens if t in held) / total if total else 0.0


def collect(engine: Engine, paths: list[Path]) -> list[dict[str, object]]:
    rows = []
    for path in paths:
        for q in load_questions(path):
            row = features(engine, q.text, q.expect)
            row.update(set=path.name, q=q.text, qlang=q.lang, category=q.category, off_topic=q.off_topic)
            rows.append(row)
    return rows


# -- rules ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """Answer with the best entry when the guards pass and these thresholds hold."""

    threshold: float = 50.0  # the best score at least this
    clear: float = 70.0  # at or above: the small margin
    margin: float = 5.0  # lead over the runner-up at or above `clear`
    weak_margin: float = 15.0  # below it
    unknown_en: float = 0.25  # unknown share under this (English)
    unknown_cyr: float = 0.35  # (Russian, Ukrainian)
    weak_margin_cyr: float | None = None  # below `clear` in Russian and Ukrainian (None: weak_margin)
    same_topic_margin: float | None = None  # below `clear`, when the runner-up shares the best's topic
    people_margin: float | None = None  # at or above `clear`, when the question names a person
    wide_margin: float | None = None  # at or above `clear` and this lead, unknown words may weigh up to:
    wide_unknown: float = 0.45
    who_rivals: bool = True  # False: an entry about who someone is is no rival to one that is not, asked no "who"
    ramp: bool = False  # below `clear`, the margin falls linearly from weak_margin at `threshold` to `margin`
    crowded: bool = False  # True: an entry about more people than named leads one about exactly them by weak_margin
    opinion: bool = False  # True: a question asking for an opinion, a motive or a guess is never answered

    def answers(self, row: dict[str, object]) -> bool:
        if row["stage"] != "view" or row["best"] is None:
            return False
        if row["rare_unknown"] or not row["specific"] or row["hollow"] or not row["asks_ok"] or row["other_side"]:
            return False
        if self.opinion and row.get("opinion"):
            return False
        cyrillic = row["lang"] != "en"
        score = float(row["score"])  # type: ignore[arg-type]
        lead = score - float(row["runner_up"])  # type: ignore[arg-type]
        if not self.who_rivals and row["best_first"] and not row["best_is_who"] and "who" not in row["asks"]:  # type: ignore[operator]
            rivals = [r for r in row["rivals"] if not r[2]]  # type: ignore[attr-defined]
            lead = score - (rivals[0][1] if rivals else 0.0)
        limit = self.unknown_cyr if cyrillic else self.unknown_en
        if self.wide_margin is not None and score >= self.clear and lead >= self.wide_margin:
            limit = max(limit, self.wide_unknown)
        if float(row["unknown_share"]) >= limit:  # type: ignore[arg-type]
            return False
        if score < self.threshold:
            return False
        exact_rival = float(row.get("exact_rival", 0.0))  # type: ignore[arg-type]
        if self.crowded and exact_rival and score - exact_rival < self.weak_margin:
            return False
        if score >= self.clear:
            if self.people_margin is not None and row["people"]:
                return lead >= self.people_margin
            return lead >= self.margin
        if self.ramp:
            return lead >= self.weak_margin + (self.margin - self.weak_margin) * (score - self.threshold) / (
                self.clear - self.threshold
            )
        weak = self.weak_margin_cyr if cyrillic and self.weak_margin_cyr is not None else self.weak_margin
        if self.same_topic_margin is not None and row["runner_same_topic"]:
            weak = min(weak, self.same_topic_margin)
        return lead >= weak


BEFORE = Rule()  # the engine's decision until 2026-12-03
CURRENT = Rule(  # the engine's now
    engine_module.ANSWER_THRESHOLD,
    engine_module.CLEAR_SCORE,
    engine_module.ANSWER_MARGIN,
    engine_module.WEAK_MARGIN,
    engine_module.UNKNOWN_ANSWER_SHARE,
    engine_module.UNKNOWN_ANSWER_SHARE_CYRILLIC,
    wide_margin=engine_module.WIDE_MARGIN,
    wide_unknown=engine_module.UNKNOWN_WIDE_SHARE,
    who_rivals=False,
    crowded=True,
    opinion=True,
)


@dataclass
class Tally:
    right: int = 0
    clarify: int = 0
    declined: int = 0  # in-scope, declined
    wrong: int = 0
    inscope: int = 0
    offtopic: int = 0
    rejected: int = 0
    total: int = 0

    def add(self, row: dict[str, object], answered: bool) -> None:
        self.total += 1
        if row["off_topic"]:
            self.offtopic += 1
            if answered:
                self.wrong += 1
            else:
                self.rejected += 1
            return
        self.inscope += 1
        if answered:
            if row["best_right"]:
                self.right += 1
            else:
                self.wrong += 1
        elif row["fallback"] == Outcome.CLARIFY.value:
            self.clarify += 1
        else:
            self.declined += 1

    def __str__(self) -> str:
        rate = self.right / max(1, self.inscope)
        rej = self.rejected / max(1, self.offtopic)
        return (
            f"right {self.right:>4} ({rate:6.1%})  clarify {self.clarify:>4}  declined {self.declined:>3}  "
            f"wrong {self.wrong:>3} ({self.wrong / max(1, self.total):5.2%})  rejection {rej:6.1%}  of {self.total}"
        )


def tally(rows: list[dict[str, object]], rule: Rule | Callable[[dict[str, object]], bool]) -> Tally:
    decide = rule.answers if isinstance(rule, Rule) else rule
    t = Tally()
    for row in rows:
        t.add(row, decide(row))
    return t


def grid(family: str) -> list[Rule]:
    """The candidate rules of one family (each a few readable thresholds)."""
    rules = []
    if family == "current":
        return [CURRENT]
    if family == "margins":
        for threshold, clear, margin, weak in itertools.product(
            (40, 45, 50, 55), (60, 65, 70, 75, 80), (0, 2.5, 5, 7.5), (5, 7.5, 10, 12.5, 15, 20)
        ):
            rules.append(Rule(threshold, clear, margin, weak))
    if family == "margins+unknown":
        for threshold, clear, margin, weak, ue, uc in itertools.product(
            (40, 45, 50), (60, 65, 70, 75), (2.5, 5), (7.5, 10, 12.5, 15), (0.2, 0.25, 0.3, 0.35), (0.3, 0.35, 0.4, 0.45)
        ):
            rules.append(Rule(threshold, clear, margin, weak, ue, uc))
    if family == "unknown":
        for ue, uc in itertools.product((0.2, 0.225, 0.25, 0.275, 0.3, 0.325, 0.35), (0.3, 0.325, 0.35, 0.375, 0.4)):
            rules.append(Rule(unknown_en=ue, unknown_cyr=uc))
    if family == "unknown+margins":
        for ue, uc, margin, weak in itertools.product(
            (0.25, 0.275, 0.3, 0.325), (0.325, 0.35, 0.375), (2.5, 5, 7.5), (10, 12.5, 15, 17.5, 20)
        ):
            rules.append(Rule(margin=margin, weak_margin=weak, unknown_en=ue, unknown_cyr=uc))
    if family == "people":
        for ue, pm in itertools.product((0.25, 0.275, 0.3), (0, 1, 2.5, 5)):
            rules.append(Rule(unknown_en=ue, people_margin=pm))
    if family == "structure":
        for ue, pm, who in itertools.product((0.25, 0.3), (None, 1, 2.5), (True, False)):
            rules.append(Rule(unknown_en=ue, people_margin=pm, who_rivals=who))
    if family == "wide":
        for wm, wu in itertools.product((None, 20, 25, 30, 35, 40), (0.4, 0.45, 0.5)):
            rules.append(replace(CURRENT, wide_margin=wm, wide_unknown=wu))
    if family == "chosen":  # the three changes of 2026-12-03 fitted together
        for ue, who, wm, wu in itertools.product((0.25, 0.275, 0.3), (True, False), (None, 20, 25, 30, 35), (0.4, 0.45)):
            rules.append(replace(BEFORE, unknown_en=ue, who_rivals=who, wide_margin=wm, wide_unknown=wu))
    if family == "wide+people":
        for wm, wu, pm in itertools.product((None, 20, 25, 30, 35, 40), (0.4, 0.45, 0.5), (None, 1, 2.5)):
            rules.append(replace(CURRENT, wide_margin=wm, wide_unknown=wu, people_margin=pm))
    if family == "ramp":
        for threshold, clear, margin, weak, ue in itertools.product(
            (40, 45, 50), (65, 70, 75, 80, 85), (2.5, 5, 7.5), (15, 20, 25, 30), (0.25, 0.3)
        ):
            rules.append(Rule(threshold, clear, margin, weak, unknown_en=ue, ramp=True))
    if family == "margins+lang":
        for threshold, clear, margin, weak, wc in itertools.product(
            (40, 45, 50), (60, 65, 70, 75), (2.5, 5), (7.5, 10, 12.5, 15, 20), (5, 7.5, 10, 12.5, 15, 20)
        ):
            rules.append(Rule(threshold, clear, margin, weak, weak_margin_cyr=wc))
    if family == "margins+topic":
        for threshold, clear, margin, weak, st in itertools.product(
            (40, 45, 50), (60, 65, 70, 75), (2.5, 5), (7.5, 10, 12.5, 15, 20), (0, 2.5, 5, 7.5, 10)
        ):
            rules.append(Rule(threshold, clear, margin, weak, same_topic_margin=st))
    return rules


def fit(rows: list[dict[str, object]], rules: list[Rule], budget: float = WRONG_BUDGET) -> Rule:
    """The rule answering most questions right with wrong answers within the budget (ties: fewer
    wrong, then the one nearest the current rule)."""

    def key(rule: Rule) -> tuple[float, ...]:
        t = tally(rows, rule)
        within = t.wrong <= budget * t.total
        return (within, t.right - 3 * t.wrong, -t.wrong, -distance(rule))

    return max(rules, key=key)


def distance(rule: Rule) -> float:
    return (
        abs(rule.threshold - CURRENT.threshold) / 10
        + abs(rule.clear - CURRENT.clear) / 10
        + abs(rule.margin - CURRENT.margin) / 5
        + abs(rule.weak_margin - CURRENT.weak_margin) / 5
        + abs(rule.unknown_en - CURRENT.unknown_en) * 10
        + abs(rule.unknown_cyr - CURRENT.unknown_cyr) * 10
        + (rule.weak_margin_cyr is not None)
        + (rule.same_topic_margin is not None)
        + (rule.people_margin is not None)
        + rule.ramp
        + (not rule.who_rivals)
        + (rule.wide_margin is not None)
    )


def cross_validate(rows: list[dict[str, object]], family: str) -> tuple[Tally, dict[str, tuple[Rule, Tally]]]:
    """Leave one set out: fit on the others, measure on it; the sum over sets."""
    rules = grid(family)
    total = Tally()
    per_set = {}
    for name in dict.fromkeys(str(r["set"]) for r in rows):
        train = [r for r in rows if r["set"] != name]
        test = [r for r in rows if r["set"] == name]
        rule = fit(train, rules)
        t = tally(test, rule)
        per_set[name] = (rule, t)
        for field in vars(total):
            setattr(total, field, getattr(total, field) + getattr(t, field))
    return total, per_set


def report(rows: list[dict[str, object]], rule: Rule | Callable[[dict[str, object]], bool], title: str) -> None:
    print(f"\n== {title}")
    print(f"{'all':<38} {tally(rows, rule)}")
    for name in dict.fromkeys(str(r["set"]) for r in rows):
        print(f"{name:<38} {tally([r for r in rows if r['set'] == name], rule)}")
    for lang in ("en", "ru", "uk"):
        print(f"{'language ' + lang:<38} {tally([r for r in rows if r['qlang'] == lang], rule)}")


def losses(rows: list[dict[str, object]]) -> None:
    """Why in-scope questions whose best entry is right go unanswered under the current rule."""
    reasons: Counter[str] = Counter()
    for row in rows:
        if row["off_topic"] or row["stage"] != "view" or not row["best_right"] or CURRENT.answers(row):
            continue
        why = [
            name
            for name, blocked in (
                ("rare_unknown", row["rare_unknown"]),
                ("not specific", not row["specific"]),
                ("hollow", row["hollow"]),
                ("asks", not row["asks_ok"]),
                ("other side", row["other_side"]),
                ("unknown share", float(row["unknown_share"]) >= (CURRENT.unknown_en if row["lang"] == "en" else CURRENT.unknown_cyr)),  # type: ignore[arg-type]
                ("score", float(row["score"]) < CURRENT.threshold),  # type: ignore[arg-type]
                ("margin", not Rule(0, CURRENT.clear, CURRENT.margin, CURRENT.weak_margin, 1, 1, who_rivals=False).answers(
                    {**row, "rare_unknown": False, "specific": True, "hollow": False, "asks_ok": True, "other_side": False}
                )),
            )
            if blocked
        ]
        reasons[" + ".join(why) or "?"] += 1
    print("\n== in-scope questions whose best entry is right, unanswered (current rule), by what blocks them")
    for why, n in reasons.most_common():
        print(f"{n:>5}  {why}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dump", type=Path, help="write every question's features here (JSON lines)")
    parser.add_argument("--load", type=Path, help="read the features from an earlier --dump instead")
    parser.add_argument("--extra", type=Path, action="append", default=[], help="another tuning set (repeatable)")
    parser.add_argument("--families", default="current,chosen,unknown,margins,margins+lang,margins+topic,wide+people")
    args = parser.parse_args()
    if args.load:
        rows = [json.loads(line) for line in args.load.read_text(encoding="utf-8").splitlines()]
    else:
        engine = Engine.load(ROOT / "knowledge")
        rows = collect(engine, tuning_sets(args.extra))
        mismatch = [r for r in rows if (r["actual"] == Outcome.ANSWER.value) != CURRENT.answers(r)]
        if mismatch:
            print(f"warning: {len(mismatch)} questions where CURRENT and the engine disagree", file=sys.stderr)
    if args.dump:
        args.dump.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    inscope = [r for r in rows if not r["off_topic"]]
    views = [r for r in inscope if r["stage"] == "view"]
    print(f"{len(rows)} tuning questions, {len(inscope)} in scope: candidate[0] right {sum(bool(r['top_right']) for r in views)}, "
          f"best answerable right {sum(bool(r['best_right']) for r in views)}")
    report(rows, lambda r: r["actual"] == Outcome.ANSWER.value, "the engine as it is")
    report(rows, BEFORE, f"the decision before 2026-12-03: {BEFORE}")
    losses(rows)
    for family in args.families.split(","):
        rule = fit(rows, grid(family))
        report(rows, rule, f"{family}: fitted on all tuning sets (in-sample): {rule}")
        total, per_set = cross_validate(rows, family)
        print(f"\n== {family}: leave one set out (fitted on the others, measured on it)")
        print(f"{'sum':<38} {total}")
        for name, (fitted, t) in per_set.items():
            print(f"{name:<38} {t}   <- {fitted}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
