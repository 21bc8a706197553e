"""A knowledge base with a few Russian and Ukrainian curator texts added, for the reply-language tests.

The tests need known curator texts and a quote left untranslated, whatever the real knowledge
carries, so they set them on an in-memory copy the way the loader does (each value's `local`).
"""

from __future__ import annotations

import dataclasses

from bot.engine import Engine
from bot.model import KnowledgeBase, Quote

ENTRY = "kremlin-breakthrough"
RU = {
    "question": "Увидел ли Кремль прорыв или что-то многообещающее в переговорах в Стамбуле?",
    "answer": "Нет. В среду Кремль приглушил надежды на прорыв после российско-украинских переговоров в Стамбуле.",
    "translation": "Мы не можем констатировать, что было что-то слишком многообещающее или какие-то прорывы",
}
UK = {
    "question": "Чи побачив Кремль прорив або щось обнадійливе в переговорах у Стамбулі?",
    "answer": "Ні. У середу Кремль применшив надії на прорив після російсько-українських переговорів у Стамбулі.",
    "translation": "Ми не можемо констатувати, що було щось надто обнадійливе чи якісь прориви",
}
TEXTS = {"ru": RU, "uk": UK}


def _translated_quote(quote: Quote) -> Quote:
    local = {lang: {**quote.local.get(lang, {}), "translation": texts["translation"]} for lang, texts in TEXTS.items()}
    return dataclasses.replace(quote, local=local)


def _untranslated_quote(quote: Quote) -> Quote:
    """The quote with its role and channel in each language but no translation of its words."""
    local = {lang: {k: v for k, v in texts.items() if k != "translation"} for lang, texts in quote.local.items()}
    return dataclasses.replace(quote, local=local)


def translated_kb(kb: KnowledgeBase, answer_extra: str = "") -> KnowledgeBase:
    """`kb` with ENTRY's question and answer in ru and uk, and only its FIRST quote translated."""
    entries = []
    for entry in kb.entries:
        if entry.id == ENTRY:
            local = {
                lang: {**entry.local.get(lang, {}), "question": texts["question"], "answer": texts["answer"] + answer_extra}
                for lang, texts in TEXTS.items()
            }
            quotes = (_translated_quote(entry.quotes[0]), *map(_untranslated_quote, entry.quotes[1:]))
            entry = dataclasses.replace(entry, local=local, quotes=quotes)
        entries.append(entry)
    return dataclasses.replace(kb, entries=tuple(entries), languages=("en", "ru", "uk"))


def translated_engine(engine: Engine, answer_extra: str = "") -> Engine:
    return Engine(translated_kb(engine.kb, answer_extra))
