"""Load: 1,000 mixed updates through the real application (rate limiter on) and the fake Bot API.

The scenario is tests/load_scenario.py. Every update must be answered exactly once, none lost,
nothing rejected by the fake, nothing logged at WARNING or above, and the token never logged. Inline
queries and button presses must be served ahead of the message backlog the rate limiter holds
back: an order, not a number of seconds. How long things take is printed by
benchmarks/bench_load.py, not asserted here (a timed test flakes on a busy machine).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from inprocess_bot import running_bot
from load_scenario import N_INLINE, N_PRESS, TOTAL, push_mixed_load, sends_before_answer

from bot.engine import Engine
from bot.evaluation import load_questions
from bot.tg.app import CONCURRENT_MESSAGES
from bot.tg.handlers import FLOOD_NOTICE

QUESTIONS_FILE = Path(__file__).with_name("questions.yaml")
# Messages beyond the message lane's slots wait for one. A quick update pushed while at least this
# many more were waiting must overtake them (the limiter lets out 30 sends a second, so it has
# several seconds to); with one shared pool it would be answered only after all of them.
QUEUED = 150


@pytest.fixture(scope="module")
def questions() -> list[str]:
    return [q.text for q in load_questions(QUESTIONS_FILE)]


async def test_thousand_mixed_updates_are_each_answered_once(engine: Engine, questions: list[str]) -> None:
    env = {"FLOOD_LIMIT_PER_MINUTE": "1000"}  # many users anyway; flood control must not interfere
    async with running_bot(engine, env=env) as bot:
        fake = bot.fake
        run = await push_mixed_load(bot, questions)
        sent = fake.sent_messages()
        total_sends = sum(run.expected_sends.values())

        assert len(run.kinds) == TOTAL == 1000
        assert fake.rejections == []
        assert fake.pending_updates == []
        assert len(fake.calls_of("sendMessage")) == len(sent) == total_sends  # none failed, none extra
        assert Counter(m.chat_id for m in sent) == run.expected_sends
        for group, message_ids in run.asks.items():  # every /ask answered by exactly one reply to it
            replies = Counter(m.reply_to_message_id for m in sent if m.chat_id == group and m.reply_to_message_id)
            assert replies == Counter(message_ids), group
        assert all(m.plain_text and FLOOD_NOTICE not in m.plain_text for m in sent)
        assert Counter(a.query_id for a in fake.inline_answers) == Counter(run.inline_ids)
        assert all(a.results for a in fake.inline_answers)
        assert Counter(a.query_id for a in fake.callback_answers) == Counter(run.press_ids)
        assert len(fake.calls_of("answerInlineQuery")) == N_INLINE
        assert len(fake.calls_of("answerCallbackQuery")) == N_PRESS

        # Inline queries and presses have their own lane: one that reaches the bot behind a backlog is
        # answered before the messages that were then waiting for a message slot. Counted from when the
        # bot fetched it (getUpdates), not when it was pushed: how long an update waits on the server
        # depends on how busy the machine is (and on the bounded backlog pausing getUpdates), not on
        # the lanes.
        answered_after = sends_before_answer(run)
        assert set(answered_after) == {q.key for q in run.quick}
        assert {q.update_id for q in run.quick} <= set(run.delivered)
        waiting = {q.key: q.sends_due - run.delivered[q.update_id] for q in run.quick}  # unsent, owed ahead
        behind = [q for q in run.quick if waiting[q.key] >= CONCURRENT_MESSAGES + QUEUED]
        assert len(behind) >= len(run.quick) // 5, "the scenario no longer builds a backlog"
        late = [
            (q.key, waiting[q.key], answered_after[q.key] - run.delivered[q.update_id])
            for q in behind
            if answered_after[q.key] - run.delivered[q.update_id] >= waiting[q.key] - CONCURRENT_MESSAGES
        ]
        assert late == [], f"{len(late)} of {len(behind)} quick updates (key, backlog, sends before answer)"
        assert bot.logs.problems() == []
    assert bot.logs.problems() == []  # shutting down logs nothing alarming either
    assert bot.logs.token_leaks() == []
