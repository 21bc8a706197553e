"""The curator's report: what readers asked, what failed, how answers were rated, what to learn.

`python -m bot report [--days N] [--json]` and the admins' /stats both come from here.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import func, select

from bot.i18n import N_, Texts, gettext_for
from bot.questionlog.schema import picks, questions, votes
from bot.questionlog.store import Store, utcnow
from bot.textnorm import fold

OUTCOMES = ("answer", "clarify", "decline")
SUGGESTION_SUPPORT = 3  # distinct readers who picked the same entry for the same wording
SIMILAR_WORDING = 85.0  # rapidfuzz token_sort_ratio on folded text: the same question, worded alike
EXAMPLES = 3
UNANSWERED_SHOWN = 20


@dataclass(frozen=True)
class _Question:
    day: str
    reader: str
    chat_type: str
    lang: str
    question: str
    outcome: str


def build_report(store: Store, days: int, now: dt.datetime | None = None) -> dict[str, Any]:
    """Everything the curator needs from the last ``days`` days, as plain JSON-ready values."""
    store.ensure_schema()
    since = (now or utcnow()) - dt.timedelta(days=days)
    with store.engine.connect() as connection:
        rows = [
            _Question(r.asked_at.date().isoformat(), r.reader, r.chat_type, r.lang, r.question, r.outcome)
            for r in connection.execute(
                select(
                    questions.c.asked_at,
                    questions.c.reader,
                    questions.c.chat_type,
                    questions.c.lang,
                    questions.c.question,
                    questions.c.outcome,
                )
                .where(questions.c.asked_at >= since)
                .order_by(questions.c.asked_at, questions.c.id)
            )
        ]
        vote_rows = connection.execute(
            select(votes.c.entry, votes.c.value, func.count())
            .where(votes.c.voted_at >= since)
            .group_by(votes.c.entry, votes.c.value)
        ).all()
        # A pick counts as a vote for an entry on a wording when it answers a "did you mean":
        # the wording is the question that got the clarify reply whose button was pressed.
        clarified = (
            select(questions.c.reply_ref, questions.c.question)
            .where(questions.c.outcome == "clarify", questions.c.reply_ref.is_not(None))
            .subquery()
        )
        pick_rows = connection.execute(
            select(picks.c.reader, picks.c.entry, func.coalesce(picks.c.question, clarified.c.question))
            .select_from(picks.outerjoin(clarified, picks.c.reply_ref == clarified.c.reply_ref))
            .where(picks.c.picked_at >= since)
        ).all()
    return {
        "days": days,
        "since": since.replace(microsecond=0).isoformat() + "Z",
        "questions": len(rows),
        "readers": len({r.reader for r in rows}),
        "outcomes": _outcomes(rows),
        "rates": _rates(rows),
        "by_day": _breakdown(rows, "day"),
        "by_language": _breakdown(rows, "lang"),
        "by_chat_type": _breakdown(rows, "chat_type"),
        "unanswered": unanswered_groups([r.question for r in rows if r.outcome == "decline"]),
        "feedback": _feedback(vote_rows),
        "suggestions": _suggestions([(r[0], r[1], r[2]) for r in pick_rows if r[2]]),
    }


def _outcomes(rows: list[_Question]) -> dict[str, int]:
    counts = Counter(r.outcome for r in rows)
    return {outcome: counts.get(outcome, 0) for outcome in OUTCOMES}


def _rates(rows: list[_Question]) -> dict[str, float]:
    counts = _outcomes(rows)
    total = len(rows)
    return {outcome: round(counts[outcome] / total, 3) if total else 0.0 for outcome in OUTCOMES}


def _breakdown(rows: list[_Question], field: str) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[_Question]] = defaultdict(list)
    for row in rows:
        groups[str(getattr(row, field))].append(row)
    return {
        key: {"questions": len(group), **_outcomes(group), "rates": _rates(group)}
        for key, group in sorted(groups.items())
    }


def unanswered_groups(texts: list[str], limit: int = UNANSWERED_SHOWN) -> list[dict[str, Any]]:
    """Questions grouped by similar wording, most asked first: {question, count, examples}."""
    groups: list[tuple[str, list[str]]] = []  # (folded representative, original wordings)
    for text in texts:
        folded = fold(text)
        if not folded:
            continue
        for representative, members in groups:
            if fuzz.token_sort_ratio(folded, representative) >= SIMILAR_WORDING:
                members.append(text)
                break
        else:
            groups.append((folded, [text]))
    result: list[dict[str, Any]] = []
    for _, members in groups:
        wordings = Counter(members)
        result.append(
            {
                "question": wordings.most_common(1)[0][0],
                "count": len(members),
                "examples": [w for w, _ in wordings.most_common(EXAMPLES)],
            }
        )
    result.sort(key=lambda g: (-int(g["count"]), str(g["question"])))
    return result[:limit]


def _feedback(rows: Any) -> dict[str, Any]:
    by_entry: dict[str, dict[str, int]] = defaultdict(lambda: {"up": 0, "down": 0})
    for entry, value, count in rows:
        by_entry[entry]["up" if value > 0 else "down"] += int(count)
    entries: list[dict[str, Any]] = [{"entry": entry, **counts} for entry, counts in by_entry.items()]
    entries.sort(key=lambda e: (-(e["up"] + e["down"]), str(e["entry"])))
    return {
        "up": sum(e["up"] for e in entries),
        "down": sum(e["down"] for e in entries),
        "entries": entries,
    }


def _suggestions(rows: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """Wordings for which at least SUGGESTION_SUPPORT distinct readers picked the same entry."""
    readers: dict[tuple[str, str], set[str]] = defaultdict(set)
    spellings: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for reader, entry, wording in rows:
        key = (entry, fold(wording))
        if not key[1]:
            continue
        readers[key].add(reader)
        spellings[key][wording] += 1
    found: list[dict[str, Any]] = [
        {"entry": entry, "question": spellings[(entry, folded)].most_common(1)[0][0], "support": len(who)}
        for (entry, folded), who in readers.items()
        if len(who) >= SUGGESTION_SUPPORT
    ]
    found.sort(key=lambda s: (-int(s["support"]), str(s["entry"]), str(s["question"])))
    return found


def format_report(report: dict[str, Any]) -> str:
    """The report for a terminal."""
    outcomes, rates = report["outcomes"], report["rates"]
    lines = [
        f"Question log, last {report['days']} days (since {report['since']})",
        f"Questions: {report['questions']} from {report['readers']} readers",
        "Outcomes: " + ", ".join(f"{o} {outcomes[o]} ({rates[o]:.0%})" for o in OUTCOMES),
    ]
    for title, key in (
        ("By day", "by_day"),
        ("By language", "by_language"),
        ("By chat type", "by_chat_type"),
    ):
        if report[key]:
            lines.append(f"\n{title}:")
            for name, group in report[key].items():
                split = ", ".join(f"{o} {group['rates'][o]:.0%}" for o in OUTCOMES)
                lines.append(f"  {name}: {group['questions']} ({split})")
    lines.append("\nUnanswered questions (similar wordings grouped):")
    lines += [f"  {g['count']}× {g['question']}" for g in report["unanswered"]] or ["  none"]
    feedback = report["feedback"]
    lines.append(f"\nFeedback: {feedback['up']} 👍, {feedback['down']} 👎")
    lines += [f"  {e['entry']}: {e['up']} 👍, {e['down']} 👎" for e in feedback["entries"]]
    lines.append(f"\nSuggested alternates (≥ {SUGGESTION_SUPPORT} readers picked the same answer):")
    lines += [
        f"  {s['entry']} ← “{s['question']}” ({s['support']} readers)" for s in report["suggestions"]
    ] or ["  none"]
    if report["suggestions"]:
        lines.append("Run `python -m bot learn` to write them into knowledge/learned.yaml for review.")
    return "\n".join(lines)


STATS_QUESTIONS = N_("Last {days} days: {questions} questions from {readers} readers.")
STATS_FEEDBACK = N_("Feedback: {up} 👍, {down} 👎.")
STATS_UNANSWERED = N_("Most asked without an answer:")
STATS_SUGGESTIONS = N_("{count} suggested alternates: run python -m bot learn.")
STATS_OUTCOMES = {"answer": N_("answer"), "clarify": N_("clarify"), "decline": N_("decline")}


def format_stats(report: dict[str, Any], log_health: str, texts: Texts | None = None) -> str:
    """The short summary admins get with /stats (plain text; the caller escapes it)."""
    texts = texts or gettext_for(None)
    outcomes, rates = report["outcomes"], report["rates"]
    lines = [
        texts._(STATS_QUESTIONS, days=report["days"], questions=report["questions"], readers=report["readers"]),
        ", ".join(f"{texts._(STATS_OUTCOMES.get(o, o))} {outcomes[o]} ({rates[o]:.0%})" for o in OUTCOMES) + ".",
        texts._(STATS_FEEDBACK, up=report["feedback"]["up"], down=report["feedback"]["down"]),
    ]
    top = report["unanswered"][:3]
    if top:
        lines.append(texts._(STATS_UNANSWERED))
        lines += [f"• {g['count']}× {g['question'][:80]}" for g in top]
    if report["suggestions"]:
        lines.append(texts._(STATS_SUGGESTIONS, count=len(report["suggestions"])))
    lines.append(log_health)
    return "\n".join(lines)
