"""Fuzzy question matching: which FAQ entry does a reader's question ask for, and how sure are we?

Plain string scorers reward a question for sharing any word with an entry, so they cannot tell an
answer from noise. Here a question is reduced to its content words (normalised, spelling variants
folded to one form, filler words dropped, typos corrected with rapidfuzz against the knowledge
base's own vocabulary) and each indexed phrase is scored by how much of the question's *meaning*
it covers, with rare words weighing more than common ones. Words the knowledge base has never
seen weigh the most: a question about something else is mostly unknown words, and scores low.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process
from wordfreq import zipf_frequency

from bot.model import Entry, KnowledgeBase
from bot.textnorm import fold, stem

MAX_QUESTION_WORDS = 60  # a question longer than this is cut: nobody asks in paragraphs
RECALL_EXPONENT = 0.7  # how much of the question a phrase explains ...
PRECISION_EXPONENT = 0.3  # ... matters more than how much of the phrase the question uses
QUOTE_FACTOR = 0.9  # the article's own words are evidence, but an FAQ phrasing is a better match
FUZZY_MIN_LENGTH = 4  # shorter words are too easy to confuse to correct
REAL_WORD_ZIPF = 3.0  # an English word at least this common is not a typo, however close it looks
UNKNOWN_WEIGHT_BONUS = 1.25  # an unknown word counts more than the rarest known one
# A word found in more than 40 % of entries ("Russia", "Ukraine", "talks") says what the story is
# about, not which question is asked: the weight of a word in exactly 40 % of them.
SPECIFIC_WEIGHT = math.log(1 + 1 / 0.4)


def fuzzy_cutoff(word: str) -> float:
    """Similarity a typo needs to be corrected: stricter for short words."""
    return 88.0 if len(word) <= 5 else 80.0


def _stems(phrase: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in phrase.split())


@dataclass(frozen=True)
class Candidate:
    """An entry with its best score and the phrase that earned it."""

    entry: Entry
    score: float
    phrase: str


@dataclass(frozen=True)
class Match:
    """What the matcher made of a question."""

    candidates: list[Candidate]
    unknown: list[str]  # content words found nowhere in the knowledge base
    specific: bool  # some known word singles out a minority of entries (not just "Ukraine", "talks")
    people: frozenset[str]  # the people the question names (their tokens)
    unknown_share: float = 0.0  # how much of the question's weight is words the knowledge never uses


class Matcher:
    """An index over every phrasing of every entry, built once per knowledge base."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.entries = kb.entries
        self.stopwords = frozenset(stem(w) for w in kb.vocabulary.stopwords)
        equivalents = dict(kb.vocabulary.variants)
        speaker_tokens: dict[str, str] = {}  # speaker id -> the token that names that person
        for speaker in kb.speakers.values():
            # Every way of naming a person folds to one token: first names and scripts don't matter.
            person = len(speaker.name.split()) > 1 and all(w[:1].isupper() for w in speaker.name.split())
            canonical = fold(speaker.name).split()[-1] if person else fold(speaker.name)
            for name in (speaker.name, *speaker.aliases):
                equivalents.setdefault(fold(name), canonical)
            if person:
                speaker_tokens[speaker.id] = stem(canonical)
        self.person_tokens = frozenset(speaker_tokens.values())
        # Keyed by stemmed words, so "shelled", "shelling" and "shells" all find "shell".
        self.variants = {_stems(k): _stems(v) for k, v in equivalents.items() if _stems(k) != _stems(v)}
        self._max_variant_words = max((len(k) for k in self.variants), default=1)

        raw: list[tuple[int, str, list[str], float]] = []
        for index, entry in enumerate(kb.entries):
            for text in (entry.question, *entry.alternates):
                raw.append((index, text, self._words(text), 1.0))
            for quote in entry.quotes:
                raw.append((index, quote.text, self._words(quote.text), QUOTE_FACTOR))

        self.known_words = {w for _, _, words, _ in raw for w in words} | set(kb.vocabulary.stopwords)
        self.known_words |= {w for phrase in equivalents for w in phrase.split()}
        fillers = set(kb.vocabulary.stopwords)
        self._content_choices = sorted(self.known_words - fillers)
        self._filler_choices = sorted(fillers)

        entry_tokens: dict[str, set[int]] = defaultdict(set)
        tokenised = []
        for index, text, words, factor in raw:
            tokens = frozenset(self._content(words))
            tokenised.append((index, text, tokens, factor))
            for token in tokens:
                entry_tokens[token].add(index)
        # The people each entry is about: named in its phrasings, or quoted in it.
        people: dict[int, set[str]] = defaultdict(set)
        for index, _, tokens, _ in tokenised:
            people[index] |= tokens & self.person_tokens
        for index, entry in enumerate(kb.entries):
            people[index] |= {
                speaker_tokens[q.speaker.id] for q in entry.quotes if q.speaker.id in speaker_tokens
            }
        self.entry_people = {entry.id: frozenset(people[i]) for i, entry in enumerate(kb.entries)}
        count = max(len(kb.entries), 1)
        self.idf = {t: math.log(1 + count / len(ids)) for t, ids in entry_tokens.items()}
        self.unknown_weight = max(self.idf.values(), default=1.0) * UNKNOWN_WEIGHT_BONUS

        # One phrasing per position in these parallel lists (plain lists: the ranking loop is hot).
        self.phrases: list[str] = []
        self._phrase_weights: list[float] = []
        self._phrase_factors: list[float] = []
        self._phrase_entries: list[int] = []
        self.postings: dict[str, list[int]] = defaultdict(list)
        for index, text, tokens, factor in tokenised:
            if not tokens:
                continue
            for token in tokens:
                self.postings[token].append(len(self.phrases))
            self.phrases.append(text)
            self._phrase_weights.append(sum(self.idf[t] for t in tokens))
            self._phrase_factors.append(factor)
            self._phrase_entries.append(index)
        self._correct = lru_cache(maxsize=65536)(self._correct_uncached)

    # -- analysis -----------------------------------------------------------------------------

    @staticmethod
    def _words(text: str) -> list[str]:
        return fold(text).split()[:MAX_QUESTION_WORDS]

    def _content(self, words: list[str]) -> list[str]:
        """Stemmed words, variants folded to their canonical form (longest first), filler dropped."""
        stems = [stem(w) for w in words]
        out: list[str] = []
        i = 0
        while i < len(stems):
            for size in range(min(self._max_variant_words, len(stems) - i), 0, -1):
                canonical = self.variants.get(tuple(stems[i : i + size]))
                if canonical is not None:
                    out.extend(canonical)
                    i += size
                    break
            else:
                out.append(stems[i])
                i += 1
        return [t for t in out if t not in self.stopwords]

    def _correct_uncached(self, word: str) -> tuple[str, float]:
        """The knowledge base's own word this one was probably meant to be, and how sure."""
        if word in self.known_words or len(word) < FUZZY_MIN_LENGTH or word.isdecimal():
            return word, 1.0
        if word.isascii() and zipf_frequency(word, "en") >= REAL_WORD_ZIPF:
            return word, 1.0  # "weather" is not a typo of "whether": it is a word we don't know
        # A meaningful word first: "pleasde" is "pleased", not the filler word "please".
        for choices in (self._content_choices, self._filler_choices):
            found = process.extractOne(word, choices, scorer=fuzz.ratio, score_cutoff=fuzzy_cutoff(word))
            if found is not None:
                return found[0], found[1] / 100.0
        return word, 1.0

    def analyse(self, question: str) -> list[tuple[str, float, float]]:
        """The question's content tokens as (token, weight, certainty), duplicates removed."""
        corrected = [self._correct(w) for w in self._words(question)]
        certainty = min((sure for _, sure in corrected), default=1.0)
        tokens: dict[str, float] = {}
        for token in self._content([word for word, _ in corrected]):
            # An unknown scrap of one or two letters ("th" of a cut-off word) says less than a word.
            unknown = self.unknown_weight if len(token) > 2 else self.unknown_weight / 2
            tokens.setdefault(token, self.idf.get(token, unknown))
        # A corrected typo makes the whole reading a little less certain.
        return [(t, w, certainty) for t, w in tokens.items()]

    # -- ranking ------------------------------------------------------------------------------

    def rank(self, question: str, limit: int = 5) -> list[Candidate]:
        """Entries ordered by score (0-100), best first, at most one candidate per entry."""
        return self.match(question, limit).candidates

    def match(self, question: str, limit: int = 5) -> Match:
        """Ranked candidates, plus what the engine needs to judge how far to trust them."""
        tokens = self.analyse(question)
        unknown = [token for token, _, _ in tokens if token not in self.idf]
        specific = any(weight >= SPECIFIC_WEIGHT for token, weight, _ in tokens if token in self.idf)
        people = frozenset(token for token, _, _ in tokens if token in self.person_tokens)
        total = sum(weight for _, weight, _ in tokens)
        if total <= 0:
            return Match([], unknown, specific, people, 1.0 if unknown else 0.0)
        # Hot path (thousands of phrases on a large knowledge base): plain dicts and locals only.
        shared: dict[int, float] = {}
        get = shared.get
        for token, weight, _ in tokens:
            for phrase_index in self.postings.get(token, ()):
                shared[phrase_index] = get(phrase_index, 0.0) + weight
        certainty = tokens[0][2]  # one certainty for the whole reading (see analyse)
        scale = certainty / total
        weights, factors, owners = self._phrase_weights, self._phrase_factors, self._phrase_entries
        best: dict[int, float] = {}
        best_phrase: dict[int, int] = {}
        support: dict[int, float] = {}
        for phrase_index, overlap in shared.items():
            entry = owners[phrase_index]
            precision = overlap / weights[phrase_index]
            score = (
                100.0
                * factors[phrase_index]
                * (overlap * scale) ** RECALL_EXPONENT
                * (precision if precision < 1.0 else 1.0) ** PRECISION_EXPONENT
            )
            support[entry] = support.get(entry, 0.0) + score
            if score > best.get(entry, -1.0):
                best[entry] = score
                best_phrase[entry] = phrase_index
        # Equal best scores (a quote two entries share) are settled by how many phrasings agree.
        top = heapq.nlargest(limit, best, key=lambda e: (round(best[e], 2), support[e], -e))
        candidates = [
            Candidate(self.entries[e], round(best[e], 2), self.phrases[best_phrase[e]]) for e in top
        ]
        unknown_share = sum(w for t, w, _ in tokens if t not in self.idf) / total
        return Match(candidates, unknown, specific, people, unknown_share)
