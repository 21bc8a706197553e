"""End to end, database faults: the reader always gets the reply; one warning per outage; writing resumes.

The real bot runs against the fake Bot API while its database is made read-only, locked, full, or (for
PostgreSQL) stopped mid-run and started again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import BotProcess, Chat, Spawn, assert_answer_card, bot_env
from fake_telegram import FakeTelegram
from pg_cluster import Cluster, unavailable_reason
from test_e2e_questionlog import KEY, report

pytest_plugins = ["conftest_e2e"]

WARNING = "Question log unavailable"
RESUMED = "Question log is writing again"
QUESTION = "Where were the talks held?"
RETRY_PAUSE = 1.5  # seconds: longer than the log's retry interval during an outage


async def wait_for_rows(url: str, count: int, bot: BotProcess, timeout: float = 30.0) -> None:
    """Until the log holds ``count`` questions (read from the test process, as a curator would).

    A condition, not a latency: the timeout only bounds a hang, and its message says what the last
    read saw and what the bot logged, so that a failure on a busy machine can be told from a bug.
    """
    from bot.questionlog.store import Store

    store = Store(url)
    seen: object = "nothing read yet"
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                seen = store.count_questions()
            except Exception as exc:  # the bot may hold the file for a moment; read again
                seen = exc
            if isinstance(seen, int) and seen >= count:
                return
            await asyncio.sleep(0.1)
    finally:
        store.dispose()
    raise TimeoutError(
        f"the question log never reached {count} questions (last read: {seen!r}); bot log:\n{bot.log_tail()}"
    )


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """The file cannot be written, even by root (chattr +i); mode 0444 suffices for anyone else."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        path.parent.chmod(0o555)
        try:
            yield
        finally:
            path.parent.chmod(0o755)
            path.chmod(0o644)
        return
    if shutil.which("chattr") is None:
        pytest.skip("running as root without chattr: cannot make a file read-only for root")
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"chattr +i is not supported here: {done.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def start_logging_bot(fake: FakeTelegram, spawn: Spawn, url: str) -> tuple[BotProcess, Chat, int]:
    """`python -m bot run` logging to `url`, polling the fake Bot API, and one reader to ask it."""
    bot = spawn(bot_env(fake, DATABASE_URL=url, QUESTION_LOG_KEY=KEY, FLOOD_LIMIT_PER_MINUTE="1000"))
    bot.wait_polling(fake)
    chat = Chat(fake, bot)
    return bot, chat, chat.new_user()


async def answers(chat: Chat, reader: int, n: int) -> None:
    """n questions, answered; after the first, each from a new reader, so that Telegram's pace of
    about one message a second per private chat (bot.tg.ratelimit) does not stretch an outage."""
    for number in range(n):
        assert_answer_card(await chat.say(reader if number == 0 else chat.new_user(), QUESTION))


async def test_sqlite_file_made_read_only(e2e_fake: FakeTelegram, e2e_spawn: Spawn, tmp_path: Path) -> None:
    path = tmp_path / "log.sqlite3"
    url = f"sqlite:///{path}"
    bot, chat, reader = start_logging_bot(e2e_fake, e2e_spawn, url)
    await answers(chat, reader, 2)
    await wait_for_rows(url, 2, bot)
    with read_only(path):
        await answers(chat, reader, 5)  # every reply still goes out
        await bot.await_log(WARNING)
    await asyncio.sleep(RETRY_PAUSE)
    await answers(chat, reader, 3)
    await bot.await_log(RESUMED)
    assert bot.stop() == 0, bot.log_tail()
    assert bot.log.count(WARNING) == 1, bot.log_tail()
    assert "attempt to write a readonly database" in bot.log
    assert report(url)["questions"] == 5  # before and after; the outage's were counted as lost
    assert "5 lost to database faults" in bot.log


async def test_sqlite_file_locked_by_another_process(
    e2e_fake: FakeTelegram, e2e_spawn: Spawn, tmp_path: Path
) -> None:
    path = tmp_path / "log.sqlite3"
    url = f"sqlite:///{path}"
    bot, chat, reader = start_logging_bot(e2e_fake, e2e_spawn, url)
    await answers(chat, reader, 1)
    await wait_for_rows(url, 1, bot)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        await answers(chat, reader, 4)
        await bot.await_log(WARNING, timeout=15)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    await asyncio.sleep(RETRY_PAUSE)
    await answers(chat, reader, 2)
    await bot.await_log(RESUMED, timeout=15)
    assert bot.stop() == 0, bot.log_tail()
    assert bot.log.count(WARNING) == 1
    assert "database is locked" in bot.log
    assert 3 <= report(url)["questions"] <= 7  # the lock lasted a few writes; nothing after it is lost


@pytest.fixture
def own_postgres() -> Iterator[Cluster]:
    """A cluster this test may stop and start."""
    reason = unavailable_reason()
    if reason is not None:
        print(f"\nPostgreSQL fault test skipped: {reason}")
        pytest.skip(f"PostgreSQL: {reason}")
    cluster = Cluster().init().start()
    try:
        yield cluster
    finally:
        cluster.destroy()


async def test_postgres_stopped_mid_run(
    e2e_fake: FakeTelegram, e2e_spawn: Spawn, own_postgres: Cluster
) -> None:
    url = own_postgres.url
    bot, chat, reader = start_logging_bot(e2e_fake, e2e_spawn, url)
    await answers(chat, reader, 2)
    await wait_for_rows(url, 2, bot)
    await asyncio.to_thread(own_postgres.stop)
    await answers(chat, reader, 5)
    await bot.await_log(WARNING, timeout=15)
    await asyncio.to_thread(own_postgres.start)
    await asyncio.sleep(RETRY_PAUSE)
    await answers(chat, reader, 3)
    await bot.await_log(RESUMED, timeout=15)
    assert bot.stop() == 0, bot.log_tail()
    assert bot.log.count(WARNING) == 1, bot.log_tail()
    assert report(url)["questions"] == 5


@contextlib.contextmanager
def small_disk(folder: Path, size: str = "512k") -> Iterator[Path]:
    """A tiny tmpfs mounted at ``folder`` (root only), so that it can be filled up."""
    folder.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill up: {done.stderr.decode().strip() or 'not root'}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> Path:
    """Write a file until the disk has no room left."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 4096)
    return filler


async def test_sqlite_disk_full(e2e_fake: FakeTelegram, e2e_spawn: Spawn, tmp_path: Path) -> None:
    with small_disk(tmp_path / "disk") as disk:
        url = f"sqlite:///{disk / 'log.sqlite3'}"
        bot = e2e_spawn(
            bot_env(e2e_fake, DATABASE_URL=url, QUESTION_LOG_KEY=KEY, FLOOD_LIMIT_PER_MINUTE="1000")
        )
        bot.wait_polling(e2e_fake)
        chat = Chat(e2e_fake, bot)
        reader = chat.new_user()
        await answers(chat, reader, 2)
        await wait_for_rows(url, 2, bot)
        filler = fill(disk)
        for _ in range(40):  # enough rows to need a new page of the file
            assert (await chat.say(reader, f"{QUESTION} {'x' * 900}")).plain_text  # declined, but answered
            if WARNING in bot.log:
                break
        await bot.await_log(WARNING)
        filler.unlink()
        await asyncio.sleep(RETRY_PAUSE)
        await answers(chat, reader, 3)
        await bot.await_log(RESUMED)
        assert bot.stop() == 0, bot.log_tail()
        assert bot.log.count(WARNING) == 1
        assert "database or disk is full" in bot.log
        assert report(url)["questions"] >= 5
