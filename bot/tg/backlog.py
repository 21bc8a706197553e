"""A bounded backlog of updates, so that a flood of updates pauses fetching instead of filling memory.

python-telegram-bot's Updater puts every fetched update into ``application.update_queue`` and the
Application turns each one it takes from there into a task at once: with the default unbounded queue
30,000 pending updates become 30,000 tasks in memory within seconds. This queue hands out an update
only while fewer than ``backlog`` are being answered (the Application marks each one done when its
handlers finish), and holds at most ``buffer`` itself; when it is full, the Updater's ``put`` waits,
and so does its next getUpdates. Telegram keeps the rest (for 24 hours) until the bot catches up.
The webhook server's ``put`` waits the same way, so Telegram sees a slow webhook and retries later.

Inline queries and button presses in the buffer are handed out even while the backlog is full, ahead
of the messages before them: otherwise a quick update would wait for up to a buffer's worth of
messages to be answered (each paced by the rate limiter) before its own lane could take it, which
is what the lanes (bot.tg.lanes) exist to prevent. They are few (at most the buffer) and short.
"""

from __future__ import annotations

import asyncio

from bot.tg.lanes import is_quick

BUFFER = 100  # one getUpdates batch


class BoundedUpdateQueue(asyncio.Queue[object]):
    """``update_queue`` whose ``get`` waits while ``backlog`` updates are still being answered."""

    def __init__(self, backlog: int, buffer: int = BUFFER) -> None:
        super().__init__(maxsize=buffer)
        self.backlog = backlog
        self.in_progress = 0  # taken out and not yet marked done
        self.peak = 0
        self.released = False  # shutting down: fetching has stopped, nothing to hold back any more
        self._room = asyncio.Event()
        self._room.set()

    @property
    def full_backlog(self) -> bool:
        return not self.released and self.in_progress >= self.backlog

    def release(self) -> None:
        """Shutdown: the Updater has stopped, so hand out what is queued (the lanes drop what is late)."""
        self.released = True
        self._room.set()

    async def get(self) -> object:
        while self.full_backlog and not self._holds_quick():
            self._room.clear()
            await self._room.wait()
        return await super().get()  # which takes the item with get_nowait: counted there

    def _holds_quick(self) -> bool:
        return any(is_quick(item) for item in self._queue)  # type: ignore[attr-defined]

    def _get(self) -> object:  # asyncio.Queue's hook for taking the next item
        queue = self._queue  # type: ignore[attr-defined]
        if self.full_backlog:
            for position, item in enumerate(queue):
                if is_quick(item):
                    del queue[position]
                    return item
        return queue.popleft()

    def _put(self, item: object) -> None:  # asyncio.Queue's hook for storing an item
        super()._put(item)
        if is_quick(item):
            self._room.set()

    def get_nowait(self) -> object:
        item = super().get_nowait()
        self._taken()
        return item

    def task_done(self) -> None:
        super().task_done()
        self.in_progress = max(0, self.in_progress - 1)
        if not self.full_backlog:
            self._room.set()

    def _taken(self) -> None:
        self.in_progress += 1
        self.peak = max(self.peak, self.in_progress)
