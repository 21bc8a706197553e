"""Telegram misbehaving: the bot keeps serving, loses no update, logs each failure once and clearly, and
never logs the token.

What python-telegram-bot 22 does with each failure (telegram/ext/_aioratelimiter.py, _updater.py and
_utils/networkloop.py), which these tests pin down for this bot:

* Bot API calls go through the bot's ChatRateLimiter (bot/tg/ratelimit.py): a 429 (RetryAfter) pauses
  that chat only and is retried after retry_after, logged at INFO; a fourth 429 in a row is logged by
  the limiter as one WARNING and the answer is dropped (the bot's error handler stays at DEBUG for it).
  Below it, the HTTP layer (bot/tg/retry.py) retries a call once after a timeout, a dropped connection
  or a 5xx (INFO); if the retry fails too, or on a 4xx, the error reaches the bot's error handler: one
  WARNING naming the update. After a timeout Telegram may have executed the first call, so that answer
  can arrive twice.
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
    fake.private_message(ALICE, QUESTION)
    text = await answer_to(fake, ALICE, timeout=10)

    assert "Istanbul" in text
    assert len(fake.calls_of("sendMessage")) == 2 and len(fake.sent_messages()) == 1
    retries = bot.logs.containing("429 on sendMessage", logging.INFO)
    assert len(retries) == 1 and retries[0].name == "bot.tg.ratelimit"
    assert "waits 1.0 s" in retries[0].getMessage()
    assert warnings_of(bot) == []  # retried and delivered: nothing for an operator to act on
    assert fake.rejections == []


@pytest.mark.parametrize(
    ("status", "shown"),
    [(500, "Internal Server Error"), (502, "Bad Gateway"), (503, "Service Unavailable")],
)
async def test_5xx_on_send_message_is_retried_once_and_the_answer_arrives(
    bot: Harness, status: int, shown: str
) -> None:
    fake = bot.fake
    fake.fail_next("sendMessage", status)
    fake.private_message(ALICE, QUESTION)
    assert "Istanbul" in await answer_to(fake, ALICE)
    assert len(fake.calls_of("sendMessage")) == 2 and len(fake.sent_messages(ALICE)) == 1
    [retry] = bot.logs.containing("retrying it once", logging.INFO)
    assert f"sendMessage failed (HTTP {status})" in retry.getMessage()
    assert warnings_of(bot) == []
    assert fake.rejections == []
    await fake.wait_for_updates_consumed()  # every update fetched and confirmed


async def test_5xx_twice_on_send_message_is_logged_once_and_the_next_question_is_answered(bot: Harness) -> None:
    fake = bot.fake
    fake.fail_next("sendMessage", 500, times=2)  # the one retry fails too: that answer is lost
    fake.private_message(ALICE, QUESTION)
    [line] = await wait_for_warnings(bot)
    assert re.match(r"WARNING bot\.tg\.handlers: Telegram error on update \d+: ", line), line
    assert "NetworkError" in line and "Internal Server Error" in line

    fake.private_message(ALICE, OTHER_QUESTION)
    text = await answer_to(fake, ALICE)
    assert "Istanbul" in text or "talks" in text
    # retried once, not twice: three calls, one delivered message, still one warning
    assert len(fake.calls_of("sendMessage")) == 3 and len(fake.sent_messages(ALICE)) == 1
    assert len(warnings_of(bot)) == 1
    assert fake.rejections == []


async def test_dropped_connection_on_send_message_is_retried_once_and_the_answer_arrives(bot: Harness) -> None:
    fake = bot.fake
    fake.drop_next("sendMessage")
    fake.private_message(ALICE, QUESTION)
    assert "Istanbul" in await answer_to(fake, ALICE)
    assert len(fake.calls_of("sendMessage")) == 2 and len(fake.sent_messages(ALICE)) == 1
    [retry] = bot.logs.containing("retrying it once", logging.INFO)
    assert "sendMessage failed (NetworkError)" in retry.getMessage()
    assert warnings_of(bot) == []


async def test_send_message_timeout_is_retried_once_and_others_are_served_meanwhile(bot: Harness) -> None:
    fake = bot.fake
    read_timeout = bot.app.bot.request.read_timeout
    fake.delay_next("sendMessage", read_timeout + 1.5)
    fake.private_message(ALICE, QUESTION)
    await fake.wait_for_call("sendMessage")
    fake.private_message(BOB, OTHER_QUESTION)  # concurrent updates: not stuck behind the slow call
    await answer_to(fake, BOB, timeout=3)
    assert fake.sent_messages(ALICE) == []

    # the timed-out call is retried once and delivered; nothing for an operator to act on
    await answer_to(fake, ALICE, timeout=read_timeout + 5)
    [retry] = bot.logs.containing("retrying it once", logging.INFO)
    assert "sendMessage failed (TimedOut)" in retry.getMessage()
    # Telegram (here: the fake) may execute the slow call after all: then the answer arrives twice,
    # the price of not losing it when it did not (see bot.tg.retry).
    await fake.wait_for_messages(2, chat_id=ALICE, timeout=5)
    await asyncio.sleep(0.5)
    assert len(fake.sent_messages(ALICE)) == 2 and len(fake.calls_of("sendMessage")) == 3
    assert warnings_of(bot) == []


@pytest.mark.parametrize("status", [400, 403])
async def test_4xx_on_send_message_is_not_retried(bot: Harness, status: int) -> None:
    fake = bot.fake
    fake.fail_next("sendMessage", status, "Bad Request: chat not found" if status == 400 else None)
    fake.private_message(ALICE, QUESTION)
    [line] = await wait_for_warnings(bot)
    assert ("BadRequest" if status == 400 else "Forbidden") in line
    assert len(fake.calls_of("sendMessage")) == 1 and fake.sent_messages(ALICE) == []
    assert bot.logs.containing("retrying it once") == []


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
    fake.fail_next("sendMessage", 429, retry_after=1, times=4)  # ChatRateLimiter: 3 retries, then it gives up
    fake.private_message(ALICE, QUESTION)
    await fake.wait_for(lambda: len(fake.calls_of("sendMessage")) == 4, timeout=10)
    [line] = await wait_for_warnings(bot)
    assert line.startswith("WARNING bot.tg.ratelimit: Telegram asked to wait 1 s before sendMessage"), line
    assert "attempt 4" in line and "dropped" in line  # the bot's error handler adds nothing above DEBUG
    assert len(bot.logs.containing("429 on sendMessage", logging.INFO)) == 3

    fake.private_message(BOB, QUESTION)
    assert "Istanbul" in await answer_to(fake, BOB)
    assert fake.sent_messages(ALICE) == []  # that answer is lost: a 429 four times in a row
    assert len(warnings_of(bot)) == 1
    assert bot.logs.token_leaks() == []


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
