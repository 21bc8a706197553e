"""The webhook server's parts in-process: the connection limit, the accept loop under EMFILE, and
logging a repeated event once per interval."""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import tornado.web

from bot.config import ConfigError, load_settings
from bot.tg.log_once import OncePerInterval, RepeatFilter
from bot.tg.resources import FALLBACK_OPEN_FILES
from bot.tg.webhook import ACCEPT_RETRY_DELAY, LOG_ACCEPT_FAILED, LimitedHTTPServer

TOKEN = "123456789:AAH-test-token-for-the-fake-server-0123"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_repeated_event_is_logged_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    gate = OncePerInterval(60, clock)
    logger = logging.getLogger("test.once")
    with caplog.at_level(logging.WARNING, "test.once"):
        logged = [
            gate.log(logger, logging.WARNING, "emfile", "accept failed: %s", "EMFILE") for _ in range(10_000)
        ]
        clock.now = 61
        gate.log(logger, logging.WARNING, "emfile", "accept failed: %s", "EMFILE")
        gate.log(logger, logging.WARNING, "other", "another event")
    assert logged.count(True) == 1
    assert [r.getMessage() for r in caplog.records] == [
        "accept failed: EMFILE",
        "accept failed: EMFILE (9999 more like this in the last 60 s)",
        "another event",
    ]


def test_library_records_from_one_call_site_pass_once_per_interval() -> None:
    clock = FakeClock()
    logger = logging.getLogger("test.repeat")
    seen: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    handler = Collect()
    logger.addHandler(handler)
    logger.propagate = False
    logger.addFilter(RepeatFilter(60, clock))

    def malformed(port: int) -> None:
        logger.warning("Malformed HTTP message from 127.0.0.1:%d", port)  # one call site, many texts

    try:
        for port in range(1000):
            malformed(port)
        clock.now = 60
        malformed(1)
    finally:
        logger.removeHandler(handler)
    assert seen == [
        "Malformed HTTP message from 127.0.0.1:0",
        "Malformed HTTP message from 127.0.0.1:1 (999 more like this in the last 60 s)",
    ]


class Hello(tornado.web.RequestHandler):
    def get(self) -> None:
        self.write("hello")


class FlakySocket(socket.socket):
    """A listening socket whose first ``failures`` accepts fail as if the process had no file descriptors left."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures
        self.calls = 0

    def accept(self) -> tuple[socket.socket, Any]:
        self.calls += 1
        if self.failures:
            self.failures -= 1
            raise OSError(errno.EMFILE, "Too many open files")
        return super().accept()


def serve(sock: socket.socket, connection_limit: int = 8) -> tuple[LimitedHTTPServer, int]:
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    server = LimitedHTTPServer(
        tornado.web.Application([(r"/", Hello)]),
        connection_limit=connection_limit,
        events=OncePerInterval(),
        idle_connection_timeout=30,
    )
    server.add_sockets([sock])
    return server, sock.getsockname()[1]


async def test_accept_pauses_instead_of_spinning_when_out_of_file_descriptors(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sock = FlakySocket(failures=3)
    server, port = serve(sock)
    try:
        with caplog.at_level(logging.DEBUG):
            async with httpx.AsyncClient(timeout=4 * ACCEPT_RETRY_DELAY + 10) as http:
                response = await http.get(f"http://127.0.0.1:{port}/")
    finally:
        server.stop()
        await server.close_all_connections()
    assert response.text == "hello"  # accepting resumed on its own
    # a spinning loop would have called accept() thousands of times and logged each one
    assert sock.calls <= 3 + 3, sock.calls
    failures = [r for r in caplog.records if r.msg == "%s" and "cannot accept" in r.getMessage()]
    assert len(failures) == 1, [r.getMessage() for r in caplog.records]
    assert LOG_ACCEPT_FAILED.split(" (")[0] in failures[0].getMessage()


async def test_at_the_limit_the_longest_idle_connection_makes_room() -> None:
    server, port = serve(socket.socket(), connection_limit=2)
    loop = asyncio.get_running_loop()
    idle = []
    try:
        for _ in range(2):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            idle.append((reader, writer))
        await asyncio.sleep(0.2)  # let the server accept them
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.get(f"http://127.0.0.1:{port}/")
        assert response.text == "hello"
        first_closed = await asyncio.wait_for(idle[0][0].read(), 10)  # EOF: the oldest idle one went
        assert first_closed == b""
        assert loop.is_running()
    finally:
        for _, writer in idle:
            writer.close()
        server.stop()
        await server.close_all_connections()


WEBHOOK_MODE = {"TELEGRAM_BOT_TOKEN": TOKEN, "WEBHOOK_URL": "https://bot.example.org/hook", "WEBHOOK_SECRET": "s3cret"}


@pytest.mark.parametrize(
    "name", ["WEBHOOK_MAX_BODY_BYTES", "WEBHOOK_TIMEOUT_SECONDS", "WEBHOOK_MAX_OPEN_CONNECTIONS"]
)
@pytest.mark.parametrize("value", ["0", "-1", "1.5", "lots"])
def test_webhook_limits_must_be_positive_whole_numbers(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings({**WEBHOOK_MODE, name: value})
    load_settings({"TELEGRAM_BOT_TOKEN": TOKEN, name: value})  # long polling: webhook limits are not read


def test_webhook_limits_defaults_and_settings() -> None:
    defaults = load_settings({"TELEGRAM_BOT_TOKEN": TOKEN})
    assert (defaults.webhook_max_body_bytes, defaults.webhook_timeout, defaults.webhook_connection_limit) == (
        1024 * 1024,
        10,
        1000,
    )
    env = {
        **WEBHOOK_MODE,
        "WEBHOOK_MAX_BODY_BYTES": "65536",
        "WEBHOOK_TIMEOUT_SECONDS": "3",
        "WEBHOOK_MAX_OPEN_CONNECTIONS": "50",
    }
    settings = load_settings(env)
    assert (settings.webhook_max_body_bytes, settings.webhook_timeout, settings.webhook_connection_limit) == (
        65536,
        3,
        50,
    )


def test_the_open_files_soft_limit_is_raised_to_the_hard_limit() -> None:
    """In a child process started at a soft limit of 256 (the hard limit unchanged)."""
    script = (
        "import resource\n"
        "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))\n"
        "from bot.tg.resources import raise_open_files_limit\n"
        "print(raise_open_files_limit(), *resource.getrlimit(resource.RLIMIT_NOFILE), hard)\n"
    )
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    now, soft, hard, original_hard = (int(x) for x in out)
    assert hard == original_hard
    assert soft == now == (hard if hard != resource.RLIM_INFINITY else FALLBACK_OPEN_FILES)
