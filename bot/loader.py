"""Loading and validating the knowledge folder.

Nothing reaches the bot unless the whole folder is valid: every problem is reported with the
file, the line and the reason, and a broken folder never yields a half-built knowledge base.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.analysis import reads_as_other_language
from bot.frequencies import LANGUAGES
from bot.model import (
    SOURCE_LANGUAGE,
    Article,
    Entry,
    KnowledgeBase,
    Note,
    Party,
    Quote,
    Speaker,
    Vocabulary,
)
from bot.problems import KnowledgeError as KnowledgeError  # re-exported: callers catch it from here
from bot.problems import KnowledgeUnreadable as KnowledgeUnreadable
from bot.problems import Problem as Problem
from bot.textnorm import fold, straighten_quotes
from bot.yaml_lines import LineDict, LineList, YamlSyntaxError, load_yaml

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_ID_BYTES = 40  # leaves room for a prefix inside Telegram's 64-byte button data
SPEAKER_CONTEXT_LINES = 3  # "he added" may follow the naming sentence by a few paragraphs
# Languages a curator text may also be written in, each under its own key (`ru:`, `uk:`).
TRANSLATION_LANGUAGES = tuple(lang for lang in LANGUAGES if lang != SOURCE_LANGUAGE)
_QUOTED = re.compile(r'"([^"]*)"')  # a quotation, on a line whose quote marks are straightened


class _Reader:
    """Collects problems while reading typed fields out of line-aware YAML."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.problems: list[Problem] = []
        self.file = ""
        self.article_file = "the article"  # the article text's own file, once article.yaml names it
        self.speakers_incomplete = False
        self.languages: tuple[str, ...] = (SOURCE_LANGUAGE,)  # article.yaml `languages`, once read
        # (what must read the same everywhere, language) -> (text, where it was first given)
        self.first_given: dict[tuple[object, ...], tuple[str, str]] = {}

    def problem(self, line: int, reason: str) -> None:
        self.problems.append(Problem(self.file, line, reason))

    def open(self, name: str) -> Any:
        self.file = str(Path(self.folder.name) / name)
        path = self.folder / name
        if not path.is_file():
            self.problem(0, "file is missing")
            return None
        try:
            return load_yaml(path)  # an OSError other than "missing" ends the load (KnowledgeUnreadable)
        except YamlSyntaxError as exc:
            self.problem(exc.line, exc.reason)
        return None

    def mapping(self, value: Any, line: int, what: str) -> LineDict | None:
        if isinstance(value, LineDict):
            return value
        self.problem(line, f"{what} must be a mapping, got {_kind(value)}")
        return None

    def fields(
        self, data: LineDict, what: str, required: set[str], optional: frozenset[str] | set[str] = frozenset()
    ) -> bool:
        ok = True
        for key in sorted(required - data.keys()):
            self.problem(data.line, f"{what}: missing field '{key}'")
            ok = False
        for key in data:
            if key not in required and key not in optional:
                known = ", ".join(sorted(required | optional))
                self.problem(data.line_of(key), f"{what}: unknown field '{key}' (known: {known})")
        return ok

    def text(self, data: LineDict, key: str, what: str, *, nullable: bool = False) -> str | None:
        value = data.get(key)
        if value is None and nullable:
            return None
        if isinstance(value, str) and value.strip():
            return value.strip()
        self.problem(data.line_of(key), f"{what}: '{key}' must be non-empty text, got {_kind(value)}")
        return None

    def texts(self, data: LineDict, key: str, what: str) -> list[tuple[str, int]]:
        value = data.get(key, LineList())
        if value is None:
            return []
        if not isinstance(value, LineList):
            self.problem(data.line_of(key), f"{what}: '{key}' must be a list, got {_kind(value)}")
            return []
        result = []
        for index, item in enumerate(value):
            if isinstance(item, str | int | float) and not isinstance(item, bool) and str(item).strip():
                result.append((str(item).strip(), value.line_of(index)))
            else:
                self.problem(value.line_of(index), f"{what}: '{key}' items must be text, got {_kind(item)}")
        return result

    def identifier(self, data: LineDict, what: str) -> str | None:
        value = self.text(data, "id", what)
        if value is None:
            return None
        if not ID_PATTERN.match(value) or len(value.encode()) > MAX_ID_BYTES:
            self.problem(
                data.line_of("id"),
                f"{what}: id '{value}' must be lowercase words joined by '-', at most {MAX_ID_BYTES} bytes",
            )
            return None
        return value

    def local(
        self,
        data: LineDict,
        what: str,
        fields: tuple[str, ...],
        optional: tuple[str, ...] = (),
        extra: tuple[str, ...] = (),
    ) -> dict[str, dict[str, str]]:
        """The `ru:` / `uk:` sections of a value: the curator's own words for `fields` in that language.

        In a language article.yaml declares, every one of `fields` is required; in another one the
        section may be partial (a translation under way). `optional` texts may be given, `extra` keys
        are read by the caller. Each text must read as its language, not as English or the other one.
        """
        result: dict[str, dict[str, str]] = {}
        for lang in TRANSLATION_LANGUAGES:
            declared = lang in self.languages
            if lang not in data:
                if declared:
                    self.problem(
                        data.line,
                        f"{what}: no '{lang}' section, but the knowledge declares '{lang}' "
                        f"(article.yaml 'languages'); give {', '.join(fields)} in {lang}",
                    )
                continue
            where = f"{what}: '{lang}'"
            section: LineDict | None
            if data[lang] is None:  # `ru:` with nothing under it: every field is missing
                section = LineDict()
                section.line, section.key_lines = data.line_of(lang), {}
            else:
                section = self.mapping(data[lang], data.line_of(lang), where)
            if section is None:
                continue
            self.fields(section, where, set(), {*fields, *optional, *extra})  # unknown keys
            for name in fields if declared else ():
                if name not in section:  # reported at the language's key, where it belongs
                    self.problem(
                        data.line_of(lang), f"{where}: missing field '{name}' ('{lang}' is declared)"
                    )
            texts: dict[str, str] = {}
            for name in (*fields, *optional):
                if name not in section:
                    continue
                text = self.text(section, name, where)
                if text is None:
                    continue
                found = reads_as_other_language(text, lang)
                if found is not None:
                    self.problem(
                        section.line_of(name),
                        f"{where}: {name} {text!r} is listed as '{lang}' but reads as '{found}'",
                    )
                    continue
                texts[name] = text
            result[lang] = texts
        return result

    def consistent(self, key: tuple[object, ...], text: str, line: int, what: str, thing: str) -> None:
        """One English text has one translation per language: the same quote, the same topic."""
        where = f"{self.file}:{line}"
        first = self.first_given.setdefault(key, (text, where))
        if first[0] != text:
            self.problem(
                line,
                f"{what}: {thing} is {text!r} here but {first[0]!r} at {first[1]}; give it once, the same everywhere",
            )

    def items(self, root: Any, key: str) -> list[tuple[LineDict, int]]:
        """The list of mappings stored under `key` at the top of a file."""
        if root is None:
            return []
        data = self.mapping(root, 1, "top level")
        if data is None:
            return []
        if key not in data or not isinstance(data[key], LineList):
            self.problem(data.line_of(key), f"top level: '{key}' must be a list")
            return []
        items = data[key]
        result = []
        for index, item in enumerate(items):
            mapping = self.mapping(item, items.line_of(index), f"{key}[{index}]")
            if mapping is not None:
                result.append((mapping, index))
        return result


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {str: "text", bool: "true/false", int: "a number", float: "a number"}.get(
        type(value),
        "a list"
        if isinstance(value, list)
        else "a mapping"
        if isinstance(value, dict)
        else type(value).__name__,
    )


class _ArticleIndex:
    """The article's lines, folded for the checks that quotes and names are really there."""

    def __init__(self, article: Article) -> None:
        self.article = article
        self.straight_lines = [straighten_quotes(line) for line in article.quotable_lines]
        self.folded_all = fold(article.text)

    def quote_lines(self, quote: str) -> list[int]:
        """Indexes of the quotable lines that hold the quote verbatim (quote marks aside)."""
        needle = straighten_quotes(quote)
        return [index for index, line in enumerate(self.straight_lines) if needle in line]

    def names(self, phrase: str) -> bool:
        folded = fold(phrase)
        return bool(folded) and f" {folded} " in f" {self.folded_all} "

    def direct_speech_lines(self, quote: str) -> list[int]:
        """Lines where the quote lies inside the article's own quotation marks."""
        needle = straighten_quotes(quote)
        return [
            index
            for index, line in enumerate(self.straight_lines)
            if any(needle in span for span in _QUOTED.findall(line))
        ]

    def _narration(self, line_index: int) -> str:
        """A line's own words, its quotations removed, folded."""
        return f" {fold(_QUOTED.sub(' ', self.straight_lines[line_index]))} "

    def attribution(self, line_index: int, speakers: list[Speaker]) -> tuple[set[str], int]:
        """Who the article says spoke the quotations of a line, and the line that says so.

        The speaker named in the line itself ("..., Peskov told reporters"), or else in the nearest
        line before it that names one ("he added" follows "Peskov said").
        """
        for index in range(line_index, max(-1, line_index - SPEAKER_CONTEXT_LINES - 1), -1):
            narration = self._narration(index)
            named = {s.id for s in speakers for m in s.mentions if fold(m) and f" {fold(m)} " in narration}
            if named:
                return named, index
        return set(), line_index

    def tells_channel(self, channel: str, lines: tuple[int, ...]) -> bool:
        """Every significant word of the channel appears where the article attributes the quote."""
        text = " ".join(self._narration(i) for i in lines)
        return all(f" {word} " in text for word in fold(channel).split() if len(word) > 3)


def load_knowledge(folder: Path) -> KnowledgeBase:
    """Load and validate the whole knowledge folder, or raise KnowledgeError listing every problem
    (KnowledgeUnreadable when the folder or a file in it cannot be read at all)."""
    folder = Path(folder)
    try:
        return _load_knowledge(folder)
    except OSError as exc:
        raise KnowledgeUnreadable.from_os_error(folder, exc) from None


def _load_knowledge(folder: Path) -> KnowledgeBase:
    reader = _Reader(folder)
    if not folder.is_dir():  # KNOWLEDGE_DIR or --knowledge points nowhere: a setting, not the knowledge
        reason = "is a file, not a folder" if folder.exists() else "not found"
        raise KnowledgeUnreadable([Problem(str(folder), 0, reason)])
    article = _load_article(reader)
    index = _ArticleIndex(article) if article else None
    speakers, sides = _load_speakers(reader, index)
    notes = _load_notes(reader, index)
    vocabulary = _load_vocabulary(reader)
    entries = _load_entries(reader, index, speakers, notes)
    entries = _merge_learned(reader, entries)
    parties, speech_verbs = _load_parties(reader)
    if reader.problems or article is None or vocabulary is None:
        raise KnowledgeError(reader.problems or [Problem(str(folder.name), 0, "knowledge is incomplete")])
    return KnowledgeBase(
        article, speakers, notes, tuple(entries), vocabulary, parties, speech_verbs, reader.languages, sides
    )


def _load_article(reader: _Reader) -> Article | None:
    data = reader.open("article.yaml")
    if data is None:
        return None
    data = reader.mapping(data, 1, "article")
    if data is None:
        return None
    reader.languages = _read_languages(reader, data)
    if not reader.fields(
        data,
        "article",
        {"title", "outlet", "published", "published_text", "text_file"},
        {"not_quotable", "summary", "languages", *TRANSLATION_LANGUAGES},
    ):
        return None
    title = reader.text(data, "title", "article")
    outlet = reader.text(data, "outlet", "article")
    published_text = reader.text(data, "published_text", "article")
    summary = reader.text(data, "summary", "article", nullable=True) or title
    summary_field = ("summary",)  # required in each language where the English gives one
    local = (
        reader.local(data, "article", ("title", "published_text", *summary_field))
        if "summary" in data
        else reader.local(data, "article", ("title", "published_text"), optional=summary_field)
    )
    published = data.get("published")
    if not isinstance(published, dt.date) or isinstance(published, dt.datetime):
        reader.problem(data.line_of("published"), "article: 'published' must be a date like 2022-03-30")
        published = None
    text_file = reader.text(data, "text_file", "article")
    boilerplate = reader.texts(data, "not_quotable", "article")
    if text_file is None:
        return None
    path = reader.folder / text_file
    reader.article_file = str(Path(reader.folder.name) / text_file)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        reader.problem(data.line_of("text_file"), f"article: text file '{text_file}' is missing")
        return None
    except UnicodeDecodeError as exc:
        reader.problem(data.line_of("text_file"), f"article: '{text_file}' is not valid UTF-8 ({exc.reason})")
        return None
    lines = [line.strip() for line in text.splitlines()]
    skip = set()
    for line_text, line_no in boilerplate:
        if line_text not in lines:
            reader.problem(line_no, f"article: not_quotable line is not in the article: {line_text!r}")
        skip.add(line_text)
    if title and straighten_quotes(title) not in straighten_quotes(text):
        reader.problem(data.line_of("title"), "article: title is not in the article text")
    if title is None or outlet is None or published is None or published_text is None:
        return None
    quotable = tuple(line for line in lines if line and line not in skip)
    for texts in local.values():  # without an English summary the title stands for it
        if "summary" not in texts and "title" in texts:
            texts["summary"] = texts["title"]
    return Article(title, outlet, published, published_text, summary or title, text, quotable, local)


def _read_languages(reader: _Reader, data: LineDict) -> tuple[str, ...]:
    """`languages: [en, ru, uk]`: every curator text must then exist in each (English alone if absent)."""
    if "languages" not in data:
        return (SOURCE_LANGUAGE,)
    declared: list[str] = []
    for lang, line in reader.texts(data, "languages", "article"):
        if lang not in LANGUAGES:
            reader.problem(
                line, f"article: language {lang!r} is not one the bot reads (known: {', '.join(LANGUAGES)})"
            )
        elif lang in declared:
            reader.problem(line, f"article: language {lang!r} is listed twice")
        else:
            declared.append(lang)
    if SOURCE_LANGUAGE not in declared:
        reader.problem(
            data.line_of("languages"),
            f"article: 'languages' must include {SOURCE_LANGUAGE!r}, the article's own",
        )
    rest = tuple(lang for lang in declared if lang != SOURCE_LANGUAGE)
    return (SOURCE_LANGUAGE, *rest)


def _load_speakers(
    reader: _Reader, index: _ArticleIndex | None
) -> tuple[dict[str, Speaker], dict[str, tuple[str, ...]]]:
    speakers: dict[str, Speaker] = {}
    root = reader.open("speakers.yaml")
    sides = _load_sides(reader, root)
    items = reader.items(root, "speakers")
    # A speaker that could not be read is reported once, not again at each of its quotes.
    reader.speakers_incomplete = root is None or len(items) != len({d.get("id") for d, _ in items})
    for data, n in items:
        what = f"speaker #{n + 1}"
        if not reader.fields(
            data, what, {"id", "name"}, {"role", "mentions", "aliases", "narrator", "side", *TRANSLATION_LANGUAGES}
        ):
            reader.speakers_incomplete = True
            continue
        speaker_id = reader.identifier(data, what)
        name = reader.text(data, "name", what)
        role = reader.text(data, "role", what, nullable=True)
        mentions = reader.texts(data, "mentions", what)
        aliases = reader.texts(data, "aliases", what)
        local = _speaker_local(reader, data, what if speaker_id is None else f"speaker '{speaker_id}'", role)
        side = reader.text(data, "side", what, nullable=True) if "side" in data else None
        if side is not None and side not in sides:
            known = ", ".join(sides) or "none: give them under 'sides'"
            reader.problem(data.line_of("side"), f"{what}: side {side!r} is not one of the sides ({known})")
            side = None
        narrator = data.get("narrator", False)
        if not isinstance(narrator, bool):
            reader.problem(data.line_of("narrator"), f"{what}: 'narrator' must be true or false")
            narrator = False
        if speaker_id is None or name is None:
            reader.speakers_incomplete = True
            continue
        what = f"speaker '{speaker_id}'"
        if speaker_id in speakers:
            reader.problem(data.line_of("id"), f"{what}: duplicate id")
            continue
        if index:
            if not index.names(name):
                reader.problem(data.line_of("name"), f"{what}: the article never names {name!r}")
            if role and not index.names(role):
                reader.problem(data.line_of("role"), f"{what}: role {role!r} is not in the article")
            for mention, line in mentions:
                if not index.names(mention):
                    reader.problem(line, f"{what}: mention {mention!r} is not in the article")
        speakers[speaker_id] = Speaker(
            speaker_id,
            name,
            role,
            (name, *(m for m, _ in mentions)),
            tuple(a for a, _ in aliases),
            narrator,
            local,
            side,
        )
    return speakers, sides


def _load_sides(reader: _Reader, root: Any) -> dict[str, tuple[str, ...]]:
    """speakers.yaml `sides`: each side of the talks and the names readers give it (optional)."""
    data = reader.mapping(root, 1, "top level") if root is not None else None
    if data is None or "sides" not in data:
        return {}
    table = reader.mapping(data.get("sides"), data.line_of("sides"), "sides")
    sides: dict[str, tuple[str, ...]] = {}
    for side in table or {}:
        names = reader.texts(table, side, f"side {side!r}") if table is not None else []
        if not ID_PATTERN.match(str(side)) or not names:
            reader.problem(table.line_of(side) if table is not None else 1, f"side {side!r}: give an id and its names")
            continue
        sides[str(side)] = tuple(fold(n) for n, _ in names)
    return sides


def _speaker_local(reader: _Reader, data: LineDict, what: str, role: str | None) -> dict[str, dict[str, str]]:
    """A speaker's name and role in each language; no role where the article gives none."""
    if role is not None:
        return reader.local(data, what, ("name", "role"))
    local = reader.local(data, what, ("name",), optional=("role",))
    for lang, texts in local.items():
        if texts.pop("role", None) is not None:
            section = data[lang]
            reader.problem(
                section.line_of("role"), f"{what}: '{lang}' gives a role, but the speaker has none in English"
            )
    return local


def _load_notes(reader: _Reader, index: _ArticleIndex | None) -> dict[str, Note]:
    notes: dict[str, Note] = {}
    for data, n in reader.items(reader.open("notes.yaml"), "notes"):
        what = f"note #{n + 1}"
        if not reader.fields(data, what, {"id", "text"}, {"triggers", *TRANSLATION_LANGUAGES}):
            continue
        note_id = reader.identifier(data, what)
        text = reader.text(data, "text", what)
        triggers = reader.texts(data, "triggers", what)
        local = reader.local(data, what if note_id is None else f"note '{note_id}'", ("text",))
        if note_id is None or text is None:
            continue
        if note_id in notes:
            reader.problem(data.line_of("id"), f"note '{note_id}': duplicate id")
            continue
        for trigger, line in triggers:
            if index and not index.quote_lines(trigger):
                reader.problem(line, f"note '{note_id}': trigger {trigger!r} is not in the article")
        notes[note_id] = Note(note_id, text, tuple(t for t, _ in triggers), local)
    return notes


def _load_vocabulary(reader: _Reader) -> Vocabulary | None:
    data = reader.open("vocabulary.yaml")
    if data is None:
        return None
    data = reader.mapping(data, 1, "vocabulary")
    if data is None or not reader.fields(
        data, "vocabulary", {"stopwords", "variants"}, {"synonyms", "keep", "decoys", "opinion"}
    ):
        return None
    stopwords = frozenset(fold(word) for word, _ in reader.texts(data, "stopwords", "vocabulary"))
    keep = frozenset(fold(word) for word, _ in reader.texts(data, "keep", "vocabulary"))
    variants: dict[str, str] = {}
    for section in ("variants", "synonyms", "decoys"):
        if section in data:
            _read_equivalents(reader, data, section, variants)
    decoys = frozenset(fold(str(k)) for k in data.get("decoys") or {})
    opinion = tuple(dict.fromkeys(fold(phrase) for phrase, _ in reader.texts(data, "opinion", "vocabulary")))
    return Vocabulary(stopwords, variants, keep, decoys, opinion)


def _load_parties(reader: _Reader) -> tuple[tuple[Party, ...], tuple[str, ...]]:
    """Parties the article never quotes (optional file)."""
    if not (reader.folder / "parties.yaml").is_file():
        return (), ()
    root = reader.open("parties.yaml")
    data = reader.mapping(root, 1, "parties file") if root is not None else None
    if data is None or not reader.fields(data, "parties file", {"speech_verbs", "parties"}):
        return (), ()
    verbs = tuple(fold(v) for v, _ in reader.texts(data, "speech_verbs", "parties file"))
    parties: list[Party] = []
    claimed: dict[str, str] = {}  # folded name -> the party that has it
    for item, n in reader.items(root, "parties"):
        what = f"party #{n + 1}"
        if not reader.fields(item, what, {"id", "name", "names", "mentioned"}, set(TRANSLATION_LANGUAGES)):
            continue
        party_id = reader.identifier(item, what)
        name = reader.text(item, "name", what)
        mentioned = reader.text(item, "mentioned", what)
        where = what if party_id is None else f"party '{party_id}'"
        local = reader.local(item, where, ("name", "mentioned"), extra=("names",))
        names = tuple(fold(n) for n, _ in reader.texts(item, "names", what) if fold(n))
        if not names:
            reader.problem(item.line_of("names"), f"{what}: 'names' must list at least one name")
        local_names = _local_party_names(reader, item, where)
        for folded, line in [(n, item.line_of("names")) for n in names] + [
            (n, line) for found in local_names.values() for n, line in found
        ]:
            if claimed.setdefault(folded, where) != where:
                reader.problem(line, f"{where}: name {folded!r} is also a name of {claimed[folded]}")
        if party_id and name and mentioned and names:
            translated = {lang: tuple(n for n, _ in found) for lang, found in local_names.items() if found}
            parties.append(Party(party_id, name, names, mentioned, local, translated))
    return tuple(parties), verbs


def _local_party_names(reader: _Reader, item: LineDict, where: str) -> dict[str, list[tuple[str, int]]]:
    """A party's `names` in its `ru:` / `uk:` sections, folded; each must read as that language."""
    found: dict[str, list[tuple[str, int]]] = {}
    for lang in TRANSLATION_LANGUAGES:
        section = item.get(lang)
        if not isinstance(section, LineDict) or "names" not in section:
            continue
        names = found[lang] = []
        for text, line in reader.texts(section, "names", f"{where}: '{lang}'"):
            other = reads_as_other_language(text, lang)
            if other is not None or not fold(text):
                reader.problem(line, f"{where}: '{lang}' name {text!r} does not read as {lang}")
                continue
            names.append((fold(text), line))
    return found


def _read_equivalents(reader: _Reader, data: LineDict, section: str, into: dict[str, str]) -> None:
    """A table of canonical form -> other ways to write it, folded, each way claimed once."""
    table = reader.mapping(data.get(section), data.line_of(section), f"vocabulary: {section}")
    for canonical, spellings in (table or {}).items():
        line = table.line_of(canonical) if table is not None else data.line_of(section)
        target = fold(str(canonical))
        if not target or not isinstance(spellings, LineList):
            reader.problem(line, f"vocabulary: {section} of {canonical!r} must be a list")
            continue
        for position, spelling in enumerate(spellings):
            folded = fold(str(spelling)) if isinstance(spelling, str | int) else ""
            if not folded:
                reader.problem(
                    spellings.line_of(position), f"vocabulary: empty item in {section} of {canonical!r}"
                )
            elif into.get(folded, target) != target:
                reader.problem(
                    spellings.line_of(position),
                    f"vocabulary: {spelling!r} is listed for both {into[folded]!r} and {target!r}",
                )
            elif folded != target:
                into[folded] = target


def _load_entries(
    reader: _Reader, index: _ArticleIndex | None, speakers: dict[str, Speaker], notes: dict[str, Note]
) -> list[Entry]:
    entries: list[Entry] = []
    seen: dict[str, str] = {}
    declared: set[object] = set()  # ids of entries that exist, even if broken: no follow-on errors
    pending_related: list[tuple[str, str, int, str]] = []
    files = sorted(p.name for p in reader.folder.glob("faq*.yaml")) or ["faq.yaml"]
    for name in files:
        for data, n in reader.items(reader.open(name), "entries"):
            declared.add(data.get("id"))
            entry = _load_entry(reader, data, n, index, speakers, notes, pending_related)
            if entry is None:
                continue
            if entry.id in seen:
                reader.problem(
                    data.line_of("id"), f"entry '{entry.id}': duplicate id (first in {seen[entry.id]})"
                )
                continue
            seen[entry.id] = reader.file
            entries.append(entry)
    for file, entry_id, line, target in pending_related:
        if target not in declared:
            reader.problems.append(
                Problem(file, line, f"entry '{entry_id}': related entry '{target}' does not exist")
            )
    if not entries and not reader.problems:
        reader.problems.append(Problem(reader.file, 1, "no FAQ entries"))
    return entries


def _load_entry(
    reader: _Reader,
    data: LineDict,
    n: int,
    index: _ArticleIndex | None,
    speakers: dict[str, Speaker],
    notes: dict[str, Note],
    pending_related: list[tuple[str, str, int, str]],
) -> Entry | None:
    what = f"entry #{n + 1}"
    if not reader.fields(
        data,
        what,
        {"id", "topic", "question", "answer", "quotes"},
        {"alternates", "notes", "related", *TRANSLATION_LANGUAGES},
    ):
        return None
    entry_id = reader.identifier(data, what)
    if entry_id is None:
        return None
    what = f"entry '{entry_id}'"
    topic = reader.text(data, "topic", what)
    question = reader.text(data, "question", what)
    answer = reader.text(data, "answer", what)
    alternates = tuple(a for a, _ in reader.texts(data, "alternates", what))
    local = reader.local(data, what, ("topic", "question", "answer"), extra=("alternates",))
    if topic is not None:
        for lang, texts in local.items():
            if "topic" in texts:
                line = data[lang].line_of("topic")
                reader.consistent(
                    ("topic", lang, topic), texts["topic"], line, what, f"the {lang} name of topic {topic!r}"
                )
    translations = _load_translations(reader, data, what)
    quotes = _load_quotes(reader, data, what, index, speakers)
    entry_notes = []
    for note_id, line in reader.texts(data, "notes", what):
        if note_id in notes:
            entry_notes.append(notes[note_id])
        else:
            reader.problem(line, f"{what}: unknown note '{note_id}'")
    related = []
    for target, line in reader.texts(data, "related", what):
        if target == entry_id:
            reader.problem(line, f"{what}: an entry cannot be related to itself")
        else:
            pending_related.append((reader.file, entry_id, line, target))
            related.append(target)
    if topic is None or question is None or answer is None or quotes is None:
        return None
    return Entry(
        entry_id,
        topic,
        question,
        alternates,
        answer,
        quotes,
        tuple(entry_notes),
        tuple(related),
        translations,
        local,
    )


def _load_translations(reader: _Reader, data: LineDict, what: str) -> dict[str, tuple[str, ...]]:
    """`ru: {alternates: [...]}`, `uk: {alternates: [...]}`: phrasings in the reader's language.

    They sit in the same section as the entry's question and answer in that language, whose shape
    `_Reader.local` has already checked.
    """
    translations: dict[str, tuple[str, ...]] = {}
    for lang in TRANSLATION_LANGUAGES:
        section = data.get(lang)
        if not isinstance(section, LineDict) or "alternates" not in section:
            continue
        phrasings = []
        for text, line in reader.texts(section, "alternates", f"{what}: '{lang}'"):
            found = reads_as_other_language(text, lang)
            if found is not None:
                reader.problem(line, f"{what}: {text!r} is listed as '{lang}' but reads as '{found}'")
            else:
                phrasings.append(text)
        translations[lang] = tuple(phrasings)
    return translations


def _load_quotes(
    reader: _Reader, data: LineDict, what: str, index: _ArticleIndex | None, speakers: dict[str, Speaker]
) -> tuple[Quote, ...] | None:
    items = data.get("quotes")
    if not isinstance(items, LineList) or not items:
        reader.problem(data.line_of("quotes"), f"{what}: 'quotes' must be a non-empty list")
        return None
    quotes = []
    for position, item in enumerate(items):
        qwhat = f"{what}, quote #{position + 1}"
        quote = reader.mapping(item, items.line_of(position), qwhat)
        if quote is None or not reader.fields(
            quote, qwhat, {"text", "speaker", "channel"}, {"role", *TRANSLATION_LANGUAGES}
        ):
            continue
        text = reader.text(quote, "text", qwhat)
        speaker_id = reader.text(quote, "speaker", qwhat)
        channel = reader.text(quote, "channel", qwhat)
        role = reader.text(quote, "role", qwhat, nullable=True)
        speaker = speakers.get(speaker_id or "")
        if speaker_id and speaker is None and not reader.speakers_incomplete:
            reader.problem(quote.line_of("speaker"), f"{qwhat}: unknown speaker '{speaker_id}'")
        if text is None or speaker is None or channel is None:
            continue
        if index and not _check_quote(reader, quote, qwhat, index, speaker, speakers, text, channel, role):
            continue
        local = _quote_local(reader, quote, qwhat, speaker, text, role or speaker.role)
        quotes.append(Quote(text, speaker, role or speaker.role, channel, local))
    return tuple(quotes) if len(quotes) == len(items) else None


def _quote_local(
    reader: _Reader, quote: LineDict, what: str, speaker: Speaker, text: str, role: str | None
) -> dict[str, dict[str, str]]:
    """A quote's translation, channel and role in each language.

    The translation is the curator's rendering of the English words, kept apart from `text`: it is
    never checked against the article and never shown as the speaker's words. The role defaults to
    the speaker's own role in that language, so it is written only where the quote names another.
    """
    local = reader.local(quote, what, ("translation", "channel"), optional=("role",))
    for lang, texts in local.items():
        section = quote[lang]  # a mapping wherever `texts` holds anything
        if "translation" in texts:
            line = section.line_of("translation")
            reader.consistent(
                ("quote", lang, speaker.id, text), texts["translation"], line, what, f"the {lang} translation"
            )
        if role is None:
            if texts.pop("role", None) is not None:
                reader.problem(
                    section.line_of("role"),
                    f"{what}: '{lang}' gives a role, but the quote has none in English",
                )
        elif "role" not in texts:
            own = speaker.local.get(lang, {}).get("role")
            if role == speaker.role and own is not None:
                texts["role"] = own
            elif lang in reader.languages and role != speaker.role:
                reader.problem(
                    quote.line_of(lang),
                    f"{what}: '{lang}' needs 'role': {role!r} is not the speaker's own role",
                )
    return local


def _check_quote(
    reader: _Reader,
    quote: LineDict,
    what: str,
    index: _ArticleIndex,
    speaker: Speaker,
    speakers: dict[str, Speaker],
    text: str,
    channel: str,
    role: str | None,
) -> bool:
    """Attribution exactly as the article gives it: words, speaker, channel and role."""
    if not index.quote_lines(text):
        # Either the quote or the article text changed: name both files, the quote's with its line.
        reader.problem(
            quote.line_of("text"),
            f"{what}: not verbatim in the article: {reader.article_file} no longer contains {text!r}",
        )
        return False
    if speaker.narrator:
        # The report's own words: any verbatim passage, except one that is wholly a person's words.
        if index.direct_speech_lines(text):
            reader.problem(
                quote.line_of("text"),
                f"{what}: these words are inside the article's quotation marks, so they are a person's "
                f"words, not {speaker.name}'s; give them to the person the article quotes",
            )
            return False
        if role:
            reader.problem(
                quote.line_of("role"), f"{what}: {speaker.name} is the report itself and has no role"
            )
            return False
        return True
    lines = index.direct_speech_lines(text)
    if not lines:
        reader.problem(
            quote.line_of("text"),
            f"{what}: the article does not put these words in quotation marks, so they are not "
            f"{speaker.name}'s own words; quote them as the report's narration instead",
        )
        return False
    people = [s for s in speakers.values() if not s.narrator]
    attributions = [(line, *index.attribution(line, people)) for line in lines]
    matching = [(line, said_in) for line, named, said_in in attributions if speaker.id in named]
    if not matching:
        named = sorted({name for _, names, _ in attributions for name in names}) or ["nobody"]
        reader.problem(
            quote.line_of("speaker"),
            f"{what}: the article attributes these words to {', '.join(named)}, not to '{speaker.id}'",
        )
        return False
    if not any(index.tells_channel(channel, (line, said_in)) for line, said_in in matching):
        reader.problem(
            quote.line_of("channel"), f"{what}: the article does not say these words came {channel!r}"
        )
        return False
    if role and fold(role) not in {fold(m) for m in (*speaker.mentions, speaker.role or "")}:
        reader.problem(
            quote.line_of("role"), f"{what}: {role!r} is not how the article describes {speaker.name}"
        )
        return False
    return True


def _merge_learned(reader: _Reader, entries: list[Entry]) -> list[Entry]:
    """learned.yaml (optional, written by `python -m bot learn`): accepted wordings become alternates."""
    if not (reader.folder / "learned.yaml").is_file():
        return entries
    by_id = {e.id: e for e in entries}
    extra: dict[str, list[str]] = {}
    root = reader.open("learned.yaml")
    if root is None or (isinstance(root, LineDict) and root.get("learned") is None and "learned" in root):
        return entries
    for data, n in reader.items(root, "learned"):
        what = f"learned[{n}]"
        if not reader.fields(data, what, {"entry", "wording", "support", "accept"}):
            continue
        entry_id = reader.text(data, "entry", what)
        wording = reader.text(data, "wording", what)
        support, accept = data.get("support"), data.get("accept")
        if not isinstance(support, int) or isinstance(support, bool) or support < 0:
            reader.problem(
                data.line_of("support"), f"{what}: 'support' must be a whole number, got {_kind(support)}"
            )
        if not isinstance(accept, bool):
            reader.problem(
                data.line_of("accept"), f"{what}: 'accept' must be true or false, got {_kind(accept)}"
            )
        if entry_id is not None and entry_id not in by_id:
            reader.problem(data.line_of("entry"), f"{what}: entry '{entry_id}' does not exist")
        elif entry_id is not None and wording is not None and accept is True:
            extra.setdefault(entry_id, []).append(wording)
    return [
        replace(e, alternates=(*e.alternates, *(w for w in extra[e.id] if w not in e.alternates)))
        if e.id in extra
        else e
        for e in entries
    ]
