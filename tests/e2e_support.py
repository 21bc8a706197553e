"""Helpers for the end-to-end tests: the real bot (`python -m bot run`) against FakeTelegram.

The bot runs as a subprocess exactly as in production, configured only by its environment, with
its DEBUG log captured to a file. Tests push updates into the fake server and await what the bot
sends back. Fixtures live in ``conftest_e2e``; everything here is plain code.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from fake_telegram import CallbackAnswer, FakeTelegram, InlineAnswer, SentMessage

REPO_ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE_DIR = REPO_ROOT / "knowledge"

TOKEN = "123456789:AAH-test-token-for-the-fake-server-0123"
TOKEN_SECRET = TOKEN.split(":", 1)[1]  # the part that must never be logged, even alone
BOT_USERNAME = "istanbul_talks_bot"

START_TIMEOUT = 20.0  # seconds for a fresh process to reach long polling / its webhook
REPLY_TIMEOUT = 8.0  # seconds for one reply (generous: 2 busy cores)
STOP_TIMEOUT = 10.0  # seconds for a clean exit after SIGTERM/SIGINT
QUIET_PERIOD = 0.3  # seconds to let a wrongly-handled update show itself before saying "ignored"

# What the bot says, as a user reads it (the texts of bot/tg/handlers.py and bot/render.py).
STALE_BUTTON = "That button no longer works. Send /topics for the current questions."
FLOOD_NOTICE = "You’re sending questions faster than anyone can read the answers. Please wait a minute."
NOT_TEXT_HINT = "I only read text."
DECLINE = "Sorry, the article doesn’t cover that"
SOURCE_LINE = (
    "Source: AFP, “Kremlin says nothing ‘promising’ from Russia-Ukraine talks”, Wednesday 30 March 2022"
)
ARTICLE_TITLE = "Kremlin says nothing ‘promising’ from Russia-Ukraine talks"
HELP_TITLE = "How to use me"

# Environment variables that would change how the bot runs if they leaked in from the test runner.
_BOT_VARIABLES = {
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_BASE_URL",
    "LOG_LEVEL",
    "KNOWLEDGE_DIR",
    "ADMIN_USER_IDS",
    "FLOOD_LIMIT_PER_MINUTE",
    "WEBHOOK_URL",
    "WEBHOOK_SECRET",
    "WEBHOOK_LISTEN",
    "WEBHOOK_PORT",
    "WEBHOOK_MAX_BODY_BYTES",
    "WEBHOOK_TIMEOUT_SECONDS",
    "WEBHOOK_MAX_OPEN_CONNECTIONS",
    "PYTHONSTARTUP",
    "DATABASE_URL",
    "QUESTION_LOG",
    "QUESTION_LOG_KEY",
    "QUESTION_LOG_RETENTION_DAYS",
}


@functools.cache
def entry_count() -> int:
    """How many questions the knowledge folder answers (what /topics and inline mode list)."""
    from bot.engine import Engine

    return len(Engine.load(KNOWLEDGE_DIR).entries)


def bot_env(fake: FakeTelegram | None = None, **overrides: str | None) -> dict[str, str]:
    """A clean environment for `python -m bot run`: DEBUG log, this repo importable, no proxies.

    With ``fake``, the token and TELEGRAM_BASE_URL point the bot at it. ``None`` removes a variable.
    """
    env = {
        k: v for k, v in os.environ.items() if k not in _BOT_VARIABLES and not k.lower().endswith("_proxy")
    }
    env.update(PYTHONPATH=str(REPO_ROOT), PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")
    env["LOG_LEVEL"] = "DEBUG"
    if fake is not None:
        env.update(TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_BASE_URL=f"{fake.base_url}/bot")
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, alive: Callable[[], None]) -> Any:
    """Poll ``predicate`` (blocking) until truthy; ``alive()`` raises if the bot died meanwhile."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        alive()
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def unprivileged() -> list[str]:
    """A command prefix under which file permissions hold: nothing for a normal user; for root,
    setpriv without the capabilities that let root read any file (the test skips without it)."""
    if os.geteuid() != 0:
        return []
    prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: permissions cannot be made to apply")
    probe = subprocess.run([*prefix, "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"setpriv cannot drop capabilities here: {probe.stderr.decode().strip()}")
    return prefix



class BotProcess:
    """`python -m bot run` in a subprocess, its stdout and stderr captured to one log file.

    ``prefix`` goes before the command (``unprivileged()`` for tests of unreadable files);
    ``open_files`` sets its soft and hard RLIMIT_NOFILE."""

    def __init__(
        self,
        workdir: Path,
        env: dict[str, str],
        name: str = "bot",
        prefix: Iterable[str] = (),
        open_files: int | None = None,
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.env = env
        self.prefix = list(prefix)
        self.open_files = open_files  # soft and hard RLIMIT_NOFILE of the process, if set
        self.log_path = workdir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> BotProcess:
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [*self.prefix, sys.executable, "-m", "bot", "run"],
                cwd=self.workdir,  # a scratch folder: no .env is picked up
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C of pytest is not a signal to the bot
                preexec_fn=None if self.open_files is None else self._limit_open_files,
            )
        return self

    def _limit_open_files(self) -> None:
        assert self.open_files is not None
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.open_files, self.open_files))

    @property
    def rss_bytes(self) -> int:
        """The process's resident memory now (Linux)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS line")

    @property
    def pid(self) -> int:
        assert self.proc is not None, "not started"
        return self.proc.pid

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def log(self) -> str:
        """Everything the process printed so far (log records and any traceback)."""
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.splitlines()[-lines:])

    def check_alive(self) -> None:
        if not self.running:
            code = self.proc.returncode if self.proc else None
            raise RuntimeError(f"the bot exited (code {code}); log tail:\n{self.log_tail()}")

    def wait_polling(self, fake: FakeTelegram, timeout: float = START_TIMEOUT) -> BotProcess:
        """Block until the command menus are registered and the first long poll is out."""

        def ready() -> bool:
            names = [name for name, _ in fake.calls]
            return names.count("setMyCommands") >= 3 and "getUpdates" in names

        wait_until(ready, timeout, "setMyCommands and getUpdates", self.check_alive)
        return self

    async def await_log(self, text: str, timeout: float = REPLY_TIMEOUT, start: int = 0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log[start:]:
            self.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"{text!r} not in the log within {timeout}s:\n{self.log_tail()}")
            await asyncio.sleep(0.02)

    def send_signal(self, sig: signal.Signals) -> None:
        self.check_alive()
        os.kill(self.pid, sig)

    def stop(self, sig: signal.Signals = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> int:
        """Send ``sig`` and wait for the exit code (killed and TimeoutError after ``timeout``)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise TimeoutError(f"the bot did not exit within {timeout}s of {sig.name}") from None

    def kill(self) -> None:
        """Make sure the process is gone (teardown)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(5)


Spawn = Callable[..., BotProcess]  # the e2e_spawn fixture: env (and name) -> a started bot


def assert_log_free_of_secrets(log: str, secrets: Iterable[str] = ()) -> None:
    """The token, its secret half and any other secret never appear in a captured log."""
    for secret in (TOKEN, TOKEN_SECRET, *secrets):
        assert secret not in log, f"a secret ({secret[:4]}…) leaked into the log"


def problems_in_log(log: str) -> list[str]:
    """Log lines that mean something went wrong inside the bot."""
    markers = (
        "Traceback",
        " ERROR ",
        " CRITICAL ",
        "Telegram error on update",
        "Telegram error while",
        "No error handlers",
    )
    return [line for line in log.splitlines() if any(marker in line for marker in markers)]


# -- driving a running bot ------------------------------------------------------------------


class Chat:
    """Drives one running bot through the fake: fresh users and groups, and the replies they get."""

    def __init__(self, fake: FakeTelegram, bot: BotProcess, first_id: int = 10_000) -> None:
        self.fake = fake
        self.bot = bot
        self._ids = itertools.count(first_id)

    # users and chats

    def new_user(self, first_name: str = "Reader", **kw: Any) -> int:
        """A user nobody has used yet (so flood control and chat history start from zero)."""
        user_id = next(self._ids)
        self.fake.user(user_id, f"{first_name}{user_id}", **kw)
        return user_id

    def new_group(self, title: str = "Reading club") -> int:
        chat_id = -1_000_000_000_000 - next(self._ids)
        self.fake.group(chat_id, title)
        return chat_id

    # observing

    def sent(self, chat_id: int) -> list[SentMessage]:
        return self.fake.sent_messages(chat_id)

    async def replies(self, chat_id: int, push: Callable[[], Any], n: int = 1) -> list[SentMessage]:
        """Run ``push`` (which delivers updates) and return the next ``n`` messages in the chat."""
        mark = len(self.sent(chat_id))
        push()
        messages = await self.fake.wait_for_messages(mark + n, chat_id=chat_id, timeout=REPLY_TIMEOUT)
        return messages[mark : mark + n]

    async def say(self, user_id: int, text: str, **kw: Any) -> SentMessage:
        """A private message from ``user_id``; return the bot's (first) reply."""
        [reply] = await self.replies(user_id, lambda: self.fake.private_message(user_id, text, **kw))
        return reply

    async def say_in_group(
        self, chat_id: int, user_id: int | None, text: str, **kw: Any
    ) -> tuple[dict[str, Any], SentMessage]:
        """A group message; return (the user's message, the bot's reply)."""
        sent: dict[str, Any] = {}

        def push() -> None:
            sent.update(self.fake.group_message(chat_id, user_id, text, **kw))

        [reply] = await self.replies(chat_id, push)
        return sent, reply

    async def press(self, user_id: int, message: SentMessage, data: str) -> CallbackAnswer:
        """Press a callback button with ``data`` on the bot's ``message``; return the acknowledgement."""
        update = self.fake.callback_query(user_id, message, data)
        query_id = update["callback_query"]["id"]

        def answered() -> list[CallbackAnswer]:
            return [a for a in self.fake.callback_answers if a.query_id == query_id]

        [answer] = await self.fake.wait_for(answered, REPLY_TIMEOUT)
        return answer

    async def inline(self, user_id: int, query: str, offset: str = "") -> InlineAnswer:
        """An inline query; return the bot's answer to it."""
        update = self.fake.inline_query(user_id, query, offset)
        query_id = update["inline_query"]["id"]

        def answered() -> list[InlineAnswer]:
            return [a for a in self.fake.inline_answers if a.query_id == query_id]

        [answer] = await self.fake.wait_for(answered, REPLY_TIMEOUT)
        return answer

    async def assert_ignored(
        self, chat_id: int, push: Callable[[], Any], sentinel: Callable[[], Any] | None = None
    ) -> None:
        """``push`` gets no reply in ``chat_id``.

        Proof: a later update (``sentinel``; by default /help from a fresh user in private) is
        answered, and after a short quiet period nothing else has arrived in ``chat_id``.
        """
        mark = len(self.sent(chat_id))
        calls = len(self.fake.calls)
        push()
        if sentinel is None:
            helper = self.new_user("Sentinel")
            await self.replies(helper, lambda: self.fake.private_message(helper, "/help"))
        else:
            sentinel()
            await self.fake.wait_for_updates_consumed(REPLY_TIMEOUT)
        await asyncio.sleep(QUIET_PERIOD)
        extra = self.sent(chat_id)[mark:]
        assert extra == [], f"expected no reply, got: {[m.plain_text for m in extra]}"
        answered = [
            name
            for name, params in self.fake.calls[calls:]
            if name in {"sendMessage", "editMessageText", "editMessageReplyMarkup"}
            and params.get("chat_id") == chat_id
        ]
        assert answered == [], f"the bot acted in the chat: {answered}"


# -- what a user sees --------------------------------------------------------------------------


def callback_data(message: SentMessage) -> list[str]:
    return [b["callback_data"] for b in message.buttons if "callback_data" in b]


def button_texts(message: SentMessage) -> list[str]:
    return [b["text"] for b in message.buttons]


def assert_answer_card(message: SentMessage, question: str | None = None) -> None:
    """An answer: the question in bold, a quote in a blockquote, who said it, and the source."""
    assert message.parse_mode == "HTML"
    assert "<blockquote>" in message.text, message.text
    assert "— <i>" in message.text, "no speaker attribution under the quote"
    assert SOURCE_LINE in message.plain_text
    if question is not None:
        assert message.plain_text.startswith(question), message.plain_text[:120]
    assert {e["type"] for e in message.entities} >= {"bold", "blockquote", "italic"}


def assert_decline(message: SentMessage) -> None:
    """A polite "not in the article": says so, names the story, quotes nothing."""
    assert DECLINE in message.plain_text, message.plain_text
    assert ARTICLE_TITLE in message.plain_text
    assert "<blockquote>" not in message.text
