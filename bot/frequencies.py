"""How common a word is in English, Russian and Ukrainian, from a table shipped with the package.

wordfreq is the source, but reading its three lists takes about 0.7 s, most of a fresh `ask`'s
budget. Matching only needs to know how common a word is above Zipf 3 (rarer words all count as
rare), so `python -m bot.frequencies` writes those words, folded as matching folds them, to
`bot/data/zipf.tsv.gz`; `tests/test_frequencies.py` checks the table against wordfreq.
"""

from __future__ import annotations

import gzip
import math
import sys
from pathlib import Path

from bot.textnorm import fold

TABLE = Path(__file__).resolve().parent / "data" / "zipf.tsv.gz"
LANGUAGES = ("en", "ru", "uk")
FLOOR = 3.0  # words rarer than this are not listed: for matching they are all simply rare


def load_table(path: Path = TABLE) -> dict[str, dict[str, float]]:
    """{lang: {folded word: Zipf frequency}} for words at or above FLOOR."""
    table: dict[str, dict[str, float]] = {lang: {} for lang in LANGUAGES}
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        current = table["en"]
        for line in lines:
            if line.startswith("#"):
                current = table[line[1:].strip()]
                continue
            word, _, tenths = line.rstrip("\n").partition("\t")
            current[word] = int(tenths) / 10
    return table


def build_table(path: Path = TABLE) -> None:
    """Write the table from wordfreq (run after upgrading wordfreq)."""
    import wordfreq

    with gzip.open(path, "wt", encoding="utf-8", compresslevel=9) as out:
        for lang in LANGUAGES:
            best: dict[str, int] = {}
            for word, frequency in wordfreq.get_frequency_dict(lang).items():
                zipf = round(math.log10(frequency * 1e9), 1)
                folded = fold(word)
                if zipf >= FLOOR and folded and " " not in folded:
                    best[folded] = max(best.get(folded, 0), round(zipf * 10))
            out.write(f"#{lang}\n")
            for word in sorted(best):
                out.write(f"{word}\t{best[word]}\n")


if __name__ == "__main__":
    build_table(Path(sys.argv[1]) if len(sys.argv) > 1 else TABLE)
