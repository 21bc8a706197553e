"""Telegram misbehaving: the bot keeps serving, loses no update, logs each failure once and clearly, and
never logs the token.

What python-telegram-bot 22 does with each failure (telegram/ext/_aioratelimiter.py, _updater.py and
_utils/networkloop.py), which these tests pin down for this bot:

* Bot API calls go through AIORateLimiter(max_retries=3): only RetryAfter (429) is retried, after
  retry_after + 0.1 s (pausing every other request meanwhile), logged at INFO; a fourth 429 in a row
  is logged by the limiter at ERROR with a traceback and the answer is dropped (the bot's error
  handler stays at DEBUG for it). Every other error reaches the bot's error handler: one WARNING naming
  the update. A 5xx or a timeout is not retried, so that answer is lost (a retry could send it twice:
  Telegram may have executed the call).
* getUpdates runs in a retry loop forever: TimedOut is retried at once and logged at DEBUG only;
  RetryAfter waits retry_after + 0.5 s (DEBUG); any other TelegramError (a dropped connection, 409
  Conflict, 5xx) goes to the error callback, which run_polling routes to the error handler, and is
  retried after 1 s (growing to 30 s while it keeps failing). Unconfirmed updates are fetched again.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator

import pytest
from fake_telegram import CONFLICT_GET_UPDATES, FakeTelegram
from inprocess_bot import POLL_TIMEOUT, Harness, running_bot

from bot.engine import Engine

ALICE, BOB = 1001, 1002
QUESTION = "Where were the talks held?"
OTHER_QUESTION = "When did the Istanbul talks take place?"
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"


@pytest.fixture
async def bot(engine: Engine) -> AsyncIterator[Harness]:
    async with running_bot(engine) as harness:
        harness.logs.clear()  # startup is covered elsewhere; keep what each test provokes
        yield harness
    assert harness.logs.token_leaks() == []
    assert harness.logs.at_least(logging.ERROR) == []


def warnings_of(bot: Harness) -> list[str]:
    return bot.logs.problems()


async def wait_for_warnings(bot: Harness, count: int = 1, timeout: float = 10.0) -> list[str]:
    await bot.fake.wait_for(lambda: len(warnings_of(bot)) >= count, timeout)
    await asyncio.sleep(0.3)  # a second log line for the same failure would show up here
    return warnings_of(bot)


async def answer_to(fake: FakeTelegram, chat_id: int, count: int = 1, timeout: float = 10.0) -> str:
    """The text of the ``count``-th message the bot sent to chat_id."""
    messages = await fake.wait_for_messages(count, chat_id=chat_id, timeout=timeout)
    return messages[count - 1].plain_text or ""


async def get_updates_calls_after(fake: FakeTelegram, seen: int, timeout: float = 10.0) -> None:
    await fake.wait_for(lambda: len(fake.calls_of("getUpdates")) > seen, timeout)


# ----------------------------------------------------------------------------- sendMessage


async def test_429_on_send_message_is_retried_and_the_answer_arrives(bot: Harness) -> None:
    fake = bot.fake
    fake.fail_next("sendMessage", 429, retry_after=1)
    started = time.monotonic()
    fake.private_message(ALICE, QUESTION)
    text = await answer_to(fake, ALICE, timeout=10)
    waited = time.monotonic() - started

    assert "Istanbul" in text
    assert len(fake.calls_of("sendMessage")) == 2 and len(fake.sent_messages()) == 1
    assert waited >= 1.0  # the limiter honoured retry_after
    retries = bot.logs.containing("Rate limit hit", logging.INFO)
    assert len(retries) == 1 and retries[0].name == "telegram.ext.AIORateLimiter"
    assert "Retrying after 1.1" in retries[0].getMessage()
    assert warnings_of(bot) == []  # retried and delivered: nothing for an operator to act on
    assert fake.rejections == []


@pytest.mark.parametrize(
    ("status", "shown"),
    [(500, "Internal Server Error"), (502, "Bad Gateway"), (503, "Service Unavailable")],
)
async def test_5xx_on_send_message_is_logged_once_and_the_next_question_is_answered(
    bot: Harness, status: int, shown: str
) -> None:
    fake = bot.fake
    fake.fail_next("sendMessage", status)
    fake.private_message(ALICE, QUESTION)
    [line] = await wait_for_warnings(bot)
    assert re.match(r"WARNING bot\.tg\.handlers: Telegram error on update \d+: ", line), line
    assert "NetworkError" in line and shown in line

    fake.private_message(ALICE, OTHER_QUESTION)
    text = await answer_to(fake, ALICE)
    assert "Istanbul" in text or "talks" in text
    # the failed answer is not re-sent: two calls, one delivered message, still one warning
    assert len(fake.calls_of("sendMessage")) == 2 and len(fake.sent_messages(ALICE)) == 1
    assert len(warnings_of(bot)) == 1
    assert fake.rejections == []
    await fake.wait_for_updates_consumed()  # every update fetched and confirmed


async def test_send_message_timeout_is_logged_once_and_others_are_served_meanwhile(bot: Harness) -> None:
    fake = bot.fake
    read_timeout = bot.app.bot.request.read_timeout
    fake.delay_next("sendMessage", read_timeout + 1.5)
    fake.private_message(ALICE, QUESTION)
    await fake.wait_for_call("sendMessage")
    fake.private_message(BOB, OTHER_QUESTION)  # concurrent updates: not stuck behind the slow call
    await answer_to(fake, BOB, timeout=3)
    assert fake.sent_messages(ALICE) == []

    [line] = await wait_for_warnings(bot, timeout=read_timeout + 5)
    assert "TimedOut" in line and "update" in line
    # Telegram (here: the fake) executes the slow call after all: the answer arrives exactly once
    await answer_to(fake, ALICE, timeout=5)
    await asyncio.sleep(0.5)
    assert len(fake.sent_messages(ALICE)) == 1 and len(fake.calls_of("sendMessage")) == 2
    assert len(warnings_of(bot)) == 1


async def test_403_blocked_by_the_user_is_logged_once_and_others_are_served(bot: Harness) -> None:
    fake = bot.fake
    fake.block_chat(ALICE)
    fake.private_message(ALICE, QUESTION)
    [line] = await wait_for_warnings(bot)
    assert "Forbidden" in line and "bot was blocked by the user" in line

    fake.private_message(BOB, QUESTION)
    assert "Istanbul" in await answer_to(fake, BOB)
    await asyncio.sleep(0.3)
    assert len(warnings_of(bot)) == 1  # not retried, not logged twice
    assert len([c for c in fake.calls_of("sendMessage") if int(c["chat_id"]) == ALICE]) == 1
    assert fake.rejections == []
    await fake.wait_for_updates_consumed()  # every update fetched and confirmed


async def test_429_beyond_the_retries_is_logged_once_and_the_bot_keeps_serving(bot: Harness) -> None:
    fake = bot.fake
    fake.fail_next("sendMessage", 429, retry_after=1, times=4)  # AIORateLimiter(max_retries=3) gives up
    fake.private_message(ALICE, QUESTION)
    await fake.wait_for(lambda: len(fake.calls_of("sendMessage")) == 4, timeout=10)
    [line] = await wait_for_warnings(bot)
    assert line.startswith("ERROR telegram.ext.AIORateLimiter: Rate limit hit after maximum of 3 retries")
    assert "RetryAfter" in line  # with its traceback; the bot's error handler adds nothing above DEBUG
    assert len(bot.logs.containing("Rate limit hit. Retrying", logging.INFO)) == 3

    fake.private_message(BOB, QUESTION)
    assert "Istanbul" in await answer_to(fake, BOB)
    assert fake.sent_messages(ALICE) == []  # that answer is lost: a 429 four times in a row
    assert len(warnings_of(bot)) == 1
    assert bot.logs.token_leaks() == []
    bot.logs.clear()  # the one ERROR is expected here (the fixture checks there is none)


# ----------------------------------------------------------------------------- inline queries


async def test_inline_query_too_old_is_logged_once_and_the_next_query_is_answered(bot: Harness) -> None:
    fake = bot.fake
    fake.fail_next("answerInlineQuery", 400, QUERY_TOO_OLD)
    fake.inline_query(ALICE, QUESTION)
    [line] = await wait_for_warnings(bot)
    assert "BadRequest" in line and "query is too old" in line.lower()

    second = fake.inline_query(BOB, OTHER_QUESTION)["inline_query"]["id"]
    await fake.wait_for(lambda: fake.inline_answers, timeout=5)
    assert [a.query_id for a in fake.inline_answers] == [second]
    fake.private_message(ALICE, QUESTION)
    await answer_to(fake, ALICE)
    assert len(warnings_of(bot)) == 1
    assert fake.rejections == []


# ----------------------------------------------------------------------------- getUpdates


async def test_get_updates_timeout_polling_recovers_and_the_update_is_answered(bot: Harness) -> None:
    fake = bot.fake
    get_updates_request = bot.app.bot._request[0]  # python-telegram-bot keeps (getUpdates, others)
    delay = get_updates_request.read_timeout + POLL_TIMEOUT + 0.5  # beyond what the bot waits for a poll
    fake.delay_next("getUpdates", delay)
    seen = len(fake.calls_of("getUpdates"))
    await get_updates_calls_after(fake, seen)  # a poll after the injection: the slow one, or its retry
    slow_started = time.monotonic()
    fake.private_message(ALICE, QUESTION)
    assert "Istanbul" in await answer_to(fake, ALICE, timeout=delay + 5)
    await fake.wait_for(lambda: bot.logs.containing("Timed out"), timeout=delay + 2)

    await asyncio.sleep(max(0.0, slow_started + delay + 0.5 - time.monotonic()))  # the slow call ended
    fake.private_message(BOB, QUESTION)
    await answer_to(fake, BOB)
    assert len(fake.sent_messages(ALICE)) == 1
    await fake.wait_for_updates_consumed()  # confirmed by the next poll (after a 1 s pause if one failed)
    timeouts = bot.logs.containing("Timed out")
    assert len(timeouts) == 1 and timeouts[0].levelno == logging.DEBUG  # PTB: routine, retried at once
    # The fake executes the slow getUpdates after its delay, which ends the bot's newer long poll with
    # 409 Conflict (as a second instance would): at most that one warning, nothing else.
    assert all("Conflict" in line for line in warnings_of(bot)) and len(warnings_of(bot)) <= 1


async def test_dropped_get_updates_connection_polling_recovers_and_the_update_is_answered(
    bot: Harness,
) -> None:
    fake = bot.fake
    fake.drop_next("getUpdates")
    seen = len(fake.calls_of("getUpdates"))
    await get_updates_calls_after(fake, seen)  # a poll after the injection: the dropped one, or its retry
    fake.private_message(ALICE, QUESTION)
    assert "Istanbul" in await answer_to(fake, ALICE, timeout=10)

    [line] = await wait_for_warnings(bot)
    assert "while fetching updates" in line and "NetworkError" in line and "disconnected" in line
    assert len(fake.sent_messages(ALICE)) == 1
    await fake.wait_for_updates_consumed()


async def test_get_updates_conflict_is_logged_once_and_polling_continues(bot: Harness) -> None:
    fake = bot.fake
    fake.conflict_next_get_updates()
    [line] = await wait_for_warnings(bot, timeout=5)
    assert CONFLICT_GET_UPDATES in line

    fake.private_message(ALICE, QUESTION)
    assert "Istanbul" in await answer_to(fake, ALICE, timeout=10)
    fake.inline_query(BOB, QUESTION)
    await fake.wait_for(lambda: fake.inline_answers, timeout=5)
    assert len(warnings_of(bot)) == 1
    await fake.wait_for_updates_consumed()
