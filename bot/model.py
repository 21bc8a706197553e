"""The knowledge base as immutable values: what the article says and who said it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

# The curator's words in other languages: language -> field name -> text ({"ru": {"answer": "…"}}).
Local = Mapping[str, Mapping[str, str]]
SOURCE_LANGUAGE = "en"  # the article's language: every field is written in it first


def _local() -> dict[str, dict[str, str]]:
    return {}


class Translatable:
    """A value whose curator-written fields may also exist in Russian and Ukrainian."""

    local: Local

    def tr(self, name: str, lang: str) -> str:
        """Field `name` in `lang`, or the English original where the curator gave none."""
        text = self.local.get(lang, {}).get(name)
        return text if text is not None else str(getattr(self, name))


@dataclass(frozen=True)
class Article(Translatable):
    """The story itself and what a reply cites as its source."""

    title: str
    outlet: str
    published: dt.date
    published_text: str
    summary: str
    text: str
    quotable_lines: tuple[str, ...]
    local: Local = field(default_factory=_local, hash=False, compare=False)  # title, summary


@dataclass(frozen=True)
class Speaker(Translatable):
    """Someone the article quotes, as the article names them."""

    id: str
    name: str
    role: str | None
    mentions: tuple[str, ...]
    aliases: tuple[str, ...]
    narrator: bool = False  # the report's own voice: its words need no "X said" nearby
    local: Local = field(default_factory=_local, hash=False, compare=False)  # name, role
    side: str | None = None  # the side of the talks they speak for (speakers.yaml `sides`), if any


@dataclass(frozen=True)
class Quote(Translatable):
    """The article's exact words with their attribution."""

    text: str
    speaker: Speaker
    role: str | None
    channel: str
    # role, channel and "translation": the quote's words in that language, never shown as theirs
    local: Local = field(default_factory=_local, hash=False, compare=False)

    def translation(self, lang: str) -> str | None:
        """The curator's translation of the quote, labelled as such; None in the article's language."""
        if lang == SOURCE_LANGUAGE:
            return None
        return self.local.get(lang, {}).get("translation")


@dataclass(frozen=True)
class Note(Translatable):
    """An editor's note where the article is wrong or inconsistent."""

    id: str
    text: str
    triggers: tuple[str, ...]
    local: Local = field(default_factory=_local, hash=False, compare=False)  # text


@dataclass(frozen=True)
class Entry(Translatable):
    """One FAQ entry: a question, the ways readers ask it, and the sourced answer."""

    id: str
    topic: str
    question: str
    alternates: tuple[str, ...]
    answer: str
    quotes: tuple[Quote, ...]
    notes: tuple[Note, ...]
    related: tuple[str, ...]
    # Phrasings in other languages, matched with that language's analysis ({"ru": (...), "uk": (...)}).
    translations: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False, compare=False)
    local: Local = field(default_factory=_local, hash=False, compare=False)  # topic, question, answer


@dataclass(frozen=True)
class Vocabulary:
    """The knowledge base's own words on top of the language libraries.

    `stopwords` is domain filler the libraries' lists lack; `keep` are library stopwords that tell
    entries apart here ("who", "when", "not"); `variants` maps other spellings and synonyms to one form.
    """

    stopwords: frozenset[str]
    variants: dict[str, str] = field(hash=False)  # folded variant phrase -> folded canonical
    keep: frozenset[str] = frozenset()
    decoys: frozenset[str] = frozenset()  # canonical forms that name people/things the article lacks
    opinion: tuple[str, ...] = ()  # folded phrases that ask for an opinion, a motive or a guess


@dataclass(frozen=True)
class Party(Translatable):
    """Someone the article mentions but never quotes."""

    id: str
    name: str
    names: tuple[str, ...]  # folded
    mentioned: str  # what the article does say about them
    local: Local = field(default_factory=_local, hash=False, compare=False)  # name, mentioned
    # How Russian and Ukrainian readers name them ({"ru": ("китай", "пекин")}), folded, any inflection.
    local_names: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False, compare=False)

    @property
    def all_names(self) -> tuple[str, ...]:
        """Every folded name in every language, English first."""
        return (*self.names, *(n for names in self.local_names.values() for n in names))


@dataclass(frozen=True)
class KnowledgeBase:
    """Everything the bot knows, loaded and validated as one piece."""

    article: Article
    speakers: dict[str, Speaker] = field(hash=False)
    notes: dict[str, Note] = field(hash=False)
    entries: tuple[Entry, ...]
    vocabulary: Vocabulary
    parties: tuple[Party, ...] = ()
    speech_verbs: tuple[str, ...] = ()  # folded
    languages: tuple[str, ...] = (SOURCE_LANGUAGE,)  # every curator text exists in each of these
    # The sides of the talks and how readers name them ({"russia": ("Russia", "Kremlin", …)}).
    sides: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False, compare=False)

    def entry(self, entry_id: str) -> Entry | None:
        return self._by_id.get(entry_id)

    @cached_property
    def _by_id(self) -> dict[str, Entry]:
        return {e.id: e for e in self.entries}
