"""End-to-end throughput: updates per second through long polling, this bot against a minimal echo bot.

Run from anywhere:  python benchmarks/bench_throughput.py [--updates N] [--runs R]

Both bots poll a FakeTelegram server (tests/fake_telegram.py) running in this process. Each run starts
a fresh server and application, warms it up with one exchange, then pushes N private text updates as
fast as possible and times how long it takes until the server has recorded N sendMessage calls.

(a) this bot: build_application(..., rate_limit=False), i.e. without python-telegram-bot's
    AIORateLimiter (which would cap it at 30 messages/s) and with flood control set high enough not
    to interfere, with its question log on (a fresh SQLite file per run, written by the log's thread,
    as deployed); questions come from tests/questions.yaml, from many users;
(b) a minimal python-telegram-bot echo bot: concurrent_updates(True), one MessageHandler replying
    with the same text, same base_url.

Logging is configured as in production (bot.tg.logs.configure_logging at INFO). Runs alternate
between (a) and (b); each run's ratio ours/echo is printed (goal: >= 90% in each run), then the medians.
Each run also prints the machine's 1-minute load average before it (the machine may be shared) and
the CPU time the bot's process spent per update, a figure that depends less on what else runs.
The fake server (and the pusher) run in a process of their own, as Telegram is not in the bot's
process: it validates every reply as Telegram would (HTML, keyboards), and this bot's replies are
longer and richer than an echo, so in the bot's process that work would be charged to the bot. The
script measures that work and prints it; --same-process runs the server in the bot's process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from fake_telegram import FakeTelegram  # noqa: E402
from inprocess_bot import TOKEN, bot_settings, build_bot, running_application  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.ext import Application, ContextTypes, MessageHandler, filters  # noqa: E402

from bot.engine import Engine  # noqa: E402
from bot.evaluation import load_questions  # noqa: E402
from bot.questionlog import Pseudonymizer, QuestionLog, Store  # noqa: E402
from bot.render import render_html  # noqa: E402
from bot.tg.app import build_application, on_startup  # noqa: E402
from bot.tg.context import Recorder  # noqa: E402
from bot.tg.keyboards import questions_keyboard  # noqa: E402
from bot.tg.logs import configure_logging  # noqa: E402

KNOWLEDGE = ROOT / "knowledge"
QUESTIONS = ROOT / "tests" / "questions.yaml"
TARGET_RATIO = 0.90
FIRST_USER = 700_000
USERS = 500  # distinct senders (private chats)
RUN_TIMEOUT = 120.0  # seconds for one run to see every answer



# -- the two bots ------------------------------------------------------------------------------------


def our_bot(fake: FakeTelegram, engine: Engine) -> Application:
    settings = bot_settings(fake, LOG_LEVEL="INFO", FLOOD_LIMIT_PER_MINUTE="1000000")
    return build_bot(settings, engine, rate_limit=False)


class LoggedBot:
    """This bot as deployed: with its question log, on a fresh SQLite file per run."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.runs = folder, 0
        self.log: QuestionLog | None = None

    def __call__(self, fake: FakeTelegram, engine: Engine) -> Application:
        self.close()
        self.runs += 1
        url = f"sqlite:///{self.folder / f'run{self.runs}.sqlite3'}"
        self.log = QuestionLog(Store(url), url, 90).start()
        settings = bot_settings(fake, LOG_LEVEL="INFO", FLOOD_LIMIT_PER_MINUTE="1000000")
        recorder = Recorder(self.log, Pseudonymizer("benchmark key"))
        return build_application(settings, engine, recorder, rate_limit=False)

    def close(self) -> None:
        if self.log is not None:
            self.log.close()
            self.log = None


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(update.effective_message.text)


def echo_bot(fake: FakeTelegram, engine: Engine) -> Application:
    application = (
        Application.builder()
        .token(TOKEN)
        .base_url(f"{fake.base_url}/bot")
        .base_file_url(fake.base_file_url)
        .concurrent_updates(True)
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    return application


# -- one run -----------------------------------------------------------------------------------------


async def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout:.0f} s")
        await asyncio.sleep(0.002)


async def one_run(
    make: Callable[[FakeTelegram, Engine], Application],
    startup: Callable | None,
    engine: Engine,
    texts: list[str],
) -> float:
    """Updates per second for len(texts) private messages, from the first push to the last sendMessage."""
    async with FakeTelegram(TOKEN) as fake:
        users = [FIRST_USER + i for i in range(USERS)]
        for user in users:
            fake.user(user)
        async with running_application(fake, make(fake, engine), startup=startup):
            fake.private_message(users[0], "Where were the talks held?")  # warm-up exchange
            await wait_until(lambda: len(fake.sent_messages()) >= 1, 30, "warm-up answer")
            before = len(fake.sent_messages())
            n = len(texts)

            def push_all() -> None:
                for i, text in enumerate(texts):
                    fake.private_message(users[i % USERS], text)

            started = time.perf_counter()
            pusher = asyncio.create_task(asyncio.to_thread(push_all))  # pushing does not block the bot
            await wait_until(lambda: len(fake.sent_messages()) >= before + n, RUN_TIMEOUT, f"{n} answers")
            elapsed = time.perf_counter() - started
            await pusher
            if fake.rejections:
                raise RuntimeError(f"the fake rejected {len(fake.rejections)} calls: {fake.rejections[0]}")
            if len(fake.sent_messages()) != before + n:
                raise RuntimeError("more answers than questions")
    return n / elapsed


def serve_in_own_process(conn: multiprocessing.connection.Connection, texts: list[str]) -> None:
    """The fake Bot API and the pusher in a process of their own (as Telegram is not in the bot's)."""
    with FakeTelegram(TOKEN) as fake:
        users = [FIRST_USER + i for i in range(USERS)]
        for user in users:
            fake.user(user)
        conn.send((fake.base_url, fake.base_file_url))
        conn.recv()  # the bot is polling
        fake.private_message(users[0], "Where were the talks held?")  # warm-up exchange

        def wait(predicate: Callable[[], bool], what: str) -> None:
            deadline = time.monotonic() + RUN_TIMEOUT
            while not predicate():
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{what} not reached within {RUN_TIMEOUT:.0f} s")
                time.sleep(0.002)

        wait(lambda: len(fake.sent_messages()) >= 1, "warm-up answer")
        before, n = len(fake.sent_messages()), len(texts)
        started = time.perf_counter()
        for i, text in enumerate(texts):
            fake.private_message(users[i % USERS], text)
        wait(lambda: len(fake.sent_messages()) >= before + n, f"{n} answers")
        elapsed = time.perf_counter() - started
        time.sleep(0.2)  # duplicates would show up
        conn.send((elapsed, len(fake.rejections), len(fake.sent_messages()) - before - n))
        conn.recv()  # the bot has stopped polling: the server may go


async def one_run_split(
    make: Callable[[FakeTelegram, Engine], Application],
    startup: Callable | None,
    engine: Engine,
    texts: list[str],
) -> float:
    """As one_run, with the fake server in its own process: only the bot's own work is timed."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    server = context.Process(target=serve_in_own_process, args=(theirs, texts), daemon=True)
    server.start()
    try:
        base_url, base_file_url = await asyncio.to_thread(ours.recv)
        where = SimpleNamespace(base_url=base_url, base_file_url=base_file_url)
        async with running_application(where, make(where, engine), startup=startup):  # type: ignore[arg-type]
            ours.send("go")
            elapsed, rejections, extra = await asyncio.to_thread(ours.recv)
        ours.send("stop")
    finally:
        server.join(timeout=30)
        if server.is_alive():
            server.terminate()
    if rejections:
        raise RuntimeError(f"the fake rejected {rejections} calls")
    if extra:
        raise RuntimeError("more answers than questions")
    return len(texts) / elapsed


# -- context figures ---------------------------------------------------------------------------------


def engine_time_us(engine: Engine, texts: list[str]) -> float:
    """Mean microseconds of engine.ask over the benchmark's questions."""
    started = time.perf_counter()
    for text in texts:
        engine.ask(text)
    return (time.perf_counter() - started) / len(texts) * 1e6


def fake_cost_us(engine: Engine, texts: list[str], samples: int = 300) -> tuple[float, float]:
    """Mean microseconds the fake server spends on one sendMessage: (this bot's reply, an echo).

    Calls the fake's request dispatcher directly (validation, HTML parsing, storing; no HTTP)."""
    with FakeTelegram(TOKEN) as fake:
        fake.user(FIRST_USER)
        path = f"/bot{TOKEN}/sendMessage"
        form = "application/x-www-form-urlencoded"

        def cost(bodies: list[bytes]) -> float:
            started = time.perf_counter()
            for body in bodies:
                fake._dispatch(path, form, body)
            return (time.perf_counter() - started) / len(bodies) * 1e6

        def body(text: str, markup: object = None, html: bool = False) -> bytes:
            params = {"chat_id": FIRST_USER, "text": text}
            if html:
                params["parse_mode"] = "HTML"
                params["link_preview_options"] = json.dumps({"is_disabled": True})
            if markup is not None:
                params["reply_markup"] = json.dumps(markup.to_dict())
            return urlencode(params).encode()

        ours = []
        for text in texts[:samples]:
            reply = engine.ask(text)
            ours.append(body(render_html(reply), questions_keyboard(reply.suggestions), html=True))
        echoes = [body(text) for text in texts[:samples]]
        figures = cost(ours), cost(echoes)
        if fake.rejections:
            raise RuntimeError(f"the fake rejected a reply: {fake.rejections[0]}")
        return figures


# -- main --------------------------------------------------------------------------------------------


async def main_async(n: int, runs: int, same_process: bool) -> int:
    with tempfile.TemporaryDirectory() as folder:
        ours_bot = LoggedBot(Path(folder))
        try:
            return await measure(n, runs, same_process, ours_bot)
        finally:
            ours_bot.close()


async def measure(n: int, runs: int, same_process: bool, ours_bot: LoggedBot) -> int:
    configure_logging("INFO", [TOKEN])
    names = ("telegram.ext.Application", "bot.tg.app", "bot.tg.shutdown", "bot.questionlog.writer")
    for name in names:  # start/stop lines, once per run
        logging.getLogger(name).setLevel(logging.WARNING)
    engine = Engine.load(KNOWLEDGE)
    pool = [q.text for q in load_questions(QUESTIONS)]
    texts = [pool[i % len(pool)] for i in range(n)]

    where = "in the bot's process" if same_process else "in a process of its own"
    print(f"Throughput, {n} private text updates per run, {runs} runs each (FakeTelegram {where} + long polling)")
    results: dict[str, list[float]] = {"ours": [], "echo": []}
    cpu: dict[str, list[float]] = {"ours": [], "echo": []}
    for run in range(1, runs + 1):
        for name, make, startup in (("ours", ours_bot, on_startup), ("echo", echo_bot, None)):
            load = os.getloadavg()[0]
            cpu_before = time.process_time()
            rate = await (one_run if same_process else one_run_split)(make, startup, engine, texts)
            cpu_ms = (time.process_time() - cpu_before) / n * 1000
            results[name].append(rate)
            cpu[name].append(cpu_ms)
            print(
                f"  run {run}  {name:4}  {rate:8.1f} updates/s  ({n / rate:.2f} s)  "
                f"bot process CPU {cpu_ms:.2f} ms/update  (load before: {load:.2f})"
            )

    ours, echo_rate = statistics.median(results["ours"]), statistics.median(results["echo"])
    ratios = [o / e for o, e in zip(results["ours"], results["echo"], strict=True)]
    ratio = min(ratios)
    engine_us = engine_time_us(engine, texts)
    fake_ours, fake_echo = fake_cost_us(engine, texts)
    print()
    print(f"  this bot (rate_limit=False)  median {ours:8.1f} updates/s")
    print(f"  echo bot (PTB minimal)       median {echo_rate:8.1f} updates/s")
    verdict = "OK" if ratio >= TARGET_RATIO else "BELOW GOAL"
    print(f"  ratio ours/echo per run      {', '.join(f'{r:.1%}' for r in ratios)}")
    cpu_ratios = ", ".join(f"{o / e:.2f}" for o, e in zip(cpu["ours"], cpu["echo"], strict=True))
    print(f"  bot process CPU ours/echo    {cpu_ratios} per run (includes set-up and warm-up)")
    print(f"  ratio ours/echo, worst run   {ratio:8.1%}   (goal >= {TARGET_RATIO:.0%} in each run: {verdict})")
    print(f"  engine time per question     {engine_us:8.1f} µs mean (engine.ask, same questions)")
    print(
        f"  fake server per sendMessage  {fake_ours:8.1f} µs for this bot's replies, {fake_echo:.1f} µs "
        "for an echo (same process, counted in both figures)"
    )
    print(
        "  note: with the rate limiter on (as deployed), sendMessage is capped at 30/s overall and "
        "20/min per group"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--updates", type=int, default=6000, help="private updates per run (default 6000)")
    parser.add_argument("--runs", type=int, default=3, help="runs per bot (default 3)")
    parser.add_argument(
        "--same-process",
        action="store_true",
        help="run the fake server in the bot's process (its HTML validation then competes for the GIL)",
    )
    args = parser.parse_args(argv)
    if args.updates < 1 or args.runs < 1:
        parser.error("--updates and --runs must be positive")
    return asyncio.run(main_async(args.updates, args.runs, args.same_process))


if __name__ == "__main__":
    sys.exit(main())
