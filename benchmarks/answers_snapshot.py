"""Every answer the engine gives, written to a file, so a change meant to be faster can be shown to
give the same answers: outcome, entry, score, suggestions and the top-10 candidates (score, phrase).

Run from anywhere:  PYTHONHASHSEED=0 python benchmarks/answers_snapshot.py OUT.json [--compare OLD.json]
                                                                      [--sizes 1000,10000]
The questions are every question of tests/questions*.yaml, asked of the real knowledge and of the
synthetic bases of `bench_engine.synthetic_kb` (there together with each base's own paraphrases).
Each base's questions are asked twice in one process, the second time with the word caches warm:
both rounds must agree with the reference. With --compare it prints the first differences and
exits 1 if there are any. Use the same PYTHONHASHSEED for both runs (set ordering can settle ties).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_engine import synthetic_kb  # noqa: E402

from bot.engine import Engine  # noqa: E402
from bot.evaluation import load_questions  # noqa: E402

KNOWLEDGE = ROOT / "knowledge"
TESTS = ROOT / "tests"


def answers(engine: Engine, questions: list[str]) -> list[list[object]]:
    """One row per question: what the reader is told, and the ranking behind it."""
    rows: list[list[object]] = []
    for question in questions:
        reply = engine.ask(question)
        ranked = [[c.entry.id, c.score, c.phrase, c.asks] for c in engine.rank(question, 10)]
        rows.append(
            [
                question,
                str(reply.outcome),
                reply.entry.id if reply.entry else None,
                reply.score,
                [e.id for e in reply.suggestions],
                reply.lang,
                ranked,
            ]
        )
    return rows


def snapshot(sizes: list[int]) -> dict[str, list[list[object]]]:
    questions = [q.text for path in sorted(TESTS.glob("questions*.yaml")) for q in load_questions(path)]
    engine = Engine.load(KNOWLEDGE)
    result = {"knowledge": answers(engine, questions)}
    result["knowledge, warm"] = answers(engine, questions)
    for size in sizes:
        kb, paraphrases = synthetic_kb(engine.kb, size)
        big = Engine(kb)
        asked = paraphrases + questions
        result[f"{size} entries"] = answers(big, asked)
        result[f"{size} entries, warm"] = answers(big, asked)
        print(f"{size:,} entries: {len(asked)} questions", file=sys.stderr)
    return result


def compare(new: dict[str, list[list[object]]], old: dict[str, list[list[object]]]) -> int:
    differences = 0
    for base, rows in old.items():
        theirs = new.get(base)
        if theirs is None or len(theirs) != len(rows):
            print(f"{base}: missing or a different number of questions")
            differences += 1
            continue
        for before, after in zip(rows, theirs, strict=True):
            if before != after:
                differences += 1
                if differences <= 20:
                    print(f"{base}: {before[0]!r}\n  before {before[1:]}\n  after  {after[1:]}")
    total = sum(len(rows) for rows in old.values())
    print(f"{differences} differences in {total} answers")
    return 1 if differences else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, help="where to write this run's answers (JSON)")
    parser.add_argument("--compare", type=Path, help="a snapshot to compare this run's answers with")
    parser.add_argument("--sizes", default="1000,10000", help="synthetic base sizes, comma-separated")
    args = parser.parse_args()
    if os.environ.get("PYTHONHASHSEED") in (None, "random"):
        print("set PYTHONHASHSEED (the same for both runs)", file=sys.stderr)
        return 2
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    result = snapshot(sizes)
    args.out.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    if args.compare:
        return compare(result, json.loads(args.compare.read_text(encoding="utf-8")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
