"""Delays one chat's trouble causes others: the scenarios of tests/test_isolation.py, with their figures.

Run from anywhere:  python benchmarks/bench_isolation.py [--runs R]

The real application long-polls a FakeTelegram server in this process (which shares its cores). Each
run prints, for a 3 s 429 on chat A: how soon B's inline answer, a button acknowledgement and B's
private reply arrived, and A's own reply; for 30 questions waiting in one group: an unrelated private
reply; for one person's 300 inline queries of unknown words: another person's private reply. The
tests assert the order; the seconds are printed here.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from inprocess_bot import running_bot  # noqa: E402
from test_isolation import (  # noqa: E402
    FAST_STOP,
    test_a_429_for_one_chat_delays_only_that_chat,
    test_a_busy_group_does_not_hold_up_a_private_reply,
    test_one_persons_inline_flood_does_not_hold_up_another_persons_reply,
)

from bot.engine import Engine  # noqa: E402

SCENARIOS = (
    ("429 on one chat", test_a_429_for_one_chat_delays_only_that_chat),
    ("busy group", test_a_busy_group_does_not_hold_up_a_private_reply),
    ("inline flood", test_one_persons_inline_flood_does_not_hold_up_another_persons_reply),
)


async def main_async(runs: int) -> int:
    engine = Engine.load(ROOT / "knowledge")
    for number in range(1, runs + 1):
        for name, scenario in SCENARIOS:
            print(f"run {number}, {name}")
            async with running_bot(engine, env={**FAST_STOP, "LOG_LEVEL": "INFO"}, log_level=logging.INFO) as bot:
                await scenario(bot)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    return asyncio.run(main_async(parser.parse_args().runs))


if __name__ == "__main__":
    raise SystemExit(main())
