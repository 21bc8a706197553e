"""Builds the python-telegram-bot Application and runs it (long polling or webhook).

Every handler is registered here, in one place, in the order python-telegram-bot tries them.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import signal
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, InvalidToken, NetworkError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChosenInlineResultHandler,
    CommandHandler,
    Defaults,
    ExtBot,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import hangup, i18n
from bot.config import Settings
from bot.engine import Engine, EngineHolder
from bot.questionlog.writer import open_question_log
from bot.tg import commands, feedback, handlers, language, startup
from bot.tg.backlog import BoundedUpdateQueue
from bot.tg.context import CONTEXT_TYPES, BotApplication, BotContext, BotData, Recorder
from bot.tg.flood import FloodGuard
from bot.tg.lanes import TwoLaneUpdateProcessor
from bot.tg.logs import configure_logging
from bot.tg.ratelimit import ChatRateLimiter
from bot.tg.resources import raise_open_files_limit
from bot.tg.retry import CONNECTION_POOL
from bot.tg.shutdown import GracefulApplication
from bot.tg.startup import ConfigurationRetryRequest
from bot.tg.webhook import install_webhook_updater, limits_from

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "inline_query", "chosen_inline_result"]
CONCURRENT_MESSAGES = 256  # updates answered by messages (these may wait in the rate limiter)
CONCURRENT_QUICK_ANSWERS = 128  # inline queries and button presses, which must not wait
CHECKS = -1  # handler group run before the answering handlers: checks every update needs


def build_application(
    settings: Settings, engine: Engine, question_log: Recorder | None = None, rate_limit: bool = True
) -> BotApplication:
    """The whole bot, ready for run_polling/run_webhook (or initialize/start in tests).

    Without ``question_log`` nothing is logged (tests and benchmarks pass one when they want it);
    rate_limit=False leaves out the rate limiter (benchmarks measure the bot without Telegram's caps).
    Replies are paced per chat (bot.tg.ratelimit), a transient failure is retried once (bot.tg.retry),
    fetching pauses while UPDATE_BACKLOG updates are being answered (bot.tg.backlog), and SIGTERM
    gives pending replies SHUTDOWN_GRACE_SECONDS (bot.tg.shutdown)."""
    builder: ApplicationBuilder[ExtBot[Any], BotContext, dict[Any, Any], dict[Any, Any], BotData, Any] = (
        Application.builder()
        .token(settings.require_token())
        .application_class(GracefulApplication, kwargs={"grace": settings.shutdown_grace_seconds})
        .context_types(CONTEXT_TYPES)
        .update_queue(BoundedUpdateQueue(settings.update_backlog))
        .request(ConfigurationRetryRequest(connection_pool_size=CONNECTION_POOL))
        .defaults(
            Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True))
        )
        .concurrent_updates(TwoLaneUpdateProcessor(CONCURRENT_MESSAGES, quick=CONCURRENT_QUICK_ANSWERS))
        .post_init(on_startup)
        .post_shutdown(startup.cancel_background)
    )
    if rate_limit:
        builder = builder.rate_limiter(ChatRateLimiter())
    if settings.base_url:
        base = settings.base_url.rstrip("/")
        files = base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base + "/file"
        builder = builder.base_url(base).base_file_url(files)
    application = builder.build()
    application.bot_data.setup(
        holder=EngineHolder(engine, settings.knowledge_dir, settings.reload_max_loss),
        flood=FloodGuard(settings.flood_limit_per_minute),
        admins=settings.admin_user_ids,
        question_log=question_log,
    )
    register_handlers(application)
    return application


def register_handlers(application: BotApplication) -> None:
    """All handlers, in the order they are tried. Edited messages and channel posts are ignored.

    Group CHECKS runs first for every update; flood control there stops an update with
    ApplicationHandlerStop before any answering handler (group 0) sees it."""
    application.add_handler(TypeHandler(Update, handlers.flood_control), group=CHECKS)
    new_messages = filters.UpdateType.MESSAGE
    private = filters.ChatType.PRIVATE & new_messages
    groups = filters.ChatType.GROUPS & new_messages
    for command in commands.COMMANDS:
        where = private if command.private_only else new_messages
        application.add_handler(CommandHandler(command.name, command.callback, filters=where))
    application.add_handler(MessageHandler(private & filters.COMMAND, commands.unknown_command))
    application.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, handlers.private_text))
    application.add_handler(MessageHandler(groups & filters.TEXT & ~filters.COMMAND, handlers.group_text))
    application.add_handler(MessageHandler(private & ~filters.TEXT, handlers.private_non_text))
    application.add_handler(CallbackQueryHandler(feedback.vote, pattern=feedback.VOTE_PATTERN))
    application.add_handler(CallbackQueryHandler(handlers.language_button, pattern=language.LANGUAGE_PATTERN))
    application.add_handler(CallbackQueryHandler(handlers.answer_button, pattern=handlers.ANSWER_PATTERN))
    application.add_handler(CallbackQueryHandler(handlers.topics_page_button, pattern=handlers.TOPICS_PATTERN))
    application.add_handler(CallbackQueryHandler(handlers.stale_button))
    application.add_handler(InlineQueryHandler(handlers.inline_query))
    application.add_handler(ChosenInlineResultHandler(feedback.chosen_inline_result))
    application.add_error_handler(handlers.on_error)


async def on_startup(application: BotApplication) -> None:
    """The SIGHUP reload first, then the command menus (run_polling/run_webhook call this).

    A SIGHUP that arrived earlier, while the bot was starting, was remembered (bot.hangup) and
    is answered now with one reload."""
    holder = application.bot_data.holder

    def reload_on_hangup() -> None:
        application.create_task(handlers.reload_engine(holder))

    try:
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, reload_on_hangup)
    except (NotImplementedError, RuntimeError, AttributeError):  # not on this platform or thread
        log.debug("SIGHUP reload not available here")
    else:
        if hangup.take_pending():
            log.info("SIGHUP received while starting: reloading the knowledge once")
            reload_on_hangup()
    await startup.register_menus_or_later(application)
    log.info("Bot @%s is up with %d entries", application.bot.username, len(holder.engine.entries))


def _listen_refused(exc: BaseException) -> OSError | None:
    """The address-in-use / not-available / permission error behind `exc`, if that is what it is."""
    seen: BaseException | None = exc
    for _ in range(5):  # python-telegram-bot may wrap it
        if isinstance(seen, OSError) and seen.errno in (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES):
            return seen
        if seen is None:
            return None
        seen = seen.__cause__ or seen.__context__
    return None


def run_bot(settings: Settings, engine: Engine) -> int:
    """Serve until SIGINT/SIGTERM; long polling unless WEBHOOK_URL is set. Returns the exit code."""
    configure_logging(settings.log_level, [settings.token or "", settings.webhook_secret or ""])
    raise_open_files_limit()
    i18n.warm(engine.kb.article.published)  # catalogues and Babel's dates: never inside a reply
    recorder = open_recorder(settings)
    application = build_application(settings, engine, recorder)
    try:
        _serve(application, settings)
    except InvalidToken:
        # PTB's message quotes the token itself: say what happened in our own words instead.
        print(
            "Telegram rejected TELEGRAM_BOT_TOKEN (401 Unauthorized): the token was revoked or mistyped.\n"
            "Ask @BotFather for the current token (/mybots, API Token) and update the environment or .env.\n"
            "To try the bot without Telegram, run: python -m bot chat",
            file=sys.stderr,
        )
        return 2
    except BadRequest as exc:  # Telegram refused a start-up call outright: a setting is wrong
        log.critical("Telegram refused the bot's start-up: %s. Check WEBHOOK_URL and the other settings.", exc)
        return 2
    except NetworkError as exc:  # still failing after every retry of start-up
        log.critical(
            "Telegram could not be reached while starting (%s: %s), even after retries; giving up. "
            "Check the network and TELEGRAM_BASE_URL.",
            type(exc).__name__,
            exc,
        )
        return 1
    except Exception as exc:  # anything else: logged through the redacting log records, never a raw traceback
        refused = _listen_refused(exc)
        if refused is not None:  # the webhook port is taken or not ours: a setting to change
            log.critical(
                "The webhook server cannot listen on %s:%s (%s). Check WEBHOOK_LISTEN and WEBHOOK_PORT.",
                settings.webhook_listen, settings.webhook_port, refused.strerror or refused,
            )  # fmt: skip
            return 2
        log.critical("The bot stopped on an unexpected error", exc_info=True)
        return 1
    finally:
        if recorder is not None:
            recorder.log.close()
    log.info("Stopped cleanly")
    return 0


def open_recorder(settings: Settings) -> Recorder | None:
    """The question log (its key generated into ./.env on first run), or None with QUESTION_LOG=off."""
    if not settings.question_log:
        return None
    try:
        question_log, ids = open_question_log(
            settings.database_url, settings.question_log_key, settings.retention_days, Path.cwd() / ".env"
        )
    except OSError as exc:  # no key and .env cannot be written: serve readers, log nothing
        log.warning(
            "Question log off: QUESTION_LOG_KEY is not set and .env cannot be written (%s)", exc.strerror
        )
        return None
    return Recorder(question_log, ids)


def _serve(application: BotApplication, settings: Settings) -> None:
    stop_signals = (signal.SIGINT, signal.SIGTERM)
    if settings.webhook_url:
        log.info("Starting webhook on %s:%d", settings.webhook_listen, settings.webhook_port)
        install_webhook_updater(application, limits_from(settings))
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=urlsplit(settings.webhook_url).path.strip("/"),
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret,
            allowed_updates=ALLOWED_UPDATES,
            stop_signals=stop_signals,
            bootstrap_retries=5,
        )
    else:
        log.info("Starting long polling")
        application.run_polling(
            allowed_updates=ALLOWED_UPDATES, stop_signals=stop_signals, bootstrap_retries=5
        )
