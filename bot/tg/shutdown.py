"""Shutdown within a grace period: stop fetching, send what fits, drop the rest and say how much.

python-telegram-bot's run_polling/run_webhook stop the Updater (no more fetching) and then call
``Application.stop``, which waits for every pending update to be answered: with replies waiting in
the rate limiter that can take minutes (40 group replies at 20 a minute: two), and Docker or systemd
kill the process first, losing everything. Here ``stop`` gives them ``grace`` seconds (the
SHUTDOWN_GRACE_SECONDS setting): replies whose rate-limit slot lies beyond the end are dropped at
once, updates still running at the end are cancelled, and one log line says how many replies were
dropped. Updates fetched but not answered are not fetched again: the Updater has confirmed them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from telegram.ext import Application, ExtBot

from bot.tg.backlog import BoundedUpdateQueue
from bot.tg.context import BotContext, BotData
from bot.tg.lanes import TwoLaneUpdateProcessor
from bot.tg.ratelimit import ChatRateLimiter

log = logging.getLogger(__name__)

DEFAULT_GRACE_SECONDS = 10.0


class GracefulApplication(Application[ExtBot[Any], BotContext, dict[Any, Any], dict[Any, Any], BotData, Any]):
    """An Application whose ``stop`` waits at most ``grace`` seconds for pending replies."""

    def __init__(self, grace: float = DEFAULT_GRACE_SECONDS, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.grace = grace

    async def stop(self) -> None:
        processor = self.update_processor
        limiter = self.bot.rate_limiter
        lanes = processor if isinstance(processor, TwoLaneUpdateProcessor) else None
        chat_limiter = limiter if isinstance(limiter, ChatRateLimiter) else None
        started = time.monotonic()
        pending = lanes.busy if lanes is not None else 0
        log.info("Stopping: fetching stopped; %d update(s) still being answered, grace %.0f s", pending, self.grace)
        if isinstance(self.update_queue, BoundedUpdateQueue):
            self.update_queue.release()
        if chat_limiter is not None:
            chat_limiter.close_at(chat_limiter.clock() + self.grace)
        if lanes is not None:
            lanes.close_at(asyncio.get_running_loop().time() + self.grace)
        await super().stop()
        if lanes is None or chat_limiter is None:
            return
        counts = lanes.counts
        dropped = chat_limiter.dropped + counts.cancelled + counts.not_started
        log.info(
            "Stopped after %.1f s: %d repl%s dropped (%d could not be sent within the grace period, "
            "%d cut off at its end, %d fetched updates not started)",
            time.monotonic() - started,
            dropped,
            "y" if dropped == 1 else "ies",
            chat_limiter.dropped,
            counts.cancelled,
            counts.not_started,
        )
