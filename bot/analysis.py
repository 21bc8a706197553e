"""Per-language word analysis: which language a question is in, and each word's base form.

Readers write English, Russian and Ukrainian. Each language is analysed with a library made for it
instead of hand-written suffix rules and inflection lists:

- English: the Snowball stemmer (PyStemmer), so "negotiations"/"negotiated" meet;
- Russian and Ukrainian: pymorphy3 with its OpenCorpora / Ukrainian dictionaries, which gives
  every dictionary reading of a word ("Пескова" -> "песков", "Києва" -> "київ");
- stopwords: the `stop-words` package's list for each language;
- how common a word is in its language: wordfreq, through the table `bot.frequencies` ships
  (0.1 s to read instead of 0.7 s for wordfreq's own lists), read when the engine is built.

Measured (see README, "Matching"): simplemma needs 1.2 s and 240 MB to load en+ru+uk; Snowball
has no Ukrainian; pymorphy3 loads both dictionaries in 80 ms and 60 MB.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pymorphy3  # type: ignore[import-untyped]
import Stemmer  # type: ignore[import-not-found]
from stop_words import get_stop_words  # type: ignore[import-untyped]

from bot.frequencies import FLOOR, LANGUAGES, load_table

_UKRAINIAN_ONLY = frozenset("іїєґ")
_RUSSIAN_ONLY = frozenset("ыэъё")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[a-z]")


def detect_language(text: str) -> str:
    """en, ru or uk: the script most letters are in, then the letters only one language has (і ї є ґ
    against ы э ъ ё), then which language's word list finds the words more common (wordfreq)."""
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


@lru_cache(maxsize=1)
def frequencies() -> dict[str, dict[str, float]]:
    """The shipped Zipf table, read once per process."""
    return load_table()


def zipf_frequency(word: str, lang: str) -> float:
    """How common a folded word is in a language (Zipf scale; 0 if rarer than the table's floor)."""
    return frequencies()[lang].get(word, 0.0)


@lru_cache(maxsize=65536)
def _ukrainian_lean(word: str) -> float:
    """How much more common the word is in Ukrainian than in Russian (Zipf difference)."""
    table = frequencies()
    unlisted = FLOOR - 0.5
    return table["uk"].get(word, unlisted) - table["ru"].get(word, unlisted)


def reads_as_other_language(text: str, lang: str) -> str | None:
    """The language a phrasing listed as ru or uk is plainly written in instead, if any: Latin
    script, or letters only the other language has. A bare name ("Мединський") is neither."""
    found = detect_language(text)
    lowered = text.casefold()
    if found == "en" or (lang == "ru" and any(ch in _UKRAINIAN_ONLY for ch in lowered)):
        return found if found != lang else None
    if lang == "uk" and any(ch in _RUSSIAN_ONLY for ch in lowered):
        return "ru"
    return None


def is_cyrillic(word: str) -> bool:
    return bool(_CYRILLIC.search(word))


class Analyzer:
    """Lemmas, stopwords and word frequencies for en, ru and uk; everything loaded up front."""

    def __init__(self) -> None:
        self._english = Stemmer.Stemmer("english")
        self._morph = {lang: pymorphy3.MorphAnalyzer(lang=lang) for lang in ("ru", "uk")}
        self.stopwords = {lang: frozenset(get_stop_words(lang)) for lang in LANGUAGES}
        frequencies()  # read now, not inside the first answer
        self.readings = lru_cache(maxsize=131072)(self._readings)
        self.zipf = lru_cache(maxsize=65536)(self._zipf)

    def word_language(self, word: str, lang: str) -> str:
        """A Latin word is English whatever the question's language; a Cyrillic one ru or uk."""
        if not is_cyrillic(word):
            return "en"
        if lang != "en":
            return lang
        return detect_language(word)

    def _readings(self, word: str, lang: str) -> tuple[str, ...]:
        """The word's possible base forms, most likely first (one for English)."""
        lang = self.word_language(word, lang)
        if lang == "en":
            return (self._english.stemWord(word),)
        forms: list[str] = []
        try:
            parses = self._morph[lang].parse(word)
        except (KeyError, ValueError):  # pymorphy3 cannot name some characters mixed into a word
            return (word,)
        for parse in parses:
            form = parse.normal_form.replace("ё", "е")
            if form not in forms:
                forms.append(form)
        return tuple(forms) or (word,)

    def in_dictionary(self, word: str, lang: str) -> bool:
        """A Russian or Ukrainian word the morphological dictionary knows ("буче": a form of "Буча")."""
        lang = self.word_language(word, lang)
        return lang != "en" and bool(self._morph[lang].word_is_known(word))

    def is_stopword(self, word: str, lang: str) -> bool:
        """In the language's standard list (a Cyrillic word: the Russian or the Ukrainian one)."""
        if is_cyrillic(word):
            return word in self.stopwords["ru"] or word in self.stopwords["uk"]
        return word in self.stopwords["en"]

    def is_common_english(self, word: str) -> bool:
        """A Latin word common enough in English to be English, not a name or Latin-typed Russian."""
        return not is_cyrillic(word) and self.zipf(word, "en") >= COMMON_ENGLISH_ZIPF

    def _zipf(self, word: str, lang: str) -> float:
        """How common the word is in its language (Zipf scale: 0 unknown, 7 "the")."""
        return zipf_frequency(word, self.word_language(word, lang))


@lru_cache(maxsize=1)
def shared_analyzer() -> Analyzer:
    """One analyzer per process: its dictionaries are read-only and take a while to load."""
    return Analyzer()
