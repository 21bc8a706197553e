"""End to end, starting up on a bad day: transient Telegram errors and an early SIGHUP.

`python -m bot run` against the fake Bot API. Figures (how many calls failed, how long start-up
took) are printed, never asserted: the machine is shared.
"""

from __future__ import annotations

import collections
import json
import signal
import time
from pathlib import Path

import httpx
import pytest
from e2e_support import (
    START_TIMEOUT,
    BotProcess,
    Chat,
    Spawn,
    assert_answer_card,
    bot_env,
    free_port,
    wait_until,
)
from fake_telegram import FakeTelegram
from test_e2e_webhook import SECRET, SECRET_HEADER, port_open, update_for

from bot.tg.startup import CALL_ATTEMPTS

pytest_plugins = ["conftest_e2e"]

QUESTION = "Where were the talks held?"
MENU_SCOPES = {"default", "all_private_chats", "all_group_chats"}
# Every call the bot makes before it serves, each of them failed once (the menus per scope and
# language, the descriptions per language).
START_UP_CALLS = {"getMe", "deleteWebhook", "setMyCommands", "setMyDescription", "setMyShortDescription"}
PROFILE_CALLS = {"setMyCommands": 9, "setMyDescription": 3, "setMyShortDescription": 3}  # 3 languages


def wait_serving(fake: FakeTelegram, bot: BotProcess, timeout: float = START_TIMEOUT * 2) -> float:
    """Block until the bot says it is up and polls; return the seconds it took from launch."""
    started = time.monotonic()

    def up() -> bool:
        return " is up with " in bot.log and bool(fake.calls_of("getUpdates"))

    wait_until(up, timeout, "the bot to serve", bot.check_alive)
    return time.monotonic() - started


async def test_start_up_survives_one_500_on_every_start_up_call(
    e2e_fake: FakeTelegram, e2e_spawn: Spawn
) -> None:
    e2e_fake.fail_first_calls(500, methods=START_UP_CALLS, per_parameters=True)
    e2e_fake.fail_first_calls(500, methods={"getUpdates"})  # and the first long poll
    launched = time.monotonic()
    bot = e2e_spawn(bot_env(e2e_fake))
    wait_serving(e2e_fake, bot)
    chat = Chat(e2e_fake, bot)
    assert_answer_card(await chat.say(chat.new_user(), QUESTION))
    print(f"\nstart-up with one 500 on each of its calls: serving after {time.monotonic() - launched:.1f} s")

    failed = collections.Counter(e2e_fake.first_call_failures)
    assert failed == {"getMe": 1, "deleteWebhook": 1, "getUpdates": 1, **PROFILE_CALLS}
    assert set(e2e_fake.commands) >= MENU_SCOPES, "every menu was registered on the retry"
    log = bot.log
    for method, count in failed.items():
        if method != "getUpdates":  # the poll is retried by python-telegram-bot's polling loop
            retried = log.count(f"Telegram call {method} failed (HTTP 500), attempt 1 of {CALL_ATTEMPTS}")
            assert retried == count, f"{method}: one log line per failed attempt"
    assert "Traceback" not in log
    assert bot.stop() == 0


async def test_webhook_start_up_survives_one_500_on_every_start_up_call(
    e2e_fake: FakeTelegram, e2e_spawn: Spawn
) -> None:
    e2e_fake.fail_first_calls(500, methods={"getMe", "setWebhook", *PROFILE_CALLS}, per_parameters=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    env = bot_env(e2e_fake, WEBHOOK_URL=url, WEBHOOK_SECRET=SECRET, WEBHOOK_PORT=str(port))
    bot = e2e_spawn(env)
    wait_until(lambda: " is up with " in bot.log and port_open(port), START_TIMEOUT * 2, "the webhook", bot.check_alive)
    wait_until(lambda: len(e2e_fake.calls_of("setWebhook")) >= 2, START_TIMEOUT, "setWebhook", bot.check_alive)
    failed = collections.Counter(e2e_fake.first_call_failures)
    assert failed == {"getMe": 1, "setWebhook": 1, **PROFILE_CALLS}
    assert set(e2e_fake.commands) >= MENU_SCOPES
    user = 30_001
    body = json.dumps(update_for(e2e_fake, 1, user, QUESTION))
    headers = {"Content-Type": "application/json", SECRET_HEADER: SECRET}
    async with httpx.AsyncClient(timeout=10) as http:
        assert (await http.post(url, content=body, headers=headers)).status_code == 200
    [card] = await e2e_fake.wait_for_messages(1, chat_id=user)
    assert_answer_card(card)
    assert bot.log.count(f"Telegram call setWebhook failed (HTTP 500), attempt 1 of {CALL_ATTEMPTS}") == 1
    assert bot.stop() == 0
    assert "Traceback" not in bot.log


async def test_menus_refused_for_long_the_bot_serves_anyway(e2e_fake: FakeTelegram, e2e_spawn: Spawn) -> None:
    """setMyCommands fails every attempt of start-up: the bot answers readers all the same."""
    e2e_fake.fail_next("setMyCommands", 500, times=CALL_ATTEMPTS)
    bot = e2e_spawn(bot_env(e2e_fake))
    seconds = wait_serving(e2e_fake, bot)
    print(f"\nmenus refused {CALL_ATTEMPTS} times: serving after {seconds:.1f} s, menus left for later")
    assert "Command menus not registered" in bot.log and "retrying in the background" in bot.log
    chat = Chat(e2e_fake, bot)
    assert_answer_card(await chat.say(chat.new_user(), QUESTION))
    assert bot.stop() == 0, bot.log_tail()  # the background retry is cancelled, not left pending
    assert "Traceback" not in bot.log and "was destroyed but it is pending" not in bot.log


def catches_sighup(pid: int) -> bool:
    """Whether the process has a handler for SIGHUP now (Linux: SigCgt in /proc/PID/status)."""
    status = Path(f"/proc/{pid}/status").read_text()
    caught = next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught, 16) & (1 << (signal.SIGHUP - 1)))


async def test_sighup_in_the_first_moments_is_harmless(e2e_fake: FakeTelegram, e2e_spawn: Spawn) -> None:
    """SIGHUP 0.1 s after launch (and again while it loads and connects): remembered, then one reload.

    Nothing of the bot runs before the interpreter has started, so on a loaded machine the first
    signal waits until the process catches SIGHUP, if that takes longer than 0.1 s; at that moment
    the bot has not yet called Telegram."""
    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc to see when the interpreter has started")
    bot = e2e_spawn(bot_env(e2e_fake))
    launched = time.monotonic()
    wait_until(lambda: catches_sighup(bot.pid), START_TIMEOUT, "a SIGHUP handler", bot.check_alive)
    handler_at = time.monotonic() - launched
    calls_before_handler = len(e2e_fake.calls)
    sent_at = []
    for moment in (0.1, 0.4, 0.8):
        time.sleep(max(0.0, launched + moment - time.monotonic()))
        bot.send_signal(signal.SIGHUP)
        sent_at.append(time.monotonic() - launched)
    seconds = wait_serving(e2e_fake, bot)
    print(
        f"\nSIGHUP handler installed {handler_at:.3f} s after launch; SIGHUP sent at "
        f"{', '.join(f'{t:.2f}' for t in sent_at)} s; serving {seconds:.1f} s after the last"
    )
    assert calls_before_handler == 0, "the handler comes before any call to Telegram"
    assert bot.running
    chat = Chat(e2e_fake, bot)
    assert_answer_card(await chat.say(chat.new_user(), QUESTION))
    await bot.await_log("Knowledge reloaded")
    assert bot.stop() == 0
    assert "Traceback" not in bot.log


async def test_a_webhook_telegram_refuses_stops_with_exit_2(e2e_fake: FakeTelegram, e2e_spawn: Spawn) -> None:
    """A 400 is Telegram's considered answer, not a bad minute: after python-telegram-bot's own
    bootstrap retries, one clear line and exit 2 (a setting is wrong)."""
    e2e_fake.fail_next("setWebhook", 400, "Bad Request: bad webhook: HTTPS url must be provided", times=20)
    port = free_port()
    env = bot_env(e2e_fake, WEBHOOK_URL=f"http://127.0.0.1:{port}/hook", WEBHOOK_SECRET=SECRET, WEBHOOK_PORT=str(port))
    bot = e2e_spawn(env)
    assert bot.proc is not None
    code = bot.proc.wait(START_TIMEOUT * 3)
    assert code == 2, bot.log_tail()
    assert "Telegram refused the bot's start-up: Bad webhook" in bot.log
    assert "Traceback" not in bot.log
    print(f"\nsetWebhook refused: {len(e2e_fake.calls_of('setWebhook'))} attempts, then exit {code}")
