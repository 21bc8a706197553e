"""Measure the engine against question sets: per set, per category and per language.

Four figures matter: in-scope accuracy (answered with an expected entry), the share of in-scope
questions met with "did you mean", off-topic rejection (not answered), and wrong answers (answered
from an entry that was not expected, or answered at all when nothing should be) as a share of all
questions — the worst outcome, which must stay at or under 1 %.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.analysis import detect_language
from bot.engine import Engine
from bot.frequencies import LANGUAGES
from bot.replies import Outcome

OFF_TOPIC_CATEGORIES = frozenset({"offtopic", "offtopic-war"})
MIN_ACCURACY = 0.95
MIN_REJECTION = 0.95


@dataclass(frozen=True)
class EvalQuestion:
    text: str
    expect: tuple[str, ...]  # acceptable entry ids; empty for off-topic
    category: str
    lang: str = "en"  # given in the file, else detected from the text

    @property
    def off_topic(self) -> bool:
        return not self.expect


@dataclass
class EvalReport:
    """Counts per category and per language, and every question the engine got wrong."""

    total: Counter[str] = field(default_factory=Counter)
    correct: Counter[str] = field(default_factory=Counter)
    clarified: Counter[str] = field(default_factory=Counter)
    wrong: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[EvalQuestion, str]] = field(default_factory=list)
    # per language: (in-scope total, in-scope correct, off-topic total, off-topic correct, wrong)
    by_lang: dict[str, Counter[str]] = field(default_factory=dict)

    def _sum(self, counter: Counter[str], off_topic: bool) -> int:
        return sum(n for c, n in counter.items() if (c in OFF_TOPIC_CATEGORIES) == off_topic)

    @property
    def accuracy(self) -> float:
        """Share of in-scope questions answered outright with an acceptable entry."""
        return self._sum(self.correct, False) / max(1, self._sum(self.total, False))

    @property
    def clarify_share(self) -> float:
        """Share of in-scope questions met with "did you mean" instead of an answer."""
        return self._sum(self.clarified, False) / max(1, self._sum(self.total, False))

    @property
    def rejection(self) -> float:
        """Share of off-topic questions not answered (declined or, at worst, clarified)."""
        return self._sum(self.correct, True) / max(1, self._sum(self.total, True))

    @property
    def wrong_share(self) -> float:
        """Share of all questions answered from an entry that was not expected."""
        return sum(self.wrong.values()) / max(1, sum(self.total.values()))

    def passed(self, min_accuracy: float = MIN_ACCURACY, min_rejection: float = MIN_REJECTION) -> bool:
        return self.accuracy >= min_accuracy and self.rejection >= min_rejection


def load_questions(path: Path) -> list[EvalQuestion]:
    """Read a question set (`questions: [{q, expect, category, lang?}]`)."""
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
        lang = str(item.get("lang") or detect_language(item["q"]))
        if lang not in LANGUAGES:
            raise ValueError(f"{path}: question #{number}: lang must be one of {', '.join(LANGUAGES)}")
        questions.append(EvalQuestion(item["q"], tuple(str(e) for e in expect), str(item["category"]), lang))
    return questions


def question_sets(folder: Path) -> list[Path]:
    """Every question set in a folder: questions*.yaml, the curated set first."""
    return sorted(folder.glob("questions*.yaml"), key=lambda p: (p.name != "questions.yaml", p.name))


def evaluate(engine: Engine, questions: list[EvalQuestion]) -> EvalReport:
    """Ask every question and compare with what was expected."""
    report = EvalReport()
    for question in questions:
        reply = engine.ask(question.text)
        lang = report.by_lang.setdefault(question.lang, Counter())
        scope = "offtopic" if question.off_topic else "inscope"
        report.total[question.category] += 1
        lang[scope] += 1
        got = reply.entry.id if reply.matched and reply.entry else None
        if reply.outcome is Outcome.CLARIFY:
            report.clarified[question.category] += 1
        ok = got is None if question.off_topic else got in question.expect
        if ok:
            report.correct[question.category] += 1
            lang[scope + "-correct"] += 1
            continue
        if got:
            report.wrong[question.category] += 1
            lang["wrong"] += 1
            verdict = f"answered {got} ({reply.score:.1f})"
        elif reply.outcome is Outcome.CLARIFY:
            verdict = "did you mean " + ", ".join(e.id for e in reply.suggestions) + f" ({reply.score:.1f})"
        else:
            verdict = f"declined ({reply.score:.1f})"
        report.failures.append((question, verdict))
    return report


def _rate(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"


def format_report(report: EvalReport, failures: bool = True) -> str:
    lines = [f"{'category':<18} {'correct':>8} {'total':>6} {'rate':>7} {'did-you-mean':>13} {'wrong':>6}"]
    for category in sorted(report.total, key=lambda c: (c in OFF_TOPIC_CATEGORIES, c)):
        total, correct = report.total[category], report.correct[category]
        lines.append(
            f"{category:<18} {correct:>8} {total:>6} {correct / total:>7.1%} "
            f"{report.clarified[category]:>13} {report.wrong[category]:>6}"
        )
    lines.append("")
    for lang in sorted(report.by_lang, key=lambda x: LANGUAGES.index(x)):
        c = report.by_lang[lang]
        lines.append(
            f"language {lang}: in-scope {_rate(c['inscope-correct'], c['inscope'])} of {c['inscope']}, "
            f"off-topic rejection {_rate(c['offtopic-correct'], c['offtopic'])} of {c['offtopic']}, "
            f"wrong answers {c['wrong']}"
        )
    lines.append("")
    lines.append(f"in-scope accuracy (answered with an expected entry): {report.accuracy:.1%}")
    lines.append(f"did you mean (share of in-scope questions):          {report.clarify_share:.1%}")
    lines.append(f"off-topic rejection (not answered):                  {report.rejection:.1%}")
    lines.append(f"wrong answers (share of all questions):              {report.wrong_share:.1%}")
    if failures and report.failures:
        lines.append("")
        lines.append(f"failures ({len(report.failures)}):")
        for question, verdict in report.failures:
            expected = ", ".join(question.expect) or "decline"
            lines.append(f"  [{question.category}/{question.lang}] {question.text!r}: expected {expected}; {verdict}")
    return "\n".join(lines)
