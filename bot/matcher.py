"""Fuzzy question matching: which FAQ entry does a reader's question ask for, and how sure are we?

Plain string scorers reward a question for sharing any word with an entry, so they cannot tell an
answer from noise. Here a question is reduced to its content words (normalised, spelling variants
folded to one form, filler words dropped, typos corrected with rapidfuzz against the knowledge
base's own vocabulary) and each indexed phrase is scored by how much of the question's *meaning*
it covers, with rare words weighing more than common ones. Words the knowledge base has never
seen weigh the most: a question about something else is mostly unknown words, and scores low.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from bot.analysis import Analyzer, cyrillic_languages, detect_language, is_cyrillic, shared_analyzer
from bot.frequencies import LANGUAGES
from bot.model import Entry, KnowledgeBase
from bot.phrase_index import SHARED, PhraseIndex
from bot.textnorm import fold
from bot.typo_index import TypoIndex

WORD_CACHE = 65536  # words remembered per process (corrections, base forms): bounded, readers type anything
MAX_QUESTION_WORDS = 60  # a question longer than this is cut: nobody asks in paragraphs
QUOTE_FACTOR = 0.9  # the article's own words are evidence, but an FAQ phrasing is a better match
FUZZY_MIN_LENGTH = 4  # shorter words are too easy to confuse to correct
SKELETON_CERTAINTY = 0.9  # a word read across the Russian and Ukrainian spellings of its letters
_SKELETON = str.maketrans({"і": "и", "ї": "и", "ы": "и", "й": "и", "є": "е", "э": "е", "ё": "е", "ґ": "г", "ь": None, "ъ": None, "'": None})
GLUED_MIN_LENGTH = 3  # each of two words typed without a space between them ("whatdid") has this many letters
REAL_WORD_ZIPF = 3.0  # a word at least this common in its language is not a typo, however close it looks
UNKNOWN_WEIGHT_BONUS = 1.25  # a rare unknown word counts more than the rarest known one
# Unknown words weigh by how rare they are in their language (wordfreq's Zipf scale): at or below
# RARE_ZIPF ("Bucha", "Zelensky", "Mariupol") the full unknown weight, at or above COMMON_ZIPF
# ("morning", "guys") a small share of it, linearly in between.
RARE_ZIPF = 3.0
COMMON_ZIPF = 5.5
COMMON_SHARE = 0.12
# A word found in more than 40 % of entries ("Russia", "Ukraine", "talks") says what the story is
# about, not which question is asked: the weight of a word in exactly 40 % of them.
SCRAP_SHARE = 0.3
SCRAP_ZIPF = 3.5  # a short word rarer than this is a typo or a scrap, not a name ("EU" is a name)
SPECIFIC_WEIGHT = math.log(1 + 1 / 0.4)
# Question words that ask for one kind of fact (a person, a time, a place, a reason). An entry none
# of whose phrasings asks it does not answer it ("When is the next round?" is not "Are the talks
# continuing?"); Russian and Ukrainian question words fold to these through the vocabulary.
# Question words and negations: their Russian and Ukrainian forms fold to these (vocabulary.yaml).
FUNCTION_WORDS = ("who", "when", "where", "why", "not")
HOLLOW_SHARE = 2 / 3  # "mostly" (see Matcher.hollow)
KEYWORD_WORDS = 2  # a question of at most this many words may be a name typed as a keyword ("the Kremlin?")
QUESTION_WORDS = ("who", "when", "where", "why")
WHICH = frozenset({"which", "какой", "какая", "какие", "який", "яка", "які"})
# Words that join two questions into one ("where and when", "коли і де"): a question word after one
# asks its own question.
JOINING = frozenset({"and", "or", "и", "или", "а", "і", "та", "й", "чи"})
# Laughter and chat noise around a question ("haha", "ахаха", "lol", "xD") carries no meaning.
_CHATTER = re.compile(
    r"^(?:a?(?:ha){2,}h?|(?:ah){2,}a?|(?:he){2,}|a?(?:ха){2,}х?|(?:ах){2,}а?|(?:хе){2,}|lo+l|lmf?ao|rofl|xd+|хд|ло+л|ке+к)$"
)
# A letter held down for emphasis ("heyyy", "sooo", "приветтт"): read as the word without the run.
_HELD_LETTER = re.compile(r"(\w)\1{2,}")


def _uninflected(word: str) -> str:
    """An English word without a plural or a final e ("authorities" -> "authorit", "promise" ->
    "promis"), the beginning its inflected forms share ("authority", "promised")."""
    for ending in ("ies", "es", "s", "e"):
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            return word[: -len(ending)]
    return word


def cyrillic_skeleton(word: str) -> str:
    """A Cyrillic word with the letters Russian and Ukrainian spell differently made one (і ї ы й
    and и, є э ё and е, ґ and г; soft and hard signs dropped)."""
    return word.translate(_SKELETON)


def fuzzy_cutoff(word: str) -> float:
    """Similarity a typo needs to be corrected (optimal string alignment: a swapped pair of letters,
    "tlaks", is one edit): one edit in a four- or five-letter word, a fifth of a longer one."""
    return 0.75 if len(word) <= 5 else 0.8


def rarity(zipf: float) -> float:
    """How much of the full unknown weight an unknown word of this frequency carries."""
    if zipf <= RARE_ZIPF:
        return 1.0
    if zipf >= COMMON_ZIPF:
        return COMMON_SHARE
    return 1.0 - (1.0 - COMMON_SHARE) * (zipf - RARE_ZIPF) / (COMMON_ZIPF - RARE_ZIPF)


def indel_cutoff(word: str) -> float:
    """The same for rapidfuzz's indel ratio (0-100), as calibrated before on tests/questions.yaml."""
    return 88.0 if len(word) <= 5 else 80.0


@dataclass(frozen=True)
class Candidate:
    """An entry with its best score and the phrase that earned it."""

    entry: Entry
    score: float
    phrase: str
    asks: bool = True  # the phrase asks every question word (who, when, where, why) the question does


@dataclass(frozen=True)
class Match:
    """What the matcher made of a question."""

    candidates: list[Candidate]
    unknown: list[str]  # content words found nowhere in the knowledge base
    specific: bool  # some known word singles out a minority of entries (not just "Ukraine", "talks")
    people: frozenset[str]  # the people the question names (their tokens)
    unknown_share: float = 0.0  # how much of the question's weight is words the knowledge never uses
    rare_unknown: tuple[str, ...] = ()  # unknown words rare in their language: names, places, terms
    lang: str = "en"
    asks: frozenset[str] = frozenset()  # the question words (who, when, where, why) it uses
    tokens: frozenset[str] = frozenset()  # every content token of the question
    # The best phrasing shares mostly question words and negations with the question, and not the
    # word it is about (see Matcher.hollow).
    hollow: bool = False


class Matcher:
    """An index over every phrasing of every entry, built once per knowledge base."""

    def __init__(self, kb: KnowledgeBase, analyzer: Analyzer | None = None) -> None:
        self.entries = kb.entries
        self.analyzer = analyzer or shared_analyzer()
        self.analyzer.prepare(LANGUAGES)  # the phrasings are in every language
        # Index words are analysed once each: a memo for the build, dropped after it, instead of
        # filling the analyzer's shared cache with them.
        self._readings = self.analyzer.memoized_readings()
        vocabulary = kb.vocabulary
        self.keep = vocabulary.keep
        self.extra_stopwords = vocabulary.stopwords
        # A word the vocabulary lists alone as another way of saying something ("willing": ready,
        # "problem": issue, "под": near) means that, even where a standard stopword list has it; but
        # one listed for a question word or the negation ("didnt", "день": when) stays the
        # question's form, as the lists have it (read as "not" and "when", such words answered one
        # more off-topic question and two fewer in-scope ones on the tuning sets).
        self._listed = frozenset(
            w for w, c in vocabulary.variants.items() if " " not in w and c not in FUNCTION_WORDS
        )
        self._stem_meaning: dict[str, str] = {}  # a shared stem -> the word whose meaning it keeps
        self._whole = self._whole_words(vocabulary.variants)
        equivalents = dict(vocabulary.variants)
        speaker_tokens: dict[str, str] = {}  # speaker id -> the token that names that person
        unnamed: set[str] = set()  # the names of speakers who are not one person ("Ukrainian authorities")
        for speaker in kb.speakers.values():
            # Every way of naming a person folds to one token: first names and scripts don't matter.
            person = len(speaker.name.split()) > 1 and all(w[:1].isupper() for w in speaker.name.split())
            canonical = fold(speaker.name).split()[-1] if person else fold(speaker.name)
            for name in (speaker.name, *speaker.mentions, *speaker.aliases):
                equivalents.setdefault(fold(name), canonical)
            if person:
                speaker_tokens[speaker.id] = canonical
            else:
                unnamed.add(canonical)
        for party in kb.parties:  # a party's names (Beijing, Türkiye) are one token; vocabulary first
            for name in party.all_names:
                if name not in vocabulary.decoys:
                    equivalents.setdefault(name, party.id)
        # Readings the analysis should prefer when a word has several ("Пескова": the name, not sand).
        self._preferred: set[str] = set()
        for phrase, canonical in equivalents.items():
            for text in (phrase, canonical):
                for word in text.split():
                    self._preferred.update(self._readings(word, detect_language(text))[:1])
                    self._preferred.add(word)
        variants: dict[tuple[str, ...], tuple[str, ...]] = {}
        for phrase, canonical in equivalents.items():
            value = self._base(canonical)
            # A Cyrillic spelling is a key in each language it may be written in: "нато" is read
            # "нато" in a Russian question and "ната" in a Ukrainian one.
            keys = (self._base(phrase), *(self._base(phrase, lang) for lang in cyrillic_languages(phrase)))
            for key in dict.fromkeys(keys):
                if key != value:
                    variants.setdefault(key, value)
        for stem, word in self._stem_meaning.items():
            variants.setdefault((stem,), variants.get((word,), (word,)))
        # Decoys name what the article does not cover: as telling as the rarest unknown word.
        self.decoys = frozenset(" ".join(self._base(d)) for d in vocabulary.decoys)
        for decoy in vocabulary.decoys:  # the decoy's own words are one token too ("how many")
            variants.setdefault(self._base(decoy), self._base(decoy))
        # A variant can start only at one of these words, and is at most this many words long (most
        # are one word: the longest variant of all would make every word try that many lengths).
        self._variant_heads: dict[str, int] = {}
        for key in variants:
            self._variant_heads[key[0]] = max(self._variant_heads.get(key[0], 0), len(key))
        # The first two words of the variants of two words or more: a longer one starts only there.
        self._variant_pairs = frozenset(key[:2] for key in variants if len(key) > 1)
        # What each variant reads as in a question, worked out once (see `_variant`); the variants
        # themselves are read only while building.
        self._variant_tokens: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._decoy_variants: set[tuple[str, ...]] = set()
        for key, value in variants.items():
            self._read_variant(key, value)
        self._word = self._word_uncached  # not remembered while the build still changes the preferences
        # Another way of naming a body ("Ukrainian officials", "украинские власти") reads as the
        # body's own name reads in a phrasing: "authorities" is "author", which the index knows as
        # what the vocabulary makes of it.
        for name in unnamed:
            as_listed = self._base(name)
            read = tuple(t for t, _ in self._content(name.split(), "en"))
            if read and read != as_listed:
                for key, value in variants.items():
                    if value == as_listed:
                        variants[key] = read
                        self._read_variant(key, read)
        self.person_tokens = frozenset(self._base(t)[0] for t in speaker_tokens.values())
        speaker_tokens = {k: self._base(t)[0] for k, t in speaker_tokens.items()}
        self.speaker_tokens = speaker_tokens  # speaker id -> the token that names that person

        raw: list[tuple[int, str, str, float]] = []
        for index, entry in enumerate(kb.entries):
            for text in (entry.question, *entry.alternates):
                raw.append((index, text, "en", 1.0))
            for lang, phrasings in entry.translations.items():
                raw.extend((index, text, lang, 1.0) for text in phrasings)
            for quote in entry.quotes:
                raw.append((index, quote.text, "en", QUOTE_FACTOR))

        surfaces = {w for _, text, _, _ in raw for w in self._words(text)}
        surfaces |= {w for phrase in equivalents for w in phrase.split()}
        # How telling a word is comes from the English phrasings; the Russian and Ukrainian ones
        # decide only for words that appear in them alone (adding a translation must not change
        # how English questions are scored).
        entry_tokens: dict[str, set[int]] = defaultdict(set)
        translated_tokens: dict[str, set[int]] = defaultdict(set)
        tokenised = []
        for index, text, lang, factor in raw:
            tokens = frozenset(t for t, _ in self._content(self._words(text), lang))
            tokenised.append((index, text, tokens, factor, lang))
            for token in tokens:
                (entry_tokens if lang == "en" else translated_tokens)[token].add(index)
        for token, ids in translated_tokens.items():
            entry_tokens.setdefault(token, ids)
        self._preferred |= set(entry_tokens)
        self.known_words = surfaces | set(vocabulary.stopwords)
        content_surfaces = {w for w in surfaces if self._base((w,))[0] in entry_tokens}
        self._content_choices = TypoIndex(content_surfaces)
        # A Cyrillic word of the knowledge base as either language might spell it ("медінскій" is
        # "мединский" with the Ukrainian і), unless words that read differently share the skeleton.
        skeletons: dict[str, set[str]] = defaultdict(set)
        for word in surfaces:
            if is_cyrillic(word):
                skeletons[cyrillic_skeleton(word)].add(word)

        def reading(word: str) -> tuple[str, ...]:
            base = self._base((word,))
            return variants.get(base, base)

        self._skeletons = {
            k: min(v) for k, v in skeletons.items() if len({reading(w) for w in v}) == 1
        }
        library_stopwords = frozenset().union(*self.analyzer.stopwords.values())
        self._filler_choices = TypoIndex((self.known_words | library_stopwords) - content_surfaces)
        # The people each entry is about: named in its phrasings, or quoted in it.
        people: dict[int, set[str]] = defaultdict(set)
        for index, _, tokens, _, _ in tokenised:
            people[index] |= tokens & self.person_tokens
        for index, entry in enumerate(kb.entries):
            people[index] |= {
                speaker_tokens[q.speaker.id] for q in entry.quotes if q.speaker.id in speaker_tokens
            }
        distinct: dict[frozenset[str], frozenset[str]] = {}  # one object per distinct set
        self.entry_people = {
            entry.id: distinct.setdefault(frozenset(people[i]), frozenset(people[i]))
            for i, entry in enumerate(kb.entries)
        }
        # The question words each entry's phrasings (any language) answer.
        self.question_words = frozenset(self._base((w,))[0] for w in QUESTION_WORDS)
        self._where_when = (self._base(("where",))[0], self._base(("when",))[0])
        self._function_tokens = frozenset(self._base((w,))[0] for w in FUNCTION_WORDS)
        # "Which official…", "which Russian minister…" ask who, as "who" does: the nouns are the last
        # words of the quoted people's roles and of the unnamed speakers' names, with their spellings.
        heads = {
            fold(text).split()[-1]
            for speaker in kb.speakers.values()
            if not speaker.narrator
            for text in (speaker.role or "", "" if speaker.id in speaker_tokens else speaker.name)
            if fold(text)
        }
        heads |= {p for p, c in equivalents.items() if " " not in p and c in heads}
        self._role_nouns = frozenset(heads | {f"{h}s" for h in heads if not is_cyrillic(h)})
        self._who = self._base(("who",))[0]
        asked: dict[int, set[str]] = defaultdict(set)
        for index, _, tokens, _, _ in tokenised:
            asked[index] |= tokens & self.question_words
        self.entry_asks = {
            entry.id: distinct.setdefault(frozenset(asked[i]), frozenset(asked[i]))
            for i, entry in enumerate(kb.entries)
        }
        count = max(len(kb.entries), 1)
        self.idf = {t: math.log(1 + count / len(ids)) for t, ids in entry_tokens.items()}
        self.name_tokens = self._names(kb, frozenset(self.idf))
        self.unknown_weight = max(self.idf.values(), default=1.0) * UNKNOWN_WEIGHT_BONUS

        # Every phrasing in compact arrays (see bot.phrase_index). English phrasings (and the
        # article's quotes) serve every question; a Russian or Ukrainian one its own language only.
        self.index = PhraseIndex()
        for index, text, tokens, factor, lang in tokenised:
            if tokens:
                weight = math.fsum(self.idf[t] for t in tokens)  # exact: the same in any set order
                self.index.add(index, text, tokens, weight, factor, SHARED if lang == "en" else lang)
        self.index.freeze(len(kb.entries))
        self.phrases = self.index.texts
        # Entries whose own question asks who someone is ("Who is Dmitry Peskov?"), read as a question
        # is (every word of it is the knowledge's own, so no typo correction), with the build's memo
        # rather than the analyzer's shared caches: filled with every entry's words, they would
        # hold more memory than the index.
        who = self.question_words & {token for token, _ in self._content(["who"], "en")}
        self.about_who = frozenset(
            entry.id for entry in kb.entries if who & {t for t, _ in self._content(self._words(entry.question), "en")}
        )
        self._readings = self.analyzer.readings
        self._caches()

    def _caches(self) -> None:
        """This process's memos of what the built matcher makes of one word (bounded)."""
        self._correct = lru_cache(maxsize=WORD_CACHE)(self._correct_uncached)
        self._glued = lru_cache(maxsize=WORD_CACHE)(self._correct_glued)  # what each word is read as
        self._word = lru_cache(maxsize=WORD_CACHE)(self._word_uncached)

    # The built index can be kept on disk (bot.engine_cache); the analyzer and caches are this process's.
    _UNPICKLED = ("analyzer", "_readings", "_correct", "_glued", "_word")

    def __getstate__(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k not in self._UNPICKLED}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self.analyzer = shared_analyzer()
        self._readings = self.analyzer.readings
        self._caches()

    def _names(self, kb: KnowledgeBase, known: frozenset[str]) -> frozenset[str]:
        """Tokens that name a place, a body or a party, not a person: the parties' one-word names and
        the words the article writes with a capital letter inside a sentence and never without
        ("China", "Afghanistan", "TASS", "Istanbul"). Such a name says what a question is about,
        not what it asks."""
        words = {name for party in kb.parties for name in party.names if " " not in name}
        text = kb.article.text.split()
        lower = {word for word in text if word[:1].islower()}
        for previous, word in itertools.pairwise(text):
            if word[:1].isupper() and not previous.endswith((".", "!", "?", ":", "“", ".”", "!”", "?”")):
                words.add(fold(word))
        words -= {fold(word) for word in lower}
        words -= {w for speaker in kb.speakers.values() for w in fold(speaker.role or "").split()}  # titles
        tokens = {t for word in words if word for t, _ in self._content(word.split(), "en")}
        return frozenset(tokens & known) - self.person_tokens

    # -- analysis -----------------------------------------------------------------------------

    @staticmethod
    def _words(text: str) -> list[str]:
        return fold(text).split()[:MAX_QUESTION_WORDS]

    def _whole_words(self, variants: dict[str, str]) -> dict[str, tuple[tuple[str, str], ...]]:
        """English words the vocabulary lists for different meanings that Snowball cuts to one stem
        ("promise" and "promising", "position" and "positive", "negotiations" and "negotiator"):
        by stem, each word's inflection-free beginning and the word, longest first. Such a word,
        and a word that begins as it does and has its stem, is read whole (see `_lemma`); another
        word of the stem ("negotiating") keeps the stem, which means what the first of them listed means."""
        meanings: dict[str, dict[str, str]] = defaultdict(dict)  # stem -> word -> its canonical form
        for phrase, canonical in variants.items():
            for word in (canonical, phrase):
                if " " not in word and word.isascii() and word.isalpha():
                    meanings[self._readings(word, "en")[0]].setdefault(word, canonical)
        whole: dict[str, tuple[tuple[str, str], ...]] = {}
        for stem, words in meanings.items():
            if len(set(words.values())) > 1:
                heads = {_uninflected(word): word for word in words}
                whole[stem] = tuple(sorted(heads.items(), key=lambda item: -len(item[0])))
                if stem not in words:  # "hope" is its own stem, and means what it is listed for
                    self._stem_meaning[stem] = next(iter(words))
        return whole

    def _lemma(self, word: str, lang: str) -> str:
        """The word's base form; of several readings, the one the knowledge base uses."""
        readings = self._readings(word, lang)
        if self._whole and readings[0] in self._whole and not is_cyrillic(word):
            for head, whole in self._whole[readings[0]]:
                if word.startswith(head):
                    return whole
        if len(readings) > 1:
            for reading in readings:
                if reading in self._preferred:
                    return reading
        return readings[0]

    def _base(self, words: tuple[str, ...] | str, lang: str | None = None) -> tuple[str, ...]:
        """Base forms of a phrase (a variant table's key or value), each word in its own script,
        read in `lang` or else the language the phrase is detected to be in."""
        if isinstance(words, str):
            words = tuple(words.split())
        lang = lang or detect_language(" ".join(words))
        return tuple(self._lemma(w, lang) for w in words)

    def _is_filler(self, word: str, lemma: str, lang: str) -> bool:
        if word in self.keep or lemma in self.keep or word in self._listed:
            return False
        if word in self.extra_stopwords or lemma in self.extra_stopwords or _CHATTER.match(word):
            return True
        if self.analyzer.is_stopword(word, lang):
            return True
        # A Russian or Ukrainian base form is a word too ("сказал" -> "сказать"); an English stem
        # is not ("founded" -> "found").
        return is_cyrillic(word) and self.analyzer.is_stopword(lemma, lang)

    def _word_uncached(self, word: str, lang: str) -> tuple[str, bool]:
        """A word's base form, and whether it is filler."""
        lemma = self._lemma(word, lang)
        return lemma, self._is_filler(word, lemma, lang)

    def _content(self, words: list[str], lang: str) -> list[tuple[str, str]]:
        """(base form, surface word) of each content word: variants folded (longest first), filler dropped."""
        read = [self._word(w, lang) for w in words]
        lemmas = [lemma for lemma, _ in read]
        out: list[tuple[str, str]] = []
        i = 0
        while i < len(lemmas):
            lemma, filler = read[i]
            size = self._variant(lemmas, i, filler, out) if lemma in self._variant_heads else 0
            if size:
                i += size
                continue
            if not filler:
                out.append((lemmas[i], words[i]))
            i += 1
        return out

    def _read_variant(self, key: tuple[str, ...], canonical: tuple[str, ...]) -> None:
        """What a variant reads as in a question (`_variant`), from what it means (`canonical`): a
        decoy is one token, never filler; other variants their canonical words without the filler ones."""
        joined = " ".join(canonical)
        decoy = joined in self.decoys
        if decoy and canonical:
            self._decoy_variants.add(key)
        else:
            self._decoy_variants.discard(key)
        content = tuple(c for c in canonical if not self._is_filler(c, c, "en"))
        self._variant_tokens[key] = (joined,) if decoy else canonical if content == canonical else content

    def _variant(self, lemmas: list[str], i: int, filler: bool, out: list[tuple[str, str]]) -> int:
        """The longest variant starting at lemmas[i], its tokens added to `out`: its length in words
        (0 if none starts there)."""
        # A filler word alone is never a variant of something ("like" is not "likely"), but may be
        # a decoy ("скільки": how many).
        smallest = 1 if filler and (lemmas[i],) not in self._decoy_variants else 0
        longest = min(self._variant_heads[lemmas[i]], len(lemmas) - i)
        if longest > 1 and tuple(lemmas[i : i + 2]) not in self._variant_pairs:
            longest = 1  # (most words) no longer variant starts with these two
        for size in range(longest, smallest, -1):
            tokens = self._variant_tokens.get(tuple(lemmas[i : i + size]))
            if tokens is not None:
                out.extend(zip(tokens, tokens, strict=True))  # each token is its own surface word
                return size
        return 0

    @staticmethod
    def prepare_typos() -> None:
        """Import rapidfuzz's scorers now, not inside the first answer with a misspelt word."""
        TypoIndex.prepare()

    def _correct_uncached(self, word: str, lang: str) -> tuple[str, float]:
        """The knowledge base's own word this one was probably meant to be, and how sure."""
        if word in self.known_words or len(word) < FUZZY_MIN_LENGTH or word.isdecimal():
            return word, 1.0
        held = _HELD_LETTER.sub(r"\1", word)
        if held != word and not held.isdecimal():
            return self._correct(held, lang)
        if self._lemma(word, lang) in self.idf:
            return word, 1.0  # an inflected form of a word the knowledge uses
        if self.analyzer.zipf(word, lang) >= REAL_WORD_ZIPF:
            return word, 1.0  # "weather" is not a typo of "whether": it is a word we don't know
        if self.analyzer.in_dictionary(word, lang):
            return word, 1.0  # "буче" (Bucha) is not a typo of "буде": the dictionary knows it
        # A meaningful word first: "pleasde" is "pleased", not the filler word "please".
        for choices in (self._content_choices, self._filler_choices):
            # Two measures: optimal string alignment counts a swapped pair of letters ("tlaks") as
            # one edit; indel similarity forgives a dropped or doubled letter ("breakthru", "tallks").
            swapped, dropped = choices.closest_typo(word, fuzzy_cutoff(word), indel_cutoff(word))
            found = max(
                (
                    f
                    for f in (
                        (swapped and (swapped[0], swapped[1])),
                        (dropped and (dropped[0], dropped[1] / 100)),
                    )
                    if f
                ),
                key=lambda f: f[1],
                default=None,
            )
            if found is not None and is_cyrillic(found[0]) == is_cyrillic(word):
                return found[0], found[1]
        same = self._skeletons.get(cyrillic_skeleton(word)) if is_cyrillic(word) else None
        if same is not None and lang in cyrillic_languages(same):
            return same, SKELETON_CERTAINTY
        return word, 1.0

    def _correct_glued(self, word: str, lang: str) -> tuple[tuple[str, float], ...]:
        """Two words typed without the space between them ("whatdid", "kremlinsaid") are read as
        the two when no single word is near; any other word as `_correct` reads it."""
        found = self._correct(word, lang)
        if found[0] != word or len(word) < 2 * GLUED_MIN_LENGTH or word in self.known_words:
            return (found,)  # a typo of one word ("setled", "breakthru"), a known word, or too short to cut
        if self.analyzer.zipf(word, lang) >= REAL_WORD_ZIPF or self.analyzer.in_dictionary(word, lang):
            return (found,)
        best: tuple[float, int] | None = None
        for cut in range(GLUED_MIN_LENGTH, len(word) - GLUED_MIN_LENGTH + 1):
            left, right = word[:cut], word[cut:]
            if self._is_word(left, lang) and self._is_word(right, lang):
                common = min(self.analyzer.zipf(left, lang), self.analyzer.zipf(right, lang))
                if best is None or common > best[0]:
                    best = (common, cut)
        if best is None:
            return (found,)
        return ((word[: best[1]], 1.0), (word[best[1] :], 1.0))

    def _is_word(self, word: str, lang: str) -> bool:
        """A word of the knowledge base or of the language's stopword list."""
        return word in self.known_words or self.analyzer.is_stopword(word, lang)

    def corrected(self, word: str, lang: str) -> str:
        """The knowledge base's own word a folded word was probably meant to be ("мединскй": "мединский")."""
        return self._correct(word, lang)[0]

    def analyse(self, question: str, lang: str | None = None) -> list[tuple[str, float, float]]:
        """The question's content tokens as (token, weight, certainty), duplicates removed."""
        return self._analyse(question, lang or detect_language(question))[0]

    def _analyse(
        self, question: str, lang: str, folded: str | None = None
    ) -> tuple[list[tuple[str, float, float]], list[str]]:
        words = self._words(question) if folded is None else folded.split()[:MAX_QUESTION_WORDS]
        known, glued = self.known_words, self._glued
        corrected: list[tuple[str, float]] = []
        for word in words:  # the knowledge's own words are read as written (most: no cache to ask)
            if word in known:
                corrected.append((word, 1.0))
            else:
                corrected.extend(glued(word, lang))
        certainty = min((sure for _, sure in corrected), default=1.0)
        tokens: dict[str, float] = {}
        rare: list[str] = []
        for token, surface in self._content([word for word, _ in corrected], lang):
            if token in tokens:
                continue
            if token in self.idf:
                tokens[token] = self.idf[token]
                continue
            if token in self.decoys or token.isdecimal():
                rare.append(token)  # something the article does not cover, or a number it lacks
                tokens[token] = self.unknown_weight
                continue
            zipf = self.analyzer.zipf(surface, lang)
            scrap = len(token) <= 3 and zipf < SCRAP_ZIPF
            if zipf <= RARE_ZIPF and not scrap:
                rare.append(token)
            # An unknown scrap of up to three letters ("th" of a cut-off word, "wer", "iz") says less.
            share = rarity(zipf) * SCRAP_SHARE if scrap else rarity(zipf)
            tokens[token] = self.unknown_weight * share
        # A corrected typo makes the whole reading a little less certain.
        if self._who in self.idf and self._who not in tokens and self._asks_which_person(words, lang):
            tokens[self._who] = self.idf[self._who]
        return [(t, w, certainty) for t, w in tokens.items()], rare

    def _at_the_time(self, words: list[str], lang: str) -> bool:
        """ "where" and, after it with no word joining them, "when": the place of something at the
        time of something else ("где был Лавров, когда всё это говорил?", "Де перебував Лавров, коли
        робив ці заяви?"), where the "when" asks no time ("коли Лавров це сказав і де" asks both)."""
        where, when = self._where_when
        after_where = False
        for word in words:
            if word in JOINING:
                after_where = False
                continue
            read = [token for token, _ in self._content([word], lang)]
            if read == [where]:
                after_where = True
            elif read == [when] and after_where:
                return True
        return False

    def _asks_which_person(self, words: list[str], lang: str) -> bool:
        """ "which" and, within three more words, a noun for one of the quoted people ("Which
        Kremlin official made the comment?", "какой чиновник")."""

        def role(word: str) -> bool:
            return word in self._role_nouns or (is_cyrillic(word) and self._lemma(word, lang) in self._role_nouns)

        if WHICH.isdisjoint(words):  # (most questions)
            return False
        return any(word in WHICH and any(role(w) for w in words[i + 1 : i + 4]) for i, word in enumerate(words))

    # -- ranking ------------------------------------------------------------------------------

    def rank(self, question: str, limit: int = 5) -> list[Candidate]:
        """Entries ordered by score (0-100), best first, at most one candidate per entry."""
        return self.match(question, limit).candidates

    def match(
        self,
        question: str,
        limit: int = 5,
        lang: str | None = None,
        exhaustive: bool = False,
        folded: str | None = None,
    ) -> Match:
        """Ranked candidates, plus what the engine needs to judge how far to trust them.

        `lang` is the question's language and `folded` its folded text (`textnorm.fold`) when the
        caller has them already; `exhaustive`
        scores every phrasing that shares a word (the reference the pruned search must agree with)."""
        lang = lang or detect_language(question)
        folded = fold(question) if folded is None else folded  # once: the analysis and the word count read it
        tokens, rare = self._analyse(question, lang, folded)
        unknown = [token for token, _, _ in tokens if token not in self.idf]
        known = [token for token, _, _ in tokens if token in self.idf]
        # A name and words we drop ("китай за нас или как?", "best things to see in Beijing") asks
        # something we cannot read about what the name's entries say; a name typed alone ("AFP",
        # "Istanbul?") asks for them.
        bare = len(known) == 1 and known[0] in self.name_tokens and len(folded.split()) > KEYWORD_WORDS
        specific = not bare and any(
            weight >= SPECIFIC_WEIGHT for token, weight, _ in tokens if token in self.idf
        )
        people = frozenset(token for token, _, _ in tokens if token in self.person_tokens)
        asks = frozenset(token for token, _, _ in tokens if token in self.question_words)
        if all(t in asks for t in self._where_when) and self._at_the_time(folded.split()[:MAX_QUESTION_WORDS], lang):
            asks -= {self._where_when[1]}
        total = sum(weight for _, weight, _ in tokens)
        if total <= 0:
            return Match(
                [], unknown, specific, people, 1.0 if unknown else 0.0, tuple(rare), lang, asks, frozenset(unknown)
            )
        certainty = tokens[0][2]  # one certainty for the whole reading (see analyse)
        query = self.index.query((token, weight) for token, weight, _ in tokens)
        search = self.index.rank_exhaustive if exhaustive else self.index.rank
        ranked = search(query, certainty / total, lang, limit)
        asked = frozenset(self.index.token_ids[t] for t in asks if t in self.index.token_ids)
        candidates = [
            Candidate(self.entries[entry], round(score, 2), self.phrases[phrasing], self._holds(phrasing, asked))
            for entry, score, phrasing in ranked
        ]
        unknown_share = sum(w for t, w, _ in tokens if t not in self.idf) / total
        named = frozenset(token for token, _, _ in tokens)
        hollow = bool(ranked) and self.hollow(tokens, ranked[0][2])
        return Match(candidates, unknown, specific, people, unknown_share, tuple(rare), lang, asks, named, hollow)

    def _holds(self, phrasing: int, token_ids: frozenset[int]) -> bool:
        """Whether a phrasing of the index holds every one of the token ids (most questions ask for
        none or one: no set of the phrasing's tokens is made)."""
        if not token_ids:
            return True
        held = self.index.held(phrasing)
        return all(map(held.__contains__, token_ids))

    def _held(self, phrasing: int) -> set[int]:
        """The token ids of one phrasing of the index."""
        return set(self.index.held(phrasing))

    def _missed(self, tokens: list[tuple[str, float, float]], phrasing: int) -> frozenset[str]:
        """The question's known tokens, other than question words and negations, a phrasing lacks."""
        held, ids = self._held(phrasing), self.index.token_ids
        return frozenset(
            t for t, _, _ in tokens if t in self.idf and t not in self._function_tokens and ids.get(t, -1) not in held
        )

    def hollow(self, tokens: list[tuple[str, float, float]], phrasing: int) -> bool:
        """Whether a phrasing (its number in the index) shares with the question mostly (over
        HOLLOW_SHARE of the weight) the question words and negations kept from the stopword lists
        ("why", "not", "чому", "ні"), while a known word the question is about is not in it: "Та
        вони ж ніколи не домовляться, навіщо це все?" is not "Why won't Peskov give details?"."""
        if not self._function_tokens & {t for t, _, _ in tokens}:
            return False
        held, ids = self._held(phrasing), self.index.token_ids
        shared = {t for t, _, _ in tokens if ids.get(t, -1) in held}
        weight = sum(w for t, w, _ in tokens if t in shared)
        function = sum(w for t, w, _ in tokens if t in shared and t in self._function_tokens)
        return weight > 0 and function > HOLLOW_SHARE * weight and bool(self._missed(tokens, phrasing))
