"""End to end, private chats and buttons: the real `python -m bot run` against a fake Telegram."""

from __future__ import annotations

import pytest
from e2e_support import (
    ARTICLE_TITLE,
    HELP_TITLE,
    NOT_TEXT_HINT,
    SOURCE_LINE,
    STALE_BUTTON,
    Chat,
    assert_answer_card,
    assert_decline,
    button_texts,
    callback_data,
    entry_count,
)

pytest_plugins = ["conftest_e2e"]

PRIVATE_MENU = ["start", "topics", "ask", "source", "language", "help", "forget"]
GROUP_MENU = ["ask", "topics", "source", "language", "help", "forget"]


# -- startup ----------------------------------------------------------------------------------


def test_command_menus_are_registered_for_every_scope(e2e: Chat) -> None:
    commands = e2e.fake.commands
    names = {scope: [c["command"] for c in menu] for scope, menu in commands.items()}
    assert names == {
        f"{scope}{suffix}": menu
        for suffix in ("", "/ru", "/uk")  # everyone's default, then Russian and Ukrainian users
        for scope, menu in (
            ("default", PRIVATE_MENU),
            ("all_private_chats", PRIVATE_MENU),
            ("all_group_chats", GROUP_MENU),
        )
    }
    assert all(c["description"] for menu in commands.values() for c in menu)


# -- /start, /help, /topics, /source -----------------------------------------------------------


async def test_start_welcomes_with_the_article_and_buttons(e2e: Chat) -> None:
    user = e2e.new_user()
    welcome = await e2e.say(user, "/start")
    assert ARTICLE_TITLE in welcome.plain_text
    assert "AFP" in welcome.plain_text and "Wednesday 30 March 2022" in welcome.plain_text
    examples = [b for b in welcome.buttons if b.get("callback_data", "").startswith("a:")]
    assert 1 <= len(examples) <= 3 and all(b["text"] for b in examples)
    inline_switch = [b for b in welcome.buttons if "switch_inline_query" in b]
    assert len(inline_switch) == 1
    all_questions = [b for b in welcome.buttons if b["text"] == "All questions"]
    assert len(all_questions) == 1 and all_questions[0]["callback_data"].startswith("t:")
    assert welcome.link_preview_options == {"is_disabled": True}


async def test_start_deep_link_answers_that_entry(e2e: Chat) -> None:
    user = e2e.new_user()
    card = await e2e.say(user, "/start talks-where")
    assert_answer_card(card)
    assert "Istanbul" in card.plain_text
    assert "Hello!" not in card.plain_text


@pytest.mark.parametrize("payload", ["inline", "no-such-entry", "a" * 64])
async def test_start_with_an_unknown_payload_welcomes(e2e: Chat, payload: str) -> None:
    user = e2e.new_user()
    welcome = await e2e.say(user, f"/start {payload}")
    assert welcome.plain_text.startswith("Hello!")
    assert ARTICLE_TITLE in welcome.plain_text


async def test_help_explains_private_group_and_inline_use(e2e: Chat) -> None:
    user = e2e.new_user()
    help_text = (await e2e.say(user, "/help")).plain_text
    assert help_text.startswith(HELP_TITLE)
    assert "/ask your question" in help_text
    assert "@istanbul_talks_bot your question" in help_text
    assert "/topics" in help_text and "/source" in help_text


async def test_source_names_the_article(e2e: Chat) -> None:
    user = e2e.new_user()
    source = (await e2e.say(user, "/source")).plain_text
    assert source.startswith(ARTICLE_TITLE)
    assert "AFP, Wednesday 30 March 2022" in source
    assert "exact words" in source


async def test_topics_pages_through_every_question(e2e: Chat) -> None:
    user = e2e.new_user()
    listing = await e2e.say(user, "/topics")
    total = entry_count()
    assert f"I can answer {total} questions" in listing.plain_text
    first_page = button_texts(listing)
    assert first_page[-1] == "Next ›" and "‹ Previous" not in first_page
    seen: list[str] = []
    pages = 0
    while True:
        pages += 1
        questions = [d for d in callback_data(listing) if d.startswith("a:")]
        assert 1 <= len(questions) <= 8
        seen += questions
        next_page = [b for b in listing.buttons if b["text"] == "Next ›"]
        if not next_page:
            break
        before = callback_data(listing)
        answer = await e2e.press(user, listing, next_page[0]["callback_data"])
        assert answer.text is None and not answer.show_alert  # acknowledged quietly
        await e2e.fake.wait_for(lambda before=before: callback_data(listing) != before)
        assert "‹ Previous" in button_texts(listing)
    assert pages == -(-total // 8) and len(seen) == len(set(seen)) == total
    assert len(e2e.sent(user)) == 1, "paging edits the keyboard in place; it sends nothing new"
    previous = next(b for b in listing.buttons if b["text"] == "‹ Previous")
    await e2e.press(user, listing, previous["callback_data"])
    await e2e.fake.wait_for(lambda: "Next ›" in button_texts(listing))


async def test_topics_next_edits_the_keyboard_and_acknowledges(e2e: Chat) -> None:
    user = e2e.new_user()
    listing = await e2e.say(user, "/topics")
    before = callback_data(listing)
    answer = await e2e.press(user, listing, "t:en:1")
    assert answer.text is None  # the press is acknowledged (no endless spinner)
    await e2e.fake.wait_for(lambda: callback_data(listing) != before)
    assert listing.text.startswith("I can answer"), "the text stays, only the keyboard changes"
    assert not set(callback_data(listing)) & {d for d in before if d.startswith("a:")}
    edits = [p for p in e2e.fake.calls_of("editMessageReplyMarkup") if p["chat_id"] == user]
    assert len(edits) == 1


# -- questions ----------------------------------------------------------------------------------


async def test_question_gets_an_answer_card(e2e: Chat) -> None:
    user = e2e.new_user()
    card = await e2e.say(user, "What did Peskov say about a breakthrough?")
    assert_answer_card(card, "Did the Kremlin see a breakthrough")
    assert "We cannot state that there was anything too promising or any breakthroughs" in card.plain_text
    assert "— Dmitry Peskov, Kremlin spokesman (told reporters)" in card.plain_text
    *related, vote_up, vote_down = callback_data(card)  # follow-ups, then the 👍/👎 row
    assert related and all(d.startswith("a:") for d in related)
    assert (vote_up, vote_down) == ("v:u:kremlin-breakthrough", "v:d:kremlin-breakthrough")
    assert card.plain_text.rstrip().endswith(SOURCE_LINE)


async def test_answer_shows_the_editors_note(e2e: Chat) -> None:
    user = e2e.new_user()
    card = await e2e.say(user, "When was Crimea annexed?")
    assert_answer_card(card, "When was Crimea annexed?")
    assert "Editor’s note:" in card.plain_text
    assert "Russia annexed Crimea in 2014" in card.plain_text


async def test_ambiguous_question_asks_did_you_mean(e2e: Chat) -> None:
    user = e2e.new_user()
    clarify = await e2e.say(user, "Russia")
    assert "Did you mean" in clarify.plain_text
    choices = callback_data(clarify)
    assert 2 <= len(choices) <= 3 and all(d.startswith("a:") for d in choices)
    assert "<blockquote>" not in clarify.text
    # each numbered line of the text is one of the buttons
    for number, label in enumerate(button_texts(clarify), 1):
        assert f"{number}. {label.rstrip('…')}" in clarify.plain_text


async def test_off_topic_question_is_declined(e2e: Chat) -> None:
    user = e2e.new_user()
    decline = await e2e.say(user, "Who won the football world cup?")
    assert_decline(decline)
    assert "football" not in decline.plain_text.casefold()


async def test_sticker_and_photo_get_a_short_hint(e2e: Chat) -> None:
    user = e2e.new_user()
    [hint] = await e2e.replies(user, lambda: e2e.fake.sticker_message(user, user))
    assert hint.plain_text.startswith(NOT_TEXT_HINT) and len(hint.plain_text) < 200
    [hint] = await e2e.replies(user, lambda: e2e.fake.photo_message(user, user, caption="when?"))
    assert hint.plain_text.startswith(NOT_TEXT_HINT)


async def test_edited_message_is_ignored(e2e: Chat) -> None:
    user = e2e.new_user()
    original = e2e.fake.private_message(user, "Where were the talks held?")
    await e2e.fake.wait_for_messages(1, chat_id=user)
    await e2e.assert_ignored(user, lambda: e2e.fake.edited_message(original, "When was Crimea annexed?"))


async def test_message_sent_via_this_bots_inline_mode_is_ignored(e2e: Chat) -> None:
    user = e2e.new_user()
    await e2e.assert_ignored(
        user,
        lambda: e2e.fake.private_message(user, "Where were the talks held?", via_bot=e2e.fake.bot_user),
    )


async def test_message_via_another_bot_is_answered(e2e: Chat) -> None:
    user = e2e.new_user()
    other_bot = {"id": 555, "is_bot": True, "first_name": "Other", "username": "other_bot"}
    card = await e2e.say(user, "Where were the talks held?", via_bot=other_bot)
    assert_answer_card(card)


async def test_unknown_command_gets_a_hint(e2e: Chat) -> None:
    user = e2e.new_user()
    hint = await e2e.say(user, "/what did peskov say")
    assert "/topics" in hint.plain_text and "/help" in hint.plain_text
    assert "<blockquote>" not in hint.text


async def test_forwarded_question_is_answered(e2e: Chat) -> None:
    """Forwarding a friend's question to the bot is a way of asking it."""
    user, friend = e2e.new_user(), e2e.new_user()
    [card] = await e2e.replies(
        user, lambda: e2e.fake.forwarded_message(user, user, "Where were the talks held?", origin=friend)
    )
    assert_answer_card(card)


# -- buttons ------------------------------------------------------------------------------------


async def test_pressing_an_answer_button_sends_the_answer(e2e: Chat) -> None:
    user = e2e.new_user()
    welcome = await e2e.say(user, "/start")
    data = callback_data(welcome)[0]
    mark = len(e2e.sent(user))
    answer = await e2e.press(user, welcome, data)
    assert answer.text is None and not answer.show_alert
    [card] = (await e2e.fake.wait_for_messages(mark + 1, chat_id=user))[mark:]
    assert_answer_card(card, "Did the Kremlin see a breakthrough")


async def test_all_questions_button_opens_the_first_topics_page(e2e: Chat) -> None:
    user = e2e.new_user()
    welcome = await e2e.say(user, "/start")
    before = callback_data(welcome)
    await e2e.press(user, welcome, "t:0")
    await e2e.fake.wait_for(lambda: callback_data(welcome) != before)
    assert button_texts(welcome)[-1] == "Next ›"


@pytest.mark.parametrize(
    "data",
    [
        "a:nope",
        "zzz",
        "t:999",
        "t:-1",
        "t:",
        "a:",
        "t:1e3",
        "t:²",  # a digit to str.isdigit(), not to int()
        "x" * 64,
        "a:" + "é" * 31,  # 64 bytes
        "",
    ],
)
async def test_forged_callback_data_gets_a_polite_acknowledgement(e2e: Chat, data: str) -> None:
    user = e2e.new_user()
    welcome = await e2e.say(user, "/start")
    before = [dict(b) for b in welcome.buttons]
    answer = await e2e.press(user, welcome, data)
    assert answer.text == STALE_BUTTON and not answer.show_alert
    assert welcome.buttons == before, "a forged press must not change the keyboard"
    await e2e.assert_ignored(user, lambda: None)


async def test_every_entry_opens_by_deep_link_with_valid_buttons(e2e: Chat) -> None:
    """Every answer card is accepted by Telegram; every button of the bot fits in 64 bytes."""
    user = e2e.new_user()
    listing = await e2e.say(user, "/topics")
    entry_ids: list[str] = []
    for page in range(-(-entry_count() // 8)):
        if page:
            await e2e.press(user, listing, f"t:en:{page}")
            await e2e.fake.wait_for(lambda page=page: f"t:en:{page - 1}" in callback_data(listing))
        entry_ids += [d.split(":")[-1] for d in callback_data(listing) if d.startswith("a:")]
    assert len(entry_ids) == entry_count()
    for entry_id in entry_ids:
        reader = e2e.new_user()
        card = await e2e.say(reader, f"/start {entry_id}")
        assert_answer_card(card)
    assert e2e.fake.rejections == []
    sent_markups = [
        params["reply_markup"]
        for name, params in e2e.fake.calls
        if name in {"sendMessage", "editMessageReplyMarkup"} and params.get("reply_markup")
    ]
    datas = [
        b["callback_data"]
        for markup in sent_markups
        for row in markup["inline_keyboard"]
        for b in row
        if "callback_data" in b
    ]
    assert len(datas) > entry_count()
    assert max(len(d.encode()) for d in datas) <= 64
