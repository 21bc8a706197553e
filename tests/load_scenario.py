"""The mixed-load scenario shared by tests/test_load.py (counts and order) and
benchmarks/bench_load.py (latency figures): 1,000 updates through the real application with its rate
limiter, against the fake Bot API.

Private questions from many users, group /ask in many groups, inline queries and presses of buttons on
messages the bot sent, pushed in bursts far faster than the bot's rate limiter lets
answers out (30 messages/s overall, about 1/s per private chat, 20/min per group).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from inprocess_bot import BOT_USERNAME, Harness, running_bot

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
ANSWER_TIMEOUT = 300.0  # generous: only a hang fails; how long it takes is the benchmark's business
SETTLE = 1.0  # seconds to wait after the last answer, so that duplicates would show up

FIRST_USER = 500_000
FIRST_GROUP = -1_001_000_000_000


@dataclass
class Quick:
    """An inline query or button press, and the message backlog when it was pushed."""

    key: str  # "i<query id>" or "c<query id>"
    method: str  # answerInlineQuery or answerCallbackQuery
    query_id: str
    sends_due: int  # sendMessage calls owed for updates pushed before this one
    sends_done: int  # sendMessage calls the fake had seen when this one was pushed
    update_id: int


@dataclass
class LoadRun:
    kinds: list[str]
    expected_sends: Counter[int]  # chat id -> sendMessage calls expected there
    asks: dict[int, list[int]]  # group id -> message ids of its /ask messages
    inline_ids: list[str]
    press_ids: list[str]
    quick: list[Quick]
    pushed_at: dict[str, float]  # "i<id>", "c<id>", "g<chat>:<message>" -> push time
    answered_at: dict[str, float]  # same keys -> when first seen answered
    pushed_seconds: float
    answered_seconds: float
    calls: list[tuple[str, Any]] = field(default_factory=list)
    delivered: dict[int, int] = field(default_factory=dict)  # update id -> sendMessage calls before the bot had it


async def watch_answers(fake: Any, answered_at: dict[str, float]) -> None:
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


async def push_mixed_load(bot: Harness, questions: list[str], seed: int = 20240517) -> LoadRun:
    """Push the 1,000 updates and wait until every one is answered; returns what happened."""
    fake = bot.fake
    rng = random.Random(seed)
    users = [FIRST_USER + i for i in range(PRIVATE_USERS)]
    groups = [FIRST_GROUP - i for i in range(GROUPS)]
    members = {g: [FIRST_USER + 10_000 + 10 * i + k for k in range(5)] for i, g in enumerate(groups)}
    kinds = ["private"] * N_PRIVATE + ["group"] * N_GROUP + ["inline"] * N_INLINE + ["press"] * N_PRESS
    rng.shuffle(kinds)
    private_turns = [u for u in users for _ in range(N_PRIVATE // PRIVATE_USERS)]
    group_turns = [groups[i % GROUPS] for i in range(N_GROUP)]
    rng.shuffle(private_turns)
    rng.shuffle(group_turns)

    expected_sends: Counter[int] = Counter()
    asks: dict[int, list[int]] = defaultdict(list)
    inline_ids: list[str] = []
    press_ids: list[str] = []
    quick: list[Quick] = []
    pressed: set[tuple[int, int]] = set()

    def press_target() -> Any:
        """A bot message with a question button, in a chat that can take one more answer."""
        candidates = [
            m
            for m in fake.sent_messages()
            if (m.chat_id, m.message_id) not in pressed
            and any(b.get("callback_data", "").startswith("a:") for b in m.buttons)
            and (m.chat_id > 0 or expected_sends[m.chat_id] < GROUP_SEND_CAP)
        ]
        return rng.choice(candidates) if candidates else None

    def note_quick(key: str, method: str, update: dict[str, Any]) -> str:
        query_id = str((update.get("inline_query") or update["callback_query"])["id"])
        due = sum(expected_sends.values())
        quick.append(Quick(key, method, query_id, due, len(fake.calls_of("sendMessage")), update["update_id"]))
        return query_id

    pushed_at: dict[str, float] = {}
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
            message = fake.group_message(group, rng.choice(members[group]), f"{command} {rng.choice(questions)}")
            asks[group].append(message["message_id"])
            pushed_at[f"g{group}:{message['message_id']}"] = time.monotonic()
            expected_sends[group] += 1
        elif kind == "inline":
            text = rng.choice(questions) if rng.random() < 0.8 else ""
            offset = rng.choice(["", "10"]) if not text else ""
            update = fake.inline_query(rng.choice(users), text, offset=offset)
            query_id = note_quick(f"i{update['inline_query']['id']}", "answerInlineQuery", update)
            inline_ids.append(query_id)
            pushed_at[f"i{query_id}"] = time.monotonic()
        else:
            target = await fake.wait_for(press_target, timeout=60)
            pressed.add((target.chat_id, target.message_id))
            data = rng.choice(
                [b["callback_data"] for b in target.buttons if b.get("callback_data", "").startswith("a:")]
            )
            presser = target.chat_id if target.chat_id > 0 else rng.choice(members[target.chat_id])
            update = fake.callback_query(presser, target, data)
            query_id = note_quick(f"c{update['callback_query']['id']}", "answerCallbackQuery", update)
            press_ids.append(query_id)
            pushed_at[f"c{query_id}"] = time.monotonic()
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

    await fake.wait_for(all_answered, timeout=ANSWER_TIMEOUT)
    elapsed = time.monotonic() - started
    await asyncio.sleep(SETTLE)
    watcher.cancel()
    await fake.wait_for_updates_consumed(timeout=30)
    return LoadRun(
        kinds, expected_sends, dict(asks), inline_ids, press_ids, quick, pushed_at, answered_at, pushed,
        elapsed, fake.calls, fake.sends_before_delivery(),
    )


def sends_before_answer(run: LoadRun) -> dict[str, int]:
    """For each inline query and press: how many sendMessage calls the fake saw before its answer."""
    wanted = {(q.method, q.query_id): q.key for q in run.quick}
    found: dict[str, int] = {}
    sends = 0
    for name, params in run.calls:
        if name == "sendMessage":
            sends += 1
            continue
        id_field = "inline_query_id" if name == "answerInlineQuery" else "callback_query_id"
        key = wanted.get((name, str(params.get(id_field)) if isinstance(params, dict) else ""))
        if key is not None:
            found.setdefault(key, sends)
    return found


__all__ = ["TOTAL", "LoadRun", "push_mixed_load", "running_bot", "sends_before_answer"]
