"""Keep vocabulary.yaml honest: nothing in it that the language libraries already do.

`python -m bot check` runs this after the knowledge has loaded. It refuses, with file and line:
a variant the analysis already merges with its canonical form or with another listed variant
("negotiations" beside "negotiation"), a stopword the standard list already has, a name that
speakers.yaml or parties.yaml already spells, and a keep word no library list would drop; and in
the FAQ an alternate that is one bare name of a place, body or party ("china", "tass"), which would
make any question that mentions the name and nothing else the knowledge knows a perfect match;
and it lists, without refusing, phrasings of two entries that the analysis reads as the same words
("будут ли ещё переговоры" and "что там по переговорам" were both just "talks" once the stopwords
went), which can only end in "did you mean" between them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bot.analysis import Analyzer, detect_language
from bot.loader import TRANSLATION_LANGUAGES, Problem
from bot.model import KnowledgeBase
from bot.textnorm import fold
from bot.yaml_lines import LineDict, LineList, load_yaml

if TYPE_CHECKING:
    from bot.matcher import Matcher

VOCABULARY = "vocabulary.yaml"


def bare_name_alternates(folder: Path, matcher: Matcher) -> list[Problem]:
    """One-word alternates (any language) that read as nothing but a name (`Matcher.name_tokens`):
    "best things to see in Beijing" would score 100 against "china". A name is a subject, not a
    question; the entry's other phrasings put it in one."""
    problems: list[Problem] = []
    for file, entry_id, lang, line, text, alternate in _phrasings(folder):
        if not alternate or len(fold(text).split()) != 1:
            continue
        tokens = {t for t, _, _ in matcher.analyse(text, lang)}
        if len(tokens) == 1 and tokens <= matcher.name_tokens:
            problems.append(
                Problem(
                    file,
                    line,
                    f"alternate {text!r} of {entry_id!r} is a bare name: it says what a question "
                    "is about, not what it asks (write it into a question)",
                )
            )
    return problems


def _phrasings(folder: Path) -> list[tuple[str, str, str, int, str, bool]]:
    """Every curated phrasing as (file, entry id, language, line, text, whether an alternate): the
    questions and alternates of each language section of faq*.yaml."""
    found: list[tuple[str, str, str, int, str, bool]] = []
    for path in sorted(folder.glob("faq*.yaml")):
        data = load_yaml(path)
        entries = data.get("entries") if isinstance(data, LineDict) else None
        file = str(Path(folder.name) / path.name)
        for entry in entries if isinstance(entries, LineList) else ():
            if not isinstance(entry, LineDict):
                continue
            sections = [("en", entry)] + [
                (k, v) for k, v in entry.items() if k in TRANSLATION_LANGUAGES and isinstance(v, LineDict)
            ]
            entry_id = str(entry.get("id"))
            for lang, section in sections:
                if isinstance(section.get("question"), str):
                    found.append((file, entry_id, lang, section.line_of("question"), section["question"], False))
                alternates = section.get("alternates")
                for position, text in enumerate(alternates if isinstance(alternates, LineList) else ()):
                    found.append((file, entry_id, lang, alternates.line_of(position), str(text), True))
    return found


def indistinct_phrasings(folder: Path, matcher: Matcher) -> list[Problem]:
    """Phrasings of different entries that read as the same words in one language: a question in
    those words ties them, and the reader only ever gets "did you mean". The curator rewords one so
    that the words telling them apart survive the analysis (a stopword list drops "ещё", "будут"),
    drops the one that belongs to the other entry, or keeps both where either answer would do and
    "did you mean" is the honest reply. The article's quotes, shown by several entries on purpose,
    are not phrasings a curator wrote and are not compared."""
    first: dict[tuple[str, frozenset[str]], tuple[str, str]] = {}
    problems: list[Problem] = []
    for file, entry_id, lang, line, text, _ in _phrasings(folder):
        tokens = frozenset(t for t, _, _ in matcher.analyse(text, lang))
        if not tokens:
            continue
        key = (lang, tokens)
        seen = first.setdefault(key, (entry_id, text))
        if seen[0] != entry_id:
            problems.append(
                Problem(
                    file,
                    line,
                    f"{text!r} of {entry_id!r} reads as the same words as {seen[1]!r} of {seen[0]!r} "
                    f"({' '.join(sorted(tokens))}): a question in them gets \"did you mean\" between the two "
                    "(reword one so the words that tell them apart count, or drop it, unless either answer would do)",
                )
            )
    return problems


def vocabulary_problems(folder: Path, kb: KnowledgeBase, analyzer: Analyzer) -> list[Problem]:
    """Everything in vocabulary.yaml that a library or another knowledge file already covers."""
    data = load_yaml(folder / VOCABULARY)
    if not isinstance(data, LineDict):
        return []
    file = str(Path(folder.name) / VOCABULARY)
    problems: list[Problem] = []

    def base(phrase: str) -> tuple[str, ...]:
        lang = detect_language(phrase)
        return analyzer.base_forms(fold(phrase).split(), lang)

    def listed(word: str) -> bool:
        lang = detect_language(word)
        first = analyzer.readings(word, lang)[0]
        return analyzer.is_stopword(word, lang) or (lang != "en" and analyzer.is_stopword(first, lang))

    names = {fold(n) for s in kb.speakers.values() for n in (s.name, *s.mentions, *s.aliases)}
    names |= {n for party in kb.parties for n in party.all_names}
    for key in ("stopwords", "keep"):
        items = data.get(key)
        if not isinstance(items, LineList):
            continue
        for position, item in enumerate(items):
            word = fold(str(item))
            if key == "stopwords" and " " not in word and listed(word):
                problems.append(
                    Problem(file, items.line_of(position), f"stopword {item!r}: the standard list has it")
                )
            if key == "keep" and not listed(word):
                problems.append(
                    Problem(file, items.line_of(position), f"keep {item!r}: no standard list drops it")
                )
    for section in ("variants", "synonyms", "decoys"):
        table = data.get(section)
        if not isinstance(table, LineDict):
            continue
        for canonical, spellings in table.items():
            if not isinstance(spellings, LineList):
                continue
            seen = {base(str(canonical)): str(canonical)}
            for position, spelling in enumerate(spellings):
                line, text = spellings.line_of(position), str(spelling)
                if fold(text) in names:
                    problems.append(
                        Problem(file, line, f"{section}: {text!r} is already a name in speakers or parties")
                    )
                    continue
                merged = seen.get(base(text))
                if merged is not None:
                    problems.append(
                        Problem(file, line, f"{section}: {text!r} needs no listing: the analysis reads it as {merged!r}")
                    )
                    continue
                seen[base(text)] = text
    # Opinion phrases are matched as the analysis reads them: two that read alike are one.
    phrases = data.get("opinion")
    if isinstance(phrases, LineList):
        read: dict[tuple[str, ...], str] = {}
        for position, phrase in enumerate(phrases):
            text = str(phrase)
            earlier = read.setdefault(base(text), text)
            if earlier != text:
                problems.append(
                    Problem(file, phrases.line_of(position), f"opinion: {text!r} reads as {earlier!r}, listed before it")
                )
    return problems
