"""End to end, the process itself: clean shutdown on signals, tokens kept secret, bad tokens explained."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from e2e_support import (
    STOP_TIMEOUT,
    TOKEN,
    TOKEN_SECRET,
    Chat,
    Spawn,
    assert_answer_card,
    bot_env,
)
from fake_telegram import FakeTelegram

pytest_plugins = ["conftest_e2e"]


def run_to_exit(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python -m bot run` in a scratch folder, to completion."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=30,
        check=False,
    )


# -- shutdown -----------------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_signal_stops_the_bot_cleanly(e2e_fake: FakeTelegram, e2e_spawn: Spawn, sig) -> None:
    bot = e2e_spawn(bot_env(e2e_fake)).wait_polling(e2e_fake)
    chat = Chat(e2e_fake, bot)
    user = chat.new_user()
    assert_answer_card(await chat.say(user, "Where were the talks held?"))
    # the bot is in the middle of a long poll when the signal arrives
    await e2e_fake.wait_for(lambda: len(e2e_fake.calls_of("getUpdates")) >= 2)
    started = time.monotonic()
    code = bot.stop(sig)
    assert code == 0, bot.log_tail()
    assert time.monotonic() - started < STOP_TIMEOUT
    assert "Stopped cleanly" in bot.log
    assert "Traceback" not in bot.log
    assert e2e_fake.pending_updates == [], "every update it fetched was confirmed before exiting"


async def test_updates_sent_while_stopped_are_answered_after_a_restart(
    e2e_fake: FakeTelegram, e2e_spawn: Spawn
) -> None:
    first = e2e_spawn(bot_env(e2e_fake), "first").wait_polling(e2e_fake)
    assert first.stop() == 0
    user = e2e_fake.user(20_001)["id"]
    e2e_fake.private_message(user, "Where were the talks held?")
    e2e_spawn(bot_env(e2e_fake), "second")
    [card] = await e2e_fake.wait_for_messages(1, chat_id=user, timeout=20)
    assert_answer_card(card)


# -- token hygiene ------------------------------------------------------------------------------


async def test_token_never_appears_in_the_debug_log(e2e_fake: FakeTelegram, e2e_spawn: Spawn) -> None:
    """Normal traffic and Telegram errors, all logged at DEBUG: the token never shows."""
    bot = e2e_spawn(bot_env(e2e_fake)).wait_polling(e2e_fake)
    chat = Chat(e2e_fake, bot)
    user = chat.new_user()
    assert_answer_card(await chat.say(user, "Where were the talks held?"))
    await chat.inline(user, "crimea")
    # Telegram refuses one reply and drops the connection for another: logged, never fatal
    e2e_fake.fail_next("sendMessage", 400, "Bad Request: chat not found")
    e2e_fake.private_message(user, "When was Crimea annexed?")
    await bot.await_log("Telegram error on update")
    e2e_fake.fail_next("sendMessage", 429, retry_after=1)  # the rate limiter waits and retries
    assert_answer_card(await chat.say(user, "When was Crimea annexed?"))
    assert bot.stop() == 0
    log = bot.log
    assert "sendMessage" in log and "getUpdates" in log, "the log is at DEBUG level"
    assert TOKEN not in log and TOKEN_SECRET not in log
    assert "<redacted>" in log
    assert "Traceback" not in log


@pytest.mark.parametrize(
    "token",
    ["not-a-token", "123456789:short", "123456789 AAH-test-token-for-the-fake-server-0123", ":" * 30],
)
def test_malformed_token_is_explained(tmp_path: Path, token: str) -> None:
    result = run_to_exit(tmp_path, bot_env(TELEGRAM_BOT_TOKEN=token))
    assert result.returncode == 2
    assert "@BotFather" in result.stderr
    assert "python -m bot chat" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert token not in result.stderr + result.stdout


@pytest.mark.parametrize("value", [None, "", "   "], ids=["unset", "empty", "blank"])
def test_missing_token_is_explained(tmp_path: Path, value: str | None) -> None:
    result = run_to_exit(tmp_path, bot_env(TELEGRAM_BOT_TOKEN=value))
    assert result.returncode == 2
    assert "@BotFather" in result.stderr and "python -m bot chat" in result.stderr
    assert "not set" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_token_in_a_dot_env_file_of_another_folder_is_not_used(tmp_path: Path) -> None:
    """The bot reads .env from the folder it starts in, and only from there."""
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / ".env").write_text(f"TELEGRAM_BOT_TOKEN={TOKEN}\n")
    result = run_to_exit(tmp_path, bot_env(TELEGRAM_BOT_TOKEN=None))
    assert result.returncode == 2 and "not set" in result.stderr


def test_token_rejected_by_telegram_is_explained(e2e_fake: FakeTelegram, tmp_path: Path) -> None:
    revoked = "123456789:AAH-revoked-token-rejected-by-telegram"
    env = bot_env(e2e_fake, TELEGRAM_BOT_TOKEN=revoked)
    result = run_to_exit(tmp_path, env)
    output = result.stderr + result.stdout
    assert revoked.split(":", 1)[1] not in output, "the rejected token is printed"
    assert "Traceback" not in output
    assert result.returncode == 2
    assert "@BotFather" in output


async def test_sigterm_with_a_backlog_exits_within_the_grace_period(
    e2e_fake: FakeTelegram, e2e_spawn: Spawn
) -> None:
    grace = 2.0
    margin = 3.0 + grace / 2  # stopping the Updater, the question log and the interpreter itself
    bot = e2e_spawn(bot_env(e2e_fake, SHUTDOWN_GRACE_SECONDS=str(grace))).wait_polling(e2e_fake)
    group = e2e_fake.group(-100_999, "Backlogged group")["id"]
    for n in range(25):  # 25 group replies at 20 a minute: over a minute of backlog (a chat may queue 30)
        e2e_fake.group_message(group, 30_000 + n, "/ask Where were the talks held?")
    await e2e_fake.wait_for_messages(1, chat_id=group, timeout=20)
    await e2e_fake.wait_for_updates_consumed(timeout=20)
    started = time.monotonic()
    code = bot.stop(signal.SIGTERM, timeout=grace + margin)
    took = time.monotonic() - started
    sent = len(e2e_fake.sent_messages(group))
    stopped = [line for line in bot.log.splitlines() if "Stopped after" in line and "dropped" in line]
    assert len(stopped) == 1, bot.log_tail()  # one shutdown, one account of it
    [line] = stopped
    dropped = int(line.split(": ", 2)[-1].split(" repl")[0].rsplit(" ", 1)[-1])
    print(f"  exit {took:.1f} s after SIGTERM (grace {grace:.0f} s); {sent} sent, {dropped} dropped")
    assert code == 0, bot.log_tail()
    assert sent + dropped == 25  # every reply either went out or is counted as dropped
    assert 0 < sent < 25
    assert "Traceback" not in bot.log
