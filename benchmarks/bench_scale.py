"""Side-by-side at scale: this project's matcher (through `Engine`) against a plain BM25 index (bm25s)
and rapidfuzz `process.extractOne`, on the same synthetic entries, in one run; plus `ask --json`.

Run from anywhere:  python benchmarks/bench_scale.py  [--sizes 100,1000,10000,100000] [--questions 200]
                                                      [--max-entries N] [--skip-ask]
Needs the `bench` extra (bm25s). It prints figures only; there are no pass/fail thresholds.

- Entries come from `bench_engine.synthetic_kb` (question + 8 alternates each). bm25s and rapidfuzz
  index the same phrasings (question + alternates) that name each entry; our matcher indexes what
  it always indexes (those plus the entries' quotes).
- bm25s: its own Tokenizer (English stopwords, PyStemmer's English stemmer), k=1.
- ours-match: the same engine's matching alone (the question cleaned, retyped, its language
  detected, then `Matcher.match`), without the answer decision and the reply: the part of "ours"
  that does what a retriever does. Its best candidate counts, as bm25s's and rapidfuzz's do.
- rapidfuzz: `process.extractOne(default_process(q), choices, scorer=fuzz.token_set_ratio,
  processor=None)` over every phrasing, each passed through `utils.default_process` at build.
- Questions per size: up to --questions of the knowledge base's own paraphrases (seeded sample),
  padded with the curated questions of tests/questions.yaml (off-topic for a synthetic base) when a
  small base has fewer. Each is asked once, after one warm-up question.
- Index memory: tracemalloc's peak during a separate, untimed build (numpy reports its arrays to
  tracemalloc) and what the built index still holds when it ends ("kept"); also the growth of the
  resident set (RSS, /proc/self/statm) across the timed build, which is coarse (freed memory of an
  earlier build is reused). Build times come from the untraced build.
- "right": paraphrases whose entry came back (ours: only confident answers count, not "did you
  mean"; bm25s and rapidfuzz always return their best phrasing).
- A fresh `python -m bot ask` process is timed twice: with the environment as given (where
  PYTHONDONTWRITEBYTECODE is set, every module of the bot is compiled from source each time) and
  with the bytecode cache a deployed bot has (written by one untimed run into a temporary folder).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bm25s  # noqa: E402
import Stemmer  # noqa: E402
from bench_engine import percentile, synthetic_kb  # noqa: E402
from bm25s.tokenization import Tokenizer  # noqa: E402
from rapidfuzz import fuzz, process, utils  # noqa: E402

from bot.analysis import detect_language  # noqa: E402
from bot.engine import Engine, _clean  # noqa: E402
from bot.evaluation import load_questions  # noqa: E402
from bot.model import KnowledgeBase  # noqa: E402
from bot.render import reply_to_dict  # noqa: E402
from bot.replies import Outcome  # noqa: E402

KNOWLEDGE = ROOT / "knowledge"
QUESTIONS = ROOT / "tests" / "questions.yaml"
DEFAULT_SIZES = (100, 1_000, 10_000, 100_000)
ASK_QUESTIONS = 170
FRESH_QUESTION = "Who is Peskov?"
WARM_UP = "warm up"
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- the three contenders: build(kb) -> ask(question) -> entry index or None ---------------------------

Asker = Callable[[str], int | None]


def phrasings(kb: KnowledgeBase) -> tuple[list[str], list[int]]:
    texts, owners = [], []
    for index, entry in enumerate(kb.entries):
        for text in (entry.question, *entry.alternates):
            texts.append(text)
            owners.append(index)
    return texts, owners


def entry_positions(kb: KnowledgeBase) -> dict[str, int]:
    """Each entry's index in the knowledge base, by id (what the askers return)."""
    return {entry.id: index for index, entry in enumerate(kb.entries)}


def build_ours(kb: KnowledgeBase) -> tuple[object, Asker]:
    engine = Engine(kb)
    position = entry_positions(kb)

    def ask(question: str) -> int | None:
        reply = engine.ask(question)
        return position[reply.entry.id] if reply.outcome is Outcome.ANSWER and reply.entry else None

    return engine, ask


def build_ours_matching(kb: KnowledgeBase) -> tuple[object, Asker]:
    """The same engine's matching alone, the part comparable to a retriever: the question cleaned,
    retyped and its language detected, then `Matcher.match`; its best candidate, whatever its score
    (as bm25s and rapidfuzz return their best). Without the answer decision and the reply."""
    engine = Engine(kb)
    position = entry_positions(kb)

    def ask(question: str) -> int | None:
        text = engine.retyper.retype(_clean(question))
        candidates = engine.matcher.match(text, lang=detect_language(text)).candidates
        return position[candidates[0].entry.id] if candidates else None

    return engine, ask


def build_bm25s(kb: KnowledgeBase) -> tuple[object, Asker]:
    texts, owners = phrasings(kb)
    tokenizer = Tokenizer(stopwords="en", stemmer=Stemmer.Stemmer("english").stemWord)
    retriever = bm25s.BM25()
    retriever.index(tokenizer.tokenize(texts, return_as="ids", show_progress=False), show_progress=False)

    def ask(question: str) -> int | None:
        tokens = tokenizer.tokenize([question], update_vocab=False, return_as="ids", show_progress=False)
        documents, scores = retriever.retrieve(tokens, k=1, show_progress=False)
        return owners[int(documents[0][0])] if scores[0][0] > 0 else None

    return (retriever, tokenizer, owners), ask


def build_rapidfuzz(kb: KnowledgeBase) -> tuple[object, Asker]:
    texts, owners = phrasings(kb)
    choices = [utils.default_process(text) for text in texts]

    def ask(question: str) -> int | None:
        best = process.extractOne(
            utils.default_process(question), choices, scorer=fuzz.token_set_ratio, processor=None
        )
        return owners[best[2]] if best else None

    return (choices, owners), ask


CONTENDERS: dict[str, Callable[[KnowledgeBase], tuple[object, Asker]]] = {
    "ours": build_ours,
    "ours-match": build_ours_matching,
    "bm25s": build_bm25s,
    "rapidfuzz": build_rapidfuzz,
}


def measure(
    name: str, kb: KnowledgeBase, asked: list[tuple[str, int | None]], trace: bool
) -> dict[str, float]:
    gc.collect()
    if trace:  # a first build under tracemalloc, for memory only (tracing slows it down)
        tracemalloc.start()
        traced = CONTENDERS[name](kb)
        kept, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del traced
        gc.collect()
    else:
        kept = peak = 0
    before = rss_bytes()
    start = time.perf_counter()
    index, ask = CONTENDERS[name](kb)
    build_s = time.perf_counter() - start
    gc.collect()
    memory = rss_bytes() - before
    progress(
        f"  {name}: built in {build_s:.1f} s, traced peak {peak / 2**20:.0f} MiB, "
        f"RSS +{memory / 2**20:.0f} MiB; asking {len(asked)}"
    )
    ask(WARM_UP)
    latencies, right = [], 0
    for question, expected in asked:
        start_ns = time.perf_counter_ns()
        got = ask(question)
        latencies.append((time.perf_counter_ns() - start_ns) / 1e6)
        right += expected is not None and got == expected
    del index, ask
    gc.collect()
    paraphrases = sum(expected is not None for _, expected in asked)
    return {
        "build_s": build_s,
        "mean": statistics.fmean(latencies),
        "p50": percentile(latencies, 0.50),
        "p99": percentile(latencies, 0.99),
        "peak_mib": peak / 2**20,
        "kept_mib": kept / 2**20,
        "rss_mib": memory / 2**20,
        "right": right,
        "paraphrases": paraphrases,
    }


def questions_for(kb: KnowledgeBase, paraphrases: list[str], curated: list[str], count: int):
    """Paraphrase i of synthetic_kb asks for entry 10*i; curated questions expect nothing here."""
    rng = random.Random(11)
    tagged: list[tuple[str, int | None]] = [(q, 10 * i) for i, q in enumerate(paraphrases)]
    if len(tagged) > count:
        tagged = rng.sample(tagged, count)
    tagged += [(q, None) for q in curated[: count - len(tagged)]]
    return tagged


def scale(sizes: list[int], count: int, max_entries: int, trace: bool) -> None:
    base = Engine.load(KNOWLEDGE).kb
    curated = [q.text for q in load_questions(QUESTIONS)]
    results: dict[int, dict[str, dict[str, float]]] = {}
    for size in sizes:
        if size > max_entries:
            print(f"\n{size:,} entries: skipped (above --max-entries {max_entries:,})")
            continue
        progress(f"{size:,} entries: generating")
        kb, paraphrases = synthetic_kb(base, size)
        asked = questions_for(kb, paraphrases, curated, count)
        # The matching alone builds the same engine as "ours": its memory is not traced again.
        results[size] = {name: measure(name, kb, asked, trace and name != "ours-match") for name in CONTENDERS}
        del kb
        report_size(size, results[size], len(asked))
    report_growth(results)


def report_size(size: int, row: dict[str, dict[str, float]], asked: int) -> None:
    ours = row["ours"]
    print(f"\n{size:,} entries, {asked} questions ({int(ours['paraphrases'])} paraphrases of an entry)")
    print(
        f"  {'':<10} {'build':>9} {'mean':>10} {'p50':>10} {'p99':>10} {'traced peak':>12} "
        f"{'kept':>9} {'RSS +':>9} {'right':>9}"
    )
    for name, figures in row.items():
        traced = (
            f"{figures['peak_mib']:>8.1f} MiB {figures['kept_mib']:>5.1f} MiB"
            if name != "ours-match"
            else f"{'(as ours)':>12} {'':>9}"
        )
        print(
            f"  {name:<10} {figures['build_s']:>7.2f} s {figures['mean']:>7.3f} ms {figures['p50']:>7.3f} ms "
            f"{figures['p99']:>7.3f} ms {traced} "
            f"{figures['rss_mib']:>5.0f} MiB "
            f"{int(figures['right']):>5}/{int(figures['paraphrases'])}"
        )
    for other in ("bm25s", "rapidfuzz"):
        theirs = row[other]
        ratios = [
            f"{key} {ours[key] / theirs[key]:.2f}×" if theirs[key] > 0 else f"{key} n/a"
            for key in ("build_s", "mean", "p50", "p99", "peak_mib", "kept_mib")
        ]
        print(f"  ours/{other:<10} " + ", ".join(ratios))
    matching, theirs = row["ours-match"], row["bm25s"]
    ratios = [f"{key} {matching[key] / theirs[key]:.2f}×" for key in ("mean", "p50", "p99") if theirs[key] > 0]
    print("  ours-match/bm25s " + ", ".join(ratios))


def report_growth(results: dict[int, dict[str, dict[str, float]]]) -> None:
    sizes = sorted(results)
    if len(sizes) < 2:
        return
    print("\nGrowth from each size to the next (time ratio vs size ratio)")
    for small, large in itertools.pairwise(sizes):
        parts = []
        for name in CONTENDERS:
            a, b = results[small][name], results[large][name]
            parts.append(
                f"{name}: build {b['build_s'] / a['build_s']:.1f}×, mean {b['mean'] / a['mean']:.1f}×"
            )
        print(f"  {small:,} -> {large:,} (size {large / small:.0f}×): " + "; ".join(parts))


# -- ask --json and a fresh process ------------------------------------------------------------------


def ask_json() -> None:
    questions = [q.text for q in load_questions(QUESTIONS)][:ASK_QUESTIONS]
    print(f"\n`ask --json`, the first {len(questions)} questions of tests/questions.yaml, after one warm-up")
    # in process: what `ask --json` does per input line (engine.ask, then json.dumps of the reply)
    engine = Engine.load(KNOWLEDGE)
    start = time.perf_counter_ns()
    json.dumps(reply_to_dict(engine.ask(WARM_UP)), ensure_ascii=False)
    warm_ms = (time.perf_counter_ns() - start) / 1e6
    inproc = []
    for question in questions:
        start = time.perf_counter_ns()
        json.dumps(reply_to_dict(engine.ask(question)), ensure_ascii=False)
        inproc.append((time.perf_counter_ns() - start) / 1e6)
    print(
        f"  in process (ask + JSON):     mean {statistics.fmean(inproc):.3f} ms, "
        f"median {statistics.median(inproc):.3f} ms, max {max(inproc):.3f} ms (warm-up {warm_ms:.1f} ms)"
    )
    # through a real `python -m bot ask --json` process: one line written, one line read, per question
    env = {k: v for k, v in os.environ.items() if k not in {"KNOWLEDGE_DIR", "TELEGRAM_BOT_TOKEN"}}
    env["PYTHONPATH"] = str(ROOT)
    child = subprocess.Popen(
        [sys.executable, "-m", "bot", "ask", "--json"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    assert child.stdin and child.stdout
    piped = []
    for number, question in enumerate([WARM_UP, *questions]):
        start = time.perf_counter_ns()
        child.stdin.write(question.replace("\n", " ") + "\n")
        child.stdin.flush()
        json.loads(child.stdout.readline())
        if number:
            piped.append((time.perf_counter_ns() - start) / 1e6)
    child.stdin.close()
    child.wait(timeout=60)
    print(
        f"  through the pipe (round trip): mean {statistics.fmean(piped):.3f} ms, "
        f"median {statistics.median(piped):.3f} ms, max {max(piped):.3f} ms"
    )
    # A fresh process, as the environment has it (with PYTHONDONTWRITEBYTECODE set, as on the
    # development machine, every module of the bot is compiled from source each time), and with
    # the bytecode cache a deployed bot has (kept in a temporary folder, written by one untimed run).
    inherited = "set" if env.get("PYTHONDONTWRITEBYTECODE") else "not set"
    walls = fresh_walls(env)
    print(
        f'  fresh `python -m bot ask "{FRESH_QUESTION}"` (PYTHONDONTWRITEBYTECODE {inherited}): '
        f"best of 5 {min(walls):.3f} s, median {statistics.median(walls):.3f} s"
    )
    with tempfile.TemporaryDirectory() as pycache:
        compiled = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
        compiled["PYTHONPYCACHEPREFIX"] = pycache
        fresh_walls(compiled, runs=1)
        walls = fresh_walls(compiled)
    print(
        f"  the same with the bytecode cache (.pyc) written once: best of 5 {min(walls):.3f} s, "
        f"median {statistics.median(walls):.3f} s"
    )


def fresh_walls(env: dict[str, str], runs: int = 5) -> list[float]:
    """Wall seconds of `runs` fresh `python -m bot ask` processes answering one question."""
    walls = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot", "ask", FRESH_QUESTION],
            cwd=ROOT,
            env=env,
            capture_output=True,
            timeout=60,
            check=True,
        )
        walls.append(time.perf_counter() - start)
    return walls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="comma-separated entry counts"
    )
    parser.add_argument("--questions", type=int, default=200, help="questions asked per size")
    parser.add_argument("--max-entries", type=int, default=100_000, help="skip sizes above this")
    parser.add_argument("--no-trace", action="store_true", help="no tracemalloc build (RSS growth only)")
    parser.add_argument("--skip-ask", action="store_true", help="leave out the `ask --json` figures")
    args = parser.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    print(
        f"Python {sys.version.split()[0]}, bm25s {bm25s.__version__}, "
        "rapidfuzz scorer token_set_ratio; memory: tracemalloc peak during a build and what the built "
        "index keeps (kept), plus RSS growth across the timed build"
    )
    scale(sizes, args.questions, args.max_entries, not args.no_trace)
    if not args.skip_ask:
        ask_json()
    return 0


if __name__ == "__main__":
    sys.exit(main())
