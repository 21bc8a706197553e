"""Rate limiting that keeps chats apart: one chat's limit or 429 never delays another chat.

Telegram's limits (Bots FAQ): about 30 messages a second overall, about one a second in a private
chat, 20 a minute in a group. python-telegram-bot's AIORateLimiter paces groups and the total, but a
429 for any one chat pauses every request of the bot (inline answers included) for its retry_after,
and private chats are not paced at all. Here:

* a message (send*, copy*, forward*) to a chat takes that chat's next slot, then an overall slot;
* a 429 (retry_after) pauses that chat only; the request is retried when the pause ends;
* requests without a chat (answerInlineQuery, answerCallbackQuery, setMyCommands) and edits take no
  slot: they never wait behind messages. Edits still wait out their chat's 429 pause.

Slots are reserved first come, first served with the generic cell rate algorithm (a small burst,
then the chat's rate), so a waiting reply knows at once when it will go out. During shutdown a reply
whose slot lies beyond the grace period is dropped at once (ReplyDropped) instead of waiting.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

OVERALL_PER_SECOND = 30.0
PRIVATE_INTERVAL = 1.0  # seconds between messages to one private chat
GROUP_INTERVAL = 3.0  # 20 a minute
PRIVATE_BURST = 3  # messages a quiet chat may get at once
GROUP_BURST = 3
OVERALL_BURST = 10
MAX_RETRIES = 3  # 429s in a row for one request before its reply is dropped
MAX_RETRY_AFTER = 60.0  # a longer pause than this drops the reply rather than wait for it
QUICK_MAX_RETRY_AFTER = 5.0  # requests without a chat (inline answers expire after about 10 s)
SWEEP_EVERY = 1000  # reservations between sweeps of chats gone quiet
PACED_PREFIXES = ("send", "copy", "forward")

Callback = Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]]


class ReplyDropped(Exception):
    """A reply that cannot go out before the shutdown grace period ends; it is not sent."""


@dataclass
class Pace:
    """One stream of requests at `interval` seconds apart after a burst of `burst` (GCRA)."""

    interval: float
    burst: int
    tat: float = 0.0  # theoretical arrival time of the next request
    paused_until: float = 0.0  # a 429 said: nothing before then

    def reserve(self, now: float) -> float:
        """Take the next slot; returns when it starts (now or later)."""
        base = max(now, self.paused_until)
        tat = max(self.tat, base)
        start = max(base, tat - (self.burst - 1) * self.interval)
        self.tat = tat + self.interval
        return start

    def pause(self, until: float) -> None:
        """Telegram asked this chat to wait: every slot moves past `until`."""
        self.paused_until = max(self.paused_until, until)
        self.tat = max(self.tat, self.paused_until)

    def idle(self, now: float) -> bool:
        return self.tat <= now and self.paused_until <= now


def chat_key(data: dict[str, Any]) -> int | str | None:
    """The chat a request is addressed to (ids may come as strings; @usernames stay strings)."""
    chat = data.get("chat_id")
    if chat is None or chat == "":
        return None
    try:
        return int(chat)
    except (TypeError, ValueError):
        return str(chat)


def is_paced(endpoint: str) -> bool:
    return endpoint.startswith(PACED_PREFIXES)


class ChatRateLimiter(BaseRateLimiter[int]):
    """Per-chat pacing and per-chat 429 pauses, an overall cap for messages, quick answers never wait."""

    def __init__(
        self,
        overall_per_second: float = OVERALL_PER_SECOND,
        private_interval: float = PRIVATE_INTERVAL,
        group_interval: float = GROUP_INTERVAL,
        max_retries: int = MAX_RETRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.private_interval = private_interval
        self.group_interval = group_interval
        self.max_retries = max_retries
        self.clock = clock
        self._overall = Pace(1.0 / overall_per_second, OVERALL_BURST)
        self._chats: dict[int | str, Pace] = {}
        self._reservations = 0
        self.deadline: float | None = None  # set at shutdown (clock time): nothing waits past it
        self.dropped = 0  # replies refused because they could not go out before the deadline
        self.gave_up = 0  # replies dropped after repeated or overlong 429s

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    def close_at(self, deadline: float) -> None:
        """From now on, a request that would wait past `deadline` (clock time) is dropped at once."""
        self.deadline = deadline

    def pace_of(self, chat: int | str) -> Pace:
        pace = self._chats.get(chat)
        if pace is None:
            group = isinstance(chat, str) or chat < 0  # @username: a channel or supergroup
            pace = Pace(self.group_interval, GROUP_BURST) if group else Pace(self.private_interval, PRIVATE_BURST)
            self._chats[chat] = pace
        return pace

    def waiting_chats(self) -> int:
        """Chats with a reservation or a pause still ahead (for figures and tests)."""
        now = self.clock()
        return sum(not pace.idle(now) for pace in self._chats.values())

    async def process_request(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat = chat_key(data)
        paced = chat is not None and is_paced(endpoint)
        retries = rate_limit_args if rate_limit_args is not None else self.max_retries
        for attempt in range(retries + 1):
            if chat is not None:
                await self._wait_for_chat(chat, paced)
            if paced:
                await self._wait_until(self._overall.reserve(self.clock()))
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                wait = _seconds(exc)
                if chat is not None:
                    self.pace_of(chat).pause(self.clock() + wait)
                limit = MAX_RETRY_AFTER if chat is not None else QUICK_MAX_RETRY_AFTER
                if attempt == retries or wait > limit:
                    self.gave_up += 1
                    log.warning(
                        "Telegram asked to wait %.0f s before %s (429, attempt %d); that reply is dropped",
                        wait,
                        endpoint,
                        attempt + 1,
                    )
                    raise
                log.info("429 on %s: that chat waits %.1f s, other chats go on", endpoint, wait)
                if chat is None:
                    await self._wait_until(self.clock() + wait)
        raise AssertionError("unreachable")  # the last attempt returns or raises

    async def _wait_for_chat(self, chat: int | str, paced: bool) -> None:
        """Wait for this chat's slot (messages) or only out its 429 pause (other requests)."""
        self._reservations += 1
        if self._reservations % SWEEP_EVERY == 0:
            self.forget_idle()
        pace = self.pace_of(chat)
        while True:
            start = pace.reserve(self.clock()) if paced else pace.paused_until
            await self._wait_until(start)
            if pace.paused_until <= self.clock():  # no 429 arrived for this chat meanwhile
                return

    async def _wait_until(self, start: float) -> None:
        delay = start - self.clock()
        if self.deadline is not None and start > self.deadline:
            self.dropped += 1
            raise ReplyDropped(f"would wait {delay:.1f} s, past the shutdown grace period")
        if delay > 0:
            await asyncio.sleep(delay)

    def forget_idle(self) -> None:
        """Drop chats with nothing ahead of them (keeps memory flat on a busy public bot)."""
        now = self.clock()
        for chat in [c for c, pace in self._chats.items() if pace.idle(now)]:
            del self._chats[chat]


def _seconds(exc: RetryAfter) -> float:
    # As AIORateLimiter does: the public retry_after warns while PTB moves from ints to timedeltas.
    return exc._retry_after.total_seconds()
