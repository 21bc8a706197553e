"""Per-language word analysis: which language a question is in, and each word's base form.

Readers write English, Russian and Ukrainian. Each language is analysed with a library made for it
instead of hand-written suffix rules and inflection lists:

- English: the Snowball stemmer (PyStemmer), so "negotiations"/"negotiated" meet;
- Russian and Ukrainian: pymorphy3 with its OpenCorpora / Ukrainian dictionaries, which gives
  every dictionary reading of a word ("Пескова" -> "песков", "Києва" -> "київ");
- stopwords: the `stop-words` package's list for each language;
- how common a word is in its language: wordfreq, through the table `bot.frequencies` ships
  (0.1 s to read instead of 0.7 s for wordfreq's own lists), read when the engine is built.

Each language's resources load on first use, and `Analyzer.prepare` loads them up front: the bot
prepares every language when it builds its engine (never inside an answer), a one-off
`python -m bot ask "…"` only the ones its question is written in (see `question_languages`).

Measured (see README, "Matching"): simplemma needs 1.2 s and 240 MB to load en+ru+uk; Snowball
has no Ukrainian; pymorphy3 loads both dictionaries in 80 ms and 60 MB.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from itertools import repeat
from operator import itemgetter
from typing import TYPE_CHECKING

import Stemmer  # type: ignore[import-not-found]
from stop_words import get_stop_words  # type: ignore[import-untyped]

from bot.frequencies import FLOOR, LANGUAGES, load_table

if TYPE_CHECKING:
    import pymorphy3  # type: ignore[import-untyped]

_UKRAINIAN_ONLY = frozenset("іїєґ")
_RUSSIAN_ONLY = frozenset("ыэъё")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[a-z]")


def has_letters(text: str) -> bool:
    """Whether a text has any words to tell its language by ("?" and "" do not)."""
    return any(map(str.isalpha, text))


def detect_language(text: str) -> str:
    """en, ru or uk: the script most letters are in, then the letters only one language has (і ї є ґ
    against ы э ъ ё), then which language's word list finds the words more common (wordfreq)."""
    if text.isascii():  # (most questions) no Cyrillic letter: no need to count them
        return "en"
    lowered = text.casefold()
    cyrillic = len(_CYRILLIC.findall(lowered))
    if cyrillic == 0 or cyrillic < len(_LATIN.findall(lowered)):
        return "en"
    ukrainian = any(ch in _UKRAINIAN_ONLY for ch in lowered)
    russian = any(ch in _RUSSIAN_ONLY for ch in lowered)
    if ukrainian != russian:
        return "uk" if ukrainian else "ru"
    lean = sum(_ukrainian_lean(word) for word in _WORD.findall(lowered))
    return "uk" if lean > 0 else "ru"


_WORD = re.compile(r"[\u0400-\u04ff]+")
COMMON_ENGLISH_ZIPF = 3.0  # "pro", "tam" are English words too; "chto", "skazal", "peskov" are not


_TABLES: dict[str, dict[str, float]] = {}  # the shipped Zipf table, per language, read once per process


def frequencies(lang: str) -> dict[str, float]:
    """One language's part of the shipped Zipf table (read on first use; `Analyzer.prepare` reads it early)."""
    table = _TABLES.get(lang)
    if table is None:
        table = _TABLES[lang] = load_table(languages=(lang,))[lang]
    return table


def install_frequencies(tables: dict[str, dict[str, float]]) -> None:
    """Tables read elsewhere (the engine cache keeps them in a faster format)."""
    _TABLES.update(tables)


def zipf_frequency(word: str, lang: str) -> float:
    """How common a folded word is in a language (Zipf scale; 0 if rarer than the table's floor)."""
    return frequencies(lang).get(word, 0.0)


@lru_cache(maxsize=65536)
def _ukrainian_lean(word: str) -> float:
    """How much more common the word is in Ukrainian than in Russian (Zipf difference)."""
    unlisted = FLOOR - 0.5
    return frequencies("uk").get(word, unlisted) - frequencies("ru").get(word, unlisted)


def question_languages(text: str) -> tuple[str, ...]:
    """The languages whose resources analysing this text may use: English for Latin script alone;
    any Cyrillic letter may be Russian or Ukrainian (and telling them apart reads both tables)."""
    return LANGUAGES if _CYRILLIC.search(text.casefold()) else ("en",)


# From this many Cyrillic words on, the word-frequency lean tells Russian from Ukrainian reliably
# (every ru/uk alternate and curator text of the knowledge agrees); shorter texts may be a bare name.
WORDS_TO_JUDGE = 3


def reads_as_other_language(text: str, lang: str) -> str | None:
    """The language a text listed as ru or uk is plainly written in instead, if any: Latin script,
    letters only the other language has, or, from WORDS_TO_JUDGE words on, the other language's
    words. A bare name ("Мединський") or a single word is none of these."""
    found = detect_language(text)
    lowered = text.casefold()
    if found == "en" or (lang == "ru" and any(ch in _UKRAINIAN_ONLY for ch in lowered)):
        return found if found != lang else None
    if lang == "uk" and any(ch in _RUSSIAN_ONLY for ch in lowered):
        return "ru"
    if found != lang and len(_WORD.findall(lowered)) >= WORDS_TO_JUDGE:
        return found
    return None


def cyrillic_languages(text: str) -> tuple[str, ...]:
    """The languages a Cyrillic text may be written in: one if it has letters only that one has
    (і ї є ґ, or ы э ъ ё), else both; none for a text in Latin letters."""
    lowered = text.casefold()
    if not _CYRILLIC.search(lowered):
        return ()
    if any(ch in _UKRAINIAN_ONLY for ch in lowered):
        return ("uk",)
    if any(ch in _RUSSIAN_ONLY for ch in lowered):
        return ("ru",)
    return ("ru", "uk")


def is_cyrillic(word: str) -> bool:
    """Whether the word has a Cyrillic letter (asked of every word of a question: ASCII first)."""
    return not word.isascii() and bool(_CYRILLIC.search(word))


class Analyzer:
    """Lemmas, stopwords and word frequencies for en, ru and uk, each language loaded by `prepare`
    (or on first use)."""

    def __init__(self, languages: tuple[str, ...] = LANGUAGES) -> None:
        self._english = Stemmer.Stemmer("english")
        self._morph: dict[str, pymorphy3.MorphAnalyzer] = {}
        self.stopwords: dict[str, frozenset[str]] = {}
        self.readings = lru_cache(maxsize=131072)(self._readings)
        self.zipf = lru_cache(maxsize=65536)(self._zipf)
        self.prepare(languages)

    def prepare(self, languages: tuple[str, ...]) -> None:
        """Load each language's dictionaries, stopwords and frequencies now, not inside an answer."""
        for lang in languages:
            self._stopwords(lang)
            frequencies(lang)
            if lang != "en":
                self._morphology(lang)

    def _stopwords(self, lang: str) -> frozenset[str]:
        words = self.stopwords.get(lang)
        if words is None:
            words = self.stopwords[lang] = frozenset(get_stop_words(lang))
        return words

    def _morphology(self, lang: str) -> pymorphy3.MorphAnalyzer:
        morph = self._morph.get(lang)
        if morph is None:
            import pymorphy3  # 30 ms to import: not for a process that reads English only

            morph = self._morph[lang] = pymorphy3.MorphAnalyzer(lang=lang)
        return morph

    def word_language(self, word: str, lang: str) -> str:
        """A Latin word is English whatever the question's language; a Cyrillic one ru or uk."""
        if not is_cyrillic(word):
            return "en"
        if lang != "en":
            return lang
        return detect_language(word)

    def _readings(self, word: str, lang: str, stemmer: Stemmer.Stemmer | None = None) -> tuple[str, ...]:
        """The word's possible base forms, most likely first (one for English)."""
        lang = self.word_language(word, lang)
        if lang == "en":
            return ((stemmer or self._english).stemWord(word),)
        forms: list[str] = []
        try:
            parses = self._morphology(lang).parse(word)
        except (KeyError, ValueError):  # pymorphy3 cannot name some characters mixed into a word
            return (word,)
        for parse in parses:
            form = parse.normal_form.replace("ё", "е")
            if form not in forms:
                forms.append(form)
        return tuple(forms) or (word,)

    def base_forms(self, words: Iterable[str], lang: str) -> tuple[str, ...]:
        """Each word's most likely base form: how a phrase of the knowledge (an opinion phrase, a
        party's name) and a question's words are compared word by word."""
        return tuple(map(itemgetter(0), map(self.readings, words, repeat(lang))))

    def memoized_readings(self) -> Callable[[str, str], tuple[str, ...]]:
        """`readings` with a memo of its own (for a one-off pass over many words, such as an index build)."""
        memo: dict[tuple[str, str], tuple[str, ...]] = {}
        # A stemmer without PyStemmer's own cache (10,000 words, kept by the process: 1.7 MiB after a
        # 10,000-entry build, 4.9 MiB after a 100,000-entry one); the memo is the cache here.
        stemmer = Stemmer.Stemmer("english", 0)

        def readings(word: str, lang: str) -> tuple[str, ...]:
            found = memo.get((word, lang))
            if found is None:
                found = memo[word, lang] = self._readings(word, lang, stemmer)
            return found

        return readings

    def in_dictionary(self, word: str, lang: str) -> bool:
        """A Russian or Ukrainian word the morphological dictionary knows ("буче": a form of "Буча"),
        as more than a distorted spelling of another ("украіна" is tagged Dist: a typo of "україна")."""
        lang = self.word_language(word, lang)
        if lang == "en":
            return False
        morphology = self._morphology(lang)
        return bool(morphology.word_is_known(word)) and any("Dist" not in p.tag for p in morphology.parse(word))

    def may_be_subject(self, word: str, lang: str) -> bool:
        """A Russian or Ukrainian word that can be in the nominative case ("Китай сказал", not
        "о Китае"); an English or unknown word is not judged (False)."""
        lang = self.word_language(word, lang)
        if lang == "en":
            return False
        try:
            return any("nomn" in parse.tag for parse in self._morphology(lang).parse(word))
        except (KeyError, ValueError):
            return False

    def governs_next(self, word: str, lang: str) -> bool:
        """A Russian or Ukrainian preposition or noun ("о", "від", "базу"): the word after it is its
        object or its genitive ("о Китае", "базу НАТО"), not the subject of the sentence."""
        lang = self.word_language(word, lang)
        if lang == "en":
            return False
        try:
            parses = self._morphology(lang).parse(word)
        except (KeyError, ValueError):
            return False
        return bool(parses) and parses[0].tag.POS in ("PREP", "NOUN")

    def is_stopword(self, word: str, lang: str) -> bool:
        """In the language's standard list (a Cyrillic word: the Russian or the Ukrainian one)."""
        if is_cyrillic(word):
            return word in self._stopwords("ru") or word in self._stopwords("uk")
        return word in self._stopwords("en")

    def is_common_english(self, word: str) -> bool:
        """A Latin word common enough in English to be English, not a name or Latin-typed Russian.
        (Its English frequency read straight from the table: asked of every new word of a question.)"""
        return not is_cyrillic(word) and frequencies("en").get(word, 0.0) >= COMMON_ENGLISH_ZIPF

    def _zipf(self, word: str, lang: str) -> float:
        """How common the word is in its language (Zipf scale: 0 unknown, 7 "the")."""
        return zipf_frequency(word, self.word_language(word, lang))


@lru_cache(maxsize=1)
def shared_analyzer() -> Analyzer:
    """One analyzer per process: its dictionaries are read-only and take a while to load (each
    language when first prepared or used)."""
    return Analyzer(languages=())
