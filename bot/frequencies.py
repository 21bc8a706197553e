"""How common a word is in English, Russian and Ukrainian, from a table shipped with the package.

wordfreq is the source, but reading its three lists takes about 0.7 s, most of a fresh `ask`'s
budget. Matching only needs to know how common a word is above Zipf 3 (rarer words all count as
rare), so `python -m bot.frequencies` writes those words, folded as matching folds them, to
`bot/data/zipf.tsv.gz`; `tests/test_frequencies.py` checks the table against wordfreq.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

from bot.textnorm import fold

TABLE = Path(__file__).resolve().parent / "data" / "zipf.tsv.gz"
LANGUAGES = ("en", "ru", "uk")
FLOOR = 3.0  # words rarer than this are not listed: for matching they are all simply rare


# A listed frequency in tenths ("47") -> its Zipf value, so a section parses without a Python loop.
_TENTHS = {str(tenths): tenths / 10 for tenths in range(100)}


def load_table(path: Path = TABLE, languages: tuple[str, ...] = LANGUAGES) -> dict[str, dict[str, float]]:
    """{lang: {folded word: Zipf frequency}} for words at or above FLOOR (only the languages asked for)."""
    import gzip  # the engine cache's marshal copies spare most processes reading this

    with gzip.open(path, "rt", encoding="utf-8") as stream:
        text = stream.read()
    table: dict[str, dict[str, float]] = {}
    for section in text.split("#")[1:]:  # "#en\nword\t47\n...": a folded word never holds "#"
        lang, _, body = section.partition("\n")
        if lang in languages:
            fields = body.split()  # word, tenths, word, tenths …: folded words hold no whitespace
            table[lang] = dict(zip(fields[::2], map(_TENTHS.__getitem__, fields[1::2]), strict=True))
    return {lang: table.get(lang, {}) for lang in languages}


def build_table(path: Path = TABLE) -> None:
    """Write the table from wordfreq (run after upgrading wordfreq)."""
    import gzip

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
