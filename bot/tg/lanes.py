"""Two lanes for updates, so inline queries and button presses never queue behind messages.

Telegram wants an inline query answered within seconds (later answers fail with "query is too
old") and a button press acknowledged at once. Messages, though, may wait a while in the rate
limiter (30 a second, 20 a minute per group). With one shared pool of concurrent updates, a burst
of questions fills every slot with handlers waiting on the limiter, and inline queries wait too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from telegram import Update
from telegram.ext import SimpleUpdateProcessor


class TwoLaneUpdateProcessor(SimpleUpdateProcessor):
    """Messages share `max_concurrent_updates` slots; inline queries and presses have their own."""

    def __init__(self, max_concurrent_updates: int, fast_lane: int) -> None:
        super().__init__(max_concurrent_updates)
        self._fast_lane = asyncio.Semaphore(fast_lane)

    async def process_update(self, update: object, coroutine: Awaitable[object]) -> None:
        if isinstance(update, Update) and (update.inline_query or update.callback_query):
            async with self._fast_lane:  # nothing here goes through the per-chat rate limiter
                await self.do_process_update(update, coroutine)
            return
        await super().process_update(update, coroutine)
