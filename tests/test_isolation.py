"""One chat's trouble stays in that chat: 429s, busy groups, floods and backlogs (real bot, fake Bot API).

Each test asserts order and counts over what the fake server recorded (every accepted message,
inline answer and button acknowledgement carries a sequence number), never a latency; the delays
are printed (run with -s to see them; benchmarks/bench_isolation.py measures them on purpose).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator

import pytest
from fake_telegram import FakeTelegram, SentMessage
from inprocess_bot import Harness, running_bot
from telegram import InlineQuery, Update, User

from bot.engine import Engine
from bot.tg.backlog import BoundedUpdateQueue
from bot.tg.ratelimit import GROUP_BURST

ALICE, BOB, CAROL = 3001, 3002, 3003
GROUP = -100_777
QUESTION = "Where were the talks held?"
FAST_STOP = {"SHUTDOWN_GRACE_SECONDS": "1"}  # what is still waiting at teardown is dropped quickly


@pytest.fixture
async def bot(engine: Engine) -> AsyncIterator[Harness]:
    async with running_bot(engine, env=FAST_STOP) as harness:
        yield harness
    assert harness.logs.token_leaks() == []


def figure(what: str, seconds: float) -> None:
    print(f"  {what}: {seconds:.2f} s")


async def first_reply(fake: FakeTelegram, chat: int, timeout: float = 10.0) -> SentMessage:
    return (await fake.wait_for_messages(1, chat_id=chat, timeout=timeout))[0]


async def test_a_429_for_one_chat_delays_only_that_chat(bot: Harness) -> None:
    fake = bot.fake
    fake.user(CAROL)
    fake.private_message(CAROL, QUESTION)
    carols = await first_reply(fake, CAROL)  # a message with buttons, pressed below
    fake.limit_chat(ALICE, 3)
    started = time.monotonic()
    fake.private_message(ALICE, QUESTION)
    await fake.wait_for(lambda: fake.limited_calls)  # Alice's reply met the 429

    inline = fake.inline_query(BOB, "Peskov")["inline_query"]["id"]
    fake.private_message(BOB, QUESTION)
    press = fake.callback_query(CAROL, carols, carols.buttons[0]["callback_data"])["callback_query"]["id"]
    alices = await first_reply(fake, ALICE, timeout=15)
    [answer] = [a for a in fake.inline_answers if a.query_id == inline]
    [ack] = [a for a in fake.callback_answers if a.query_id == press]
    bobs = await first_reply(fake, BOB)
    figure("inline answer to B after A's 429", answer.at - started)
    figure("button acknowledgement after A's 429", ack.at - started)
    figure("private reply to B after A's 429", bobs.at - started)
    figure("A's own reply (retry_after 3 s)", alices.at - started)

    assert answer.seq < alices.seq and ack.seq < alices.seq and bobs.seq < alices.seq
    assert len(fake.sent_messages(ALICE)) == 1  # retried after the pause, delivered once
    assert {int(params["chat_id"]) for _, params in fake.limited_calls} == {ALICE}
    assert bot.logs.problems() == []
    assert fake.rejections == []


async def test_a_busy_group_does_not_hold_up_a_private_reply(bot: Harness) -> None:
    fake = bot.fake
    fake.group(GROUP, "Busy reading club")
    members = [4000 + n for n in range(15)]
    started = time.monotonic()
    for round_ in range(2):  # 30 questions: each member well within their own flood limit
        for member in members:
            fake.group_message(GROUP, member, f"/ask {QUESTION}" if round_ == 0 else "/ask When were the talks?")
    await fake.wait_for_messages(GROUP_BURST, chat_id=GROUP)  # the group's burst went out; the rest wait
    fake.private_message(ALICE, QUESTION)
    alices = await first_reply(fake, ALICE)
    group_replies = fake.sent_messages(GROUP)
    figure("private reply while a group has 30 questions waiting", alices.at - started)
    print(f"  group replies sent before it: {sum(m.seq < alices.seq for m in group_replies)} of 30")

    assert sum(m.seq < alices.seq for m in group_replies) <= GROUP_BURST + 1  # paced at 20 a minute
    assert fake.rejections == []


async def test_one_persons_inline_flood_does_not_hold_up_another_persons_reply(bot: Harness) -> None:
    fake = bot.fake
    words = random.Random(11)
    letters = "абвгдежзиклмнопрстуфхцчшэюя"

    def gibberish() -> str:  # unknown words: the slowest queries to match (spelling correction)
        return " ".join("".join(words.choice(letters) for _ in range(7)) for _ in range(30))

    started = time.monotonic()
    for _ in range(300):
        fake.inline_query(ALICE, gibberish())
    fake.private_message(BOB, QUESTION)
    bobs = await first_reply(fake, BOB)
    await fake.wait_for(lambda: len([a for a in fake.inline_answers if a.results]) >= 20, timeout=30)
    await asyncio.sleep(0.5)  # any further answer would show up here
    matched = [a for a in fake.inline_answers if a.results]  # beyond the limit: one empty answer, then none
    figure("B's private reply during A's 300 inline queries", bobs.at - started)
    figure("A's last matched inline answer", max(a.at for a in matched) - started)

    assert len(matched) == 20  # FLOOD_LIMIT_PER_MINUTE: only those were matched
    assert len(fake.inline_answers) == 21  # and one empty answer tells the flooder to slow down
    assert bobs.seq < max(a.seq for a in matched)  # B did not wait for A's matching
    assert fake.rejections == []


async def test_a_full_backlog_still_hands_out_an_inline_query_ahead_of_waiting_messages() -> None:
    queue = BoundedUpdateQueue(backlog=1)
    await queue.put(Update(1))
    assert (await queue.get()).update_id == 1  # type: ignore[attr-defined]  # the backlog is full now
    quick = Update(4, inline_query=InlineQuery("q4", User(7, "Reader", False), "where were the talks", ""))
    for update in (Update(2), Update(3), quick, Update(5)):
        await queue.put(update)
    assert await asyncio.wait_for(queue.get(), timeout=30) is quick  # timeout: only a hang fails
    message = asyncio.create_task(queue.get())
    await asyncio.sleep(0.05)
    assert not message.done()  # messages still wait until the backlog has room
    queue.task_done()
    queue.task_done()
    assert (await asyncio.wait_for(message, timeout=30)).update_id == 2  # then in their order
    assert queue.peak == 2


async def test_fetching_pauses_while_the_backlog_is_full_and_nothing_is_lost(engine: Engine) -> None:
    backlog, users = 10, [5000 + n for n in range(150)]
    async with running_bot(engine, env={**FAST_STOP, "UPDATE_BACKLOG": str(backlog)}) as bot:
        fake = bot.fake
        queue = bot.app.update_queue
        assert isinstance(queue, BoundedUpdateQueue)
        for user in users:
            fake.user(user)
            fake.limit_chat(user, 2)  # every reply waits in the rate limiter for a while
        for user in users:
            fake.private_message(user, QUESTION)
        await fake.wait_for(lambda: len(fake.limited_calls) >= backlog)
        await asyncio.sleep(0.5)
        polls = len(fake.calls_of("getUpdates"))
        unfetched = len(fake.pending_updates)
        print(f"  backlog {backlog}: {queue.in_progress} in progress, {queue.qsize()} queued, "
              f"{unfetched} of {len(users)} not yet confirmed to Telegram")
        assert queue.in_progress <= backlog and queue.peak <= backlog
        assert unfetched >= len(users) - backlog - queue.maxsize - 100  # 100: one getUpdates batch
        await asyncio.sleep(0.5)
        assert len(fake.calls_of("getUpdates")) == polls  # the Updater is waiting, not polling

        await fake.wait_for(lambda: len(fake.sent_messages()) >= len(users), timeout=60)
        await fake.wait_for_updates_consumed(timeout=10)
        assert sorted(m.chat_id for m in fake.sent_messages()) == users  # each answered exactly once
        assert queue.peak <= backlog
        assert bot.logs.problems() == []
        assert fake.rejections == []


async def test_replies_and_button_answers_stay_in_their_forum_topic(bot: Harness) -> None:
    fake = bot.fake
    forum = fake.forum(-100_888, "Readers' forum")["id"]
    topic = fake.create_topic(forum, "Istanbul talks")
    fake.group_message(forum, ALICE, f"/ask {QUESTION}", topic=topic)
    [card] = await fake.wait_for_messages(1, chat_id=forum)
    questions = [b for b in card.buttons if b["callback_data"].startswith("a:")]
    assert questions, "the answer card offers follow-up questions"
    fake.callback_query(BOB, card, questions[0]["callback_data"])  # a button press in the topic
    fake.group_message(forum, CAROL, "/ask Wher wer the tlks?", topic=topic)  # a did-you-mean, or an answer
    replies = await fake.wait_for_messages(3, chat_id=forum)
    picks = [b for b in replies[-1].buttons if b["callback_data"].startswith("a:")]
    if picks:
        fake.callback_query(CAROL, replies[-1], picks[0]["callback_data"])
        replies = await fake.wait_for_messages(4, chat_id=forum)
    print(f"  {len(replies)} replies in the topic, threads: {[m.thread_id for m in replies]}")
    assert [m.thread_id for m in replies] == [topic] * len(replies)
    assert all(int(m.params["message_thread_id"]) == topic for m in replies)
    assert fake.rejections == []
