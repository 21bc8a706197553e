"""Text normalisation shared by matching and quote checking.

Readers type with any case, accents, quote marks, stray punctuation and invisible characters;
the knowledge base is written one way. Everything that compares text goes through here so both
sides are folded the same way.
"""

from __future__ import annotations

import re
import unicodedata

_QUOTE_MARKS = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u0060": "'",
        "\u00b4": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
    }
)
_APOSTROPHES = "'\u2019\u2018\u02bc"
_POSSESSIVE = re.compile(rf"[{_APOSTROPHES}]s\b")
_NON_WORD = re.compile(r"[^\w]+|_+")
# The same for printable ASCII text, one character at a time (split() then joins the runs): every
# character but a letter or a digit becomes a space.
_ASCII_NON_WORD = str.maketrans({chr(c): " " for c in range(128) if not chr(c).isalnum()})
_CONTROL = re.compile(r"[\u0000-\u001f\u007f-\u009f]")
_ZERO_WIDTH = re.compile(r"[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")


def straighten_quotes(text: str) -> str:
    """Curly and typographic quote marks become ' and " (the only liberty a quote check takes)."""
    return text.translate(_QUOTE_MARKS)


def strip_invisible(text: str) -> str:
    """Drop zero-width and bidi characters (they hide inside words); ANSI escapes and controls become spaces."""
    if text.isprintable():  # (most questions) every character these patterns find is unprintable
        return text
    return _CONTROL.sub(" ", _ANSI.sub(" ", _ZERO_WIDTH.sub("", text)))


def fold(text: str) -> str:
    """Case-, accent-, quote- and punctuation-insensitive form: lowercase words separated by spaces."""
    if text.isascii():  # (most questions) no invisible character, normal form or accent: the same, sooner
        if not text.isprintable():
            text = _CONTROL.sub(" ", _ANSI.sub(" ", text))
        text = text.replace("`", "'")  # the one ASCII quote mark straightened
        if "'" in text:
            text = _POSSESSIVE.sub("", text)
        return " ".join(text.lower().translate(_ASCII_NON_WORD).split())
    text = unicodedata.normalize("NFKC", strip_invisible(text))
    text = _POSSESSIVE.sub("", straighten_quotes(text)).casefold()
    text = unicodedata.normalize("NFC", _drop_accents(unicodedata.normalize("NFKD", text)))
    return " ".join(_NON_WORD.sub(" ", text).split())


# Marks that make a different Cyrillic letter (й, ї, ў), not an accent: kept so lemmatizers see
# the real word. ё is folded to е, as most readers type it.
_CYRILLIC_LETTER_MARKS = {"\u0306": "иуИУ", "\u0308": "іІ"}


def _drop_accents(decomposed: str) -> str:
    out: list[str] = []
    for ch in decomposed:
        if unicodedata.combining(ch):
            if out and out[-1] in _CYRILLIC_LETTER_MARKS.get(ch, ""):
                out.append(ch)
            continue
        out.append(ch)
    return "".join(out)


def words(text: str) -> list[str]:
    """The folded words of a text."""
    return fold(text).split()


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2
