"""Two lanes for updates, so inline queries and button presses never queue behind messages.

Telegram wants an inline query answered within seconds (later answers fail with "query is too
old") and a button press acknowledged at once. Messages, though, may wait a while in the rate
limiter (30 a second, 20 a minute per group). With one shared pool of concurrent updates, a burst
of questions fills every slot with handlers waiting on the limiter, and inline queries wait too.

python-telegram-bot's `process_update` (final) holds one semaphore of `max_concurrent_updates`
around `do_process_update`, first come first served. Each lane is a semaphore of its own taken in
`do_process_update`; the outer bound is the two lanes together plus room for every update that
waits for its lane, so that no update ever waits in the outer queue behind the other lane's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from telegram import Update
from telegram.ext import BaseUpdateProcessor

WAITING_ROOM = 1_000_000  # updates that may wait for a lane (each is one small asyncio task)


def is_quick(update: object) -> bool:
    """Inline queries and button presses: answered without the per-chat rate limiter."""
    return isinstance(update, Update) and (update.inline_query is not None or update.callback_query is not None)


class TwoLaneUpdateProcessor(BaseUpdateProcessor):
    """Messages share `messages` slots; inline queries and button presses have `quick` of their own."""

    def __init__(self, messages: int, quick: int) -> None:
        super().__init__(messages + quick + WAITING_ROOM)
        self._messages = asyncio.Semaphore(messages)
        self._quick = asyncio.Semaphore(quick)

    async def do_process_update(self, update: object, coroutine: Awaitable[object]) -> None:
        async with self._quick if is_quick(update) else self._messages:
            await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""
