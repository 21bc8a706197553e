"""The cap on replies on the wire at once (bot.tg.retry): never more than the cap, quick answers
never wait for a slot, a retry's pause holds none. The HTTP layer below is replaced by a stand-in
that holds each call until the test lets it go (no network, no timing)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from telegram.request import HTTPXRequest

from bot.tg import retry
from bot.tg.retry import RetryOnceRequest

URL = "http://127.0.0.1:1/bot123:abc/"


class HeldCalls:
    """Stands in for HTTPXRequest.do_request: records what is on the wire, answers when released."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.on_wire: list[str] = []
        self.most = 0
        self.release = asyncio.Event()

    async def __call__(self, url: str, *args: Any) -> tuple[int, bytes]:  # a class attribute, not a method
        method = url.rsplit("/", 1)[-1]
        self.on_wire.append(method)
        self.most = max(self.most, len([m for m in self.on_wire if m not in retry.QUICK_METHODS]))
        try:
            await self.release.wait()
            return self.status, b'{"ok": true, "result": true}'
        finally:
            self.on_wire.remove(method)


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> HeldCalls:
    calls = HeldCalls()
    monkeypatch.setattr(HTTPXRequest, "do_request", calls)
    return calls


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_no_more_than_the_cap_of_replies_is_on_the_wire(held: HeldCalls) -> None:
    request = RetryOnceRequest(in_flight=3)
    await request.initialize()
    calls = [asyncio.create_task(request.do_request(URL + "sendMessage", "POST")) for _ in range(10)]
    await settle()
    assert len(held.on_wire) == 3  # the other seven wait for a slot, outside the connection pool
    held.release.set()
    results = await asyncio.gather(*calls)
    assert all(code == 200 for code, _ in results) and held.most == 3


async def test_inline_answers_and_button_acknowledgements_never_wait_for_a_slot(held: HeldCalls) -> None:
    request = RetryOnceRequest(in_flight=1)
    await request.initialize()
    replies = [asyncio.create_task(request.do_request(URL + "sendMessage", "POST")) for _ in range(5)]
    quick = [
        asyncio.create_task(request.do_request(URL + method, "POST"))
        for method in ("answerCallbackQuery", "answerInlineQuery")
    ]
    await settle()
    assert sorted(held.on_wire) == ["answerCallbackQuery", "answerInlineQuery", "sendMessage"]
    held.release.set()
    await asyncio.gather(*replies, *quick)


async def test_a_retry_pause_holds_no_slot(held: HeldCalls, monkeypatch: pytest.MonkeyPatch) -> None:
    pause = asyncio.Event()
    sleep = asyncio.sleep  # retry.asyncio is the asyncio module: settle() goes through this too

    async def paused(seconds: float) -> None:
        if seconds == retry.RETRY_PAUSE:
            await pause.wait()
        else:
            await sleep(seconds)

    monkeypatch.setattr(retry.asyncio, "sleep", paused)
    held.status = 502  # the first attempt fails: the call pauses before its one retry
    held.release.set()
    request = RetryOnceRequest(in_flight=1)
    await request.initialize()
    failing = asyncio.create_task(request.do_request(URL + "sendMessage", "POST"))
    await settle()  # failed once, now pausing
    held.status, held.release = 200, asyncio.Event()
    other = asyncio.create_task(request.do_request(URL + "sendMessage", "POST"))
    await settle()
    assert held.on_wire == ["sendMessage"]  # the other reply went out during the pause
    held.release.set()
    assert (await other)[0] == 200
    pause.set()
    assert (await failing)[0] == 200
