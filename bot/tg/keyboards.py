"""Inline keyboards and the callback data behind their buttons (always within 64 bytes)."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.model import Entry

CALLBACK_LIMIT = 64  # bytes, Telegram's limit for callback_data
ANSWER_PREFIX = "a:"  # a:<entry id> -> answer that entry
TOPICS_PREFIX = "t:"  # t:<page>     -> show that page of /topics
TOPICS_PER_PAGE = 8
BUTTON_TEXT_MAX = 60  # long questions are shortened on buttons (the answer shows them whole)


def answer_data(entry_id: str) -> str:
    data = ANSWER_PREFIX + entry_id
    if len(data.encode()) > CALLBACK_LIMIT:
        raise ValueError(f"entry id too long for a button: {entry_id!r}")
    return data


def _label(text: str) -> str:
    return text if len(text) <= BUTTON_TEXT_MAX else text[: BUTTON_TEXT_MAX - 1].rstrip() + "…"


def questions_keyboard(entries: Sequence[Entry]) -> InlineKeyboardMarkup | None:
    """One button per entry, each answering it."""
    if not entries:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(_label(e.question), callback_data=answer_data(e.id))] for e in entries]
    )


def start_keyboard(examples: Sequence[Entry]) -> InlineKeyboardMarkup:
    """Example questions, then a button that opens inline mode in another chat."""
    rows = [[InlineKeyboardButton(_label(e.question), callback_data=answer_data(e.id))] for e in examples]
    rows.append([InlineKeyboardButton("Ask in another chat", switch_inline_query="")])
    rows.append([InlineKeyboardButton("All questions", callback_data=f"{TOPICS_PREFIX}0")])
    return InlineKeyboardMarkup(rows)


def page_count(total: int) -> int:
    return max(1, -(-total // TOPICS_PER_PAGE))


def topics_keyboard(entries: Sequence[Entry], page: int) -> InlineKeyboardMarkup:
    """One page of every question, with previous/next buttons."""
    pages = page_count(len(entries))
    page = min(max(page, 0), pages - 1)
    chunk = entries[page * TOPICS_PER_PAGE : (page + 1) * TOPICS_PER_PAGE]
    rows = [[InlineKeyboardButton(_label(e.question), callback_data=answer_data(e.id))] for e in chunk]
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton("‹ Previous", callback_data=f"{TOPICS_PREFIX}{page - 1}"))
    if page < pages - 1:
        nav.append(InlineKeyboardButton("Next ›", callback_data=f"{TOPICS_PREFIX}{page + 1}"))
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(rows)
