"""A reload must not shrink the knowledge by accident.

A torn or half-copied faq.yaml can still parse and validate (cut inside the first entry, it is a
valid file of one entry). Comparing the new knowledge's size with the serving one catches that:
a reload that loses more than a stated share of the entries, phrasings or quotes is refused
unless an administrator confirms it (/reload force).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.model import KnowledgeBase


@dataclass(frozen=True)
class KnowledgeSize:
    """What readers would miss if it went: entries, the phrasings that find them, the quotes."""

    entries: int
    phrasings: int
    quotes: int

    @classmethod
    def of(cls, kb: KnowledgeBase) -> KnowledgeSize:
        entries = kb.entries
        phrasings = sum(1 + len(e.alternates) + sum(map(len, e.translations.values())) for e in entries)
        return cls(len(entries), phrasings, sum(len(e.quotes) for e in entries))


@dataclass(frozen=True)
class Loss:
    """One kind of thing the new knowledge has fewer of than the serving one."""

    what: str  # "entries", "phrasings" or "quotes"
    before: int
    after: int

    @property
    def share(self) -> float:
        return (self.before - self.after) / self.before if self.before else 0.0

    def __str__(self) -> str:
        return f"{self.before - self.after} of {self.before} {self.what} ({self.share:.0%})"


class ReloadRefused(Exception):
    """The new knowledge is valid but loses too much; the serving version stays."""

    def __init__(self, losses: list[Loss], max_loss: float) -> None:
        self.losses = losses
        self.max_loss = max_loss
        super().__init__(
            f"the new knowledge loses {', '.join(map(str, losses))}: more than RELOAD_MAX_LOSS ({max_loss:.0%})"
        )


def losses(serving: KnowledgeBase, new: KnowledgeBase) -> list[Loss]:
    """Every kind of thing `new` has fewer of than `serving`."""
    before, after = KnowledgeSize.of(serving), KnowledgeSize.of(new)
    found = [
        Loss(what, getattr(before, what), getattr(after, what)) for what in ("entries", "phrasings", "quotes")
    ]
    return [loss for loss in found if loss.after < loss.before]


def check_complete(serving: KnowledgeBase, new: KnowledgeBase, max_loss: float) -> None:
    """Raise ReloadRefused when `new` loses more than `max_loss` of anything (all losses are listed)."""
    lost = losses(serving, new)
    if any(loss.share > max_loss for loss in lost):
        raise ReloadRefused(lost, max_loss)
