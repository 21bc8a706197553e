"""Fast tests of the fake Bot API server itself (httpx directly, plus one real telegram.Bot)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fake_telegram import CONFLICT_GET_UPDATES, FakeTelegram
from telegram import (
    Bot,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageEntity,
)
from telegram.error import BadRequest, Forbidden, RetryAfter

TOKEN = "123456789:TEST-token-for-the-fake"
USER = 4242
Api = Callable[..., dict[str, Any]]


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(TOKEN) as server:
        server.user(USER, "Ayşe", username="ayse")
        yield server


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:  # shared: creating a client costs ~20 ms
        yield client


@pytest.fixture
def api(fake: FakeTelegram, http: httpx.Client) -> Api:
    """Call a method the way python-telegram-bot does: form fields, non-strings JSON-encoded."""

    def call(method: str, **params: Any) -> dict[str, Any]:
        data = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
        response = http.post(f"{fake.base_url}/bot{TOKEN}/{method}", data=data)
        body = response.json()
        assert response.status_code == (200 if body["ok"] else body["error_code"])
        return body

    return call


def keyboard(*buttons: dict[str, Any]) -> dict[str, Any]:
    return {"inline_keyboard": [list(buttons)]}


def description(body: dict[str, Any]) -> str:
    assert body["ok"] is False, body
    return body["description"]


# ---------------------------------------------------------------------- basics


def test_wrong_token_is_unauthorized(fake: FakeTelegram) -> None:
    response = httpx.post(f"{fake.base_url}/bot123:wrong/getMe")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert fake.calls == []


def test_get_me_and_json_bodies(fake: FakeTelegram) -> None:
    response = httpx.post(f"{fake.base_url}/bot{TOKEN}/getMe", json={})
    me = response.json()["result"]
    assert me["username"] == "istanbul_talks_bot" and me["is_bot"] is True
    assert me["can_read_all_group_messages"] is False and me["supports_inline_queries"] is True
    sent = httpx.post(f"{fake.base_url}/bot{TOKEN}/sendMessage", json={"chat_id": USER, "text": "hi"})
    assert sent.json()["result"]["from"]["id"] == fake.bot_id == 123456789


def test_send_message_result_is_a_real_message(fake: FakeTelegram, api: Api) -> None:
    result = api(
        "sendMessage",
        chat_id=USER,
        text="<b>Merhaba</b> &lt;3",
        parse_mode="HTML",
        reply_markup=keyboard({"text": "More", "callback_data": "more"}),
    )["result"]
    assert result["text"] == "Merhaba <3"
    assert result["entities"] == [{"type": "bold", "offset": 0, "length": 7}]
    assert result["chat"]["id"] == USER and result["from"]["username"] == "istanbul_talks_bot"
    [sent] = fake.sent_messages(USER)
    assert (sent.text, sent.plain_text, sent.parse_mode) == ("<b>Merhaba</b> &lt;3", "Merhaba <3", "HTML")
    assert sent.buttons == [{"text": "More", "callback_data": "more"}]
    assert api("sendMessage", chat_id=USER, text="again")["result"]["message_id"] == sent.message_id + 1


# ---------------------------------------------------------------------- HTML parse mode

ACCEPTED_HTML = [
    ("<b>b</b> <strong>s</strong> <i>i</i> <em>e</em> <u>u</u> <ins>n</ins>", "b s i e u n"),
    ("<s>s</s><strike>t</strike><del>d</del>", "std"),
    ('<span class="tg-spoiler">x</span><tg-spoiler>y</tg-spoiler>', "xy"),
    ('<a href="https://example.com/a?b=1&amp;c=2">link</a>', "link"),
    ('<pre><code class="language-python">print(1 &lt; 2)</code></pre>', "print(1 < 2)"),
    ("<blockquote expandable>quote <b>bold</b></blockquote>", "quote bold"),
    ('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>', "👍"),
    ("<b>bold <i>both</i></b>", "bold both"),
    ("a > b &amp;&amp; c &quot;q&quot; &#39; &#x41;", 'a > b && c "q" \' A'),
    ("<B>upper</b>", "upper"),  # start tags are case-insensitive, end tags compared as written
]


@pytest.mark.parametrize(("html", "plain"), ACCEPTED_HTML)
def test_html_accepted(fake: FakeTelegram, api: Api, html: str, plain: str) -> None:
    body = api("sendMessage", chat_id=USER, text=html, parse_mode="HTML")
    assert body["ok"], body
    assert body["result"]["text"] == plain
    assert fake.rejections == []


def test_html_entities_use_utf16_offsets(api: Api) -> None:
    result = api(
        "sendMessage",
        chat_id=USER,
        text="🏟 <b>x</b><pre><code class='language-py'>y</code></pre>",
        parse_mode="HTML",
    )["result"]
    assert result["entities"] == [
        {"type": "bold", "offset": 3, "length": 1},
        {"type": "pre", "offset": 4, "length": 1, "language": "py"},
    ]


REJECTED_HTML = [
    ("<p>paragraph</p>", 'Unsupported start tag "p" at byte offset 0'),
    ("ok <br/>", 'Unsupported start tag "br/" at byte offset 3'),
    ("a < b", 'Unsupported start tag "" at byte offset 2'),
    ("ğ<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
    ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
    ("x</b>", "Unexpected end tag at byte offset 1"),
    ("<b", "Unclosed start tag at byte offset 0"),
    ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ("<blockquote>a<blockquote>b</blockquote></blockquote>", "Blockquote can't be nested"),
    ("Q&A", 'Unescaped "&" at byte offset 1'),
    ("&nbsp;", 'Unescaped "&" at byte offset 0'),
]


@pytest.mark.parametrize(("html", "error"), REJECTED_HTML)
def test_html_rejected(fake: FakeTelegram, api: Api, html: str, error: str) -> None:
    text = description(api("sendMessage", chat_id=USER, text=html, parse_mode="HTML"))
    assert text.startswith("Bad Request: can't parse entities: ")
    assert error in text
    assert [r.method for r in fake.rejections] == ["sendMessage"]
    assert fake.sent_messages() == []


def test_bare_ampersand_is_literal_when_not_strict(api: Api, fake: FakeTelegram) -> None:
    fake.strict_ampersand = False
    assert (
        api("sendMessage", chat_id=USER, text="Q&A &nbsp;", parse_mode="HTML")["result"]["text"]
        == "Q&A &nbsp;"
    )


# ---------------------------------------------------------------------- text length and emptiness


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("a" * 4096, True),
        ("a" * 4097, False),
        ("😀" * 2048, True),  # 4096 UTF-16 code units
        ("😀" * 2049, False),  # only 2049 characters, but 4098 code units
        ("<b>" + "a" * 4096 + "</b>", True),  # tags do not count
        ("&amp;" * 4096, True),  # an entity is one character
        ("  " + "a" * 4096 + "\n", True),  # surrounding whitespace is trimmed
    ],
)
def test_length_limit_in_utf16_units(api: Api, text: str, ok: bool) -> None:
    body = api("sendMessage", chat_id=USER, text=text, parse_mode="HTML")
    assert body["ok"] is ok
    if not ok:
        assert body["description"] == "Bad Request: message is too long"


@pytest.mark.parametrize("text", ["", "   \n", "<b> </b>", "<i></i>"])
def test_empty_text(api: Api, text: str) -> None:
    assert description(api("sendMessage", chat_id=USER, text=text, parse_mode="HTML")) == (
        "Bad Request: message text is empty"
    )


# ---------------------------------------------------------------------- keyboards


@pytest.mark.parametrize(
    ("button", "error"),
    [
        ({"text": "x", "callback_data": "a" * 64}, None),
        ({"text": "x", "callback_data": "ü" * 32}, None),  # 64 bytes
        ({"text": "x", "callback_data": "ü" * 33}, "Bad Request: BUTTON_DATA_INVALID"),
        ({"text": "x", "callback_data": "a" * 65}, "Bad Request: BUTTON_DATA_INVALID"),
        ({"text": "x", "url": "https://afp.com"}, None),
        ({"text": "x", "url": "tg://resolve?domain=afp"}, None),
        ({"text": "x", "switch_inline_query_current_chat": ""}, None),
        ({"text": "x", "url": "ftp://afp.com"}, "Unsupported URL protocol"),
        ({"text": "x", "url": "javascript:alert(1)"}, "Unsupported URL protocol"),
        ({"text": "x"}, "Text buttons are unallowed in the inline keyboard"),
        ({"text": "x", "callback_data": ""}, "Text buttons are unallowed in the inline keyboard"),
        ({"text": "x", "callback_data": "a", "url": "https://afp.com"}, "exactly one"),
        ({"text": "", "callback_data": "a"}, "Text must be non-empty"),
        ({"callback_data": "a"}, 'Can\'t find field "text"'),
    ],
)
def test_inline_keyboard_validation(api: Api, button: dict[str, Any], error: str | None) -> None:
    body = api("sendMessage", chat_id=USER, text="pick", reply_markup=keyboard(button))
    if error is None:
        assert body["ok"], body
    else:
        assert error in description(body)


# ---------------------------------------------------------------------- chats and replies


def test_unknown_chat_and_missing_reply(fake: FakeTelegram, api: Api) -> None:
    assert description(api("sendMessage", chat_id=999, text="x")) == "Bad Request: chat not found"
    missing = {"message_id": 77}
    assert description(api("sendMessage", chat_id=USER, text="x", reply_parameters=missing)) == (
        "Bad Request: message to be replied not found"
    )
    lenient = {"message_id": 77, "allow_sending_without_reply": True}
    assert (
        "reply_to_message"
        not in api("sendMessage", chat_id=USER, text="x", reply_parameters=lenient)["result"]
    )
    question = fake.private_message(USER, "Who spoke first?")
    result = api(
        "sendMessage", chat_id=USER, text="x", reply_parameters={"message_id": question["message_id"]}
    )
    assert result["result"]["reply_to_message"]["text"] == "Who spoke first?"
    assert fake.sent_messages()[-1].reply_to_message_id == question["message_id"]


def test_user_reply_to_bot_message_looks_real(fake: FakeTelegram, api: Api) -> None:
    bot_message = api("sendMessage", chat_id=USER, text="Ask me")["result"]
    reply = fake.private_message(USER, "ok", reply_to=bot_message["message_id"])
    assert reply["reply_to_message"]["from"]["id"] == fake.bot_id
    assert reply["message_id"] == bot_message["message_id"] + 1


def test_blocked_chat_is_forbidden(fake: FakeTelegram, api: Api) -> None:
    fake.block_chat(USER)
    body = api("sendMessage", chat_id=USER, text="x")
    assert (body["error_code"], body["description"]) == (403, "Forbidden: bot was blocked by the user")


def test_edit_and_delete(fake: FakeTelegram, api: Api) -> None:
    mid = api("sendMessage", chat_id=USER, text="<b>v1</b>", parse_mode="HTML")["result"]["message_id"]
    same = api("editMessageText", chat_id=USER, message_id=mid, text="<b>v1</b>", parse_mode="HTML")
    assert description(same).startswith("Bad Request: message is not modified")
    edited = api("editMessageText", chat_id=USER, message_id=mid, text="v2")["result"]
    assert edited["text"] == "v2" and "edit_date" in edited
    markup = keyboard({"text": "b", "callback_data": "b"})
    assert api("editMessageReplyMarkup", chat_id=USER, message_id=mid, reply_markup=markup)["ok"]
    assert fake.sent_messages()[0].previous_texts == ["<b>v1</b>"]
    assert fake.sent_messages()[0].buttons == [{"text": "b", "callback_data": "b"}]
    assert description(api("editMessageText", chat_id=USER, message_id=99, text="x")) == (
        "Bad Request: message to edit not found"
    )
    assert api("deleteMessage", chat_id=USER, message_id=mid)["result"] is True
    assert fake.sent_messages()[0].deleted
    assert description(api("deleteMessage", chat_id=USER, message_id=mid)) == (
        "Bad Request: message to delete not found"
    )


# ---------------------------------------------------------------------- queries


def test_callback_query_answers(fake: FakeTelegram, api: Api) -> None:
    message = api(
        "sendMessage", chat_id=USER, text="x", reply_markup=keyboard({"text": "b", "callback_data": "b"})
    )
    query_id = fake.callback_query(USER, message["result"], "b")["callback_query"]["id"]
    too_old = "Bad Request: query is too old and response timeout expired or query ID is invalid"
    assert description(api("answerCallbackQuery", callback_query_id="nope")) == too_old
    assert description(api("answerCallbackQuery", callback_query_id=query_id, text="x" * 201)) == (
        "Bad Request: MESSAGE_TOO_LONG"
    )
    assert api("answerCallbackQuery", callback_query_id=query_id, text="x" * 200)["ok"]
    assert description(api("answerCallbackQuery", callback_query_id=query_id)) == too_old
    assert [a.text for a in fake.callback_answers] == ["x" * 200]


def article(result_id: str, text: str = "<b>answer</b>") -> dict[str, Any]:
    return {
        "type": "article",
        "id": result_id,
        "title": "T",
        "input_message_content": {"message_text": text, "parse_mode": "HTML"},
    }


@pytest.mark.parametrize(
    ("results", "extra", "error"),
    [
        ([article(str(i)) for i in range(50)], {}, None),
        ([article(str(i)) for i in range(51)], {}, "Bad Request: RESULTS_TOO_MUCH"),
        ([article("1"), article("1")], {}, "Bad Request: RESULT_ID_DUPLICATE"),
        ([article("")], {}, "Bad Request: RESULT_ID_INVALID"),
        ([article("x" * 65)], {}, "Bad Request: RESULT_ID_INVALID"),
        ([article("1", "<p>no</p>")], {}, 'Unsupported start tag "p"'),
        ([article("1", "a" * 4097)], {}, "Bad Request: message is too long"),
        ([{**article("1"), "title": ""}], {}, 'Can\'t find field "title"'),
        ([article("1")], {"next_offset": "o" * 65}, "Bad Request: NEXT_OFFSET_INVALID"),
    ],
)
def test_inline_answer_validation(
    fake: FakeTelegram, api: Api, results: list[dict[str, Any]], extra: dict[str, Any], error: str | None
) -> None:
    query_id = fake.inline_query(USER, "konuşmacı")["inline_query"]["id"]
    body = api("answerInlineQuery", inline_query_id=query_id, results=results, **extra)
    if error is None:
        assert body["ok"] and len(fake.inline_answers[0].results) == 50
    else:
        assert error in description(body)
        assert fake.inline_answers == []


def test_inline_query_answered_once(fake: FakeTelegram, api: Api) -> None:
    query_id = fake.inline_query(USER, "q")["inline_query"]["id"]
    assert api("answerInlineQuery", inline_query_id=query_id, results=[article("1")])["ok"]
    assert "query is too old" in description(api("answerInlineQuery", inline_query_id=query_id, results=[]))
    assert "query is too old" in description(api("answerInlineQuery", inline_query_id="123", results=[]))


# ---------------------------------------------------------------------- commands


def test_commands_by_scope(fake: FakeTelegram, api: Api) -> None:
    commands = [
        {"command": "start", "description": "Start"},
        {"command": "who_spoke", "description": "Speakers"},
    ]
    assert api("setMyCommands", commands=commands)["ok"]
    assert api("setMyCommands", commands=commands[:1], scope={"type": "all_group_chats"})["ok"]
    assert fake.commands == {"default": commands, "all_group_chats": commands[:1]}
    assert api("getMyCommands", scope={"type": "all_group_chats"})["result"] == commands[:1]
    for bad in (
        {"command": "Start", "description": "x"},
        {"command": "x" * 33, "description": "x"},
        {"command": "/start", "description": "x"},
    ):
        assert description(api("setMyCommands", commands=[bad])) == "Bad Request: BOT_COMMAND_INVALID"
    for bad in ({"command": "a", "description": ""}, {"command": "a", "description": "d" * 257}):
        assert "BOT_COMMAND_DESCRIPTION_INVALID" in description(api("setMyCommands", commands=[bad]))


# ---------------------------------------------------------------------- injected updates


def test_injected_messages_carry_entities(fake: FakeTelegram) -> None:
    group = fake.group(-100123, "Istanbul readers")
    command = fake.group_message(group, USER, "/ask@istanbul_talks_bot who?")
    assert command["entities"] == [{"type": "bot_command", "offset": 0, "length": 23}]
    mention = fake.group_message(group, USER, "🏟 @istanbul_talks_bot hi")
    assert mention["entities"] == [{"type": "mention", "offset": 3, "length": 19}]
    anonymous = fake.group_message(group, None, "hello", sender_chat=True)
    assert (
        anonymous["from"]["username"] == "GroupAnonymousBot" and anonymous["sender_chat"]["id"] == group["id"]
    )
    post = fake.channel_post(fake.channel(-100999), "news")
    assert "from" not in post and post["sender_chat"]["type"] == "channel"
    forwarded = fake.forwarded_message(USER, USER, "fwd", origin="Hidden Name")
    assert forwarded["forward_origin"]["type"] == "hidden_user"
    assert (
        "text" not in fake.sticker_message(USER, USER)
        and fake.photo_message(USER, USER, "c")["caption"] == "c"
    )
    edited = fake.edited_message(command, "/ask changed")
    kinds = [next(k for k in u if k != "update_id") for u in fake.pending_updates]
    assert kinds == ["message"] * 3 + ["channel_post"] + ["message"] * 3 + ["edited_message"]
    assert edited["edit_date"] and fake.pending_updates[-1]["edited_message"]["text"] == "/ask changed"


# ---------------------------------------------------------------------- long polling


async def test_long_poll_returns_when_an_update_arrives(fake: FakeTelegram) -> None:
    async with httpx.AsyncClient(base_url=f"{fake.base_url}/bot{TOKEN}/", timeout=10) as client:
        started = time.monotonic()
        poll = asyncio.create_task(client.post("getUpdates", data={"timeout": "5"}))
        await asyncio.sleep(0.2)
        assert not poll.done()
        message = fake.private_message(USER, "Merhaba")
        updates = (await poll).json()["result"]
        assert time.monotonic() - started < 2
        assert [u["message"]["text"] for u in updates] == ["Merhaba"]
        again = (await client.post("getUpdates", data={"timeout": "0"})).json()["result"]
        assert again == updates  # not confirmed yet
        offset = str(updates[-1]["update_id"] + 1)
        assert (await client.post("getUpdates", data={"offset": offset})).json()["result"] == []
        assert fake.pending_updates == [] and message["message_id"] == 1


async def test_long_poll_times_out_empty(fake: FakeTelegram) -> None:
    async with httpx.AsyncClient(base_url=f"{fake.base_url}/bot{TOKEN}/", timeout=10) as client:
        started = time.monotonic()
        assert (await client.post("getUpdates", data={"timeout": "1"})).json()["result"] == []
        assert 0.9 < time.monotonic() - started < 3


async def test_newer_get_updates_terminates_older(fake: FakeTelegram) -> None:
    async with httpx.AsyncClient(base_url=f"{fake.base_url}/bot{TOKEN}/", timeout=10) as client:
        first = asyncio.create_task(client.post("getUpdates", data={"timeout": "5"}))
        await asyncio.sleep(0.2)
        second = asyncio.create_task(client.post("getUpdates", data={"timeout": "5"}))
        old = await asyncio.wait_for(first, 2)
        assert (old.status_code, old.json()["description"]) == (409, CONFLICT_GET_UPDATES)
        fake.private_message(USER, "x")
        assert len((await second).json()["result"]) == 1


def test_allowed_updates_are_honoured(fake: FakeTelegram, api: Api) -> None:
    fake.private_message(USER, "dropped")
    query = fake.inline_query(USER, "kept")
    assert api("getUpdates", allowed_updates=["inline_query"])["result"] == [query]
    fake.private_message(USER, "still dropped: the last allowed_updates is remembered")
    assert api("getUpdates")["result"] == [query]
    assert api("getUpdates", allowed_updates=[])["result"] == [query]  # back to the default
    fake.private_message(USER, "delivered")
    assert len(api("getUpdates")["result"]) == 2


# ---------------------------------------------------------------------- failure injection


def test_fail_next(fake: FakeTelegram, api: Api) -> None:
    fake.fail_next("sendMessage", 429, retry_after=7)
    fake.fail_next("sendMessage", 502)
    body = api("sendMessage", chat_id=USER, text="x")
    assert body["parameters"] == {"retry_after": 7}
    assert body["description"] == "Too Many Requests: retry after 7"
    assert description(api("sendMessage", chat_id=USER, text="x")) == "Bad Gateway"
    assert api("sendMessage", chat_id=USER, text="x")["ok"]
    assert len(fake.calls_of("sendMessage")) == 3 and len(fake.sent_messages()) == 1
    assert fake.rejections == []
    fake.conflict_next_get_updates()
    assert description(api("getUpdates")) == CONFLICT_GET_UPDATES
    fake.fail_next("*", 403, times=2)
    assert (
        description(api("getMe"))
        == description(api("getMyCommands"))
        == "Forbidden: bot was blocked by the user"
    )


def test_fail_first_calls(fake: FakeTelegram, api: Api) -> None:
    fake.fail_first_calls(500, exclude={"sendMessage"})
    assert description(api("getMe")) == "Internal Server Error"
    assert api("getMe")["ok"] and api("getMe")["ok"]  # once per method
    assert api("sendMessage", chat_id=USER, text="x")["ok"]  # excluded
    fake.clear_faults()
    fake.fail_first_calls(500, methods={"setMyCommands"}, per_parameters=True)
    commands = '[{"command": "help", "description": "How to use me"}]'
    private = '{"type": "all_private_chats"}'
    assert api("setMyCommands", commands=commands)["ok"] is False
    assert api("setMyCommands", commands=commands)["ok"]
    assert api("setMyCommands", commands=commands, scope=private)["ok"] is False  # new parameters
    assert api("setMyCommands", commands=commands, scope=private)["ok"]
    assert fake.first_call_failures == ["getMe", "setMyCommands", "setMyCommands"]
    assert fake.rejections == []


def test_drop_and_delay(fake: FakeTelegram) -> None:
    url = f"{fake.base_url}/bot{TOKEN}/sendMessage"
    fake.drop_next("sendMessage")
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(url, data={"chat_id": str(USER), "text": "lost"})
    assert fake.sent_messages() == []
    fake.delay_next("sendMessage", 0.5)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(url, data={"chat_id": str(USER), "text": "late"}, timeout=0.1)
    time.sleep(0.6)
    assert [m.plain_text for m in fake.sent_messages()] == ["late"]  # executed after all


def test_faults_for_one_chat_leave_other_chats_alone(fake: FakeTelegram, api: Api) -> None:
    other = fake.user(USER + 1)["id"]
    fake.fail_next("sendMessage", 500, chat_id=USER)
    assert api("sendMessage", chat_id=other, text="fine")["ok"]
    assert description(api("sendMessage", chat_id=USER, text="x")) == "Internal Server Error"
    assert api("sendMessage", chat_id=USER, text="x")["ok"]


def test_limit_chat_answers_429_with_the_seconds_left(fake: FakeTelegram, api: Api) -> None:
    other = fake.user(USER + 1)["id"]
    fake.limit_chat(USER, 20)
    body = api("sendMessage", chat_id=USER, text="x")
    assert body["error_code"] == 429 and body["parameters"]["retry_after"] in (19, 20)
    assert description(api("editMessageText", chat_id=USER, message_id=1, text="y")).startswith(
        "Too Many Requests"
    )
    assert api("sendMessage", chat_id=other, text="fine")["ok"]  # only that chat is limited
    assert api("getMe")["ok"]
    assert [method for method, _ in fake.limited_calls] == ["sendMessage", "editMessageText"]
    fake.limit_chat(USER, 0.2)
    time.sleep(0.25)
    assert api("sendMessage", chat_id=USER, text="x")["ok"]  # the pause is over


def test_message_thread_id_must_be_a_topic_of_a_forum(fake: FakeTelegram, api: Api) -> None:
    forum = fake.forum(-100500)["id"]
    topic = fake.create_topic(forum, "Sanctions")
    plain = fake.group(-100600)["id"]
    asked = fake.group_message(forum, USER, "in a topic", topic=topic)
    assert asked["message_thread_id"] == topic and asked["is_topic_message"] is True

    sent = api("sendMessage", chat_id=forum, text="answer", message_thread_id=topic)["result"]
    assert sent["message_thread_id"] == topic and sent["is_topic_message"] is True
    general = api("sendMessage", chat_id=forum, text="to General")["result"]
    assert "message_thread_id" not in general
    assert [m.thread_id for m in fake.sent_messages(forum)] == [topic, None]
    for chat, thread in ((forum, topic + 99), (plain, topic)):
        body = api("sendMessage", chat_id=chat, text="x", message_thread_id=thread)
        assert description(body) == "Bad Request: message thread not found"
    with pytest.raises(ValueError):
        fake.group_message(plain, USER, "x", topic=topic)


def test_everything_accepted_is_numbered_in_order(fake: FakeTelegram, api: Api) -> None:
    query = fake.inline_query(USER, "q")["inline_query"]["id"]
    api("sendMessage", chat_id=USER, text="first")
    api("answerInlineQuery", inline_query_id=query, results=[])
    api("sendMessage", chat_id=USER, text="second")
    [answer] = fake.inline_answers
    first, second = fake.sent_messages()
    assert first.seq < answer.seq < second.seq and first.at <= answer.at <= second.at


# ---------------------------------------------------------------------- python-telegram-bot


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # RetryAfter.retry_after
async def test_python_telegram_bot_against_the_fake(fake: FakeTelegram) -> None:
    async with Bot(TOKEN, base_url=f"{fake.base_url}/bot", base_file_url=fake.base_file_url) as bot:
        me = await bot.get_me()
        assert (me.username, me.id, bot.username) == ("istanbul_talks_bot", fake.bot_id, "istanbul_talks_bot")
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("Daha fazla", callback_data="more:1")]])
        message = await bot.send_message(
            USER, "<b>Selam</b> &amp; hoş geldin", parse_mode="HTML", reply_markup=markup
        )
        assert message.text == "Selam & hoş geldin"
        assert message.entities == (MessageEntity("bold", 0, 5),)
        assert message.from_user.id == fake.bot_id and message.reply_markup == markup
        with pytest.raises(BadRequest, match=r"(?i)unsupported start tag"):
            await bot.send_message(USER, "<p>x</p>", parse_mode="HTML")
        document = await bot.send_document(
            USER, b"bytes", filename="a.txt", caption="<i>c</i>", parse_mode="HTML"
        )
        assert document.caption == "c" and document.document is not None  # multipart upload
        assert await bot.set_my_commands(
            [("ask", "Ask about the story")], scope=BotCommandScopeAllPrivateChats()
        )
        assert fake.commands == {
            "all_private_chats": [{"command": "ask", "description": "Ask about the story"}]
        }
        fake.fail_next("sendMessage", 429, retry_after=3)
        with pytest.raises(RetryAfter):
            await bot.send_message(USER, "x")
        fake.block_chat(USER)
        with pytest.raises(Forbidden):
            await bot.send_message(USER, "x")
    assert [r.method for r in fake.rejections] == ["sendMessage"]
    assert fake.sent_messages(USER)[1].params["document"]["content"] == b"bytes"
