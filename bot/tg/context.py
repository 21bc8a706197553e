"""The bot's shared state as a typed class, and the typed ContextTypes that hand it to handlers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, TypeAlias

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from bot.engine import Engine, EngineHolder
from bot.questionlog import Pseudonymizer, QuestionLog
from bot.tg.flood import FloodGuard
from bot.tg.language import LanguageChoices
from bot.tg.matching import Matching


@dataclass(frozen=True)
class Recorder:
    """What the handlers need to log: the question log's queue and the key that hashes readers."""

    log: QuestionLog
    ids: Pseudonymizer


class BotData:
    """What every handler may need: the serving engine, flood control, who may /reload, the question log,
    the readers' language choices.

    python-telegram-bot builds bot_data with no arguments, so the parts are given by `setup` once the
    application exists; reading one before that is a programming error and says so."""

    def __init__(self) -> None:
        self._holder: EngineHolder | None = None
        self._flood: FloodGuard | None = None
        self.admins: frozenset[int] = frozenset()
        self.question_log: Recorder | None = None  # None: nothing is logged
        self.languages = LanguageChoices()  # readers' /language choices (stored with the question log)
        self.background: set[asyncio.Task[None]] = set()  # start-up work still retrying (menus)
        self.matching = Matching()  # questions are matched in its threads, not on the event loop

    def setup(
        self,
        holder: EngineHolder,
        flood: FloodGuard,
        admins: frozenset[int],
        question_log: Recorder | None = None,
    ) -> None:
        self._holder, self._flood, self.admins = holder, flood, admins
        self.question_log = question_log
        if question_log is not None:
            self.languages = LanguageChoices(question_log.log, question_log.ids)

    @property
    def holder(self) -> EngineHolder:
        if self._holder is None:
            raise RuntimeError("bot_data used before setup()")
        return self._holder

    @property
    def flood(self) -> FloodGuard:
        if self._flood is None:
            raise RuntimeError("bot_data used before setup()")
        return self._flood

    @property
    def engine(self) -> Engine:
        """The engine serving right now; a handler takes it once, so a reload never mixes versions."""
        return self.holder.engine


class BotContext(CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], BotData]):
    """CallbackContext whose bot_data is a BotData."""


BotApplication: TypeAlias = Application[ExtBot[Any], BotContext, dict[Any, Any], dict[Any, Any], BotData, Any]
CONTEXT_TYPES: ContextTypes[BotContext, dict[Any, Any], dict[Any, Any], BotData] = ContextTypes(
    context=BotContext, bot_data=BotData
)
