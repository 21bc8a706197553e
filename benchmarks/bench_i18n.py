"""What speaking three languages costs: reading the catalogues and Babel's date data, and rendering.

Run from anywhere:  python benchmarks/bench_i18n.py
Each start-up figure is measured in a fresh interpreter (median of 5), so nothing is already cached.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUNS = 5
START_UP = {
    "import bot.i18n (gettext; Babel's dates load on first use)": "import bot.i18n",
    "+ the en, ru and uk catalogues (.mo)": "from bot.i18n import gettext_for\nfor l in ('en', 'ru', 'uk'): gettext_for(l)",
    "+ a Russian and a Ukrainian date (Babel locale data)": (
        "import datetime\nfrom bot.i18n import gettext_for\n"
        "for l in ('en', 'ru', 'uk'): gettext_for(l).date(datetime.date(2022, 3, 30))"
    ),
}
COMPILE = (
    "import io\nfrom babel.messages.mofile import write_mo\nfrom babel.messages.pofile import read_po\n"
    "for l in ('en', 'ru', 'uk'):\n"
    "    with open(f'bot/locale/{l}/LC_MESSAGES/bot.po', 'rb') as f: write_mo(io.BytesIO(), read_po(f))"
)


def fresh(code: str) -> float:
    """Seconds a fresh interpreter takes to run `code`, minus one that runs nothing."""
    def once(body: str) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", body], cwd=ROOT, check=True)
        return time.perf_counter() - started

    return statistics.median(once(code) for _ in range(RUNS)) - statistics.median(once("pass") for _ in range(RUNS))


def main() -> None:
    print(f"{'start-up, fresh process (median of 5)':<58} {'ms':>7}")
    for label, code in START_UP.items():
        print(f"{label:<58} {fresh(code) * 1000:>7.1f}")
    print(f"{'compiling the three .po at load time instead (not done)':<58} {fresh(COMPILE) * 1000:>7.1f}")

    from bot.engine import Engine
    from bot.render import render_html

    engine = Engine.load(ROOT / "knowledge")
    ids = [e.id for e in engine.entries]
    for lang in ("en", "ru", "uk"):
        replies = [engine.answer_entry(i, lang) for i in ids]
        for reply in replies:  # warm: the first date of a language loads Babel's data (measured above)
            assert reply is not None
            render_html(reply)
        started = time.perf_counter()
        rounds = 20
        for _ in range(rounds):
            for reply in replies:
                assert reply is not None
                render_html(reply)
        per = (time.perf_counter() - started) / (rounds * len(replies))
        print(f"render_html of an answer card in {lang} (mean of {rounds * len(replies)}){'':<13} {per * 1e6:>7.1f} µs")


if __name__ == "__main__":
    main()
