"""What the question log costs: end-to-end throughput with and without it, against the fake Bot API.

Run from anywhere:  python benchmarks/bench_questionlog.py [--updates N] [--runs R] [--database URL]

Same set-up as bench_throughput.py (this bot without the rate limiter, FakeTelegram in this process,
long polling, N private questions from 500 readers). Runs alternate between (a) the bot without a
question log and (b) the bot with one: a fresh SQLite file per run (or a fresh set of tables on
--database, e.g. a PostgreSQL URL), written by the log's background thread. After each (b) run the
log is closed (its queue written out) and the rows are counted, so "nothing lost" is shown too.
Goal: the log costs < 10 % of throughput (median of R runs each).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_throughput import KNOWLEDGE, QUESTIONS, one_run, our_bot
from fake_telegram import FakeTelegram
from inprocess_bot import bot_settings
from sqlalchemy import text
from telegram.ext import Application

from bot.engine import Engine
from bot.evaluation import load_questions
from bot.questionlog import Pseudonymizer, QuestionLog, Store
from bot.tg.app import build_application, on_startup
from bot.tg.feedback import Recorder
from bot.tg.logs import configure_logging

GOAL = 0.10


class LoggedBot:
    """Makes the bot with a question log on a fresh database, and remembers it for the count."""

    def __init__(self, url: str | None, folder: Path) -> None:
        self.url, self.folder, self.runs = url, folder, 0
        self.log: QuestionLog | None = None

    def __call__(self, fake: FakeTelegram, engine: Engine) -> Application:  # type: ignore[type-arg]
        self.runs += 1
        url = self.url or f"sqlite:///{self.folder / f'run{self.runs}.sqlite3'}"
        store = Store(url)
        if self.url:  # a shared server: start from empty tables
            store.ensure_schema()
            with store.engine.begin() as connection:
                for table in ("questions", "votes", "picks"):
                    connection.execute(text(f"DELETE FROM {table}"))
        self.log = QuestionLog(store, url, 90).start()
        settings = bot_settings(fake, LOG_LEVEL="INFO", FLOOD_LIMIT_PER_MINUTE="1000000")
        application = build_application(settings, engine, Recorder(self.log, Pseudonymizer("benchmark key")))
        application.bot._rate_limiter = None  # as our_bot: no AIORateLimiter
        return application

    def close_and_count(self) -> int:
        assert self.log is not None
        self.log.close()
        count = self.log.store.count_questions()
        self.log.store.dispose()
        return count


async def main_async(n: int, runs: int, url: str | None) -> int:
    configure_logging("INFO", [])
    for name in ("telegram.ext.Application", "bot.tg.app", "bot.questionlog.writer"):
        logging.getLogger(name).setLevel(logging.WARNING)
    engine = Engine.load(KNOWLEDGE)
    pool = [q.text for q in load_questions(QUESTIONS)]
    texts = [pool[i % len(pool)] for i in range(n)]
    where = "a PostgreSQL/other URL" if url else "a fresh SQLite file per run"
    print(f"Question log cost, {n} private questions per run, {runs} runs each; log on {where}")
    results: dict[str, list[float]] = {"off": [], "on": []}
    with tempfile.TemporaryDirectory() as folder:
        logged = LoggedBot(url, Path(folder))
        for run in range(1, runs + 1):
            rate = await one_run(our_bot, on_startup, engine, texts)
            results["off"].append(rate)
            print(f"  run {run}  log off  {rate:8.1f} updates/s")
            rate = await one_run(logged, on_startup, engine, texts)
            results["on"].append(rate)
            rows = logged.close_and_count()
            lost = (logged.log.failed + logged.log.dropped) if logged.log else 0
            print(f"  run {run}  log on   {rate:8.1f} updates/s   ({rows} questions logged, {lost} lost)")
    off, on = statistics.median(results["off"]), statistics.median(results["on"])
    cost = 1 - on / off
    print()
    print(f"  without the log  median {off:8.1f} updates/s")
    print(f"  with the log     median {on:8.1f} updates/s")
    verdict = "OK" if cost < GOAL else "ABOVE GOAL"
    print(f"  cost of the log  {cost:8.1%}   (goal < {GOAL:.0%}: {verdict})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--updates", type=int, default=2000, help="private questions per run (default 2000)")
    parser.add_argument("--runs", type=int, default=3, help="runs with and without the log (default 3)")
    parser.add_argument("--database", metavar="URL", help="log to this database instead of SQLite files")
    args = parser.parse_args(argv)
    if args.updates < 1 or args.runs < 1:
        parser.error("--updates and --runs must be positive")
    return asyncio.run(main_async(args.updates, args.runs, args.database))


if __name__ == "__main__":
    sys.exit(main())
