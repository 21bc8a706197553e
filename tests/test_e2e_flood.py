"""End to end, flood control: a bot of its own with FLOOD_LIMIT_PER_MINUTE=3."""

from __future__ import annotations

import asyncio

from e2e_support import (
    FLOOD_NOTICE,
    QUIET_PERIOD,
    Chat,
    Spawn,
    assert_answer_card,
    bot_env,
)
from fake_telegram import FakeTelegram

pytest_plugins = ["conftest_e2e"]

QUESTIONS = [
    "Where were the talks held?",
    "When was Crimea annexed?",
    "What did Peskov say about a breakthrough?",
    "How did Medinsky describe the talks?",
    "What did Lavrov say?",
    "Who is Nikolenko?",
]


async def test_a_flooding_user_is_slowed_down_and_others_are_not(
    e2e_fake: FakeTelegram, e2e_spawn: Spawn
) -> None:
    bot = e2e_spawn(bot_env(e2e_fake, FLOOD_LIMIT_PER_MINUTE="3")).wait_polling(e2e_fake)
    chat = Chat(e2e_fake, bot)
    flooder, bystander = chat.new_user("Flooder"), chat.new_user("Bystander")

    for question in QUESTIONS:
        e2e_fake.private_message(flooder, question)
    await e2e_fake.wait_for_messages(4, chat_id=flooder)
    # someone else asking at the same time is served as usual
    assert_answer_card(await chat.say(bystander, "Where were the talks held?"))
    await e2e_fake.wait_for_updates_consumed()
    await asyncio.sleep(QUIET_PERIOD)

    received = chat.sent(flooder)
    notices = [m for m in received if m.plain_text == FLOOD_NOTICE]
    answers = [m for m in received if "<blockquote>" in (m.text or "")]
    assert len(notices) == 1, [m.plain_text[:60] for m in received]
    assert len(answers) == 3
    assert len(received) == 4, "the questions over the limit after the notice get no reply"

    # still over the limit: a button press is acknowledged silently, no answer is sent
    answer = await chat.press(flooder, answers[0], answers[0].buttons[0]["callback_data"])
    assert answer.text is None and not answer.show_alert
    await chat.assert_ignored(flooder, lambda: None)

    assert "Flood control engaged" in bot.log
    assert bot.stop() == 0


async def test_deep_links_and_commands_are_flood_controlled_too(
    e2e_fake: FakeTelegram, e2e_spawn: Spawn
) -> None:
    """A script cannot pull every answer through /start <entry-id> faster than the limit either."""
    bot = e2e_spawn(bot_env(e2e_fake, FLOOD_LIMIT_PER_MINUTE="3")).wait_polling(e2e_fake)
    chat = Chat(e2e_fake, bot)
    scraper = chat.new_user("Scraper")
    for command in [
        "/start talks-when",
        "/start talks-where",
        "/topics",
        "/source",
        "/help",
        "/start crimea-annexation",
    ]:
        e2e_fake.private_message(scraper, command)
    await e2e_fake.wait_for_messages(4, chat_id=scraper)
    await e2e_fake.wait_for_updates_consumed()
    await asyncio.sleep(QUIET_PERIOD)
    received = chat.sent(scraper)
    assert len(received) == 4 and sum(m.plain_text == FLOOD_NOTICE for m in received) == 1
    assert bot.stop() == 0


async def test_inline_queries_and_reload_count_towards_the_limit(e2e_fake: FakeTelegram, e2e_spawn: Spawn) -> None:
    """One check for every update a person can send: inline queries and /reload are counted too, and an
    inline query over the limit gets an empty, uncached answer (never a spinner, never an answer)."""
    bot = e2e_spawn(bot_env(e2e_fake, FLOOD_LIMIT_PER_MINUTE="3")).wait_polling(e2e_fake)
    chat = Chat(e2e_fake, bot)
    user = chat.new_user("Inline flooder")
    for question in QUESTIONS[:3]:
        assert (await chat.inline(user, question)).results
    over = await chat.inline(user, QUESTIONS[3])
    assert over.results == [] and over.cache_time == 0 and over.is_personal
    await chat.assert_ignored(user, lambda: e2e_fake.private_message(user, "/reload"))
    assert "Flood control engaged" in bot.log

    admin = chat.new_user("Admin flooder")
    for _ in range(3):
        await chat.say(admin, "/reload")  # not an admin here: refused, but counted
    notice = await chat.say(admin, "/reload")
    assert notice.plain_text == FLOOD_NOTICE
    assert bot.stop() == 0
