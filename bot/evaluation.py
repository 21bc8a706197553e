"""Measure the engine against a question set: accuracy per category and off-topic rejection."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.engine import Engine
from bot.replies import Outcome

OFF_TOPIC_CATEGORIES = frozenset({"offtopic", "offtopic-war"})
MIN_ACCURACY = 0.95
MIN_REJECTION = 0.95


@dataclass(frozen=True)
class EvalQuestion:
    text: str
    expect: tuple[str, ...]  # acceptable entry ids; empty for off-topic
    category: str

    @property
    def off_topic(self) -> bool:
        return not self.expect


@dataclass
class EvalReport:
    """Counts per category and every question the engine got wrong."""

    total: Counter[str] = field(default_factory=Counter)
    correct: Counter[str] = field(default_factory=Counter)
    clarified: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[EvalQuestion, str]] = field(default_factory=list)

    def _sum(self, counter: Counter[str], off_topic: bool) -> int:
        return sum(n for c, n in counter.items() if (c in OFF_TOPIC_CATEGORIES) == off_topic)

    @property
    def accuracy(self) -> float:
        """Share of in-scope questions answered outright with an acceptable entry."""
        return self._sum(self.correct, False) / max(1, self._sum(self.total, False))

    @property
    def rejection(self) -> float:
        """Share of off-topic questions not answered (declined or, at worst, clarified)."""
        return self._sum(self.correct, True) / max(1, self._sum(self.total, True))

    def passed(self, min_accuracy: float = MIN_ACCURACY, min_rejection: float = MIN_REJECTION) -> bool:
        return self.accuracy >= min_accuracy and self.rejection >= min_rejection


def load_questions(path: Path) -> list[EvalQuestion]:
    """Read a question set (`questions: [{q, expect, category}]`)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected a top-level 'questions' list")
    questions = []
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict) or not isinstance(item.get("q"), str) or "category" not in item:
            raise ValueError(f"{path}: question #{number} needs 'q', 'expect' and 'category'")
        expect = item.get("expect") or []
        expect = [expect] if isinstance(expect, str) else expect
        questions.append(EvalQuestion(item["q"], tuple(expect), str(item["category"])))
    return questions


def evaluate(engine: Engine, questions: list[EvalQuestion]) -> EvalReport:
    """Ask every question and compare with what was expected."""
    report = EvalReport()
    for question in questions:
        reply = engine.ask(question.text)
        report.total[question.category] += 1
        got = reply.entry.id if reply.matched and reply.entry else None
        if reply.outcome is Outcome.CLARIFY:
            report.clarified[question.category] += 1
        ok = got is None if question.off_topic else got in question.expect
        if ok:
            report.correct[question.category] += 1
            continue
        if got:
            verdict = f"answered {got} ({reply.score:.1f})"
        elif reply.outcome is Outcome.CLARIFY:
            verdict = "did you mean " + ", ".join(e.id for e in reply.suggestions) + f" ({reply.score:.1f})"
        else:
            verdict = f"declined ({reply.score:.1f})"
        report.failures.append((question, verdict))
    return report


def format_report(report: EvalReport) -> str:
    lines = [f"{'category':<14} {'correct':>8} {'total':>6} {'rate':>7} {'did-you-mean':>13}"]
    for category in sorted(report.total, key=lambda c: (c in OFF_TOPIC_CATEGORIES, c)):
        total, correct = report.total[category], report.correct[category]
        lines.append(
            f"{category:<14} {correct:>8} {total:>6} {correct / total:>7.1%} {report.clarified[category]:>13}"
        )
    lines.append("")
    lines.append(f"in-scope accuracy (answered with an expected entry): {report.accuracy:.1%}")
    lines.append(f"off-topic rejection (not answered):                  {report.rejection:.1%}")
    if report.failures:
        lines.append("")
        lines.append(f"failures ({len(report.failures)}):")
        for question, verdict in report.failures:
            expected = ", ".join(question.expect) or "decline"
            lines.append(f"  [{question.category}] {question.text!r}: expected {expected}; {verdict}")
    return "\n".join(lines)
