"""One retry of a Bot API call that failed for a passing reason, so that a blip costs no reply.

Transient: a timeout, a dropped or refused connection (python-telegram-bot's TimedOut and
NetworkError from httpx) and a 5xx answer. Never a 4xx: Telegram has judged the request and the same
request would fail the same way (a 429 is the rate limiter's business, bot.tg.ratelimit).

The retry sits in the HTTP layer (an HTTPXRequest), the one place that still knows the status code;
above it python-telegram-bot turns every 4xx but a few and every 5xx into the same NetworkError.
After a timeout Telegram may have carried the first call out after all, so a reply can, rarely,
arrive twice: better than not at all. getUpdates has a request of its own and is not retried here
(python-telegram-bot's polling loop retries it forever).

The same request caps how many replies are on the wire at once (IN_FLIGHT). Without a cap every
update being answered holds a request in httpx's connection pool: under a burst that is hundreds
of connections, more than the pool keeps alive (httpx keeps 20 idle ones), so connections are
opened and closed all the time, and httpcore walks its whole list of requests and connections
(a system call per connection) each time a request comes or goes, which took over half of the
bot's time. Replies waiting for a slot wait here instead, at no cost; inline answers and button
acknowledgements never wait for one (Telegram wants them at once), and a retry's pause holds none.
"""

from __future__ import annotations

import asyncio
import logging
from http import HTTPStatus
from typing import Any

from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.error import NetworkError
from telegram.request import HTTPXRequest, RequestData

log = logging.getLogger(__name__)

RETRY_PAUSE = 0.5  # seconds before the one retry
CONNECTION_POOL = 256  # python-telegram-bot's own default for the bot's requests
IN_FLIGHT = 12  # replies on the wire at once: within the 20 connections httpx keeps alive
QUICK_METHODS = frozenset({"answerInlineQuery", "answerCallbackQuery"})  # never wait for a slot


class RetryOnceRequest(HTTPXRequest):
    """HTTPXRequest that repeats a call once after a timeout, a connection error or a 5xx, with at
    most ``in_flight`` calls other than quick answers on the wire at once."""

    __slots__ = ("_in_flight", "_slots")

    def __init__(self, *args: Any, in_flight: int = IN_FLIGHT, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_flight = in_flight
        self._slots = asyncio.Semaphore(in_flight)

    async def initialize(self) -> None:
        """A fresh cap for each run (an asyncio.Semaphore belongs to the event loop that used it)."""
        self._slots = asyncio.Semaphore(self._in_flight)
        await super().initialize()

    async def _send(
        self,
        url: str,
        method: str,
        request_data: RequestData | None,
        timeouts: tuple[ODVInput[float], ...],
        quick: bool,
    ) -> tuple[int, bytes]:
        if quick:
            return await super().do_request(url, method, request_data, *timeouts)
        async with self._slots:
            return await super().do_request(url, method, request_data, *timeouts)

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        endpoint = url.rsplit("/", 1)[-1]  # never the URL itself: it holds the token
        timeouts = (read_timeout, write_timeout, connect_timeout, pool_timeout)
        quick = endpoint in QUICK_METHODS
        try:
            code, payload = await self._send(url, method, request_data, timeouts, quick)
        except NetworkError as exc:  # TimedOut included; the HTTP layer raises no BadRequest
            reason = type(exc).__name__
        else:
            if code < HTTPStatus.INTERNAL_SERVER_ERROR:
                return code, payload
            reason = f"HTTP {code}"
        log.info("%s failed (%s); retrying it once in %.1f s", endpoint, reason, RETRY_PAUSE)
        await asyncio.sleep(RETRY_PAUSE)
        return await self._send(url, method, request_data, timeouts, quick)
