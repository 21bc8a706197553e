"""Latency under load: the 1,000-update scenario of tests/test_load.py, with the figures it does not assert.

Run from anywhere:  python benchmarks/bench_load.py [--runs R]

The real application with its per-chat rate limiter (30 sendMessage/s overall, 1/s per private chat, 20/min per
group) long-polls a FakeTelegram server in this process; 1,000 mixed updates (private questions,
group /ask, inline queries, button presses) are pushed in bursts (tests/load_scenario.py). Printed
per run: how long pushing and answering took, and the latency from push to answer of inline queries,
button presses and group replies (median, p95, max). The limiter bounds the total from below (~27 s
for the ~820 sendMessage calls); inline answers and presses take their own lane and do not wait for it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from inprocess_bot import running_bot  # noqa: E402
from load_scenario import TOTAL, LoadRun, push_mixed_load  # noqa: E402

from bot.engine import Engine  # noqa: E402
from bot.evaluation import load_questions  # noqa: E402

KNOWLEDGE = ROOT / "knowledge"
QUESTIONS = ROOT / "tests" / "questions.yaml"


def report(run: LoadRun, sends: int) -> None:
    print(
        f"  {TOTAL} updates -> {sends} sendMessage; pushed in {run.pushed_seconds:.1f} s, all answered after "
        f"{run.answered_seconds:.1f} s ({TOTAL / run.answered_seconds:.0f} updates/s, "
        f"{sends / run.answered_seconds:.1f} sendMessage/s)"
    )
    for prefix, what in (("i", "answerInlineQuery"), ("c", "answerCallbackQuery"), ("g", "group reply")):
        waits = sorted(run.answered_at[k] - t for k, t in run.pushed_at.items() if k[0] == prefix)
        print(
            f"  {what:19} latency after push: median {statistics.median(waits):5.2f} s, "
            f"p95 {waits[int(0.95 * (len(waits) - 1))]:5.2f} s, max {waits[-1]:5.2f} s"
        )


async def main_async(runs: int) -> int:
    engine = Engine.load(KNOWLEDGE)
    questions = [q.text for q in load_questions(QUESTIONS)]
    for number in range(1, runs + 1):
        env = {"FLOOD_LIMIT_PER_MINUTE": "1000", "LOG_LEVEL": "INFO"}
        async with running_bot(engine, env=env, log_level=logging.INFO) as bot:
            run = await push_mixed_load(bot, questions, seed=20240517 + number - 1)
            print(f"run {number}")
            report(run, len(bot.fake.sent_messages()))
            problems = bot.logs.problems()
            if bot.fake.rejections or problems:
                print(f"  PROBLEMS: {len(bot.fake.rejections)} rejections, {len(problems)} log problems")
                return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=1, help="runs (default 1)")
    args = parser.parse_args(argv)
    logging.getLogger().setLevel(logging.WARNING)
    return asyncio.run(main_async(args.runs))


if __name__ == "__main__":
    sys.exit(main())
