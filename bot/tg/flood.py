"""Per-sender flood control: a person reads slower than a script types."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from enum import Enum

SWEEP_EVERY = 1000  # checks between sweeps of senders gone quiet


class Verdict(Enum):
    ALLOW = "allow"
    WARN = "warn"  # over the limit: tell them once
    DROP = "drop"  # still over the limit: stay quiet


class FloodGuard:
    """Sliding one-minute window per sender; one polite notice per burst."""

    def __init__(
        self, limit_per_minute: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit_per_minute
        self.window = window
        self.clock = clock
        self._seen: dict[int, deque[float]] = {}
        self._warned: set[int] = set()
        self._checks = 0

    def check(self, sender: int) -> Verdict:
        self._checks += 1
        if self._checks % SWEEP_EVERY == 0:
            self.forget_idle()
        now = self.clock()
        stamps = self._seen.setdefault(sender, deque())
        while stamps and now - stamps[0] >= self.window:
            stamps.popleft()
        if len(stamps) < self.limit:
            stamps.append(now)
            self._warned.discard(sender)
            return Verdict.ALLOW
        if sender in self._warned:
            return Verdict.DROP
        self._warned.add(sender)
        return Verdict.WARN

    def forget_idle(self) -> None:
        """Drop senders with no recent activity (keeps memory flat on a busy public bot)."""
        now = self.clock()
        for sender in [s for s, q in self._seen.items() if not q or now - q[-1] >= self.window]:
            del self._seen[sender]
            self._warned.discard(sender)
