"""Start-up that survives a bad minute at Telegram.

The calls that only configure the bot (getMe, deleteWebhook, setWebhook, setMyCommands, ...) are
idempotent, so a transient failure of one (a 5xx, a dropped or timed-out connection) is retried
with backoff, a bounded number of times, with one log line per failed attempt naming the method
(never the URL, which holds the token). python-telegram-bot's own bootstrap retries still wrap
getMe and the webhook calls. The command menus are registered after that; if Telegram keeps
refusing them the bot serves anyway and keeps trying in the background.
"""

from __future__ import annotations

import asyncio
import logging

from telegram import BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TelegramError
from telegram.request import HTTPXRequest, RequestData

from bot.frequencies import LANGUAGES
from bot.i18n import DEFAULT_LANGUAGE
from bot.tg import commands
from bot.tg.context import BotApplication
from bot.tg.retry import RetryOnceRequest

log = logging.getLogger(__name__)

# Bot API methods that set the bot's configuration: sending one twice does no harm.
CONFIGURATION_METHODS = frozenset(
    {
        "getMe",
        "deleteWebhook",
        "setWebhook",
        "getWebhookInfo",
        "setMyCommands",
        "deleteMyCommands",
        "setMyDescription",
        "setMyShortDescription",
        "setMyName",
    }
)
CALL_ATTEMPTS = 5  # per configuration call: waits of 0.5, 1, 2 and 4 s between them
FIRST_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
MENU_RETRY_ROUNDS = 8  # menus still refused: tried again in the background this many times
MENU_RETRY_DELAY = 30.0  # first wait of the background rounds, doubling up to MAX_MENU_RETRY_DELAY
MAX_MENU_RETRY_DELAY = 600.0


class ConfigurationRetryRequest(RetryOnceRequest):
    """The bot's request: the idempotent configuration calls retried with backoff on transient
    failures, every other call retried once (bot.tg.retry).

    A 5xx answer or a network error is retried; a 4xx is Telegram's considered answer and
    returned at once (a 429 goes to the rate limiter, a 401 to the token explanation)."""

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
        timeouts = (read_timeout, write_timeout, connect_timeout, pool_timeout)
        api_method = url.rsplit("/", 1)[-1]
        if api_method not in CONFIGURATION_METHODS:
            return await super().do_request(url, method, request_data, *timeouts)
        delay = FIRST_RETRY_DELAY
        for attempt in range(1, CALL_ATTEMPTS + 1):
            try:
                # HTTPXRequest's own: these attempts are counted here, not retried once more below
                code, payload = await HTTPXRequest.do_request(self, url, method, request_data, *timeouts)
            except NetworkError as exc:  # connection refused, dropped, timed out
                if attempt == CALL_ATTEMPTS:
                    raise
                reason = f"{type(exc).__name__}: {exc}"
            else:
                if code < 500 or attempt == CALL_ATTEMPTS:
                    return code, payload
                reason = f"HTTP {code}"
            log.warning(
                "Telegram call %s failed (%s), attempt %d of %d; retrying in %.1f s",
                api_method, reason, attempt, CALL_ATTEMPTS, delay,
            )  # fmt: skip
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_DELAY)
        raise AssertionError("unreachable")  # pragma: no cover


async def register_menus(application: BotApplication) -> None:
    """Command menus (default, private chats', groups'), description and short description: the
    default (English) and each other language."""
    bot = application.bot
    article = application.bot_data.holder.engine.kb.article
    for lang in LANGUAGES:
        code = None if lang == DEFAULT_LANGUAGE else lang  # no language_code: everyone else's default
        await bot.set_my_commands(commands.menu(True, lang), language_code=code)
        await bot.set_my_commands(commands.menu(True, lang), scope=BotCommandScopeAllPrivateChats(), language_code=code)
        await bot.set_my_commands(commands.menu(False, lang), scope=BotCommandScopeAllGroupChats(), language_code=code)
        description, short = commands.descriptions(article, lang)
        await bot.set_my_description(description, language_code=code)
        await bot.set_my_short_description(short, language_code=code)


async def register_menus_or_later(application: BotApplication) -> None:
    """Register the menus now; if Telegram keeps refusing, serve anyway and retry in the background."""
    try:
        await register_menus(application)
    except TelegramError as exc:
        log.warning(
            "Command menus not registered (%s: %s); serving anyway, retrying in the background",
            type(exc).__name__,
            exc,
        )
        task = asyncio.get_running_loop().create_task(_register_menus_later(application), name="menus")
        application.bot_data.background.add(task)
        task.add_done_callback(application.bot_data.background.discard)


async def _register_menus_later(application: BotApplication) -> None:
    delay = MENU_RETRY_DELAY
    for round_ in range(1, MENU_RETRY_ROUNDS + 1):
        await asyncio.sleep(delay)
        try:
            await register_menus(application)
        except TelegramError as exc:
            log.warning(
                "Command menus still not registered (%s: %s), round %d of %d",
                type(exc).__name__, exc, round_, MENU_RETRY_ROUNDS,
            )  # fmt: skip
            delay = min(delay * 2, MAX_MENU_RETRY_DELAY)
        else:
            log.info("Command menus registered (round %d)", round_)
            return
    log.error(
        "Command menus not registered after %d rounds; they stay as Telegram had them", MENU_RETRY_ROUNDS
    )


async def cancel_background(application: BotApplication) -> None:
    """At shutdown: stop the background registration, if it is still trying."""
    tasks = list(application.bot_data.background)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
