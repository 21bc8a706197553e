"""The reply model: what the bot says, independent of how it is shown."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.model import Article, Entry, Note, Party, Quote


class Outcome(StrEnum):
    """The three things the bot can do with a question."""

    ANSWER = "answer"  # a confident match: answer with quotes
    CLARIFY = "clarify"  # plausible matches, none sure: "did you mean"
    DECLINE = "decline"  # not something the article covers (or nothing was asked)


@dataclass(frozen=True)
class Reply:
    """Everything a renderer needs; renderers add nothing but presentation."""

    outcome: Outcome
    question: str
    article: Article
    entry: Entry | None = None
    score: float = 0.0
    notes: tuple[Note, ...] = ()
    suggestions: tuple[Entry, ...] = ()  # follow-ups, "did you mean" candidates, or examples
    empty_question: bool = False
    party: Party | None = None  # asked about someone the article never quotes: what it says of them
    opinion: bool = False  # asked for an opinion, a motive or a guess: the suggestions are what is near it
    lang: str = "en"  # the reply's language (en, ru or uk): the question's own, unless one was chosen

    @property
    def matched(self) -> bool:
        return self.outcome is Outcome.ANSWER and self.entry is not None

    @property
    def explanation(self) -> str | None:
        """Why the article has no answer, when the knowledge says why (in English; renderers use tr)."""
        return self.party.mentioned if self.party else None

    @property
    def quotes(self) -> tuple[Quote, ...]:
        return self.entry.quotes if self.matched and self.entry else ()
