"""Update handlers: each turns one kind of update into an engine call and a Telegram reply."""

from __future__ import annotations

import asyncio
import html
import logging
import re

from telegram import (
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatType
from telegram.error import RetryAfter, TelegramError
from telegram.ext import ApplicationHandlerStop, ExtBot

from bot.engine import SUGGEST_THRESHOLD, Engine, EngineHolder
from bot.loader import KnowledgeError
from bot.render import render_html, source_line
from bot.replies import Outcome, Reply
from bot.tg import feedback, keyboards
from bot.tg.context import BotContext
from bot.tg.flood import Verdict
from bot.tg.matching import inline_match, sender_of
from bot.tg.ratelimit import ReplyDropped

log = logging.getLogger(__name__)

INLINE_MAX_RESULTS = 10
INLINE_PAGE = 10
INLINE_CACHE_SECONDS = 300
INLINE_DESCRIPTION_MAX = 150
FLOOD_NOTICE = "You’re sending questions faster than anyone can read the answers. Please wait a minute."
NOT_TEXT_HINT = (
    "I only read text. Type a question about the article, or send /topics to see what I can answer."
)
STALE_BUTTON = "That button no longer works. Send /topics for the current questions."


def engine_of(context: BotContext) -> Engine:
    """The engine serving right now; a handler takes it once, so a reload never mixes versions."""
    return context.bot_data.engine


def message_of(update: Update) -> Message:
    """The update's message; the handler's filters guarantee there is one."""
    message = update.effective_message
    if message is None:
        raise ValueError(f"update {update.update_id} has no message")
    return message


def _sender_key(update: Update) -> int:
    # Anonymous admins and channels all appear as one shared bot user: count them by their chat.
    if update.effective_message and update.effective_message.sender_chat:
        return update.effective_message.sender_chat.id
    if update.effective_user:
        return update.effective_user.id
    return update.effective_chat.id if update.effective_chat else 0


def _is_for_this_bot(update: Update, bot: ExtBot[None]) -> bool:
    """Whether the bot acts on this update at all (group chatter and its own inline echoes: no)."""
    message = update.message
    if message is None:
        return update.inline_query is not None or update.callback_query is not None
    if _from_this_bot_inline(message, bot.id):
        return False
    if message.chat.type == ChatType.PRIVATE:
        return True
    if (message.text or "").startswith("/"):
        return True
    return addressed_question(message, bot.id, bot.username) is not None


async def flood_control(update: Update, context: BotContext) -> None:
    """Group -1, before every other handler: over the limit, the update stops here.

    The sender is told once per burst (an alert on a button, a message in a chat, an empty inline
    answer); further updates in the burst get only the acknowledgement Telegram needs (a button
    press; an inline query is left to expire, so a flood of them costs no request each)."""
    if not _is_for_this_bot(update, context.bot):
        return
    verdict = context.bot_data.flood.check(_sender_key(update))
    if verdict is Verdict.ALLOW:
        return
    if verdict is Verdict.WARN:
        log.info("Flood control engaged for update %s", update.update_id)
    warn = verdict is Verdict.WARN
    if update.callback_query:
        await update.callback_query.answer(FLOOD_NOTICE if warn else None, show_alert=warn)
    elif update.inline_query and warn:  # later ones stay unanswered: one HTTP call less each
        await update.inline_query.answer([], cache_time=0, is_personal=True)
    elif warn and update.effective_message:
        await send(update.effective_message, html.escape(FLOOD_NOTICE))
    raise ApplicationHandlerStop


async def send(
    message: Message, text: str, reply: Reply | None = None, markup: InlineKeyboardMarkup | None = None
) -> Message:
    """Answer a message: in groups as a reply to it, in private as a plain message."""
    if markup is None and reply is not None:
        markup = keyboards.questions_keyboard(reply.suggestions)  # follow-ups or "did you mean"
    markup = feedback.with_votes(reply, markup)
    in_group = message.chat.type != ChatType.PRIVATE
    return await message.reply_html(
        text,
        reply_markup=markup,
        do_quote=message.build_reply_arguments(allow_sending_without_reply=True) if in_group else False,
    )


async def answer_question(message: Message, question: str, context: BotContext) -> None:
    engine = engine_of(context)
    reply = await context.bot_data.matching.run(sender_of(message), lambda: engine.ask(question))
    sent: Message | None = None
    try:
        sent = await send(message, render_html(reply), reply)
    finally:  # logged whether or not Telegram took the reply
        feedback.record_question(context, message, reply, sent)


# -- commands ---------------------------------------------------------------------------------


async def start(update: Update, context: BotContext) -> None:
    """Welcome, or the entry a deep link (t.me/<bot>?start=<entry-id>) points to."""
    message = message_of(update)
    engine = engine_of(context)
    if context.args:
        reply = engine.answer_entry(context.args[0])
        if reply is not None:
            await send(message, render_html(reply), reply)
            return
    article = engine.kb.article
    text = (
        "Hello! I answer questions about one news story, with the story’s own words: "
        f"<b>{html.escape(article.title)}</b> ({html.escape(article.outlet)}, "
        f"{html.escape(article.published_text)}).\n\n"
        "Ask me anything about it, for example “What did Peskov say about a breakthrough?”. "
        "Every answer quotes the article and says who said it.\n\n"
        "Try one of these, or send /topics to see everything I can answer:"
    )
    await send(message, text, markup=keyboards.start_keyboard(engine.examples()))


async def topics(update: Update, context: BotContext) -> None:
    entries = engine_of(context).entries
    text = f"I can answer {len(entries)} questions about the article. Pick one:"
    await send(message_of(update), text, markup=keyboards.topics_keyboard(entries, 0))


async def source(update: Update, context: BotContext) -> None:
    article = engine_of(context).kb.article
    text = (
        f"<b>{html.escape(article.title)}</b>\n{html.escape(article.outlet)}, "
        f"{html.escape(article.published_text)}\n\n"
        f"The story covers {html.escape(article.summary)}.\n\n"
        "Every quote I give is the article’s exact words, with the speaker the article names."
    )
    await send(message_of(update), text)


async def ask(update: Update, context: BotContext) -> None:
    """/ask <question>, in private chats and groups."""
    message = message_of(update)
    question = " ".join(context.args or [])
    await answer_question(message, question, context)


async def reload_knowledge(update: Update, context: BotContext) -> None:
    """/reload: admins only; the old knowledge keeps serving if the new one is broken."""
    message = message_of(update)
    user = update.effective_user
    if user is None or user.id not in context.bot_data.admins:
        await send(message, "Sorry, only the bot’s administrators can reload its knowledge.")
        return
    _, detail = await reload_engine(context.bot_data.holder)
    await send(message, html.escape(detail[:3500]))


async def reload_engine(holder: EngineHolder) -> tuple[bool, str]:
    """Reload from disk off the event loop; report what happened in one sentence or list."""
    try:
        engine = await asyncio.to_thread(holder.reload)
    except KnowledgeError as exc:
        log.error("Reload refused, still serving the previous knowledge:\n%s", exc)
        problems = "\n".join(f"• {p}" for p in exc.problems[:20])
        return False, f"Reload failed; still serving the previous knowledge.\n{problems}"
    log.info("Knowledge reloaded: %d entries", len(engine.entries))
    return True, f"Reloaded: {len(engine.entries)} entries."


# -- messages ---------------------------------------------------------------------------------


def _from_this_bot_inline(message: Message, bot_id: int) -> bool:
    return message.via_bot is not None and message.via_bot.id == bot_id


async def private_text(update: Update, context: BotContext) -> None:
    message = message_of(update)
    if _from_this_bot_inline(message, context.bot.id):
        return
    await answer_question(message, message.text or "", context)


def addressed_question(message: Message, bot_id: int, username: str) -> str | None:
    """The question if a group message is meant for the bot (mention or reply), else None."""
    if _from_this_bot_inline(message, bot_id):
        return None
    text = message.text or ""
    mention = f"@{username}".casefold()
    addressed = False
    cuts = []
    for entity in message.entities:
        if entity.type == MessageEntity.MENTION and message.parse_entity(entity).casefold() == mention:
            addressed = True
            cuts.append(entity)
        elif entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id:
            addressed = True
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        addressed = True
    if not addressed:
        return None
    for entity in sorted(cuts, key=lambda e: e.offset, reverse=True):
        utf16 = text.encode("utf-16-le")
        text = (utf16[: entity.offset * 2] + utf16[(entity.offset + entity.length) * 2 :]).decode("utf-16-le")
    return text.strip(" ,:")


async def group_text(update: Update, context: BotContext) -> None:
    """Group chatter is ignored unless it mentions the bot or replies to it."""
    message = message_of(update)
    question = addressed_question(message, context.bot.id, context.bot.username)
    if question is None:
        return
    await answer_question(message, question, context)


async def private_non_text(update: Update, context: BotContext) -> None:
    await send(message_of(update), html.escape(NOT_TEXT_HINT))


# -- buttons ----------------------------------------------------------------------------------


ANSWER_PATTERN = rf"^{keyboards.ANSWER_PREFIX}(.+)$"  # a:<entry id>
TOPICS_PATTERN = rf"^{keyboards.TOPICS_PREFIX}([0-9]+)$"  # t:<page>


def _pressed(update: Update, context: BotContext) -> tuple[str | None, Message | None]:
    """The value the button's pattern captured, and the message the button is on (if still known).

    python-telegram-bot lets a press without data through every CallbackQueryHandler, pattern or
    not; then there is no match and the value is None."""
    query = update.callback_query
    assert query is not None
    message = query.message if isinstance(query.message, Message) else None
    match = context.matches[0] if context.matches else None
    return (match.group(1) if isinstance(match, re.Match) else None), message


async def answer_button(update: Update, context: BotContext) -> None:
    """A question button: the entry's answer card, sent to the chat the button is in."""
    query = update.callback_query
    assert query is not None
    entry_id, message = _pressed(update, context)
    reply = engine_of(context).answer_entry(entry_id) if entry_id is not None else None
    if reply is None or message is None:
        await query.answer(STALE_BUTTON)
        return
    await query.answer()
    assert entry_id is not None
    feedback.record_pick(context, update, entry_id)
    await message.reply_html(  # not chat.send_message: a reply stays in the button's forum topic
        render_html(reply),
        reply_markup=feedback.with_votes(reply, keyboards.questions_keyboard(reply.suggestions)),
        do_quote=False,
    )


async def topics_page_button(update: Update, context: BotContext) -> None:
    """‹ Previous / Next › under /topics: the keyboard is edited in place."""
    query = update.callback_query
    assert query is not None
    page, message = _pressed(update, context)
    entries = engine_of(context).entries
    if message is None or page is None or int(page) >= keyboards.page_count(len(entries)):
        await query.answer(STALE_BUTTON)
        return
    await query.answer()
    await query.edit_message_reply_markup(keyboards.topics_keyboard(entries, int(page)))


async def stale_button(update: Update, context: BotContext) -> None:
    """Any other button data (forged, or from an older version): a polite acknowledgement."""
    assert update.callback_query is not None
    await update.callback_query.answer(STALE_BUTTON)


# -- inline mode ------------------------------------------------------------------------------


def _article_result(engine: Engine, entry_id: str) -> InlineQueryResultArticle:
    reply = engine.answer_entry(entry_id)
    assert reply is not None and reply.entry is not None
    description = reply.entry.answer
    if len(description) > INLINE_DESCRIPTION_MAX:
        description = description[: INLINE_DESCRIPTION_MAX - 1].rstrip() + "…"
    return InlineQueryResultArticle(
        id=entry_id,
        title=reply.entry.question,
        description=description,
        input_message_content=InputTextMessageContent(render_html(reply)),
    )


def _not_covered_result(engine: Engine) -> InlineQueryResultArticle:
    article = engine.kb.article
    text = (
        "The article doesn’t cover that. It is about "
        f"{html.escape(article.summary)}.\n\n<i>{html.escape(source_line(article))}</i>"
    )
    return InlineQueryResultArticle(
        id="not-covered",
        title="The article doesn’t cover this",
        description="Try other words, or ask the bot in a private chat",
        input_message_content=InputTextMessageContent(text),
    )


async def inline_query(update: Update, context: BotContext) -> None:
    """@bot question: ranked answers; empty query: every question, page by page."""
    query = update.inline_query
    assert query is not None
    engine = engine_of(context)
    text = query.query.strip()
    if not text:
        start = int(query.offset) if query.offset.isdecimal() else 0
        chunk = engine.entries[start : start + INLINE_PAGE]
        more = start + INLINE_PAGE < len(engine.entries)
        await query.answer(
            [_article_result(engine, e.id) for e in chunk],
            cache_time=INLINE_CACHE_SECONDS,
            next_offset=str(start + INLINE_PAGE) if more else None,  # PTB 22 Defaults send "" as "[]"
        )
        return
    matching = context.bot_data.matching
    reply, ranked = await inline_match(matching, query.from_user.id, engine, text, INLINE_MAX_RESULTS)
    ids: list[str] = []
    if reply.outcome is Outcome.ANSWER and reply.entry:
        ids.append(reply.entry.id)
    if reply.outcome is not Outcome.DECLINE:
        for candidate in ranked:
            if candidate.score >= SUGGEST_THRESHOLD and candidate.entry.id not in ids:
                ids.append(candidate.entry.id)
    results = [_article_result(engine, i) for i in ids[:INLINE_MAX_RESULTS]]
    button = None
    if not results:
        results = [_not_covered_result(engine)]
        button = InlineQueryResultsButton(text="Not covered. Ask me privately", start_parameter="inline")
    await query.answer(results, cache_time=INLINE_CACHE_SECONDS, button=button)


# -- errors -----------------------------------------------------------------------------------


async def on_error(update: object, context: BotContext) -> None:
    """Log once, with the update id and never the token (log records are redacted); keep serving."""
    update_id = update.update_id if isinstance(update, Update) else None
    error = context.error
    if isinstance(error, RetryAfter):
        # The rate limiter has already logged the 429 that outlasted its retries: say it once.
        log.debug("Update %s dropped after rate-limit retries", update_id)
    elif isinstance(error, ReplyDropped):  # shutting down: counted in the shutdown log line
        log.debug("Update %s: reply dropped at shutdown (%s)", update_id, error)
    elif isinstance(error, TelegramError) and update_id is None:  # from polling, not from a handler
        log.warning("Telegram error while fetching updates: %s: %s", type(error).__name__, error)
    elif isinstance(error, TelegramError):
        log.warning("Telegram error on update %s: %s: %s", update_id, type(error).__name__, error)
    else:
        log.error("Update %s failed", update_id, exc_info=error)
