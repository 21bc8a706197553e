"""End to end, hostile or odd input through Telegram: every reply is valid and echoes nothing raw.

The fake server rejects what Telegram would reject (invalid HTML, more than 4096 characters, ...);
the ``e2e`` fixture fails a test after which anything was rejected or went wrong in the bot.
"""

from __future__ import annotations

import pytest
from e2e_support import BOT_USERNAME, Chat, assert_answer_card, assert_decline

pytest_plugins = ["conftest_e2e"]

HTML_LIKE = "<b>x</b> & <script>alert(1)</script>"
EMPTY_PROMPT = "Ask me anything about the story, for example:"


def assert_no_raw_script(text: str | None) -> None:
    assert text is not None
    assert "<script>" not in text and "alert(1)" not in text


async def test_mention_with_nothing_else_gets_examples(e2e: Chat) -> None:
    group, user = e2e.new_group(), e2e.new_user()
    asked, reply = await e2e.say_in_group(group, user, f"@{BOT_USERNAME}")
    assert EMPTY_PROMPT in reply.plain_text
    assert reply.reply_to_message_id == asked["message_id"]
    assert 1 <= len(reply.buttons) <= 3


@pytest.mark.parametrize("text", ["/ask", "/ask    ", f"/ask@{BOT_USERNAME}"])
async def test_ask_with_nothing_else_gets_examples(e2e: Chat, text: str) -> None:
    user = e2e.new_user()
    reply = await e2e.say(user, text)
    assert EMPTY_PROMPT in reply.plain_text


async def test_only_invisible_characters(e2e: Chat) -> None:
    user = e2e.new_user()
    reply = await e2e.say(user, "\u200b\u200d\ufeff \u2060")
    assert EMPTY_PROMPT in reply.plain_text or "Sorry" in reply.plain_text


@pytest.mark.parametrize(
    "text",
    [
        ("Where were the talks held? " * 200)[:4096],
        "x" * 4096,
        "é" * 4096,
        "Where were the talks held? " + "🙂" * 2000,  # 4027 UTF-16 units
    ],
    ids=["question", "one-letter", "accents", "emoji"],
)
async def test_longest_messages_get_a_valid_reply(e2e: Chat, text: str) -> None:
    user = e2e.new_user()
    reply = await e2e.say(user, text)
    assert len(reply.plain_text.encode("utf-16-le")) // 2 <= 4096
    assert text not in reply.plain_text


async def test_longest_question_in_a_group(e2e: Chat) -> None:
    group, user = e2e.new_group(), e2e.new_user()
    text = (f"/ask {HTML_LIKE} " * 200)[:4096]
    _, reply = await e2e.say_in_group(group, user, text)
    assert_no_raw_script(reply.text)


@pytest.mark.parametrize(
    "text",
    [
        "\x00Where\x01 were the talks\x07 held?\x1b[31m\x7f",
        "\u202eWhere were the talks held?\u202c",
        "\u200fWhere\u200b were the talks held?\u200e",
        "🇺🇦🇷🇺 Where were the talks held? 🤔",
    ],
    ids=["control", "rtl-override", "zero-width", "emoji"],
)
async def test_questions_wrapped_in_odd_characters_are_answered(e2e: Chat, text: str) -> None:
    user = e2e.new_user()
    card = await e2e.say(user, text)
    assert_answer_card(card, "Where were the talks held?")
    assert "\x00" not in card.text and "\u202e" not in card.text


@pytest.mark.parametrize(
    "text", ["أين عقدت المحادثات؟", "איפה התקיימו השיחות?", "Wo fanden die Gespräche statt?"]
)
async def test_other_languages_get_a_valid_reply(e2e: Chat, text: str) -> None:
    user = e2e.new_user()
    reply = await e2e.say(user, text)
    assert reply.plain_text.strip()


async def test_html_looking_text_is_never_echoed(e2e: Chat) -> None:
    user = e2e.new_user()
    reply = await e2e.say(user, HTML_LIKE)
    assert_decline(reply)
    assert_no_raw_script(reply.text)
    assert_no_raw_script(reply.plain_text)
    reply = await e2e.say(user, f"/ask {HTML_LIKE} when was Crimea annexed?")
    assert_no_raw_script(reply.text)


async def test_html_looking_text_in_a_group(e2e: Chat) -> None:
    group, user = e2e.new_group(), e2e.new_user()
    for text in (f"/ask {HTML_LIKE}", f"@{BOT_USERNAME} {HTML_LIKE}", f"<i>@{BOT_USERNAME}</i> &amp;"):
        _, reply = await e2e.say_in_group(group, user, text)
        assert_no_raw_script(reply.text)
        assert_no_raw_script(reply.plain_text)


async def test_html_looking_deep_link_payload(e2e: Chat) -> None:
    user = e2e.new_user()
    reply = await e2e.say(user, "/start <script>")
    assert reply.plain_text.startswith("Hello!")
    assert_no_raw_script(reply.text)
