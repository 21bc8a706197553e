"""Russian and Ukrainian typed in Latin letters, retyped in Cyrillic before the question is analysed.

Two slips are common in chats: the keyboard left on the English layout ("xnj crfpfk gtcrjd" is
"что сказал песков" typed on the same keys), and Latin transliteration on a phone without a
Cyrillic keyboard ("chto skazal peskov", "shcho napysav nikolenko"). Both read to the matcher as
unknown, rare Latin words, so the question is declined. A message is retyped only when its
Latin words are not English but their Cyrillic reading is mostly common Russian or Ukrainian words:

- keyboard layout: the standard ЙЦУКЕН (Russian) and Ukrainian layouts, a fixed table per keyboard;
- transliteration: Russian read with cyrtranslit, and Russian and Ukrainian by reading
  translitua's tables of the usual systems backwards (ICAO and passport spellings for Russian,
  the official KMU 2010 system for Ukrainian, and the simple variants with j, ja, ju).

A Cyrillic word with Latin letters that look like Cyrillic ones inside it ("чернiгiв" with a Latin
i, as on a keyboard without the Ukrainian і) has them read as the Cyrillic letters they look like
(Unicode's confusables, from confusable_homoglyphs).

Of these readings the one that makes most words common Russian or Ukrainian wins.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from functools import cache, lru_cache, partial

from bot.analysis import Analyzer, is_cyrillic, shared_analyzer
from bot.textnorm import fold

# The keys of a US keyboard and what the same keys type on the Russian and Ukrainian layouts.
_QWERTY = "qwertyuiop[]asdfghjkl;'zxcvbnm,.`"
_LAYOUTS = {
    "ru": "йцукенгшщзхъфывапролджэячсмитьбюё",
    "uk": "йцукенгшщзхїфівапролджєячсмитьбю'",
}
_LATIN_WORD = re.compile(r"[a-z]+", re.IGNORECASE)
# Punctuation keys that are letters on a Cyrillic layout count as letters only inside a word.
_LAYOUT_WORD = re.compile(r"[a-z\[\];'`,.]*[a-z][a-z\[\];'`,.]*(?<![,.])", re.IGNORECASE)
MIN_RETYPED_WORDS = 2  # one Latin word alone ("Peskov?") stays as written
COMMON_ZIPF = 3.0  # a Cyrillic reading at least this common in its language is a real word
CHUNK_CACHE = 16384  # chunks of messages remembered as foreign or not (bounded: readers type anything)


# The letters of the Russian and Ukrainian alphabets: a Latin letter is retyped only as one of them.
_RUSSIAN_UKRAINIAN_LETTERS = frozenset("абвгґдеєжзиіїйклмнопрстуфхцчшщьюяыэъё")


def cyrillic_lookalikes() -> dict[int, str]:
    """Each Latin letter that Unicode's confusables list as looking like a Russian or Ukrainian
    letter (i: і, p: р, H: Н...), for str.translate. Made once, when the engine is built (the
    package's table takes about 30 ms to load), and kept with it."""
    from confusable_homoglyphs import confusables

    table: dict[int, str] = {}
    for latin in string.ascii_letters:
        for found in confusables.is_confusable(latin, greedy=True, preferred_aliases=["cyrillic"]) or []:
            for glyph in found["homoglyphs"]:
                if glyph["n"].startswith("CYRILLIC") and glyph["c"].lower() in _RUSSIAN_UKRAINIAN_LETTERS:
                    table.setdefault(ord(latin), glyph["c"])
    return table


def _layout(lang: str) -> Callable[[str], str]:
    table = str.maketrans(_QWERTY, _LAYOUTS[lang])
    return lambda text: _LAYOUT_WORD.sub(lambda m: m.group().lower().translate(table), text)


Spellings = tuple[tuple[str, str], ...]  # (Latin spelling, Cyrillic letter), the order they are tried in


def _spellings(*tables: object) -> Spellings:
    """translitua's Cyrillic -> Latin tables read backwards, longest spelling first; where two
    letters share a spelling, the first table's first letter wins."""
    pairs: dict[str, str] = {}
    for table in tables:
        for part in ("_MAIN_TRANSLIT_TABLE", "_FIRST_CHARACTERS"):
            for letter, latin in getattr(table, part, {}).items():
                if latin.isalpha() and latin.isascii():
                    pairs.setdefault(latin, letter)
    return tuple(sorted(pairs.items(), key=lambda p: -len(p[0])))


def transliteration_tables() -> tuple[Spellings, Spellings]:
    """The Russian and the Ukrainian spellings, read once when the engine is built and kept with it
    (bot.engine_cache): importing translitua costs a fresh process 10 ms, and the first question
    with two words of no language (two typos are enough) would wait for it."""
    import translitua

    return (
        _spellings(translitua.RussianICAO, translitua.RussianSimple, translitua.RussianInternationalPassport1997),
        _spellings(translitua.UkrainianKMU, translitua.UkrainianSimple),
    )


def _inverted(spellings: Spellings) -> Callable[[str], str]:
    """Latin -> Cyrillic: at each place the first spelling (of `spellings`, in order) that the word
    has there, else the letter as it is. One regular expression tries them in that order."""
    letters = dict(spellings)
    pattern = re.compile("|".join([*(re.escape(latin) for latin, _ in spellings), "."]), re.DOTALL)

    def letter(found: re.Match[str]) -> str:
        return letters.get(found.group(), found.group())

    def word(found: re.Match[str]) -> str:
        return pattern.sub(letter, found.group().lower())

    return lambda text: _LATIN_WORD.sub(word, text)


def _readings(tables: tuple[Spellings, Spellings]) -> tuple[tuple[str, Callable[[str], str]], ...]:
    """Every reading of Latin letters as Cyrillic, made when a message first needs them: most
    never do, and a fresh process need not import cyrtranslit."""
    import cyrtranslit  # type: ignore[import-untyped]

    def russian(text: str) -> str:
        return str(cyrtranslit.to_cyrillic(text.lower(), "ru"))

    # Chats spell Ukrainian as Russian is spelt in Latin letters: h for х and g for г ("hto",
    # "hoche", "groshi"), where the official tables have h for г and g for ґ.
    colloquial = tuple((latin, {"h": "х", "g": "г"}.get(latin, letter)) for latin, letter in tables[1])
    return (
        ("ru", _layout("ru")),
        ("uk", _layout("uk")),
        ("ru", russian),
        ("ru", _inverted(tables[0])),
        ("uk", _inverted(tables[1])),
        ("uk", _inverted(colloquial)),
    )


class Retyper:
    """Decides whether a Latin-script question is Russian or Ukrainian, and retypes it if so."""

    def __init__(self, analyzer: Analyzer, known_words: frozenset[str] | set[str]) -> None:
        self.analyzer = analyzer
        # The knowledge base's own words (the matcher's set, shared, not copied): those of them that
        # are not common English are its Latin names and places ("peskov", "NATO"), never retyped.
        self.known_words = known_words
        self.tables = transliteration_tables()
        self.lookalikes = cyrillic_lookalikes()
        self._caches()

    def _caches(self) -> None:
        self._foreign = lru_cache(maxsize=CHUNK_CACHE)(self._foreign_uncached)
        self._readings = cache(partial(_readings, self.tables))

    def __getstate__(self) -> dict[str, object]:
        """Pickled with the engine (bot.engine_cache): the analyser is the process's shared one."""
        return {"known_words": self.known_words, "tables": self.tables, "lookalikes": self.lookalikes}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self.analyzer = shared_analyzer()
        self._caches()

    def prepare(self) -> None:
        """Make the readings now (importing cyrtranslit), not inside the first answer that needs them."""
        self._readings()

    def retype(self, text: str) -> str:
        """The text in Cyrillic when it is Russian or Ukrainian typed in Latin letters, else as it is
        (lowercased when retyped: case means nothing to the matcher)."""
        chunks = text.split()
        if not chunks:
            return text
        if not text.isascii() and any(map(is_cyrillic, chunks)):
            # Cyrillic, or mixed on purpose ("what did lavrov say кратко"); but a word typed with
            # the keyboard left on the English layout stands out ("ghbdtn, что сказал песков"),
            # and so does a Latin look-alike inside a Cyrillic word ("чернiгiв").
            unmixed = [self._unmixed(c) for c in chunks]
            if unmixed != chunks:
                chunks, text = unmixed, " ".join(unmixed)
            return self._layout_slips(chunks) or text
        # chunks only a retyping could count for: neither the knowledge's own nor English
        foreign = sum(map(self._foreign, chunks))
        if foreign < MIN_RETYPED_WORDS:
            return text  # (and the Russian and Ukrainian tables are not needed to know it)
        # What each chunk is in Latin letters does not depend on the reading: judged once. A word
        # the knowledge base uses in Latin letters (a name, "NATO") is neutral (None); else whether
        # all its words are English.
        judged: list[bool | None] = []
        for latin in chunks:
            latin_words = fold(latin).split()
            neutral = not latin_words or any(map(self._known_latin, latin_words))
            judged.append(None if neutral else all(map(self._english, latin_words)))
        best, best_count = text, 0
        for lang, reading in self._readings():
            retyped = [reading(c) for c in chunks]
            # A chunk both readings make common ("pro", "i") is neutral too; the rest decide.
            russian = english = 0
            for is_english, cyrillic in zip(judged, retyped, strict=True):
                if is_english is None:
                    continue
                common = all(self._common(w, lang) for w in fold(cyrillic).split())
                if is_english:
                    english += not common
                else:
                    russian += common
            if russian >= MIN_RETYPED_WORDS and russian > english and russian > best_count:
                best, best_count = " ".join(retyped), russian
        return best

    def _unmixed(self, chunk: str) -> str:
        """A chunk with Cyrillic letters and Latin ones that all look like Cyrillic letters, in
        Cyrillic ("обстрiляли", "Лавpов"); any other chunk as it is."""
        if not is_cyrillic(chunk) or not _LATIN_WORD.search(chunk):
            return chunk
        retyped = chunk.translate(self.lookalikes)
        return chunk if _LATIN_WORD.search(retyped) else retyped

    def _layout_slips(self, chunks: list[str]) -> str | None:
        """A Cyrillic message with words typed on the English layout, those words retyped: a chunk of
        Latin letters that is neither English nor the knowledge's own and that the Russian or the
        Ukrainian layout makes a common word. None when there is none."""
        if not any(_LATIN_WORD.search(c) for c in chunks):
            return None  # (most Cyrillic messages: no Latin letter at all)
        readings = self._readings()[:2]  # the two keyboard layouts
        out, slipped = [], False
        for chunk in chunks:
            retyped = chunk
            if not is_cyrillic(chunk) and self._foreign(chunk):
                for lang, reading in readings:
                    cyrillic = reading(chunk)
                    words = fold(cyrillic).split()
                    if words and all(self._common(w, lang) for w in words):
                        retyped, slipped = cyrillic, True
                        break
            out.append(retyped)
        return " ".join(out) if slipped else None

    def _foreign_uncached(self, latin: str) -> bool:
        """A chunk of the message that is neither the knowledge's own word nor English (remembered:
        most chunks are common words, and folding each one costs more than the rest of the test)."""
        words = fold(latin).split()
        return bool(words) and not any(map(self._known_latin, words)) and not all(map(self._english, words))

    def _known_latin(self, word: str) -> bool:
        return word in self.known_words and not self._english(word)

    def _english(self, word: str) -> bool:
        return self.analyzer.is_common_english(word)

    def _common(self, word: str, lang: str) -> bool:
        return is_cyrillic(word) and self.analyzer.zipf(word, lang) >= COMMON_ZIPF
