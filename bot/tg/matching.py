"""Matching off the event loop, one question at a time per sender, so nobody's questions stall the bot.

A question with many words the article lacks takes tens of milliseconds to match (spelling
correction of each one); on the event loop, one person's burst of such inline queries held up every
other reply by seconds. Here matching runs in a small thread pool, and each sender has at most one
question in it at a time: flood control caps a sender at FLOOD_LIMIT_PER_MINUTE questions, so one
person can keep a worker busy for at most that many matches, and the other workers (and the event
loop, which gets the interpreter back at least every few milliseconds) keep serving everyone else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from telegram import Message

from bot.engine import Engine
from bot.matcher import Candidate
from bot.replies import Outcome, Reply

WORKERS = 2  # two cores; more threads would only take turns with the event loop

INLINE_LIMIT = 10  # candidates ranked for an inline query
T = TypeVar("T")


class Matching:
    """Runs matching calls in worker threads, serialised per sender."""

    def __init__(self, workers: int = WORKERS) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="matching")
        self._senders: dict[int, tuple[asyncio.Lock, int]] = {}

    async def run(self, sender: int, work: Callable[[], T]) -> T:
        """``work()`` in a worker thread, after this sender's earlier questions."""
        lock, users = self._senders.get(sender, (asyncio.Lock(), 0))
        self._senders[sender] = (lock, users + 1)
        try:
            async with lock:
                return await asyncio.get_running_loop().run_in_executor(self._pool, work)
        finally:
            lock, users = self._senders[sender]
            if users == 1:
                del self._senders[sender]
            else:
                self._senders[sender] = (lock, users - 1)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def sender_of(message: Message) -> int:
    """Whom a message's question counts against: the person, or the chat an anonymous admin or
    channel speaks as (the same key flood control uses)."""
    if message.sender_chat is not None:
        return message.sender_chat.id
    return message.from_user.id if message.from_user is not None else message.chat.id


async def inline_match(
    matching: Matching, sender: int, engine: Engine, text: str, limit: int = INLINE_LIMIT, fallback: str = "en"
) -> tuple[Reply, list[Candidate]]:
    """An inline query's reply and, unless it is declined, its ranked candidates (one trip to a thread);
    `fallback` is the reply's language when the query has no words to tell it by."""

    def work() -> tuple[Reply, list[Candidate]]:
        reply = engine.ask(text, fallback=fallback)
        return reply, ([] if reply.outcome is Outcome.DECLINE else engine.rank(text, limit))

    return await matching.run(sender, work)
