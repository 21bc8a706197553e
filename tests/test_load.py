"""Load: 1,000 mixed updates through the real application (rate limiter on) and the fake Bot API.

Private questions from many users, group /ask in many groups, inline queries and presses of buttons on
messages the bot sent, pushed in bursts far faster than python-telegram-bot's AIORateLimiter lets
answers out (30 requests/s with a chat_id overall, 20/min per group). Every update must be answered
exactly once, none lost, nothing rejected by the fake, nothing logged at WARNING or above, and the
token never logged. The elapsed time is printed; the limiter bounds it from below (~27 s for the
~820 sendMessage calls here).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from inprocess_bot import BOT_USERNAME, running_bot

from bot.engine import Engine
from bot.evaluation import load_questions
from bot.tg.handlers import FLOOD_NOTICE

QUESTIONS_FILE = Path(__file__).with_name("questions.yaml")

N_PRIVATE = 420  # private questions
N_GROUP = 250  # /ask in groups
N_INLINE = 180  # inline queries
N_PRESS = 150  # button presses on messages the bot sent
TOTAL = N_PRIVATE + N_GROUP + N_INLINE + N_PRESS
PRIVATE_USERS = 140  # 3 questions each
GROUPS = 84  # ~3 asks each: far below the limiter's 20 messages/minute per group
GROUP_SEND_CAP = 15  # presses never push a group beyond this many answers (limiter: 20/min)
BURST = 100  # updates pushed at once
BURST_PAUSE = 0.25  # seconds between bursts
DEADLINE = 120.0  # seconds for everything to be answered
INLINE_DEADLINE = 5.0  # seconds; Telegram drops inline answers after about ten
SETTLE = 1.0  # seconds to wait after the last answer, so that duplicates would show up

FIRST_USER = 500_000
FIRST_GROUP = -1_001_000_000_000


async def watch_answers(fake, answered_at: dict[str, float]) -> None:
    """Note when each inline query, button press and group /ask is first seen answered."""
    while True:
        now = time.monotonic()
        for answer in fake.inline_answers:
            answered_at.setdefault(f"i{answer.query_id}", now)
        for answer in fake.callback_answers:
            answered_at.setdefault(f"c{answer.query_id}", now)
        for message in fake.sent_messages():
            if message.chat_id < 0 and message.reply_to_message_id:
                answered_at.setdefault(f"g{message.chat_id}:{message.reply_to_message_id}", now)
        await asyncio.sleep(0.02)


@pytest.fixture(scope="module")
def questions() -> list[str]:
    return [q.text for q in load_questions(QUESTIONS_FILE)]


async def test_thousand_mixed_updates_are_each_answered_once(
    engine: Engine, questions: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(20240517)
    users = [FIRST_USER + i for i in range(PRIVATE_USERS)]
    groups = [FIRST_GROUP - i for i in range(GROUPS)]
    members = {g: [FIRST_USER + 10_000 + 10 * i + k for k in range(5)] for i, g in enumerate(groups)}
    kinds = ["private"] * N_PRIVATE + ["group"] * N_GROUP + ["inline"] * N_INLINE + ["press"] * N_PRESS
    rng.shuffle(kinds)
    private_turns = [u for u in users for _ in range(N_PRIVATE // PRIVATE_USERS)]
    group_turns = [groups[i % GROUPS] for i in range(N_GROUP)]
    rng.shuffle(private_turns)
    rng.shuffle(group_turns)

    expected_sends: Counter[int] = Counter()  # chat id -> sendMessage calls expected there
    asks: dict[int, list[int]] = defaultdict(list)  # group id -> message ids of its /ask messages
    inline_ids: list[str] = []
    press_ids: list[str] = []
    pressed: set[tuple[int, int]] = set()

    env = {"FLOOD_LIMIT_PER_MINUTE": "1000"}  # many users anyway; flood control must not interfere
    async with running_bot(engine, env=env) as bot:
        fake = bot.fake

        def press_target():
            """A bot message with a question button, in a chat that can take one more answer."""
            candidates = [
                m
                for m in fake.sent_messages()
                if (m.chat_id, m.message_id) not in pressed
                and any(b.get("callback_data", "").startswith("a:") for b in m.buttons)
                and (m.chat_id > 0 or expected_sends[m.chat_id] < GROUP_SEND_CAP)
            ]
            return rng.choice(candidates) if candidates else None

        pushed_at: dict[str, float] = {}  # "i<id>", "c<id>", "g<chat>:<message>" -> push time
        answered_at: dict[str, float] = {}
        watcher = asyncio.create_task(watch_answers(fake, answered_at))
        started = time.monotonic()
        for number, kind in enumerate(kinds, 1):
            if kind == "private":
                user = private_turns.pop()
                fake.private_message(user, rng.choice(questions))
                expected_sends[user] += 1
            elif kind == "group":
                group = group_turns.pop()
                command = rng.choice(["/ask", f"/ask@{BOT_USERNAME}"])
                message = fake.group_message(
                    group, rng.choice(members[group]), f"{command} {rng.choice(questions)}"
                )
                asks[group].append(message["message_id"])
                pushed_at[f"g{group}:{message['message_id']}"] = time.monotonic()
                expected_sends[group] += 1
            elif kind == "inline":
                text = rng.choice(questions) if rng.random() < 0.8 else ""
                offset = rng.choice(["", "10"]) if not text else ""
                inline_ids.append(
                    fake.inline_query(rng.choice(users), text, offset=offset)["inline_query"]["id"]
                )
                pushed_at[f"i{inline_ids[-1]}"] = time.monotonic()
            else:
                target = await fake.wait_for(press_target, timeout=30)
                pressed.add((target.chat_id, target.message_id))
                data = rng.choice(
                    [
                        b["callback_data"]
                        for b in target.buttons
                        if b.get("callback_data", "").startswith("a:")
                    ]
                )
                presser = target.chat_id if target.chat_id > 0 else rng.choice(members[target.chat_id])
                press_ids.append(fake.callback_query(presser, target, data)["callback_query"]["id"])
                pushed_at[f"c{press_ids[-1]}"] = time.monotonic()
                expected_sends[target.chat_id] += 1  # the pressed answer is sent to the same chat
            if number % BURST == 0:
                await asyncio.sleep(BURST_PAUSE)
        pushed = time.monotonic() - started

        total_sends = sum(expected_sends.values())

        def all_answered() -> bool:
            return (
                len(fake.calls_of("sendMessage")) >= total_sends
                and len(fake.inline_answers) >= N_INLINE
                and len(fake.callback_answers) >= N_PRESS
            )

        await fake.wait_for(all_answered, timeout=DEADLINE)
        elapsed = time.monotonic() - started
        await asyncio.sleep(SETTLE)
        watcher.cancel()
        await fake.wait_for_updates_consumed(timeout=10)

        sent = fake.sent_messages()
        with capsys.disabled():
            print(
                f"\n[load] {TOTAL} updates ({N_PRIVATE} private, {N_GROUP} group /ask, {N_INLINE} inline, "
                f"{N_PRESS} presses) -> {len(sent)} sendMessage; pushed in {pushed:.1f} s, "
                f"all answered after {elapsed:.1f} s ({TOTAL / elapsed:.0f} updates/s, "
                f"{len(sent) / elapsed:.1f} sendMessage/s)"
            )
            worst: dict[str, float] = {}
            for prefix, what in (
                ("i", "answerInlineQuery"),
                ("c", "answerCallbackQuery"),
                ("g", "group reply"),
            ):
                waits = sorted(answered_at[k] - t for k, t in pushed_at.items() if k[0] == prefix)
                worst[prefix] = waits[-1]
                print(
                    f"[load] {what:19} latency after push: median {statistics.median(waits):5.1f} s, "
                    f"p95 {waits[int(0.95 * (len(waits) - 1))]:5.1f} s, max {waits[-1]:5.1f} s"
                )

        assert len(kinds) == TOTAL == 1000
        # Inline queries and presses have their own lane: they never wait behind messages that the
        # rate limiter holds back (Telegram refuses inline answers that come too late).
        assert worst["i"] < INLINE_DEADLINE and worst["c"] < INLINE_DEADLINE, worst
        assert fake.rejections == []
        assert fake.pending_updates == []
        assert len(fake.calls_of("sendMessage")) == len(sent) == total_sends  # none failed, none extra
        assert Counter(m.chat_id for m in sent) == expected_sends
        for group, message_ids in asks.items():  # every /ask answered by exactly one reply to it
            replies = Counter(
                m.reply_to_message_id for m in sent if m.chat_id == group and m.reply_to_message_id
            )
            assert replies == Counter(message_ids), group
        assert all(m.plain_text and FLOOD_NOTICE not in m.plain_text for m in sent)
        assert Counter(a.query_id for a in fake.inline_answers) == Counter(inline_ids)
        assert all(a.results for a in fake.inline_answers)
        assert Counter(a.query_id for a in fake.callback_answers) == Counter(press_ids)
        assert len(fake.calls_of("answerInlineQuery")) == N_INLINE
        assert len(fake.calls_of("answerCallbackQuery")) == N_PRESS
        assert bot.logs.problems() == []
    assert bot.logs.problems() == []  # shutting down logs nothing alarming either
    assert bot.logs.token_leaks() == []
    assert elapsed < 90, f"{TOTAL} updates took {elapsed:.0f} s"
