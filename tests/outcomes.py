"""The outcome a reply's own contents call for, to check a reply to any text against."""

from __future__ import annotations

from bot.engine import ANSWER_THRESHOLD, SUGGEST_THRESHOLD, Engine
from bot.replies import Outcome, Reply


def expected_outcome(engine: Engine, reply: Reply) -> Outcome:
    """An entry with a confident score is an answer; "did you mean" choices (not the standard
    examples) scored at or above the suggestion threshold are a clarification; else a decline."""
    if reply.entry is not None and reply.score >= ANSWER_THRESHOLD:
        return Outcome.ANSWER
    if (
        reply.entry is None
        and reply.suggestions
        and reply.suggestions != engine.examples()
        and reply.score >= SUGGEST_THRESHOLD
        and not reply.empty_question
        and reply.explanation is None
    ):
        return Outcome.CLARIFY
    return Outcome.DECLINE
