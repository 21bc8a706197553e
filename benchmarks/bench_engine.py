"""Benchmark of the answer engine: load time, per-question latency, a 10,000-entry knowledge base, memory
and the wall time of a fresh `python -m bot ask` process.

Run from anywhere:  python benchmarks/bench_engine.py  [--quick]
It prints figures beside their targets and takes about a minute.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.engine import Engine  # noqa: E402
from bot.evaluation import load_questions  # noqa: E402
from bot.model import Entry, KnowledgeBase, Quote  # noqa: E402
from bot.replies import Outcome  # noqa: E402

KNOWLEDGE = ROOT / "knowledge"
QUESTIONS = ROOT / "tests" / "questions.yaml"
FRESH_QUESTION = "When were the talks held?"

TARGET_LOAD_MS = 200.0
TARGET_P99_MS = 1.0
TARGET_P99_10K_MS = 20.0
TARGET_FRESH_S = 1.5


# -- measuring ---------------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def timed(function: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter_ns()
    result = function()
    return (time.perf_counter_ns() - start) / 1e6, result


def ask_latencies(engine: Engine, questions: list[str], repeat: int) -> list[float]:
    """Milliseconds per engine.ask, every question `repeat` times (in a shuffled order each round)."""
    rng = random.Random(7)
    latencies = []
    gc.collect()
    for _ in range(repeat):
        order = questions[:]
        rng.shuffle(order)
        for question in order:
            start = time.perf_counter_ns()
            engine.ask(question)
            latencies.append((time.perf_counter_ns() - start) / 1e6)
    return latencies


def verdict(value: float, target: float) -> str:
    return "ok" if value < target else "MISSED"


def line(label: str, figure: str, target: str = "", status: str = "") -> None:
    print(f"  {label:<48} {figure:>14}   {target:<18} {status}")


# -- a synthetic knowledge base -----------------------------------------------------------------------

ONSETS = [
    "b",
    "br",
    "ch",
    "d",
    "dr",
    "g",
    "k",
    "kr",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "sh",
    "st",
    "t",
    "v",
    "z",
    "zh",
]
VOWELS = ["a", "e", "i", "o", "u", "ia", "ie", "ou", "y"]
CODAS = ["", "", "n", "r", "s", "k", "v", "l", "sk", "nd"]
ENDINGS = {
    "person": ["ov", "enko", "sky", "ev", "in", "ova", "ich", "uk"],
    "place": ["grad", "burg", "iv", "sk", "ia", "stan", "ovo", "polis"],
    "thing": ["tion", "ment", "ance", "ity", "ure", "ism", "ship", "ness"],
}
ENGLISH = {
    "noun": "ceasefire treaty corridor sanctions pipeline referendum delegation embargo summit "
    "guarantee border withdrawal convoy reactor harbour grain tariff election blockade "
    "memorandum envoy parliament militia airport bridge dam refinery exchange agreement",
    "verb": "sign reject propose delay discuss announce condemn welcome block negotiate suspend "
    "approve criticise postpone demand confirm deny extend review",
    "adjective": "new secret binding interim joint humanitarian northern eastern coastal "
    "temporary partial regional final",
    "role": "foreign minister|defence minister|chief negotiator|spokeswoman|envoy|prime minister|"
    "mayor|governor|ambassador|army chief|central bank governor",
}
QUESTION_TEMPLATES = [
    "What did {person} say about the {noun} in {place}?",
    "Why did {person} {verb} the {adjective} {noun}?",
    "When did {place} {verb} the {noun}?",
    "Who is {person}?",
    "Where did {person} meet the {role} of {place}?",
    "Is the {noun} with {place} still on the table?",
    "How did the {role} of {place} react to the {thing}?",
    "What is the {thing} that {person} mentioned?",
    "Did {place} {verb} the {adjective} {noun} proposed by {person}?",
    "What happens to the {noun} if {place} keeps its {thing}?",
]
ALTERNATE_TEMPLATES = [
    "{person} {noun}",
    "{noun} {place}",
    "{adjective} {noun}",
    "what about the {noun}",
    "{person} on the {thing}",
    "{role} {place} {noun}",
    "did {person} {verb} it",
    "{place} {thing}",
    "{verb} the {noun} in {place}",
    "was the {noun} {verb}ed",
    "{person} and the {adjective} {noun}",
    "{thing} of {place}",
]


def pseudo_word(rng: random.Random, kind: str) -> str:
    stem = "".join(
        rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS) for _ in range(rng.randint(1, 2))
    )
    return stem + rng.choice(ENDINGS[kind])


def synthetic_kb(kb: KnowledgeBase, size: int, seed: int = 20220330) -> tuple[KnowledgeBase, list[str]]:
    """`size` varied entries built from a seeded vocabulary, quoting the real article; plus test questions."""
    rng = random.Random(seed)
    people = sorted({pseudo_word(rng, "person").capitalize() for _ in range(size // 4)})
    places = sorted({pseudo_word(rng, "place").capitalize() for _ in range(size // 6)})
    things = sorted({pseudo_word(rng, "thing") for _ in range(size // 3)})
    english = {k: v.split("|") if "|" in v else v.split() for k, v in ENGLISH.items()}
    real_quotes: list[Quote] = [q for e in kb.entries for q in e.quotes]
    entries: list[Entry] = []
    questions: list[str] = []
    seen_ids: set[str] = set()
    for index in range(size):
        slots = {
            "person": rng.choice(people),
            "place": rng.choice(places),
            "thing": rng.choice(things),
            "noun": rng.choice(english["noun"]),
            "verb": rng.choice(english["verb"]),
            "adjective": rng.choice(english["adjective"]),
            "role": rng.choice(english["role"]),
        }
        templates = rng.sample(QUESTION_TEMPLATES, 2)
        question = templates[0].format(**slots)
        alternates = [t.format(**slots) for t in rng.sample(ALTERNATE_TEMPLATES, 7)]
        alternates.append(templates[1].format(**slots))
        entry_id = f"syn-{index:05d}-{slots['noun']}-{slots['thing']}"[:40].rstrip("-")
        assert entry_id not in seen_ids
        seen_ids.add(entry_id)
        answer = (
            f"{slots['person']}, the {slots['role']} of {slots['place']}, said the {slots['adjective']} "
            f"{slots['noun']} would {slots['verb']} the {slots['thing']}."
        )
        quotes = tuple(rng.sample(real_quotes, rng.randint(1, 2)))
        entries.append(Entry(entry_id, slots["place"], question, tuple(alternates), answer, quotes, (), ()))
        if index % 10 == 0:  # a paraphrase of this entry, sometimes with a typo
            asked = rng.choice([t for t in QUESTION_TEMPLATES if t not in templates]).format(**slots)
            if rng.random() < 0.4:
                words = asked.split()
                position = rng.randrange(len(words))
                word = words[position]
                if len(word) > 5:
                    cut = rng.randrange(1, len(word) - 2)
                    words[position] = word[:cut] + word[cut + 1] + word[cut] + word[cut + 2 :]
                asked = " ".join(words)
            questions.append(asked)
    related = [dataclasses.replace(e, related=(entries[(i + 1) % size].id,)) for i, e in enumerate(entries)]
    return dataclasses.replace(kb, entries=tuple(related)), questions


# -- the benchmark ------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, for a smoke run")
    parser.add_argument("--entries", type=int, default=10_000, help="size of the synthetic knowledge base")
    args = parser.parse_args()
    repeat, repeat_10k, fresh_runs = (3, 1, 2) if args.quick else (20, 3, 5)

    print(f"Python {sys.version.split()[0]} on {sys.platform}; knowledge: {KNOWLEDGE.name}/")
    questions = [q.text for q in load_questions(QUESTIONS)]

    # 1. loading the real knowledge folder
    load_ms = [timed(lambda: Engine.load(KNOWLEDGE))[0] for _ in range(5)]
    engine = Engine.load(KNOWLEDGE)
    print("\nArticle FAQ")
    line(
        "entries / phrasings / questions",
        f"{len(engine.entries)} / {len(engine.matcher.phrases)} / {len(questions)}",
    )
    line(
        "knowledge load (median of 5)",
        f"{statistics.median(load_ms):.1f} ms",
        f"target < {TARGET_LOAD_MS:.0f} ms",
        verdict(statistics.median(load_ms), TARGET_LOAD_MS),
    )

    # 2. per-question latency on the real knowledge
    engine.ask("warm up")
    latencies = ask_latencies(engine, questions, repeat)
    p99 = percentile(latencies, 0.99)
    line(f"ask: mean ({len(latencies)} asks)", f"{statistics.fmean(latencies):.3f} ms")
    line("ask: p50", f"{percentile(latencies, 0.50):.3f} ms")
    line("ask: p99", f"{p99:.3f} ms", f"target < {TARGET_P99_MS:g} ms", verdict(p99, TARGET_P99_MS))
    line("ask: max", f"{max(latencies):.3f} ms")
    cold = Engine.load(KNOWLEDGE)  # nothing cached: every typo correction computed afresh
    cold_ms = [timed(lambda q=q: cold.ask(q))[0] for q in questions]
    line("ask: p99, first time each question", f"{percentile(cold_ms, 0.99):.3f} ms")

    # 3. a synthetic 10,000-entry knowledge base
    print(f"\nSynthetic knowledge base ({args.entries:,} entries)")
    start = time.perf_counter_ns()
    big_kb, big_questions = synthetic_kb(engine.kb, args.entries)
    generate_ms = (time.perf_counter_ns() - start) / 1e6
    start = time.perf_counter_ns()
    big = Engine(big_kb)
    build_ms = (time.perf_counter_ns() - start) / 1e6
    line("generate entries", f"{generate_ms:.0f} ms")
    line("phrasings indexed", f"{len(big.matcher.phrases):,}")
    line("engine build (Engine(kb))", f"{build_ms:.0f} ms")
    asked = big_questions + questions
    big.ask("warm up")
    big_latencies = ask_latencies(big, asked, repeat_10k)
    big_p99 = percentile(big_latencies, 0.99)
    line(f"ask: mean ({len(big_latencies)} asks)", f"{statistics.fmean(big_latencies):.3f} ms")
    line("ask: p50", f"{percentile(big_latencies, 0.50):.3f} ms")
    line(
        "ask: p99",
        f"{big_p99:.3f} ms",
        f"target < {TARGET_P99_10K_MS:g} ms",
        verdict(big_p99, TARGET_P99_10K_MS),
    )
    line("ask: max", f"{max(big_latencies):.3f} ms")
    answered = sum(big.ask(q).outcome is Outcome.ANSWER for q in big_questions)
    line("synthetic paraphrases answered", f"{answered}/{len(big_questions)}")
    del big, big_kb

    # 4. memory
    print("\nMemory")
    gc.collect()
    tracemalloc.start()
    small = Engine.load(KNOWLEDGE)
    for question in questions:
        small.ask(question)
    _, small_peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    big_kb, _ = synthetic_kb(engine.kb, args.entries)
    big = Engine(big_kb)
    _, big_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    line("tracemalloc peak: article FAQ load + asks", f"{small_peak / 2**20:.1f} MiB")
    line(f"tracemalloc peak: {args.entries:,}-entry build", f"{big_peak / 2**20:.1f} MiB")
    del big, big_kb
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    maxrss_mib = (
        maxrss / 2**20 if sys.platform == "darwin" else maxrss / 2**10
    )  # bytes on macOS, KiB on Linux
    line("ru_maxrss of this process", f"{maxrss_mib:.1f} MiB")

    # 5. a fresh process answering one question
    print("\nFresh process")
    env = {k: v for k, v in os.environ.items() if k not in {"KNOWLEDGE_DIR", "TELEGRAM_BOT_TOKEN"}}
    env["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-m", "bot", "ask", FRESH_QUESTION]
    walls = []
    for _ in range(fresh_runs):
        start = time.perf_counter()
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=60, check=False)
        walls.append(time.perf_counter() - start)
        if result.returncode != 0:
            print(result.stderr.decode("utf-8", "replace"), file=sys.stderr)
            return 1
    fresh = statistics.median(walls)
    line(
        f'`python -m bot ask "{FRESH_QUESTION}"`',
        f"{fresh:.2f} s",
        f"target < {TARGET_FRESH_S:g} s",
        verdict(fresh, TARGET_FRESH_S),
    )
    line("  (median of runs; min)", f"{min(walls):.2f} s")
    startup = []
    for _ in range(fresh_runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], env=env, capture_output=True, timeout=60, check=False)
        startup.append(time.perf_counter() - start)
    line("  bare interpreter start (median)", f"{statistics.median(startup):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
