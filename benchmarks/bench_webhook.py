"""What a hostile client costs the webhook server: memory, file descriptors, CPU and log.

Run from anywhere:  python benchmarks/bench_webhook.py

The real bot (`python -m bot run`, webhook mode) serves a FakeTelegram on 127.0.0.1. Printed:
1. ten 95 MB uploads without the secret header (headers and body sent at once, as an attacker
   would): how much of each body the server let in, and the bot's RSS before and after;
2. 1,100 idle connections against the bot started with an open-files limit of 1,024: whether a
   real update is still answered, the bot's open files and CPU seconds, and what the log gained
   over the attack and 5 s after.
Nothing here asserts; tests/test_e2e_webhook.py asserts the same behaviour with generous bounds.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import httpx  # noqa: E402
from e2e_support import TOKEN, BotProcess, bot_env, free_port, wait_until  # noqa: E402
from fake_telegram import FakeTelegram  # noqa: E402

SECRET = "bench-secret"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
LARGE = 95 * 1024 * 1024
IDLE = 1100
OPEN_FILES = 1024


def start(fake: FakeTelegram, workdir: Path, open_files: int | None = None) -> tuple[BotProcess, int]:
    port = free_port()
    env = bot_env(
        fake, WEBHOOK_URL=f"http://127.0.0.1:{port}/hook", WEBHOOK_SECRET=SECRET, WEBHOOK_PORT=str(port)
    )
    env["LOG_LEVEL"] = "INFO"
    bot = BotProcess(workdir, env, open_files=open_files).start()

    def listening() -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    wait_until(listening, 30, "the webhook server", bot.check_alive)
    wait_until(lambda: fake.calls_of("setWebhook"), 30, "setWebhook", bot.check_alive)
    time.sleep(0.5)
    return bot, port


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_files(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def settle(pid: int, timeout: float = 30) -> None:
    """Wait until the bot's open-file count has not changed for 2 s (SYNs dropped at a full
    backlog are retried by the kernel after 1, 3, 7 s...)."""
    deadline, last, since = time.monotonic() + timeout, -1, time.monotonic()
    while time.monotonic() < deadline:
        now = open_files(pid)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since > 2:
            return
        await asyncio.sleep(0.1)


def upload(port: int) -> int:
    """One 95 MB POST without the secret; how many body bytes went out before the server closed."""
    head = (
        "POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {LARGE}\r\n\r\n"
    ).encode()
    piece = b"0" * (256 * 1024)
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        sock.sendall(head)
        try:
            while sent < LARGE:
                sent += sock.send(piece[: LARGE - sent])
            sock.recv(100)
        except (BrokenPipeError, ConnectionResetError):
            pass
    return sent


def uploads(workdir: Path) -> None:
    with FakeTelegram(TOKEN) as fake:
        bot, port = start(fake, workdir / "uploads")
        try:
            before = bot.rss_bytes
            started = time.monotonic()
            sent = [upload(port) for _ in range(10)]
            took = time.monotonic() - started
            after = bot.rss_bytes
        finally:
            bot.stop()
    print("1. ten 95 MB uploads without the secret")
    print(
        f"   body bytes sent before the server closed, per upload: median {sorted(sent)[5] / 2**20:.1f} MB, max {max(sent) / 2**20:.1f} MB"
    )
    print(f"   bot RSS {before / 2**20:.0f} MB -> {after / 2**20:.0f} MB; the ten took {took:.1f} s")


async def idle_attack(workdir: Path) -> None:
    with FakeTelegram(TOKEN) as fake:
        bot, port = start(fake, workdir / "idle", open_files=OPEN_FILES)
        log_lines, log_bytes, cpu = len(bot.log.splitlines()), len(bot.log), cpu_seconds(bot.pid)
        sockets = []
        try:
            refused = 0
            for _ in range(IDLE):
                try:  # one after the other, each connected before the next
                    sockets.append(socket.create_connection(("127.0.0.1", port), timeout=1))
                except OSError:
                    refused += 1
            await settle(bot.pid)  # until the server has taken all it will take
            user = fake.user(40_001)
            chat = {"id": 40_001, "type": "private", "first_name": user["first_name"]}
            message = {
                "message_id": 1,
                "date": int(time.time()),
                "chat": chat,
                "from": user,
                "text": "Who met?",
            }
            headers = {"Content-Type": "application/json", SECRET_HEADER: SECRET}
            started = time.monotonic()
            try:
                async with httpx.AsyncClient(timeout=15) as http:
                    status = str(
                        (
                            await http.post(
                                f"http://127.0.0.1:{port}/hook",
                                content=json.dumps({"update_id": 1, "message": message}),
                                headers=headers,
                            )
                        ).status_code
                    )
                await fake.wait_for_messages(1, chat_id=40_001, timeout=15)
                answered = f"answered after {time.monotonic() - started:.2f} s (HTTP {status})"
            except (httpx.HTTPError, TimeoutError) as exc:
                answered = f"NOT answered within 15 s ({type(exc).__name__})"
            fds = open_files(bot.pid)
            await asyncio.sleep(5)
            spent = cpu_seconds(bot.pid) - cpu
        finally:
            for sock in sockets:
                sock.close()
            log = bot.log
            bot.stop()
    print(f"2. {IDLE} idle connections, bot limited to {OPEN_FILES} open files")
    print(f"   idle connections made: {len(sockets)} ({refused} timed out)")
    print(f"   a real update: {answered}")
    print(f"   bot open files: {fds}; bot CPU over the attack: {spent:.1f} s")
    print(
        f"   log gained {len(log.splitlines()) - log_lines} lines, {(len(log) - log_bytes) / 1024:.0f} KiB; "
        f"'Too many open files' lines: {log.count('Too many open files')}"
    )


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        uploads(Path(scratch))
        asyncio.run(idle_attack(Path(scratch)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
