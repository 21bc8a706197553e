"""End to end, groups and channels: the bot answers only when addressed, as a reply to the asker."""

from __future__ import annotations

from e2e_support import (
    BOT_USERNAME,
    HELP_TITLE,
    Chat,
    assert_answer_card,
    button_texts,
    callback_data,
)

pytest_plugins = ["conftest_e2e"]

QUESTION = "Where were the talks held?"


async def test_ask_command_is_answered_as_a_reply(e2e: Chat) -> None:
    group, user = e2e.new_group(), e2e.new_user()
    asked, card = await e2e.say_in_group(group, user, f"/ask {QUESTION}")
    assert_answer_card(card, "Where were the talks held?")
    assert card.reply_to_message_id == asked["message_id"]


async def test_ask_addressed_to_this_bot_by_name_is_answered(e2e: Chat) -> None:
    group, user = e2e.new_group(), e2e.new_user()
    asked, card = await e2e.say_in_group(group, user, f"/ask@{BOT_USERNAME} When was Crimea annexed?")
    assert_answer_card(card, "When was Crimea annexed?")
    assert card.reply_to_message_id == asked["message_id"]


async def test_ask_addressed_to_another_bot_is_ignored(e2e: Chat) -> None:
    group, user = e2e.new_group(), e2e.new_user()
    await e2e.assert_ignored(group, lambda: e2e.fake.group_message(group, user, f"/ask@otherbot {QUESTION}"))


async def test_forwarded_chatter_is_ignored(e2e: Chat) -> None:
    group, user, friend = e2e.new_group(), e2e.new_user(), e2e.new_user()
    await e2e.assert_ignored(
        group, lambda: e2e.fake.forwarded_message(group, user, "Where were the talks held?", origin=friend)
    )


async def test_plain_chatter_is_ignored(e2e: Chat) -> None:
    group, user, friend = e2e.new_group(), e2e.new_user(), e2e.new_user()

    def chatter() -> None:
        first = e2e.fake.group_message(group, user, QUESTION)
        e2e.fake.group_message(group, friend, "No idea, ask @someone_else", reply_to=first)
        e2e.fake.group_message(group, friend, "istanbul_talks_bot should know")  # a name, not a mention

    await e2e.assert_ignored(group, chatter)


async def test_mention_is_answered_without_the_mention(e2e: Chat) -> None:
    group, user = e2e.new_group(), e2e.new_user()
    asked, card = await e2e.say_in_group(group, user, f"@{BOT_USERNAME} {QUESTION}")
    assert_answer_card(card, "Where were the talks held?")
    assert card.reply_to_message_id == asked["message_id"]
    # the mention may sit anywhere, in any letter case
    asked, card = await e2e.say_in_group(
        group, user, f"Hey @{BOT_USERNAME.upper()}, when was Crimea annexed?"
    )
    assert_answer_card(card, "When was Crimea annexed?")
    assert card.reply_to_message_id == asked["message_id"]


async def test_text_mention_of_the_bot_is_answered(e2e: Chat) -> None:
    group, user = e2e.new_group(), e2e.new_user()
    text = f"Istanbul Talks: {QUESTION}"
    entity = {"type": "text_mention", "offset": 0, "length": 14, "user": e2e.fake.bot_user}
    _, card = await e2e.say_in_group(group, user, text, entities=[entity])
    assert_answer_card(card)


async def test_reply_to_the_bot_is_answered(e2e: Chat) -> None:
    group, user, friend = e2e.new_group(), e2e.new_user(), e2e.new_user()
    _, first = await e2e.say_in_group(group, user, f"/ask {QUESTION}")
    asked, card = await e2e.say_in_group(group, friend, "When was Crimea annexed?", reply_to=first)
    assert_answer_card(card, "When was Crimea annexed?")
    assert card.reply_to_message_id == asked["message_id"]


async def test_message_sent_through_this_bots_inline_mode_is_ignored(e2e: Chat) -> None:
    group, user = e2e.new_group(), e2e.new_user()
    _, first = await e2e.say_in_group(group, user, f"/ask {QUESTION}")
    card_text = first.plain_text  # what a picked inline result would post

    def inline_posts() -> None:
        e2e.fake.group_message(group, user, card_text, via_bot=True)
        e2e.fake.group_message(group, user, f"@{BOT_USERNAME} {QUESTION}", via_bot=True)
        e2e.fake.group_message(group, user, card_text, via_bot=True, reply_to=first)

    await e2e.assert_ignored(group, inline_posts)


async def test_topics_help_and_source_work_in_groups(e2e: Chat) -> None:
    group, user = e2e.new_group(), e2e.new_user()
    asked, listing = await e2e.say_in_group(group, user, "/topics")
    assert listing.reply_to_message_id == asked["message_id"]
    assert button_texts(listing)[-1] == "Next ›"
    before = callback_data(listing)
    answer = await e2e.press(user, listing, "t:en:1")
    assert answer.text is None
    await e2e.fake.wait_for(lambda: callback_data(listing) != before)
    [card] = await e2e.replies(
        group, lambda: e2e.fake.callback_query(user, listing, callback_data(listing)[0])
    )
    assert_answer_card(card)
    _, help_message = await e2e.say_in_group(group, user, f"/help@{BOT_USERNAME}")
    assert help_message.plain_text.startswith(HELP_TITLE)
    _, source = await e2e.say_in_group(group, user, "/source")
    assert "AFP, Wednesday 30 March 2022" in source.plain_text


async def test_start_is_for_private_chats_only(e2e: Chat) -> None:
    group, user = e2e.new_group(), e2e.new_user()
    await e2e.assert_ignored(group, lambda: e2e.fake.group_message(group, user, "/start"))


async def test_anonymous_admin_can_ask(e2e: Chat) -> None:
    group = e2e.new_group()
    # as Telegram sends it: sender_chat = the group, from = @GroupAnonymousBot
    asked, card = await e2e.say_in_group(group, None, f"/ask {QUESTION}", sender_chat=True)
    assert "from" in asked and asked["from"]["username"] == "GroupAnonymousBot"
    assert_answer_card(card)
    assert card.reply_to_message_id == asked["message_id"]
    # and with no "from" at all
    chat = asked["chat"]
    sent: dict = {}
    [card] = await e2e.replies(
        group,
        lambda: sent.update(e2e.fake.message(chat, None, "/ask When was Crimea annexed?", sender_chat=chat)),
    )
    assert "from" not in sent
    assert_answer_card(card, "When was Crimea annexed?")
    assert card.reply_to_message_id == sent["message_id"]


async def test_channel_posts_are_ignored(e2e: Chat) -> None:
    channel = -1_009_000_000_001
    e2e.fake.channel(channel, "News channel")

    def posts() -> None:
        e2e.fake.channel_post(channel, f"/ask {QUESTION}")
        e2e.fake.channel_post(channel, f"@{BOT_USERNAME} {QUESTION}")

    await e2e.assert_ignored(channel, posts)


async def test_group_answer_buttons_fit_telegram_limits(e2e: Chat) -> None:
    group, user = e2e.new_group(), e2e.new_user()
    _, card = await e2e.say_in_group(group, user, "/ask Russia")
    assert "Did you mean" in card.plain_text
    assert 1 <= len(callback_data(card)) <= 3
    assert all(len(d.encode()) <= 64 for d in callback_data(card))
