"""The bot's own sentences in the reader's language: gettext catalogues compiled by Babel.

Every sentence lives in ``bot/locale/<lang>/LC_MESSAGES/bot.po`` (English is the message id itself);
the compiled ``bot.mo`` next to it is what runs. ``N_`` (and ``N_plural``) mark a sentence kept in a
constant (it is translated where it is shown); ``Texts`` looks sentences up for one language. See the README
("Languages") for the extract / update / compile commands.
"""

from __future__ import annotations

import datetime as dt
import gettext
import html
from functools import cache
from pathlib import Path
from typing import Any

from bot.frequencies import LANGUAGES

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "bot"
DEFAULT_LANGUAGE = "en"


def N_(message: str) -> str:
    """Marks a sentence for the catalogues where it is defined; `Texts._` translates it where shown."""
    return message


def N_plural(singular: str, plural: str) -> tuple[str, str]:
    """Marks a sentence with a plural form (`Texts.n_` picks the language's form for a count)."""
    return singular, plural


def supported(lang: str | None) -> str:
    """A language the bot speaks: ru and uk as themselves (ru-RU too), anything else English."""
    code = (lang or "").split("-")[0].split("_")[0].casefold()
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


class Texts:
    """The bot's sentences and dates in one language."""

    def __init__(self, lang: str, translations: gettext.NullTranslations) -> None:
        self.lang = lang
        self._translations = translations

    def _(self, message: str, **values: Any) -> str:
        """One sentence, with `{name}` placeholders filled in (after translation)."""
        text = self._translations.gettext(message)
        return text.format(**values) if values else text

    def h_(self, message: str, **markup: Any) -> str:
        """One sentence as Telegram HTML: the sentence escaped, then the given markup filled in."""
        text = html.escape(self._translations.gettext(message), quote=False)
        return text.format(**markup) if markup else text

    def n_(self, forms: tuple[str, str], count: int, **values: Any) -> str:
        """A sentence about `count` things (forms from `N_plural`) in the language's plural form."""
        return self._translations.ngettext(*forms, count).format(count=count, **values)

    def date(self, day: dt.date) -> str:
        """A date as the language writes it ("Wednesday, March 30, 2022", "среда, 30 марта 2022 г.")."""
        return _date(day, self.lang)


def gettext_for(lang: str | None) -> Texts:
    """The sentences of `lang` (any other language code gets English)."""
    return _texts(supported(lang))


def warm(day: dt.date) -> None:
    """Read every catalogue and Babel's date data now, so that no reply waits for them (the bot
    calls this before it serves; one-off commands read only what their answer needs)."""
    for lang in LANGUAGES:
        _texts(lang).date(day)


@cache
def _texts(code: str) -> Texts:
    """One catalogue, read once per process (only the languages the bot speaks reach here)."""
    return Texts(code, gettext.translation(DOMAIN, LOCALE_DIR, languages=[code]))


@cache
def _date(day: dt.date, lang: str) -> str:
    # Babel's dates are imported on first use: an English reply (the article's own date text) never pays.
    from babel.dates import format_date

    return format_date(day, format="full", locale=lang)
