"""End to end, webhook mode: Telegram POSTs updates to the bot's own HTTPS-less test server."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
from typing import Any

import httpx
from e2e_support import (
    REPLY_TIMEOUT,
    START_TIMEOUT,
    BotProcess,
    Spawn,
    assert_answer_card,
    bot_env,
    free_port,
    wait_until,
)
from fake_telegram import FakeTelegram

pytest_plugins = ["conftest_e2e"]

SECRET = "s3cret"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def update_for(fake: FakeTelegram, update_id: int, user_id: int, text: str) -> dict[str, Any]:
    """A private-message update as Telegram would POST it (the fake knows the chat)."""
    user = fake.user(user_id)
    chat = {"id": user_id, "type": "private", "first_name": user["first_name"]}
    message = {"message_id": update_id, "date": int(time.time()), "chat": chat, "from": user, "text": text}
    return {"update_id": update_id, "message": message}


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


async def test_webhook_mode(e2e_fake: FakeTelegram, e2e_spawn: Spawn) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    env = bot_env(
        e2e_fake,
        WEBHOOK_URL=url,
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
    )
    bot = e2e_spawn(env)
    wait_until(lambda: e2e_fake.calls_of("setWebhook"), START_TIMEOUT, "setWebhook", bot.check_alive)
    wait_until(lambda: port_open(port), START_TIMEOUT, "the webhook server", bot.check_alive)

    # registered with Telegram: the URL, the secret and only the update kinds the bot handles
    [registration] = e2e_fake.calls_of("setWebhook")
    assert registration["url"] == url
    assert registration["secret_token"] == SECRET
    assert set(registration["allowed_updates"]) == {"message", "callback_query", "inline_query", "chosen_inline_result"}
    assert len(e2e_fake.calls_of("setMyCommands")) == 9  # 3 scopes, each for everyone, ru and uk
    assert e2e_fake.calls_of("getUpdates") == [], "no polling in webhook mode"

    user = 30_001
    headers = {"Content-Type": "application/json"}
    async with httpx.AsyncClient(timeout=10) as http:
        # no secret, or a wrong one: forbidden, and nothing is answered
        body = json.dumps(update_for(e2e_fake, 1, user, "Where were the talks held?"))
        assert (await http.post(url, content=body, headers=headers)).status_code == 403
        wrong = {**headers, SECRET_HEADER: "wrong"}
        assert (await http.post(url, content=body, headers=wrong)).status_code == 403

        # the right secret: accepted and answered through the Bot API
        good = {**headers, SECRET_HEADER: SECRET}
        assert (await http.post(url, content=body, headers=good)).status_code == 200
        [card] = await e2e_fake.wait_for_messages(1, chat_id=user)
        assert_answer_card(card, "Where were the talks held?")

        # malformed bodies are refused; the bot keeps working
        not_an_update = json.dumps({"update_id": "x", "message": "nope"})
        assert 400 <= (await http.post(url, content=not_an_update, headers=good)).status_code < 500
        junk = await http.post(url, content=b"{not json", headers=good)
        assert junk.status_code >= 400  # python-telegram-bot answers 500 to a body that is not JSON
        assert (await http.get(url)).status_code == 405

        body = json.dumps(update_for(e2e_fake, 2, user, "When was Crimea annexed?"))
        assert (await http.post(url, content=body, headers=good)).status_code == 200
        card = (await e2e_fake.wait_for_messages(2, chat_id=user))[1]
        assert_answer_card(card, "When was Crimea annexed?")

    assert len(e2e_fake.sent_messages()) == 2, "the refused requests were never answered"
    assert bot.stop() == 0
    assert SECRET not in bot.log


# -- defences against clients that are not Telegram ---------------------------------------------

LARGE = 95 * 1024 * 1024  # the size of the uploads that took the old server from 58 MB to 1 GB
PIECE = 256 * 1024


def start_webhook_bot(
    fake: FakeTelegram, spawn: Spawn, open_files: int | None = None, **overrides: str
) -> tuple[BotProcess, int]:
    """A bot in webhook mode, once its server listens; returns it and its port."""
    port = free_port()
    env = bot_env(
        fake,
        WEBHOOK_URL=f"http://127.0.0.1:{port}/hook",
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_PORT=str(port),
        **overrides,
    )
    bot = spawn(env, open_files=open_files)
    wait_until(lambda: port_open(port), START_TIMEOUT, "the webhook server", bot.check_alive)
    wait_until(
        lambda: "Webhook server on" in bot.log, START_TIMEOUT, "the webhook limits line", bot.check_alive
    )
    return bot, port


def test_a_webhook_port_in_use_is_one_line_and_exit_2(e2e_fake: FakeTelegram, e2e_spawn: Spawn) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = bot_env(
            e2e_fake, WEBHOOK_URL=f"http://127.0.0.1:{port}/hook", WEBHOOK_SECRET=SECRET, WEBHOOK_PORT=str(port)
        )
        bot = e2e_spawn(env)
        assert bot.proc is not None
        code = bot.proc.wait(timeout=START_TIMEOUT)
    assert code == 2, bot.log_tail()
    assert f"cannot listen on 127.0.0.1:{port}" in bot.log and "Traceback" not in bot.log, bot.log_tail()


def head(
    length: int | str | None, secret: str | None = None, chunked: bool = False, path: str = "/hook"
) -> bytes:
    """The request line and headers of a POST to the webhook."""
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    if secret is not None:
        lines.append(f"{SECRET_HEADER}: {secret}")
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_status(sock: socket.socket) -> int:
    """The status code of the response on ``sock`` (waits for it, generously)."""
    sock.settimeout(REPLY_TIMEOUT)
    data = b""
    while b"\r\n" not in data:
        piece = sock.recv(4096)
        if not piece:
            raise AssertionError(f"connection closed before a status line: {data!r}")
        data += piece
    return int(data.split(b" ", 2)[1])


def closed_by_server(sock: socket.socket, timeout: float = REPLY_TIMEOUT) -> bool:
    """True once the server has closed ``sock`` (EOF or reset), False if it is still open after ``timeout``."""
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
    except (ConnectionResetError, TimeoutError):
        return not isinstance(sys.exc_info()[1], TimeoutError)
    return True


def send_until_refused(sock: socket.socket, total: int) -> int:
    """Send up to ``total`` body bytes; return how many went out before the server shut the door."""
    sock.settimeout(REPLY_TIMEOUT)
    sent = 0
    piece = b"0" * PIECE
    try:
        while sent < total:
            sent += sock.send(piece[: total - sent])
    except (BrokenPipeError, ConnectionResetError):
        pass
    return sent


async def test_refused_before_the_body_is_read(e2e_fake: FakeTelegram, e2e_spawn: Spawn) -> None:
    bot, port = start_webhook_bot(e2e_fake, e2e_spawn)
    cases = [(None, 403), ("wrong", 403), (SECRET[:-1] + "x", 403), (SECRET, 413)]
    requests = [head(LARGE, secret) for secret, _ in cases]
    requests += [head(LARGE, SECRET, path="/elsewhere"), head("95e6", SECRET)]
    statuses = [status for _, status in cases] + [404, 400]
    for request, status in zip(requests, statuses, strict=True):
        # only the headers go out, announcing 95 MB: the answer comes without a byte of body sent
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(request)
            assert read_status(sock) == status, request
            assert closed_by_server(sock), "the connection stays open for a body nobody will read"

    # a chunked body (no Content-Length) with the right secret: counted as it streams in
    limit = 64 * 1024
    bot.stop()
    bot, port = start_webhook_bot(e2e_fake, e2e_spawn, WEBHOOK_MAX_BODY_BYTES=str(limit))
    assert f"bodies up to {limit} bytes" in bot.log
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(head(None, SECRET, chunked=True) + f"{limit + 1:x}\r\n".encode() + b"0" * (limit + 1))
        assert read_status(sock) == 413
    assert e2e_fake.sent_messages() == []
    assert bot.stop() == 0


async def test_unauthenticated_uploads_cost_no_memory(e2e_fake: FakeTelegram, e2e_spawn: Spawn) -> None:
    bot, port = start_webhook_bot(e2e_fake, e2e_spawn)
    before = bot.rss_bytes
    sent = []
    for attempt in range(10):
        # as an attacker would: headers and body in one go, without waiting for an answer
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(head(LARGE, None if attempt % 2 else "wrong"))
            sent.append(send_until_refused(sock, LARGE))
    grown = bot.rss_bytes - before
    print(f"\nbody bytes the server let through per 95 MB attempt: {sent}; RSS grew {grown / 2**20:.1f} MB")
    assert all(n < LARGE for n in sent), "the server read a whole 95 MB body"
    assert grown < 50 * 2**20, f"RSS grew by {grown / 2**20:.0f} MB"
    assert e2e_fake.sent_messages() == []
    assert bot.stop() == 0
    assert bot.log.count("refused a request without the right secret token") <= 1, "one line per interval"


async def test_idle_connections_do_not_lock_telegram_out(e2e_fake: FakeTelegram, e2e_spawn: Spawn) -> None:
    """1,100 idle connections against a process limited to 1,024 open files (the reported attack)."""
    bot, port = start_webhook_bot(e2e_fake, e2e_spawn, open_files=1024)
    assert "at most 512 connections" in bot.log, "half the open-files limit"
    log_before = len(bot.log.splitlines())
    idle: list[socket.socket] = []
    try:
        for i in range(1100):
            with contextlib.suppress(OSError):  # one after the other, each connected before the next
                sock = socket.create_connection(("127.0.0.1", port), timeout=1)
                idle.append(sock)
                if i % 3 == 0:  # some start a request and never finish its headers
                    sock.send(b"POST /hook HTTP/1.1\r\nHost: x\r\n")
        # the server is at its limit: it has started closing idle connections to make room
        await bot.await_log("closed the longest-idle one", timeout=START_TIMEOUT)
        user = 30_002
        body = json.dumps(update_for(e2e_fake, 1, user, "Where were the talks held?"))
        headers = {"Content-Type": "application/json", SECRET_HEADER: SECRET}
        async with httpx.AsyncClient(timeout=REPLY_TIMEOUT) as http:
            response = await http.post(f"http://127.0.0.1:{port}/hook", content=body, headers=headers)
        assert response.status_code == 200
        [card] = await e2e_fake.wait_for_messages(1, chat_id=user)
        assert_answer_card(card, "Where were the talks held?")
        bot_fds = len(os.listdir(f"/proc/{bot.pid}/fd"))
    finally:
        for sock in idle:
            sock.close()
    new_lines = bot.log.splitlines()[log_before:]
    print(
        f"\nbot's open files under attack: {bot_fds} of 1024; log lines during the attack: {len(new_lines)}"
    )
    assert bot_fds < 1024
    assert len(new_lines) < 100, "\n".join(new_lines[:20])
    assert "Too many open files" not in bot.log
    assert bot.stop() == 0


async def test_idle_and_slow_connections_time_out(e2e_fake: FakeTelegram, e2e_spawn: Spawn) -> None:
    bot, port = start_webhook_bot(e2e_fake, e2e_spawn, WEBHOOK_TIMEOUT_SECONDS="1")
    with (
        socket.create_connection(("127.0.0.1", port)) as silent,
        socket.create_connection(("127.0.0.1", port)) as slow_headers,
        socket.create_connection(("127.0.0.1", port)) as slow_body,
    ):
        slow_headers.sendall(b"POST /hook HTTP/1.1\r\nHost: x\r\n")
        slow_body.sendall(head(1000, SECRET) + b'{"update_id": ')
        for sock in (silent, slow_headers, slow_body):
            assert closed_by_server(sock, timeout=15), "a connection outlived the webhook timeout"
    assert bot.stop() == 0
