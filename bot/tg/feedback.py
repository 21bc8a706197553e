"""The Telegram side of the question log: log each question, 👍/👎, picks, /forget and /stats.

Every hook here only queues work for the question log's thread; none of it can delay or cost a
reply. Readers are identified by keyed hashes (bot.questionlog.privacy), never by their ids.
"""

from __future__ import annotations

import html
import logging
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType

from bot.i18n import N_, N_plural, Texts
from bot.questionlog.store import Forgotten, QuestionRow, Store
from bot.replies import Outcome, Reply
from bot.report import build_report, format_stats
from bot.tg.context import BotContext, Recorder

log = logging.getLogger(__name__)

# What the bot says about the log and feedback (translated where shown: bot/locale).
VOTE_UP_LABEL = "👍"
VOTE_DOWN_LABEL = "👎"
VOTE_THANKS_UP = N_("Thanks! Noted: this answer helped.")
VOTE_THANKS_DOWN = N_("Thanks! Noted: this answer did not help. The curators will look at it.")
FORGET_DONE = N_(
    "Done. I deleted everything I had stored about you: {questions}, {votes} and {picks}. "
    "I never store your Telegram id, username or name."
)
FORGET_QUESTIONS = N_plural("{count} question", "{count} questions")
FORGET_VOTES = N_plural("{count} vote", "{count} votes")
FORGET_PICKS = N_plural("{count} choice", "{count} choices")
FORGET_LANGUAGE = N_("Your language choice is gone too.")
FORGET_NOTHING = N_("I had nothing stored about you. I never store your Telegram id, username or name.")
FORGET_OFF = N_("I keep no question log, so there is nothing stored about you.")
FORGET_FAILED = N_("Sorry, I can’t reach my question log right now, so nothing was deleted. Please try again later.")
STATS_ADMINS_ONLY = N_("Sorry, only the bot’s administrators can see the statistics.")
STATS_OFF = N_("The question log is off (QUESTION_LOG=off), so there are no statistics.")
STATS_FAILED = N_("Sorry, I can’t reach the question log right now.")
STATS_HEALTH = N_("Log: {state}; {written} writes, {failed} lost to database faults, {dropped} dropped (queue full).")
STATS_WRITING = N_("writing")
STATS_FAILING = N_("failing")
STATS_DAYS = 7

VOTE_PREFIX = "v:"  # v:u:<entry id> or v:d:<entry id>
VOTE_PATTERN = r"^v:[ud]:"


__all__ = ["Recorder"]  # app.py builds one; it lives with the rest of the shared state


def recorder(context: BotContext) -> Recorder | None:
    return context.bot_data.question_log


def _reader_id(update_or_message: Message | Update) -> int | None:
    """Who asked: the user, or for anonymous admins and channels the chat they speak as."""
    message = (
        update_or_message if isinstance(update_or_message, Message) else update_or_message.effective_message
    )
    if message is not None and message.sender_chat is not None:
        return message.sender_chat.id
    user = message.from_user if message is not None else None
    if user is None and isinstance(update_or_message, Update):
        user = update_or_message.effective_user
    return user.id if user is not None else None



# -- hooks the handlers call -------------------------------------------------------------------


def with_votes(reply: Reply | None, markup: InlineKeyboardMarkup | None) -> InlineKeyboardMarkup | None:
    """An answer's keyboard with a 👍/👎 row under it (other replies are left as they are)."""
    if reply is None or reply.outcome is not Outcome.ANSWER or reply.entry is None:
        return markup
    row = [
        InlineKeyboardButton(VOTE_UP_LABEL, callback_data=f"{VOTE_PREFIX}u:{reply.entry.id}"),
        InlineKeyboardButton(VOTE_DOWN_LABEL, callback_data=f"{VOTE_PREFIX}d:{reply.entry.id}"),
    ]
    rows = [list(r) for r in markup.inline_keyboard] if markup is not None else []
    return InlineKeyboardMarkup([*rows, row])


def record_question(
    context: BotContext, message: Message, reply: Reply, sent: Message | None
) -> None:
    """Queue one question (private or group) with what the bot replied."""
    rec = recorder(context)
    reader = _reader_id(message)
    if rec is None or reader is None:
        return
    chat_type = "private" if message.chat.type == ChatType.PRIVATE else "group"
    reply_ref = rec.ids.message(sent.chat.id, sent.message_id) if sent is not None else None
    rec.log.add_question(_row(rec.ids.reader(reader), chat_type, reply, reply_ref))


def _row(reader: str, chat_type: str, reply: Reply, reply_ref: str | None) -> QuestionRow:
    return QuestionRow(
        reader=reader,
        chat_type=chat_type,
        lang=reply.lang,
        question=reply.question,
        outcome=str(reply.outcome),
        entry=reply.entry.id if reply.entry is not None else None,
        score=reply.score,
        suggestions=[e.id for e in reply.suggestions],
        reply_ref=reply_ref,
    )


def record_pick(context: BotContext, update: Update, entry_id: str) -> None:
    """A question button was pressed: if it was a "did you mean", it votes for that entry on that wording."""
    rec = recorder(context)
    query = update.callback_query
    if rec is None or query is None or not isinstance(query.message, Message):
        return
    reader = rec.ids.reader(query.from_user.id)
    reply_ref = rec.ids.message(query.message.chat.id, query.message.message_id)
    rec.log.submit(lambda store: store.pick(reader, entry_id, "button", reply_ref=reply_ref))


# -- handlers ------------------------------------------------------------------------------------


async def vote(update: Update, context: BotContext) -> None:
    """👍/👎 under an answer: one vote per reader per answer, a second press changes it."""
    from bot.tg.handlers import STALE_BUTTON, texts_for  # here: handlers imports this module

    query = update.callback_query
    if query is None:
        return
    texts = await texts_for(update, context)
    data = query.data or ""  # PTB hands a press without data to every pattern: check again
    entry_id = data[len(VOTE_PREFIX) + 2 :] if re.match(VOTE_PATTERN, data) else ""
    if not isinstance(query.message, Message) or context.bot_data.engine.kb.entry(entry_id) is None:
        await query.answer(texts._(STALE_BUTTON))
        return
    value = 1 if data.startswith(f"{VOTE_PREFIX}u:") else -1
    rec = recorder(context)
    if rec is not None:
        reader = rec.ids.reader(query.from_user.id)
        reply_ref = rec.ids.message(query.message.chat.id, query.message.message_id)
        rec.log.submit(lambda store: store.vote(reader, reply_ref, entry_id, value))
    await query.answer(texts._(VOTE_THANKS_UP if value > 0 else VOTE_THANKS_DOWN))


async def chosen_inline_result(update: Update, context: BotContext) -> None:
    """An inline result a reader posted: logged as an inline question, and as a pick of that entry."""
    chosen = update.chosen_inline_result
    rec = recorder(context)
    if chosen is None or rec is None:
        return
    engine = context.bot_data.engine
    reply = engine.ask(chosen.query)
    reader = rec.ids.reader(chosen.from_user.id)
    rec.log.add_question(_row(reader, "inline", reply, None))
    if engine.kb.entry(chosen.result_id) is not None and reply.question:
        wording, entry_id = reply.question, chosen.result_id
        rec.log.submit(lambda store: store.pick(reader, entry_id, "inline", question=wording))


async def forget(update: Update, context: BotContext) -> None:
    """/forget: delete every row about the sender, after any of their writes still queued."""
    from bot.tg.handlers import texts_for  # here: handlers imports this module

    message = update.effective_message
    reader = _reader_id(update)
    if message is None or reader is None:
        return
    texts = await texts_for(update, context)  # before the choice is forgotten: the reply speaks it
    context.bot_data.languages.forget(reader)
    rec = recorder(context)
    if rec is None:
        await message.reply_text(texts.h_(FORGET_OFF))
        return
    hashed = rec.ids.reader(reader)
    try:
        removed: Forgotten = await rec.log.call(lambda store: store.forget(hashed))
    except Exception:  # the fault is already logged once by the question log
        await message.reply_text(texts.h_(FORGET_FAILED))
        return
    await message.reply_text(html.escape(forgotten_text(removed, texts)))


def forgotten_text(removed: Forgotten, texts: Texts) -> str:
    """What /forget says it deleted, counted in the reader's language."""
    if not removed.total:
        return texts._(FORGET_NOTHING)
    counts = {
        "questions": texts.n_(FORGET_QUESTIONS, removed.questions),
        "votes": texts.n_(FORGET_VOTES, removed.votes),
        "picks": texts.n_(FORGET_PICKS, removed.picks),
    }
    text = texts._(FORGET_DONE, **counts)
    return f"{text} {texts._(FORGET_LANGUAGE)}" if removed.language else text


async def stats(update: Update, context: BotContext) -> None:
    """/stats: a short report for the administrators (ADMIN_USER_IDS)."""
    from bot.tg.handlers import texts_for  # here: handlers imports this module

    message = update.effective_message
    user = update.effective_user
    if message is None:
        return
    texts = await texts_for(update, context)
    if user is None or user.id not in context.bot_data.admins:
        await message.reply_text(texts.h_(STATS_ADMINS_ONLY))
        return
    rec = recorder(context)
    if rec is None:
        await message.reply_text(texts.h_(STATS_OFF))
        return

    def report(store: Store) -> dict[str, object]:
        return build_report(store, STATS_DAYS)

    try:
        summary = await rec.log.call(report)
    except Exception:
        await message.reply_text(texts.h_(STATS_FAILED))
        return
    health = texts._(
        STATS_HEALTH,
        state=texts._(STATS_WRITING if rec.log.healthy else STATS_FAILING),
        written=rec.log.written,
        failed=rec.log.failed,
        dropped=rec.log.dropped,
    )
    await message.reply_html(html.escape(format_stats(summary, health, texts)))
