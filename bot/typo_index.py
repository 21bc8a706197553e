"""The knowledge base's words as typo candidates: the closest one to a misspelt word, found fast.

rapidfuzz's `extractOne` over every word of a plausible length costs 5-10 ms at 100,000 entries
(tens of thousands of names of each length), and a question with a new typo asks it several times.
Here each word's letter pairs (bigrams) are indexed, and a word is scored only if it shares enough
of them with the typo to be similar enough at all: an edit destroys at most three of a word's
bigrams (a swapped pair, "tlaks", three; a changed letter two; a dropped or added one at most two),
so a word within k edits keeps at least its bigram count minus 3k of them (Ukkonen's q-gram
lemma). A word that holds none of the typo's rarest few bigrams cannot keep that many, so the
candidates are the words holding one of them: a few sets of postings, not a pass over the words.
The answer is exactly rapidfuzz's over every word in alphabetical order (the best score, the
first of equals): only words that cannot reach the cutoff are left out (tests/test_typo_candidates.py).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter

# A length with at most this many words is scored outright: choosing its candidates would cost more.
SMALL_BUCKET = 64
_EPSILON = 1e-9  # edits allowed by a cutoff are rounded down with this margin (float rounding)


def _bigrams(word: str) -> list[str]:
    """The word's distinct letter pairs, in order of first appearance."""
    return list(dict.fromkeys(word[i : i + 2] for i in range(len(word) - 1)))


class TypoIndex:
    """Words numbered by length then alphabetically, each bigram's postings one sorted array."""

    small_bucket = SMALL_BUCKET  # (tests set 0: every length chooses its candidates)

    def __init__(self, words: Iterable[str]) -> None:
        self.words = sorted(set(words), key=lambda w: (len(w), w))
        self._starts: dict[int, tuple[int, int]] = {}  # length -> its words' numbers, start and end
        building: dict[str, list[int]] = {}
        for number, word in enumerate(self.words):
            start, _ = self._starts.get(len(word), (number, number))
            self._starts[len(word)] = (start, number + 1)
            for pair in _bigrams(word):
                building.setdefault(pair, []).append(number)
        self._postings = {pair: array("I", numbers) for pair, numbers in building.items()}

    def __len__(self) -> int:
        return len(self.words)

    @staticmethod
    def prepare() -> None:
        """Import the scorers now (see `closest_typo`)."""
        from rapidfuzz import fuzz, process  # noqa: F401
        from rapidfuzz.distance import OSA  # noqa: F401

    def closest(
        self, word: str, scorer: Callable[..., float], cutoff: float, full: float
    ) -> tuple[str, float] | None:
        """rapidfuzz's `extractOne` over every word in alphabetical order: the best score, the first
        of equals (see `closest_each`)."""
        return self.closest_each(word, ((scorer, cutoff, full),))[0]

    def closest_typo(self, word: str, swapped: float, dropped: float) -> list[tuple[str, float] | None]:
        """The closest word by optimal string alignment, which counts a swapped pair of letters as
        one edit ("tlaks"), at similarity `swapped` (0-1); and by indel similarity, which forgives
        a dropped or doubled letter ("breakthru", "tallks"), at `dropped` (0-100). rapidfuzz is
        imported only when a question first has a word to correct (a fresh process seldom does)."""
        from rapidfuzz import fuzz
        from rapidfuzz.distance import OSA

        return self.closest_each(word, ((OSA.normalized_similarity, swapped, 1.0), (fuzz.ratio, dropped, 100.0)))

    def closest_each(
        self, word: str, measures: Sequence[tuple[Callable[..., float], float, float]]
    ) -> list[tuple[str, float] | None]:
        """For each (scorer, cutoff, full score) the word closest to this one by that measure, as
        rapidfuzz's `extractOne` over every word in alphabetical order finds it (the best score, the
        first of equals), asked only of the lengths that can reach the cutoff: both measures divide
        the edits, at least the difference in length, by the longer length (OSA) or the two
        together (indel), so a word far longer or shorter cannot be similar enough (the range is
        taken a little wide); and, in a long list, only of the words that share enough bigrams
        (chosen once for all the measures)."""
        from rapidfuzz import fuzz, process

        lengths: list[range] = []
        shares: list[tuple[float, bool]] = []
        for scorer, cutoff, full in measures:
            share = cutoff / full  # the least similarity, 0-1
            indel = scorer is fuzz.ratio
            if indel:  # |a - b| <= (1 - s)(a + b)
                low, high = len(word) * share / (2.0 - share), len(word) * (2.0 - share) / share
            else:  # |a - b| <= (1 - s) max(a, b)
                low, high = len(word) * share, len(word) / share
            lengths.append(range(max(1, int(low) - 1), int(high) + 2))
            shares.append((share, indel))
        pairs = _bigrams(word)
        repeated = len(word) - 1 - len(pairs)  # bigrams the word holds more than once
        best: list[tuple[str, float] | None] = [None] * len(measures)
        for length in range(min(r.start for r in lengths), max(r.stop for r in lengths)):
            bounds = self._starts.get(length)
            if bounds is None:
                continue
            asked = [i for i, r in enumerate(lengths) if length in r]
            if not asked:
                continue
            start, end = bounds
            here: Sequence[str]
            if end - start <= self.small_bucket:
                here = self.words[start:end]
            else:
                needed = min(_shared_bigrams(len(word), length, *shares[i]) for i in asked) - repeated
                here = self._candidates(pairs, needed, start, end)
                if not here:
                    continue
            for i in asked:
                scorer, cutoff, _ = measures[i]
                found = process.extractOne(word, here, scorer=scorer, score_cutoff=cutoff)
                if found is not None:
                    current = best[i]
                    if current is None or found[1] > current[1] or (found[1] == current[1] and found[0] < current[0]):
                        best[i] = (found[0], found[1])
        return best

    def _candidates(self, pairs: list[str], needed: int, start: int, end: int) -> Sequence[str]:
        """The words numbered start to end (one length) sharing at least `needed` of the typo's
        distinct bigrams `pairs`, alphabetically (a superset: some may share fewer)."""
        if needed <= 0:
            return self.words[start:end]
        if needed > len(pairs):
            return ()  # no word shares more distinct bigrams than the typo holds
        # A word holding none of the (len(pairs) - needed + 1) rarest of the typo's bigrams shares at
        # most needed - 1 of them: the rest are the candidates.
        slices = []
        for pair in pairs:
            postings = self._postings.get(pair)
            if postings is None:
                slices.append((0, 0, pair))
                continue
            first, last = bisect_left(postings, start), bisect_left(postings, end)
            slices.append((last - first, first, pair))
        slices.sort()
        chosen: set[int] = set()
        for size, first, pair in slices[: len(pairs) - needed + 1]:
            if size:
                chosen.update(self._postings[pair][first : first + size])
        if len(chosen) < 2:
            return [self.words[number] for number in chosen]
        found: tuple[str, ...] = itemgetter(*sorted(chosen))(self.words)
        return found


def _shared_bigrams(a: int, b: int, share: float, indel: bool) -> int:
    """The fewest bigrams (counted with repeats) a word of length `a` and one of length `b` share
    when they are at least `share` similar. OSA: at most k = (1 - s) max(a, b) edits, each destroys
    at most three of either word's bigrams. Indel: at most d = (1 - s)(a + b) insertions and
    deletions, of the same parity as a - b; turning the first word into the second deletes
    (d + a - b) / 2 of its letters (two bigrams each) and inserts (d - a + b) / 2 (one each)."""
    if not indel:
        edits = int((1.0 - share) * max(a, b) + _EPSILON)
        return max(a, b) - 1 - 3 * edits
    moves = int((1.0 - share) * (a + b) + _EPSILON)
    if (moves - (a - b)) % 2:
        moves -= 1
    if moves < abs(a - b):
        return max(a, b)  # cannot reach the cutoff at all: more than either word holds
    deleted, inserted = (moves + a - b) // 2, (moves - a + b) // 2
    return max(a - 1 - 2 * deleted - inserted, b - 1 - 2 * inserted - deleted)
