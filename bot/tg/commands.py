"""The one command table: it feeds handler registration, both command menus, /help and the hint
for unknown commands, so a command is added or renamed in one place."""

from __future__ import annotations

import html
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import BotCommand, Update
from telegram.constants import ChatType

from bot.tg import feedback, handlers
from bot.tg.context import BotContext

Callback = Callable[[Update, BotContext], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class Command:
    name: str
    callback: Callback
    description: str  # shown in Telegram's command menu and in /help
    private_menu: int | None = None  # position in the private chats' menu; None: not listed
    group_menu: int | None = None  # position in the groups' menu; None: not listed
    private_only: bool = False  # registered for private chats only


async def help_command(update: Update, context: BotContext) -> None:
    """How to ask, then every listed command of this kind of chat, from the table."""
    username = html.escape(context.bot.username)
    private = update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE
    here = "• In this chat, just type a question about the article.\n" if private else ""
    listed = "\n".join(f"/{c.name} — {html.escape(c.description)}" for c in menu_commands(private))
    text = (
        "<b>How to use me</b>\n"
        f"{here}"
        f"• In a group: <code>/ask your question</code>, mention @{username} "
        "with your question, or reply to one of my messages.\n"
        f"• In any chat: type <code>@{username} your question</code> and pick an answer.\n\n"
        f"{listed}"
    )
    await handlers.send(handlers.message_of(update), text)


async def unknown_command(update: Update, context: BotContext) -> None:
    """A command this bot does not have (in private): say which ones it has."""
    await handlers.send(handlers.message_of(update), html.escape(unknown_command_hint()))


COMMANDS: tuple[Command, ...] = (
    Command("start", handlers.start, "What this bot is", private_menu=0, private_only=True),
    Command("topics", handlers.topics, "Every question I can answer", private_menu=1, group_menu=1),
    Command("ask", handlers.ask, "Ask a question about the article", private_menu=2, group_menu=0),
    Command("source", handlers.source, "The article I quote", private_menu=3, group_menu=2),
    Command("help", help_command, "How to use me", private_menu=4, group_menu=3),
    Command("forget", feedback.forget, "Delete what I stored about your questions", private_menu=5, group_menu=4),
    Command("stats", feedback.stats, "Question statistics (administrators)"),
    Command("reload", handlers.reload_knowledge, "Reload the knowledge (administrators)"),
)


def _rank(command: Command, private: bool) -> int | None:
    return command.private_menu if private else command.group_menu


def menu_commands(private: bool) -> list[Command]:
    """The commands listed in private chats' or groups' menu, in menu order."""
    listed = [c for c in COMMANDS if _rank(c, private) is not None]
    return sorted(listed, key=lambda c: _rank(c, private) or 0)


def menu(private: bool) -> list[BotCommand]:
    """What setMyCommands gets for private chats or for groups."""
    return [BotCommand(c.name, c.description) for c in menu_commands(private)]


def unknown_command_hint() -> str:
    names = [f"/{c.name}" for c in menu_commands(private=True) if c.name not in ("start", "ask")]
    return (
        "I don’t know that command. Type your question as plain text, or use "
        f"{', '.join(names[:-1])} or {names[-1]}."
    )
