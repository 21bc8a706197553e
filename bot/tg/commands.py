"""The one command table: it feeds handler registration, both command menus, /help and the hint
for unknown commands, so a command is added or renamed in one place."""

from __future__ import annotations

import html
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import BotCommand, Update
from telegram.constants import ChatType

from bot.i18n import N_, Texts, gettext_for
from bot.model import Article
from bot.tg import feedback, handlers
from bot.tg.context import BotContext

Callback = Callable[[Update, BotContext], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class Command:
    name: str
    callback: Callback
    description: str  # shown in Telegram's command menu and in /help (a catalogue message id)
    private_menu: int | None = None  # position in the private chats' menu; None: not listed
    group_menu: int | None = None  # position in the groups' menu; None: not listed
    private_only: bool = False  # registered for private chats only


async def help_command(update: Update, context: BotContext) -> None:
    """How to ask, then every listed command of this kind of chat, from the table."""
    texts = await handlers.texts_for(update, context)
    username = html.escape(context.bot.username)
    private = update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE
    here = f"• {texts.h_(HELP_PRIVATE)}\n" if private else ""
    listed = "\n".join(f"/{c.name} — {texts.h_(c.description)}" for c in menu_commands(private))
    question = texts.h_(HELP_YOUR_QUESTION)
    text = (
        f"<b>{texts.h_(HELP_TITLE)}</b>\n"
        f"{here}"
        f"• {texts.h_(HELP_GROUP, ask=f'<code>/ask {question}</code>', bot=f'@{username}')}\n"
        f"• {texts.h_(HELP_INLINE, inline=f'<code>@{username} {question}</code>')}\n\n"
        f"{listed}"
    )
    await handlers.send(handlers.message_of(update), text)


async def unknown_command(update: Update, context: BotContext) -> None:
    """A command this bot does not have (in private): say which ones it has."""
    texts = await handlers.texts_for(update, context)
    await handlers.send(handlers.message_of(update), html.escape(unknown_command_hint(texts)))


HELP_TITLE = N_("How to use me")
HELP_PRIVATE = N_("In this chat, just type a question about the article.")
HELP_GROUP = N_("In a group: {ask}, mention {bot} with your question, or reply to one of my messages.")
HELP_INLINE = N_("In any chat: type {inline} and pick an answer.")
HELP_YOUR_QUESTION = N_("your question")
UNKNOWN_COMMAND = N_("I don’t know that command. Type your question as plain text, or use {commands} or {last}.")
# What Telegram shows before the first message (setMyDescription, ≤ 512) and on the profile (≤ 120).
DESCRIPTION = N_(
    "I answer questions about one {outlet} story, {title}, with the story’s own words: every answer "
    "quotes the article and says who said it. Ask in English, Russian or Ukrainian."
)
SHORT_DESCRIPTION = N_("Questions about one {outlet} story, answered with the story’s own quotes.")


COMMANDS: tuple[Command, ...] = (
    Command("start", handlers.start, N_("What this bot is"), private_menu=0, private_only=True),
    Command("topics", handlers.topics, N_("Every question I can answer"), private_menu=1, group_menu=1),
    Command("ask", handlers.ask, N_("Ask a question about the article"), private_menu=2, group_menu=0),
    Command("source", handlers.source, N_("The article I quote"), private_menu=3, group_menu=2),
    Command("language", handlers.choose_language, N_("Answer in English, Russian or Ukrainian"), private_menu=4, group_menu=3),
    Command("help", help_command, N_("How to use me"), private_menu=5, group_menu=4),
    Command(
        "forget", feedback.forget, N_("Delete what I stored about your questions"), private_menu=6, group_menu=5
    ),
    Command("stats", feedback.stats, N_("Question statistics (administrators)")),
    Command("reload", handlers.reload_knowledge, N_("Reload the knowledge (administrators)")),
)


def _rank(command: Command, private: bool) -> int | None:
    return command.private_menu if private else command.group_menu


def menu_commands(private: bool) -> list[Command]:
    """The commands listed in private chats' or groups' menu, in menu order."""
    listed = [c for c in COMMANDS if _rank(c, private) is not None]
    return sorted(listed, key=lambda c: _rank(c, private) or 0)


def menu(private: bool, lang: str | None = None) -> list[BotCommand]:
    """What setMyCommands gets for private chats or for groups, in `lang` (None: English)."""
    texts = gettext_for(lang)
    return [BotCommand(c.name, texts._(c.description)) for c in menu_commands(private)]


DESCRIPTION_MAX, SHORT_DESCRIPTION_MAX = 512, 120  # Telegram's limits


def descriptions(article: Article, lang: str) -> tuple[str, str]:
    """setMyDescription's and setMyShortDescription's texts in `lang`, within Telegram's limits."""
    texts = gettext_for(lang)
    title = f"“{article.tr('title', texts.lang)}”"
    description = texts._(DESCRIPTION, outlet=article.outlet, title=title)
    short = texts._(SHORT_DESCRIPTION, outlet=article.outlet)
    return _cut(description, DESCRIPTION_MAX), _cut(short, SHORT_DESCRIPTION_MAX)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def unknown_command_hint(texts: Texts | None = None) -> str:
    texts = texts or gettext_for(None)
    names = [f"/{c.name}" for c in menu_commands(private=True) if c.name not in ("start", "ask")]
    return texts._(UNKNOWN_COMMAND, commands=", ".join(names[:-1]), last=names[-1])
