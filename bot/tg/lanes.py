"""Lanes for updates, so inline queries, button presses and quiet chats never queue behind a busy one.

Telegram wants an inline query answered within seconds (later answers fail with "query is too
old") and a button press acknowledged at once. Messages, though, may wait a while in the rate
limiter (one a second per private chat, 20 a minute per group). With one shared pool of concurrent
updates, a burst of questions fills every slot with handlers waiting on the limiter, and everyone
else waits too.

python-telegram-bot's `process_update` (final) holds one semaphore of `max_concurrent_updates`
around `do_process_update`, first come first served. Here, in `do_process_update`:

* inline queries and button presses take a slot of the quick lane; messages one of the message lane;
* a message first takes one of its chat's few slots (`per_chat`), so one busy group holds at most
  that many message slots, and its other updates wait without holding any;
* a chat with `chat_backlog` updates already waiting gets no more: they are dropped and counted (its
  replies could not go out for minutes anyway, and the shared backlog stays free for other chats).

The outer bound is the lanes together plus room for every update that waits for its lane, so that
no update ever waits in the outer queue behind another lane's; the bounded update queue
(bot.tg.backlog) is what limits how many updates there are. At shutdown (`close_at`) updates still
running when the grace period ends are cancelled, and later ones are not started; both are counted.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field

from telegram import Update
from telegram.ext import BaseUpdateProcessor

log = logging.getLogger(__name__)

WAITING_ROOM = 1_000_000  # updates that may wait for a lane (each is one small asyncio task)
PER_CHAT_SLOTS = 4  # message slots one chat may hold at once
CHAT_BACKLOG = 30  # updates of one chat waiting or running before more are dropped


def is_quick(update: object) -> bool:
    """Inline queries and button presses: answered without the per-chat rate limiter."""
    return isinstance(update, Update) and (update.inline_query is not None or update.callback_query is not None)


def chat_of(update: object) -> int | None:
    return update.effective_chat.id if isinstance(update, Update) and update.effective_chat else None


@dataclass
class _ChatLane:
    slots: asyncio.Semaphore
    pending: int = 0


@dataclass
class LaneCounts:
    """What the lanes did with updates that were not simply answered (for logs and tests)."""

    overflowed: int = 0  # dropped: their chat already had CHAT_BACKLOG updates
    cancelled: int = 0  # still running when the shutdown grace period ended
    not_started: int = 0  # arrived after the grace period ended
    running: set[asyncio.Task[object]] = field(default_factory=set)


class TwoLaneUpdateProcessor(BaseUpdateProcessor):
    """Messages share `messages` slots (at most `per_chat` per chat); inline queries and button
    presses have `quick` of their own."""

    def __init__(
        self, messages: int, quick: int, per_chat: int = PER_CHAT_SLOTS, chat_backlog: int = CHAT_BACKLOG
    ) -> None:
        super().__init__(messages + quick + WAITING_ROOM)
        self._messages = asyncio.Semaphore(messages)
        self._quick = asyncio.Semaphore(quick)
        self.per_chat = per_chat
        self.chat_backlog = chat_backlog
        self._chats: dict[int | None, _ChatLane] = {}
        self.counts = LaneCounts()
        self._closed = False

    @property
    def busy(self) -> int:
        """Updates being answered or waiting for a slot right now."""
        return len(self.counts.running)

    async def do_process_update(self, update: object, coroutine: Awaitable[object]) -> None:
        if self._closed:
            self.counts.not_started += 1
            _discard(coroutine)
            return
        task = asyncio.current_task()
        if task is not None:
            self.counts.running.add(task)
        try:
            if is_quick(update):
                async with self._quick:
                    await coroutine
            else:
                await self._message_lane(chat_of(update), coroutine)
        finally:
            if task is not None:
                self.counts.running.discard(task)
            _discard(coroutine)  # cancelled while waiting for a slot: never started (no-op otherwise)

    async def _message_lane(self, chat: int | None, coroutine: Awaitable[object]) -> None:
        lane = self._chats.get(chat)
        if lane is None:
            lane = self._chats[chat] = _ChatLane(asyncio.Semaphore(self.per_chat))
        if lane.pending >= self.chat_backlog:
            self.counts.overflowed += 1
            if self.counts.overflowed == 1 or self.counts.overflowed % 100 == 0:
                log.warning(
                    "A chat has %d updates waiting; its newer ones are dropped (%d so far)",
                    lane.pending,
                    self.counts.overflowed,
                )
            _discard(coroutine)
            return
        lane.pending += 1
        try:
            async with lane.slots, self._messages:
                await coroutine
        finally:
            lane.pending -= 1
            if lane.pending == 0:
                del self._chats[chat]

    def close_at(self, deadline: float) -> None:
        """Shutdown: at `deadline` (event loop time) cancel what still runs and start nothing more."""
        asyncio.get_running_loop().call_at(deadline, self._cut_off)

    def _cut_off(self) -> None:
        self._closed = True
        running = list(self.counts.running)
        self.counts.cancelled += len(running)
        for task in running:
            task.cancel()

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


def _discard(coroutine: Awaitable[object]) -> None:
    """An update that will not be processed: close its coroutine (no "never awaited" warning)."""
    if inspect.iscoroutine(coroutine):
        coroutine.close()
