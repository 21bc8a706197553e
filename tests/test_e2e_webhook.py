"""End to end, webhook mode: Telegram POSTs updates to the bot's own HTTPS-less test server."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import httpx
from e2e_support import (
    START_TIMEOUT,
    Spawn,
    assert_answer_card,
    bot_env,
    free_port,
    wait_until,
)
from fake_telegram import FakeTelegram

pytest_plugins = ["conftest_e2e"]

SECRET = "s3cret"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def update_for(fake: FakeTelegram, update_id: int, user_id: int, text: str) -> dict[str, Any]:
    """A private-message update as Telegram would POST it (the fake knows the chat)."""
    user = fake.user(user_id)
    chat = {"id": user_id, "type": "private", "first_name": user["first_name"]}
    message = {"message_id": update_id, "date": int(time.time()), "chat": chat, "from": user, "text": text}
    return {"update_id": update_id, "message": message}


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


async def test_webhook_mode(e2e_fake: FakeTelegram, e2e_spawn: Spawn) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    env = bot_env(
        e2e_fake,
        WEBHOOK_URL=url,
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
    )
    bot = e2e_spawn(env)
    wait_until(lambda: e2e_fake.calls_of("setWebhook"), START_TIMEOUT, "setWebhook", bot.check_alive)
    wait_until(lambda: port_open(port), START_TIMEOUT, "the webhook server", bot.check_alive)

    # registered with Telegram: the URL, the secret and only the update kinds the bot handles
    [registration] = e2e_fake.calls_of("setWebhook")
    assert registration["url"] == url
    assert registration["secret_token"] == SECRET
    assert set(registration["allowed_updates"]) == {"message", "callback_query", "inline_query", "chosen_inline_result"}
    assert len(e2e_fake.calls_of("setMyCommands")) == 9  # 3 scopes, each for everyone, ru and uk
    assert e2e_fake.calls_of("getUpdates") == [], "no polling in webhook mode"

    user = 30_001
    headers = {"Content-Type": "application/json"}
    async with httpx.AsyncClient(timeout=10) as http:
        # no secret, or a wrong one: forbidden, and nothing is answered
        body = json.dumps(update_for(e2e_fake, 1, user, "Where were the talks held?"))
        assert (await http.post(url, content=body, headers=headers)).status_code == 403
        wrong = {**headers, SECRET_HEADER: "wrong"}
        assert (await http.post(url, content=body, headers=wrong)).status_code == 403

        # the right secret: accepted and answered through the Bot API
        good = {**headers, SECRET_HEADER: SECRET}
        assert (await http.post(url, content=body, headers=good)).status_code == 200
        [card] = await e2e_fake.wait_for_messages(1, chat_id=user)
        assert_answer_card(card, "Where were the talks held?")

        # malformed bodies are refused; the bot keeps working
        not_an_update = json.dumps({"update_id": "x", "message": "nope"})
        assert 400 <= (await http.post(url, content=not_an_update, headers=good)).status_code < 500
        junk = await http.post(url, content=b"{not json", headers=good)
        assert junk.status_code >= 400  # python-telegram-bot answers 500 to a body that is not JSON
        assert (await http.get(url)).status_code == 405

        body = json.dumps(update_for(e2e_fake, 2, user, "When was Crimea annexed?"))
        assert (await http.post(url, content=body, headers=good)).status_code == 200
        card = (await e2e_fake.wait_for_messages(2, chat_id=user))[1]
        assert_answer_card(card, "When was Crimea annexed?")

    assert len(e2e_fake.sent_messages()) == 2, "the refused requests were never answered"
    assert bot.stop() == 0
    assert SECRET not in bot.log
