"""Run the real bot in-process against FakeTelegram, with long polling, and capture every log record.

    async with running_bot(engine) as bot:
        bot.fake.private_message(42, "When were the talks?")
        await bot.fake.wait_for_messages(1, chat_id=42)
        assert bot.logs.problems() == [] and bot.logs.token_leaks() == []

The application is started the way ``run_bot``/``run_polling`` starts it: the redaction is installed
first, then ``initialize``, ``on_startup`` (post_init only runs inside run_polling), ``start`` and
``updater.start_polling`` with the same allowed updates, bootstrap retries and polling error callback
(polling errors go to the application's error handler, as run_polling arranges). Only the long-poll
timeout is shorter, so that tests stop quickly.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import signal
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from fake_telegram import FakeTelegram
from telegram.error import TelegramError
from telegram.ext import Application

from bot.config import Settings, load_settings
from bot.engine import Engine
from bot.tg import logs as bot_logs
from bot.tg.app import ALLOWED_UPDATES, build_application, on_startup

TOKEN = "123456789:AAH-test-token-for-the-fake-server-0123"
SECRET_HALF = TOKEN.split(":", 1)[1]
BOT_USERNAME = "istanbul_talks_bot"  # FakeTelegram's default
POLL_TIMEOUT = 1  # seconds of long polling (run_polling uses 10)


class LogCapture(logging.Handler):
    """Keeps every record that reaches the root logger (thread-safe)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self._formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
        self._records_lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self._records_lock:
            self.records.append(record)

    def snapshot(self) -> list[logging.LogRecord]:
        with self._records_lock:
            return list(self.records)

    def format_all(self, records: list[logging.LogRecord] | None = None) -> list[str]:
        """Each record as a console handler would print it, traceback included."""
        return [self._formatter.format(r) for r in (self.snapshot() if records is None else records)]

    def at_least(self, level: int) -> list[logging.LogRecord]:
        return [r for r in self.snapshot() if r.levelno >= level]

    def problems(self) -> list[str]:
        """WARNING and above, formatted: what an operator would notice."""
        return self.format_all(self.at_least(logging.WARNING))

    def containing(self, text: str, level: int = logging.DEBUG) -> list[logging.LogRecord]:
        """Records at ``level`` or above whose message (or traceback) contains ``text``."""
        return [r for r in self.at_least(level) if text in r.getMessage() or text in (r.exc_text or "")]

    def token_leaks(self) -> list[str]:
        """Formatted records that contain the token or its secret half (must stay empty)."""
        return [line for line in self.format_all() if TOKEN in line or SECRET_HALF in line]

    def clear(self) -> None:
        with self._records_lock:
            self.records.clear()


@dataclass
class Harness:
    fake: FakeTelegram
    app: Application
    logs: LogCapture


def bot_settings(fake: FakeTelegram, **env: str) -> Settings:
    """Settings as load_settings reads them from the environment, pointed at the fake."""
    values = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": f"{fake.base_url}/bot",
        "LOG_LEVEL": "DEBUG",
        **env,
    }
    return load_settings(values)


def build_bot(settings: Settings, engine: Engine, rate_limit: bool = True) -> Application:
    """build_application, with or without python-telegram-bot's AIORateLimiter."""
    if "rate_limit" in inspect.signature(build_application).parameters:
        return build_application(settings, engine, rate_limit=rate_limit)
    application = build_application(settings, engine)
    if not rate_limit:  # older build_application without the switch: detach the limiter
        application.bot._rate_limiter = None
    return application


@contextlib.contextmanager
def captured_logs(level: int = logging.DEBUG, httpx_level: int = logging.INFO):
    """A LogCapture on the root logger at ``level``; levels and handlers are restored afterwards.

    httpx is left at INFO on purpose (production turns it down to WARNING): its request lines carry the
    token in the URL, so they prove the redaction works rather than being hidden by a logger level.
    """
    capture = LogCapture()
    root = logging.getLogger()
    noisy = {"httpx": httpx_level, "httpcore": max(logging.INFO, level)}
    saved = root.level, {name: logging.getLogger(name).level for name in noisy}
    root.addHandler(capture)
    root.setLevel(level)
    for name, value in noisy.items():
        logging.getLogger(name).setLevel(value)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        root.setLevel(saved[0])
        for name, value in saved[1].items():
            logging.getLogger(name).setLevel(value)


@contextlib.asynccontextmanager
async def running_application(
    fake: FakeTelegram,
    application: Application,
    *,
    startup: Callable[[Application], object] | None = on_startup,
    poll_timeout: float = POLL_TIMEOUT,
) -> AsyncIterator[Application]:
    """initialize, post_init, start and long-poll ``application`` until the block ends."""
    await application.initialize()
    try:
        if startup is not None:
            await startup(application)

        def polling_error(exc: TelegramError) -> None:  # exactly what run_polling passes
            application.create_task(application.process_error(error=exc, update=None))

        await application.start()
        await application.updater.start_polling(
            poll_interval=0,
            timeout=poll_timeout,
            bootstrap_retries=5,
            allowed_updates=ALLOWED_UPDATES,
            error_callback=polling_error,
        )
        try:
            yield application
        finally:
            if application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
    finally:
        await application.shutdown()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)  # set by on_startup


@contextlib.asynccontextmanager
async def running_bot(
    engine: Engine,
    *,
    env: dict[str, str] | None = None,
    rate_limit: bool = True,
    log_level: int = logging.DEBUG,
    poll_timeout: float = POLL_TIMEOUT,
) -> AsyncIterator[Harness]:
    """The real bot (build_application + on_startup) polling a fresh FakeTelegram."""
    saved_secrets = list(bot_logs._installed_secrets)
    bot_logs.install_redaction([TOKEN])  # as run_bot's configure_logging does, before anything logs
    try:
        with captured_logs(log_level) as capture:
            async with FakeTelegram(TOKEN, bot_username=BOT_USERNAME) as fake:
                application = build_bot(bot_settings(fake, **(env or {})), engine, rate_limit=rate_limit)
                async with running_application(fake, application, poll_timeout=poll_timeout):
                    yield Harness(fake, application, capture)
    finally:
        bot_logs._installed_secrets[:] = saved_secrets
