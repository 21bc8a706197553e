"""The reader's language where a reply has no question to take it from: /start, /help, buttons, inline.

Their /language choice decides, else Telegram's language_code (ru, uk; anything else English).
Choices are kept in memory and in the question log's database, keyed by the reader's keyed hash
(never the id), so they outlive a restart; /forget deletes them. A database fault only means the
language_code decides this time: it never costs a reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import OrderedDict

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError

from bot.frequencies import LANGUAGES
from bot.i18n import N_, gettext_for, supported
from bot.questionlog import Pseudonymizer, QuestionLog

log = logging.getLogger(__name__)

LANGUAGE_PREFIX = "l:"  # l:<lang> -> reply in that language from now on
LANGUAGE_PATTERN = rf"^{LANGUAGE_PREFIX}({'|'.join(LANGUAGES)})$"
READ_SECONDS = 1.0  # a choice not read from the database by then: the language_code decides
REMEMBERED = 100_000  # choices kept in memory (least recently used go first; the database keeps all)
# Each language's own name, the same in every catalogue: a reader must find theirs whatever they read.
NAMES = {"en": "English", "ru": "Русский", "uk": "Українська"}
CHOOSE = N_("Which language should I answer in? A question in another language still gets its own.")
CHOSEN = N_("Done: I will answer in English.")  # each catalogue names its own language


class LanguageChoices:
    """Readers' /language choices: remembered in memory, stored through the question log if there is one."""

    def __init__(self, question_log: QuestionLog | None = None, ids: Pseudonymizer | None = None) -> None:
        self._log = question_log
        # Without a question log the choices live in memory only, still keyed by a hash.
        self._ids = ids or Pseudonymizer(secrets.token_urlsafe(32))
        self._known: OrderedDict[str, str | None] = OrderedDict()  # hash -> choice (None: made none)

    async def get(self, reader: int) -> str | None:
        """The reader's choice, if they made one (read from the database once per process)."""
        hashed = self._ids.reader(reader)
        if hashed in self._known:
            self._known.move_to_end(hashed)
            return self._known[hashed]
        if self._log is None:
            return None
        try:  # shielded: a read given up on must not be cancelled under the writer thread
            choice = await asyncio.wait_for(
                asyncio.shield(self._log.call(lambda store: store.language(hashed))), READ_SECONDS
            )
        except Exception:  # a fault is logged once by the question log; a slow read is simply skipped
            return None
        self._remember(hashed, choice if choice in LANGUAGES else None)
        return self._known[hashed]

    def choose(self, reader: int, lang: str) -> None:
        """Remember a choice now and store it in the background."""
        hashed = self._ids.reader(reader)
        self._remember(hashed, lang)
        if self._log is not None:
            self._log.submit(lambda store: store.set_language(hashed, lang))

    def forget(self, reader: int) -> None:
        """After /forget: the choice is gone from memory too (the database rows go with the rest)."""
        self._known.pop(self._ids.reader(reader), None)

    def _remember(self, hashed: str, lang: str | None) -> None:
        self._known[hashed] = lang
        self._known.move_to_end(hashed)
        while len(self._known) > REMEMBERED:
            self._known.popitem(last=False)


def reader_of(update: Update) -> int | None:
    """Whose language: the button presser or inline querier; in a chat, whom /forget knows them as."""
    if update.callback_query is not None:
        return update.callback_query.from_user.id
    if update.inline_query is not None:
        return update.inline_query.from_user.id
    message = update.effective_message
    if message is not None and message.sender_chat is not None:
        return message.sender_chat.id
    return update.effective_user.id if update.effective_user else None


async def reader_language(update: Update, choices: LanguageChoices) -> str:
    """The reader's /language choice, else their Telegram language_code (ru, uk; others: en)."""
    reader = reader_of(update)
    choice = await choices.get(reader) if reader is not None else None
    if choice:
        return choice
    user = update.effective_user
    return supported(user.language_code if user else None)


def language_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(NAMES[lang], callback_data=f"{LANGUAGE_PREFIX}{lang}") for lang in LANGUAGES]]
    )


def chosen_text(lang: str) -> str:
    return gettext_for(lang).h_(CHOSEN)


def choose_text(lang: str) -> str:
    return gettext_for(lang).h_(CHOOSE)


async def acknowledge(message: Message | None, lang: str) -> None:
    """Confirm a choice in its language, in place of the question (if that message can be edited)."""
    if message is None:
        return
    with contextlib.suppress(TelegramError):  # an old message may no longer be editable: the choice stands
        await message.edit_text(chosen_text(lang))
