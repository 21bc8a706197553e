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

from bot.analysis import has_letters
from bot.completeness import ReloadRefused
from bot.engine import SUGGEST_THRESHOLD, Engine, EngineHolder
from bot.i18n import N_, N_plural, Texts, gettext_for
from bot.loader import KnowledgeError, KnowledgeUnreadable
from bot.model import SOURCE_LANGUAGE
from bot.render import article_date, esc, render_html, source_line
from bot.replies import Outcome, Reply
from bot.tg import feedback, keyboards, language
from bot.tg.context import BotContext
from bot.tg.flood import Verdict
from bot.tg.matching import inline_match, sender_of
from bot.tg.ratelimit import ReplyDropped

log = logging.getLogger(__name__)

RELOAD_FORCE_ARGUMENT = "force"  # /reload force: the word an admin types, never translated

INLINE_MAX_RESULTS = 10
INLINE_PAGE = 10
INLINE_CACHE_SECONDS = 300
INLINE_DESCRIPTION_MAX = 150
# The bot's sentences (translated where shown: bot/locale).
FLOOD_NOTICE = N_("You’re sending questions faster than anyone can read the answers. Please wait a minute.")
NOT_TEXT_HINT = N_("I only read text. Type a question about the article, or send /topics to see what I can answer.")
STALE_BUTTON = N_("That button no longer works. Send /topics for the current questions.")
WELCOME = N_("Hello! I answer questions about one news story, with the story’s own words: {title} ({outlet}, {date}).")
WELCOME_EXAMPLE = N_(
    "Ask me anything about it, for example “What did Peskov say about a breakthrough?”. "
    "Every answer quotes the article and says who said it."
)
WELCOME_TRY = N_("Try one of these, or send /topics to see everything I can answer:")
TOPICS = N_plural(
    "I can answer {count} question about the article. Pick one:",
    "I can answer {count} questions about the article. Pick one:",
)
SOURCE_COVERS = N_("The story covers {summary}.")
SOURCE_QUOTES = N_("Every quote I give is the article’s exact words, with the speaker the article names.")
SOURCE_TRANSLATIONS = N_("Quotes stay in the article’s English; beneath each, a translation, labelled as one.")
RELOAD_ADMINS_ONLY = N_("Sorry, only the bot’s administrators can reload its knowledge.")
RELOAD_FAILED = N_("Reload failed; still serving the previous knowledge.")
RELOADED = N_plural("Reloaded: {count} entry.", "Reloaded: {count} entries.")
RELOADED_FORCED = N_plural("Reloaded (forced): {count} entry.", "Reloaded (forced): {count} entries.")
RELOAD_REFUSED_SMALLER = N_(
    "Reload refused; still serving the previous knowledge. The new files lose {losses}: more than "
    "the {limit} allowed (RELOAD_MAX_LOSS). A file may be half-written; check it, or send "
    "/reload force if the loss is intended."
)
RELOAD_UNREADABLE = N_("Reload failed: cannot read the knowledge folder ({problem}); still serving the previous knowledge.")
RELOAD_LOSS = N_("{lost} of {before} {what} ({share})")  # one item of {losses} above
RELOAD_LOSS_WHAT = {"entries": N_("entries"), "phrasings": N_("phrasings"), "quotes": N_("quotes")}
INLINE_NOT_COVERED = N_("The article doesn’t cover that. It is about {summary}.")
INLINE_NOT_COVERED_TITLE = N_("The article doesn’t cover this")
INLINE_NOT_COVERED_HINT = N_("Try other words, or ask the bot in a private chat")
INLINE_ASK_PRIVATELY = N_("Not covered. Ask me privately")


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
    texts = await texts_for(update, context) if warn else gettext_for(None)
    if update.callback_query:
        await update.callback_query.answer(texts._(FLOOD_NOTICE) if warn else None, show_alert=warn)
    elif update.inline_query and warn:  # later ones stay unanswered: one HTTP call less each
        await update.inline_query.answer([], cache_time=0, is_personal=True)
    elif warn and update.effective_message:
        await send(update.effective_message, texts.h_(FLOOD_NOTICE))
    raise ApplicationHandlerStop


async def texts_for(update: Update, context: BotContext) -> Texts:
    """The sentences for a reply without a question to take its language from."""
    return gettext_for(await language.reader_language(update, context.bot_data.languages))


async def send(
    message: Message, text: str, reply: Reply | None = None, markup: InlineKeyboardMarkup | None = None
) -> Message:
    """Answer a message: in groups as a reply to it, in private as a plain message."""
    if markup is None and reply is not None:
        markup = keyboards.questions_keyboard(reply.suggestions, reply.lang)  # follow-ups or "did you mean"
    markup = feedback.with_votes(reply, markup)
    in_group = message.chat.type != ChatType.PRIVATE
    return await message.reply_html(
        text,
        reply_markup=markup,
        do_quote=message.build_reply_arguments(allow_sending_without_reply=True) if in_group else False,
    )


async def answer_question(update: Update, message: Message, question: str, context: BotContext) -> None:
    """The question's own language decides the reply's; one without words gets the reader's."""
    fallback = "en" if has_letters(question) else (await texts_for(update, context)).lang
    engine = engine_of(context)
    reply = await context.bot_data.matching.run(sender_of(message), lambda: engine.ask(question, fallback=fallback))
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
    texts = await texts_for(update, context)
    if context.args:
        reply = engine.answer_entry(context.args[0], texts.lang)
        if reply is not None:
            await send(message, render_html(reply), reply)
            return
    article = engine.kb.article
    welcome = texts.h_(
        WELCOME,
        title=f"<b>{esc(article.tr('title', texts.lang))}</b>",
        outlet=esc(article.outlet),
        date=esc(article_date(article, texts)),
    )
    text = f"{welcome}\n\n{texts.h_(WELCOME_EXAMPLE)}\n\n{texts.h_(WELCOME_TRY)}"
    await send(message, text, markup=keyboards.start_keyboard(engine.examples(), texts.lang))


async def topics(update: Update, context: BotContext) -> None:
    entries = engine_of(context).entries
    texts = await texts_for(update, context)
    text = esc(texts.n_(TOPICS, len(entries)))
    await send(message_of(update), text, markup=keyboards.topics_keyboard(entries, 0, texts.lang))


async def source(update: Update, context: BotContext) -> None:
    """The article as cited: its own English headline (with the curator's translation beneath)."""
    article = engine_of(context).kb.article
    texts = await texts_for(update, context)
    lang = texts.lang
    title = f"<b>{esc(article.title)}</b>"
    quotes = texts.h_(SOURCE_QUOTES)
    if lang != SOURCE_LANGUAGE:
        quotes += " " + texts.h_(SOURCE_TRANSLATIONS)
        if article.tr("title", lang) != article.title:
            title += f"\n<i>{esc(article.tr('title', lang))}</i>"
    text = (
        f"{title}\n{esc(article.outlet)}, {esc(article_date(article, texts))}\n\n"
        f"{texts.h_(SOURCE_COVERS, summary=esc(article.tr('summary', lang)))}\n\n{quotes}"
    )
    await send(message_of(update), text)


async def choose_language(update: Update, context: BotContext) -> None:
    """/language: English, Russian or Ukrainian buttons; the choice is remembered."""
    texts = await texts_for(update, context)
    await send(message_of(update), language.choose_text(texts.lang), markup=language.language_keyboard())


async def language_button(update: Update, context: BotContext) -> None:
    """A /language button: remember the choice and confirm it in that language."""
    query = update.callback_query
    assert query is not None
    chosen, message = _pressed(update, context)
    if chosen is None:
        await query.answer(gettext_for(None)._(STALE_BUTTON))
        return
    context.bot_data.languages.choose(query.from_user.id, chosen)
    await query.answer(gettext_for(chosen)._(language.CHOSEN))
    await language.acknowledge(message, chosen)


async def ask(update: Update, context: BotContext) -> None:
    """/ask <question>, in private chats and groups."""
    message = message_of(update)
    question = " ".join(context.args or [])
    await answer_question(update, message, question, context)


async def reload_knowledge(update: Update, context: BotContext) -> None:
    """/reload: admins only; the old knowledge keeps serving if the new one is broken."""
    message = message_of(update)
    user = update.effective_user
    texts = await texts_for(update, context)
    if user is None or user.id not in context.bot_data.admins:
        await send(message, texts.h_(RELOAD_ADMINS_ONLY))
        return
    force = [a.casefold() for a in context.args or []] == [RELOAD_FORCE_ARGUMENT]
    _, detail = await reload_engine(context.bot_data.holder, texts, force=force)
    await send(message, html.escape(detail[:3500]))


async def reload_engine(holder: EngineHolder, texts: Texts | None = None, force: bool = False) -> tuple[bool, str]:
    """Reload from disk off the event loop; report what happened in one sentence or list.

    Every way in (/reload, SIGHUP) comes here: a broken, unreadable or much smaller knowledge
    base is refused, and the previous one keeps serving."""
    texts = texts or gettext_for(None)
    try:
        engine = await asyncio.to_thread(holder.reload, force)
    except ReloadRefused as exc:
        log.error("Reload refused, still serving the previous knowledge: %s", exc)
        losses = ", ".join(
            texts._(
                RELOAD_LOSS,
                lost=loss.before - loss.after,
                before=loss.before,
                what=texts._(RELOAD_LOSS_WHAT[loss.what]),
                share=f"{loss.share:.0%}",
            )
            for loss in exc.losses
        )
        return False, texts._(RELOAD_REFUSED_SMALLER, losses=losses, limit=f"{exc.max_loss:.0%}")
    except KnowledgeUnreadable as exc:
        log.error("Reload refused, still serving the previous knowledge: cannot read %s", exc)
        return False, texts._(RELOAD_UNREADABLE, problem=exc)
    except KnowledgeError as exc:
        log.error("Reload refused, still serving the previous knowledge:\n%s", exc)
        problems = "\n".join(f"• {p}" for p in exc.problems[:20])  # file, line, reason: for the curator
        return False, f"{texts._(RELOAD_FAILED)}\n{problems}"
    log.info("Knowledge reloaded%s: %d entries", " (forced)" if force else "", len(engine.entries))
    return True, texts.n_(RELOADED_FORCED if force else RELOADED, len(engine.entries))


# -- messages ---------------------------------------------------------------------------------


def _from_this_bot_inline(message: Message, bot_id: int) -> bool:
    return message.via_bot is not None and message.via_bot.id == bot_id


async def private_text(update: Update, context: BotContext) -> None:
    message = message_of(update)
    if _from_this_bot_inline(message, context.bot.id):
        return
    await answer_question(update, message, message.text or "", context)


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
    await answer_question(update, message, question, context)


async def private_non_text(update: Update, context: BotContext) -> None:
    await send(message_of(update), (await texts_for(update, context)).h_(NOT_TEXT_HINT))


# -- buttons ----------------------------------------------------------------------------------


ANSWER_PATTERN = rf"^{keyboards.ANSWER_PREFIX}{keyboards.LANG_PART}([a-z0-9-]+)$"  # a:<lang>:<entry id>
TOPICS_PATTERN = rf"^{keyboards.TOPICS_PREFIX}{keyboards.LANG_PART}([0-9]+)$"  # t:<lang>:<page>


def _pressed(update: Update, context: BotContext) -> tuple[str | None, Message | None]:
    """The value the button's pattern captured (its last group), and the message the button is on.

    python-telegram-bot lets a press without data through every CallbackQueryHandler, pattern or
    not; then there is no match and the value is None."""
    query = update.callback_query
    assert query is not None
    message = query.message if isinstance(query.message, Message) else None
    match = context.matches[0] if context.matches else None
    return (match.group(match.re.groups) if isinstance(match, re.Match) else None), message


async def _button_texts(update: Update, context: BotContext) -> Texts:
    """The language a button was written in (a:ru:…), else, for older buttons, the reader's."""
    match = context.matches[0] if context.matches else None
    written = match.group(1) if isinstance(match, re.Match) and match.re.groups > 1 else None
    return gettext_for(written) if written else await texts_for(update, context)


async def answer_button(update: Update, context: BotContext) -> None:
    """A question button: the entry's answer card, sent to the chat the button is in."""
    query = update.callback_query
    assert query is not None
    entry_id, message = _pressed(update, context)
    texts = await _button_texts(update, context)
    reply = engine_of(context).answer_entry(entry_id, texts.lang) if entry_id is not None else None
    if reply is None or message is None:
        await query.answer(texts._(STALE_BUTTON))
        return
    await query.answer()
    assert entry_id is not None
    feedback.record_pick(context, update, entry_id)
    markup = keyboards.questions_keyboard(reply.suggestions, reply.lang)
    await message.reply_html(  # not chat.send_message: a reply stays in the button's forum topic
        render_html(reply), reply_markup=feedback.with_votes(reply, markup), do_quote=False
    )


async def topics_page_button(update: Update, context: BotContext) -> None:
    """‹ Previous / Next › under /topics: the keyboard is edited in place."""
    query = update.callback_query
    assert query is not None
    page, message = _pressed(update, context)
    texts = await _button_texts(update, context)
    entries = engine_of(context).entries
    if message is None or page is None or int(page) >= keyboards.page_count(len(entries)):
        await query.answer(texts._(STALE_BUTTON))
        return
    await query.answer()
    await query.edit_message_reply_markup(keyboards.topics_keyboard(entries, int(page), texts.lang))


async def stale_button(update: Update, context: BotContext) -> None:
    """Any other button data (forged, or from an older version): a polite acknowledgement."""
    assert update.callback_query is not None
    await update.callback_query.answer((await texts_for(update, context))._(STALE_BUTTON))


# -- inline mode ------------------------------------------------------------------------------


def _article_result(engine: Engine, entry_id: str, lang: str) -> InlineQueryResultArticle:
    reply = engine.answer_entry(entry_id, lang)
    assert reply is not None and reply.entry is not None
    description = reply.entry.tr("answer", lang)
    if len(description) > INLINE_DESCRIPTION_MAX:
        description = description[: INLINE_DESCRIPTION_MAX - 1].rstrip() + "…"
    return InlineQueryResultArticle(
        id=entry_id,
        title=reply.entry.tr("question", lang),
        description=description,
        input_message_content=InputTextMessageContent(render_html(reply)),
    )


def _not_covered_result(engine: Engine, texts: Texts) -> InlineQueryResultArticle:
    article = engine.kb.article
    covers = texts.h_(INLINE_NOT_COVERED, summary=esc(article.tr("summary", texts.lang)))
    text = f"{covers}\n\n<i>{esc(source_line(article, texts.lang))}</i>"
    return InlineQueryResultArticle(
        id="not-covered",
        title=texts._(INLINE_NOT_COVERED_TITLE),
        description=texts._(INLINE_NOT_COVERED_HINT),
        input_message_content=InputTextMessageContent(text),
    )


async def inline_query(update: Update, context: BotContext) -> None:
    """@bot question: ranked answers; empty query: every question, page by page."""
    query = update.inline_query
    assert query is not None
    engine = engine_of(context)
    text = query.query.strip()
    if not text:  # every question, in the querier's language (so the results are personal)
        texts = await texts_for(update, context)
        start = int(query.offset) if query.offset.isdecimal() else 0
        chunk = engine.entries[start : start + INLINE_PAGE]
        more = start + INLINE_PAGE < len(engine.entries)
        await query.answer(
            [_article_result(engine, e.id, texts.lang) for e in chunk],
            cache_time=INLINE_CACHE_SECONDS,
            is_personal=True,
            next_offset=str(start + INLINE_PAGE) if more else None,  # PTB 22 Defaults send "" as "[]"
        )
        return
    fallback = "en" if has_letters(text) else (await texts_for(update, context)).lang
    matching = context.bot_data.matching
    reply, ranked = await inline_match(matching, query.from_user.id, engine, text, INLINE_MAX_RESULTS, fallback)
    texts = gettext_for(reply.lang)
    ids: list[str] = []
    if reply.outcome is Outcome.ANSWER and reply.entry:
        ids.append(reply.entry.id)
    if reply.outcome is not Outcome.DECLINE:
        for candidate in ranked:
            if candidate.score >= SUGGEST_THRESHOLD and candidate.entry.id not in ids:
                ids.append(candidate.entry.id)
    results = [_article_result(engine, i, texts.lang) for i in ids[:INLINE_MAX_RESULTS]]
    button = None
    if not results:
        results = [_not_covered_result(engine, texts)]
        button = InlineQueryResultsButton(text=texts._(INLINE_ASK_PRIVATELY), start_parameter="inline")
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
