"""Logging an event that can repeat thousands of times a second at most once per interval.

An attacker (or a full file-descriptor table) can make the same error happen on every event-loop
turn; one log line per event filled the disk at 4 MB/s. Here the first occurrence in each
interval is logged, together with how many were held back since the previous line.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable

DEFAULT_INTERVAL = 60.0  # seconds between two lines about the same event
HELD_BACK = "%s (%d more like this in the last %.0f s)"


class OncePerInterval:
    """Remembers when each kind of event was last logged and how many were held back since."""

    def __init__(
        self, interval: float = DEFAULT_INTERVAL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._seen: dict[Hashable, tuple[float, int]] = {}

    def admit(self, key: Hashable) -> tuple[bool, int]:
        """(whether to log this occurrence, how many were held back before it)."""
        now = self._clock()
        last = self._seen.get(key)
        if last is None or now - last[0] >= self.interval:
            self._seen[key] = (now, 0)
            return True, 0 if last is None else last[1]
        self._seen[key] = (last[0], last[1] + 1)
        return False, 0

    def log(self, logger: logging.Logger, level: int, key: Hashable, message: str, *args: object) -> bool:
        """Log ``message % args`` if this is the first ``key`` event of the interval; True if logged."""
        logged, held_back = self.admit(key)
        if logged:
            text = message % args if args else message
            if held_back:
                logger.log(level, HELD_BACK, text, held_back, self.interval)
            else:
                logger.log(level, "%s", text)
        return logged


class RepeatFilter(logging.Filter):
    """A logging filter for other libraries' loggers: one record per call site per interval.

    Records are keyed by where they were logged from (file and line), not by their text: the
    text carries the client's address, which differs on every connection. The exception type is
    part of the key, so that asyncio's one call site for every error does not fold unrelated bugs."""

    def __init__(
        self, interval: float = DEFAULT_INTERVAL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self._gate = OncePerInterval(interval, clock)

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else None
        logged, held_back = self._gate.admit((record.name, record.pathname, record.lineno, error))
        if logged and held_back:
            record.msg, record.args = HELD_BACK, (record.getMessage(), held_back, self._gate.interval)
        return logged


def limit_repeats(logger_names: list[str], interval: float = DEFAULT_INTERVAL) -> None:
    """Put one RepeatFilter on each named logger (once, however often this is called)."""
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RepeatFilter) for f in logger.filters):
            logger.addFilter(RepeatFilter(interval))
