"""The per-chat rate limiter on its own: slots, 429 pauses per chat, the shutdown deadline."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.tg.ratelimit import ChatRateLimiter, Pace, ReplyDropped, chat_key


def test_a_quiet_chat_gets_a_burst_then_its_rate() -> None:
    pace = Pace(interval=3.0, burst=3)
    starts = [pace.reserve(100.0) for _ in range(5)]
    assert starts == [100.0, 100.0, 100.0, 103.0, 106.0]


def test_a_pause_moves_every_later_slot_past_it() -> None:
    pace = Pace(interval=1.0, burst=1)
    assert pace.reserve(10.0) == 10.0
    pace.pause(30.0)
    assert pace.reserve(11.0) == 30.0 and pace.reserve(11.0) == 31.0


def test_chat_keys() -> None:
    assert chat_key({"chat_id": "-100"}) == -100 and chat_key({"chat_id": "@club"}) == "@club"
    assert chat_key({"inline_query_id": "1"}) is None


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_a_429_for_one_chat_pauses_only_that_chat() -> None:
    limiter = ChatRateLimiter()
    done: list[str] = []
    failures = {"a": 1}

    def call(name: str) -> Any:
        async def callback() -> bool:
            if failures.get(name):
                failures[name] -= 1
                raise RetryAfter(1)
            done.append(name)
            return True

        return callback

    a = asyncio.create_task(limiter.process_request(call("a"), (), {}, "sendMessage", {"chat_id": 1}, None))
    await asyncio.sleep(0.05)
    await limiter.process_request(call("b"), (), {}, "sendMessage", {"chat_id": 2}, None)
    await limiter.process_request(call("inline"), (), {}, "answerInlineQuery", {"inline_query_id": "9"}, None)
    assert done == ["b", "inline"]  # neither waited for chat 1's pause
    await a
    assert done == ["b", "inline", "a"]


async def test_past_the_shutdown_deadline_a_reply_is_dropped_at_once() -> None:
    limiter = ChatRateLimiter(group_interval=30.0)
    sent: list[int] = []

    async def callback() -> bool:
        sent.append(1)
        return True

    for _ in range(3):  # the group's burst
        await limiter.process_request(callback, (), {}, "sendMessage", {"chat_id": -5}, None)
    limiter.close_at(limiter.clock() + 1.0)
    with pytest.raises(ReplyDropped):
        await asyncio.wait_for(
            limiter.process_request(callback, (), {}, "sendMessage", {"chat_id": -5}, None), timeout=0.5
        )
    assert len(sent) == 3 and limiter.dropped == 1
