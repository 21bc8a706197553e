"""Inline keyboards and the callback data behind their buttons (always within 64 bytes).

A button carries the language of the message it is on (a:ru:<id>), so pressing it answers in the
language its label was written in; data without one (older buttons) gets the reader's language."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.frequencies import LANGUAGES
from bot.i18n import N_, gettext_for
from bot.model import SOURCE_LANGUAGE, Entry

CALLBACK_LIMIT = 64  # bytes, Telegram's limit for callback_data
ANSWER_PREFIX = "a:"  # a:<lang>:<entry id> -> answer that entry in that language
TOPICS_PREFIX = "t:"  # t:<lang>:<page>     -> show that page of /topics
LANG_PART = rf"(?:({'|'.join(LANGUAGES)}):)?"  # the optional language in button data
TOPICS_PER_PAGE = 8
BUTTON_TEXT_MAX = 60  # long questions are shortened on buttons (the answer shows them whole)
ASK_ELSEWHERE = N_("Ask in another chat")
ALL_QUESTIONS = N_("All questions")
PREVIOUS = N_("‹ Previous")
NEXT = N_("Next ›")


def answer_data(entry_id: str, lang: str = SOURCE_LANGUAGE) -> str:
    data = f"{ANSWER_PREFIX}{lang}:{entry_id}"
    if len(data.encode()) > CALLBACK_LIMIT:
        raise ValueError(f"entry id too long for a button: {entry_id!r}")
    return data


def topics_data(page: int, lang: str = SOURCE_LANGUAGE) -> str:
    return f"{TOPICS_PREFIX}{lang}:{page}"


def _label(text: str) -> str:
    return text if len(text) <= BUTTON_TEXT_MAX else text[: BUTTON_TEXT_MAX - 1].rstrip() + "…"


def _question_button(entry: Entry, lang: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(_label(entry.tr("question", lang)), callback_data=answer_data(entry.id, lang))


def questions_keyboard(entries: Sequence[Entry], lang: str = SOURCE_LANGUAGE) -> InlineKeyboardMarkup | None:
    """One button per entry, each answering it."""
    if not entries:
        return None
    return InlineKeyboardMarkup([[_question_button(e, lang)] for e in entries])


def start_keyboard(examples: Sequence[Entry], lang: str = SOURCE_LANGUAGE) -> InlineKeyboardMarkup:
    """Example questions, then a button that opens inline mode in another chat."""
    texts = gettext_for(lang)
    rows = [[_question_button(e, lang)] for e in examples]
    rows.append([InlineKeyboardButton(texts._(ASK_ELSEWHERE), switch_inline_query="")])
    rows.append([InlineKeyboardButton(texts._(ALL_QUESTIONS), callback_data=topics_data(0, lang))])
    return InlineKeyboardMarkup(rows)


def page_count(total: int) -> int:
    return max(1, -(-total // TOPICS_PER_PAGE))


def topics_keyboard(entries: Sequence[Entry], page: int, lang: str = SOURCE_LANGUAGE) -> InlineKeyboardMarkup:
    """One page of every question, with previous/next buttons."""
    texts = gettext_for(lang)
    pages = page_count(len(entries))
    page = min(max(page, 0), pages - 1)
    chunk = entries[page * TOPICS_PER_PAGE : (page + 1) * TOPICS_PER_PAGE]
    rows = [[_question_button(e, lang)] for e in chunk]
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton(texts._(PREVIOUS), callback_data=topics_data(page - 1, lang)))
    if page < pages - 1:
        nav.append(InlineKeyboardButton(texts._(NEXT), callback_data=topics_data(page + 1, lang)))
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(rows)
