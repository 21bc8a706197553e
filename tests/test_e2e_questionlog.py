"""End to end, the question log: real `python -m bot run` against the fake Bot API, a real database.

Readers ask, vote, pick a "did you mean" and /forget; then `python -m bot report --json` must show
what happened, no table may hold a raw Telegram id or name, and the forgotten reader is gone.
Each test runs on a fresh SQLite file and on a fresh database of a real PostgreSQL server.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from e2e_support import (
    BOT_USERNAME,
    REPO_ROOT,
    STALE_BUTTON,
    Chat,
    Spawn,
    assert_answer_card,
    bot_env,
    callback_data,
)
from fake_telegram import FakeTelegram
from questionlog_support import BACKENDS, all_rows, database_for

from bot.questionlog.privacy import Pseudonymizer

pytest_plugins = ["conftest_e2e", "conftest_questionlog"]

KEY = "test-key-for-the-question-log-0123456789"
ADMIN = 4242
ANSWERED = "What did Peskov say about a breakthrough?"
UNCLEAR = "kyiv"  # clarify: "did you mean" offers several entries, military-reduction among them
PICKED = "military-reduction"
UNANSWERED = "What happened in Bucha?"
OFF_TOPIC = "who won the football"


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return database_for(request.param, tmp_path, request)


def report(url: str, *args: str) -> dict[str, Any]:
    """`python -m bot report --json` as a curator runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "report", "--json", *args],
        capture_output=True,
        env=bot_env(DATABASE_URL=url),
        cwd=REPO_ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    return dict(json.loads(done.stdout))


async def test_readers_questions_feedback_picks_and_forget(
    e2e_fake: FakeTelegram, e2e_spawn: Spawn, database: str
) -> None:
    bot = e2e_spawn(bot_env(e2e_fake, DATABASE_URL=database, QUESTION_LOG_KEY=KEY, ADMIN_USER_IDS=str(ADMIN)))
    bot.wait_polling(e2e_fake)
    chat = Chat(e2e_fake, bot)
    alice, bea, carl, dora, emil, fred = (
        chat.new_user(name) for name in ("Alice", "Bea", "Carl", "Dora", "Emil", "Fred")
    )
    e2e_fake.user(ADMIN, "Curator")

    # An answer, with 👍/👎 under it; Alice changes her mind once: one vote, the last one.
    card = await chat.say(alice, ANSWERED)
    assert_answer_card(card)
    votes = [d for d in callback_data(card) if d.startswith("v:")]
    assert votes == ["v:u:kremlin-breakthrough", "v:d:kremlin-breakthrough"]
    assert "did not help" in (await chat.press(alice, card, votes[1])).text
    assert "helped" in (await chat.press(alice, card, votes[0])).text
    for forged in ("v:u:no-such-entry", "v:x:kremlin-breakthrough", "v:u:"):
        assert (await chat.press(alice, card, forged)).text == STALE_BUTTON

    # Three readers get "did you mean" for the same wording and pick the same entry.
    for reader in (bea, carl, dora):
        offer = await chat.say(reader, UNCLEAR)
        assert f"a:en:{PICKED}" in callback_data(offer), offer.plain_text
        assert not [d for d in callback_data(offer) if d.startswith("v:")], "no votes under a question"
        [picked] = await chat.replies(
            reader, lambda r=reader, o=offer: e2e_fake.callback_query(r, o, f"a:en:{PICKED}")
        )
        assert_answer_card(picked)

    # Questions the article does not answer, in private and in a group; an inline result posted.
    await chat.say(bea, UNANSWERED)
    await chat.say(emil, UNANSWERED.rstrip("?"))
    group = chat.new_group()
    await chat.say_in_group(group, fred, f"/ask {OFF_TOPIC}")
    e2e_fake.chosen_inline_result(carl, "talks-where", "where were the talks held")

    # Emil asks to be forgotten; the bot says what it deleted.
    gone = await chat.say(emil, "/forget")
    assert "deleted everything" in gone.plain_text and "1 question," in gone.plain_text
    again = await chat.say(emil, "/forget")
    assert "nothing stored" in again.plain_text

    stats = await chat.say(ADMIN, "/stats")
    assert "questions from" in stats.plain_text and "👍" in stats.plain_text
    refused = await chat.say(fred, "/stats")
    assert "only the bot’s administrators" in refused.plain_text

    assert bot.stop() == 0, bot.log_tail()  # the log's queue is written out before the exit
    assert "Question log unavailable" not in bot.log

    found = report(database)
    assert found["questions"] == 7  # Alice 1, the pickers 3, Bea 1, Fred 1, Carl inline 1 (Emil's gone)
    assert found["readers"] == 5
    assert found["outcomes"] == {"answer": 2, "clarify": 3, "decline": 2}
    assert set(found["by_chat_type"]) == {"private", "group", "inline"}
    assert found["by_chat_type"]["group"]["decline"] == 1
    unanswered = {g["question"]: g["count"] for g in found["unanswered"]}
    assert unanswered == {UNANSWERED: 1, OFF_TOPIC: 1}, found["unanswered"]
    assert found["feedback"]["up"] == 1 and found["feedback"]["down"] == 0
    assert found["feedback"]["entries"] == [{"entry": "kremlin-breakthrough", "up": 1, "down": 0}]
    assert {"entry": PICKED, "question": UNCLEAR, "support": 3} in found["suggestions"]
    assert len(found["suggestions"]) == 1  # one inline pick is not a suggestion

    # Nothing stored names a reader: no Telegram id, username or first name in any column.
    rows = all_rows(database)
    assert {"schema_version", "questions", "votes", "picks"} <= set(rows)
    raw = {str(i) for i in (alice, bea, carl, dora, emil, fred, group, ADMIN)}
    names = {
        f"{n}{i}"
        for n, i in zip(
            ("Alice", "Bea", "Carl", "Dora", "Emil", "Fred"),
            (alice, bea, carl, dora, emil, fred),
            strict=True,
        )
    }
    for table, table_rows in rows.items():
        for row in table_rows:
            for column, value in row.items():
                assert not any(v in str(value) for v in raw | names), (table, column, value)

    # The forgotten reader has no row left anywhere; the others are still there.
    ids = Pseudonymizer(KEY)
    for table in ("questions", "votes", "picks"):
        assert not [r for r in rows[table] if r["reader"] == ids.reader(emil)], table
    assert [r for r in rows["questions"] if r["reader"] == ids.reader(bea)]


async def test_report_window_and_text_form(e2e_fake: FakeTelegram, e2e_spawn: Spawn, database: str) -> None:
    bot = e2e_spawn(bot_env(e2e_fake, DATABASE_URL=database, QUESTION_LOG_KEY=KEY))
    bot.wait_polling(e2e_fake)
    chat = Chat(e2e_fake, bot)
    reader = chat.new_user()
    await chat.say(reader, "Де відбулися переговори?")
    await chat.say(reader, "Где проходили переговоры?")
    await chat.say(reader, f"@{BOT_USERNAME} hello")
    assert bot.stop() == 0
    found = report(database, "--days", "1")
    assert found["days"] == 1 and found["questions"] == 3
    assert {"uk", "ru", "en"} == set(found["by_language"])
    text = subprocess.run(
        [sys.executable, "-m", "bot", "report"],
        capture_output=True,
        env=bot_env(DATABASE_URL=database),
        cwd=REPO_ROOT,
        timeout=120,
        check=True,
    ).stdout.decode()
    assert "Questions: 3 from 1 readers" in text and "Unanswered questions" in text
