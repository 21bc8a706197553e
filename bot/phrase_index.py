"""The phrasing index behind the matcher: compact arrays, and a search that scores only what can win.

A plain dict-of-lists index scores every phrasing that shares a word with the question: at 100,000
entries a question naming "ceasefire" touches tens of thousands of them, and Python ints and lists
cost ten times the memory of the numbers they hold. Here phrasings are numbered in entry order and
kept in `array` columns. Phrasings alike in all the score reads (the same tokens, weight, factor and
language: one of the article's quotes in dozens of entries, one template filled with the same
words) are one *shape*, scored once per question for all its phrasings; each token's postings are
one array of shapes, sorted by weight.

`rank` is exact, not approximate. Tokens are visited rarest (heaviest) first; a shape first met
under a token can only hold that token and lighter ones, so its score is bounded by the weight still
unvisited, and by how short it is (a short phrasing has the better precision: postings are sorted by
weight, so the walk through a token stops at the first shape whose bound cannot reach the current
k-th best entry). A shape that holds none of the lighter tokens is bounded by the one token's
weight, far lower: a glance at its own tokens skips it, so a question with a rare name beside a
common word does not score every phrasing of the common word. Equal rounded scores are settled by
the sum of each entry's scores; it is computed only for the groups of equal scores that reach the
k-th place (a big group of ties at scale, as when thousands of phrasings hold only "who", in one pass
of set operations over the question's postings), in the order the exhaustive scorer adds them, so
scores, the phrase shown and ties come out the same.
`rank_exhaustive` is that exhaustive scorer, kept as the reference the tests compare against.
"""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Iterable, Sequence
from itertools import chain, pairwise
from operator import sub

RECALL_EXPONENT = 0.7  # how much of the question a phrase explains ...
PRECISION_EXPONENT = 0.3  # ... matters more than how much of the phrase the question uses
# Scores within this distance of the k-th best may still tie with it once rounded to 2 decimals
# (the ranking's first key): such entries are always kept in the running.
TIE_MARGIN = 0.02
# A question whose tokens' postings hold at most this many phrasings in all is scored exhaustively:
# bounding them would cost more than it saves (counted first in shapes, then, if few, in phrasings).
EXHAUSTIVE_POSTINGS = 100
# Summing tied entries' scores one entry at a time costs about as much per phrasing of theirs as
# this many postings intersected with them (a set operation): beyond it, one pass over the postings.
SCAN_RATIO = 100

_INFINITY = float("inf")
_ROUNDING = 1e-9  # relative margin for the weight limits of the walk (float rounding is ~1e-16)

SHARED = ""  # the language of phrasings that serve every question (English ones, quotes)
Query = Sequence[tuple[int, float]]  # the question's known tokens as (token id, weight), question order
Ranked = list[tuple[int, float, int]]  # (entry, score, phrasing) best first


def score(overlap: float, weight: float, factor: float, scale: float) -> float:
    """A phrasing's score (0-100): the question's weight it covers (recall), and its own (precision)."""
    precision = overlap / weight
    found: float = (
        100.0
        * factor
        * (overlap * scale) ** RECALL_EXPONENT
        * (precision if precision < 1.0 else 1.0) ** PRECISION_EXPONENT
    )
    return found


class PhraseIndex:
    """Phrasings in entry order; SHARED ones serve every question, the others their own language's.

    Phrasings alike in every way the score reads (the same tokens, weight, kind and language: the
    same quote in many entries, one template filled with the same words) are one *shape*: the
    postings, the tokens and the weights are the shapes', and each shape lists its phrasings."""

    def __init__(self) -> None:
        self.token_ids: dict[str, int] = {}
        self.texts: list[str] = []
        self.entries = array("I")  # phrasing -> entry
        self.shapes = array("I")  # phrasing -> its shape
        self.weights = array("d")  # shape -> sum of its tokens' weights
        self.kinds = bytearray()  # shape -> index into factors
        self.langs = bytearray()  # shape -> index into languages (0: SHARED)
        self.forward = array("I")  # token ids of every shape, one after another
        self.starts = array("I", [0])  # shape i's tokens: forward[starts[i]:starts[i + 1]]
        self.members = array("I")  # the phrasings of every shape, in index order, one shape after another
        self.member_starts = array("I", [0])  # shape i's phrasings: members[member_starts[i]:member_starts[i + 1]]
        self.entry_starts = array("I", [0])  # entry e's phrasings: entry_starts[e] to entry_starts[e + 1]
        self.factors: list[float] = []
        self.languages: list[str] = [SHARED]
        self._postings: dict[int, dict[int, array[int]]] = {}  # language index -> token -> shapes
        # language index -> token id -> how many phrasings its postings' shapes stand for (the test
        # of `rank` for a short search, read instead of summed over the shapes per question)
        self._counts: dict[int, array[int]] = {}
        self._building: dict[int, dict[int, list[int]]] | None = {}
        self._alike: dict[bytes, int] | None = {}  # while building: what makes a shape -> the shape
        self._phrasings: list[list[int]] | None = []  # while building: each shape's phrasings

    def __len__(self) -> int:
        return len(self.texts)

    def add(self, entry: int, text: str, tokens: Iterable[str], weight: float, factor: float, lang: str) -> None:
        """One phrasing (entries must come in order, 0, 1, 2 …; an entry may have none)."""
        building, alike, phrasings = self._building, self._alike, self._phrasings
        assert building is not None and alike is not None and phrasings is not None, "the index is frozen"
        while len(self.entry_starts) < entry + 2:  # entries without phrasings have empty ranges
            self.entry_starts.append(len(self.texts))
        if factor not in self.factors:
            self.factors.append(factor)
        if lang not in self.languages:
            self.languages.append(lang)
        language = self.languages.index(lang)
        kind = self.factors.index(factor)
        phrasing = len(self.texts)
        ids = self.token_ids
        held = array("I", sorted({ids.setdefault(token, len(ids)) for token in tokens}))
        key = held.tobytes() + array("d", [weight]).tobytes() + bytes((kind, language))
        shape = alike.get(key)
        if shape is None:
            shape = alike[key] = len(self.weights)
            postings = building.setdefault(language, {})
            for token_id in held:
                postings.setdefault(token_id, []).append(shape)
            self.forward.extend(held)
            self.starts.append(len(self.forward))
            self.weights.append(weight)
            self.kinds.append(kind)
            self.langs.append(language)
            phrasings.append([])
        phrasings[shape].append(phrasing)
        self.texts.append(text)
        self.entries.append(entry)
        self.shapes.append(shape)
        self.entry_starts[entry + 1] = len(self.texts)

    def freeze(self, entry_count: int) -> None:
        """Postings become arrays of shapes sorted by weight (the lightest, most precise, first)."""
        assert self._building is not None and self._phrasings is not None
        while len(self.entry_starts) < entry_count + 1:
            self.entry_starts.append(len(self.texts))
        weights = self.weights.__getitem__
        for language, postings in self._building.items():
            self._postings[language] = {
                token: array("I", sorted(shapes, key=weights)) for token, shapes in postings.items()
            }
        sizes = [len(phrasings) for phrasings in self._phrasings]
        for language in range(len(self.languages)):  # every language has its counts, if only zeros
            counts = self._counts[language] = array("I", bytes(4 * len(self.token_ids)))
            postings = self._building.get(language, {})
            for token, shapes in postings.items():
                counts[token] = sum(map(sizes.__getitem__, shapes))
        for phrasings in self._phrasings:
            self.members.extend(phrasings)
            self.member_starts.append(len(self.members))
        self._building = self._alike = self._phrasings = None

    def held(self, phrasing: int) -> array[int]:
        """The token ids of one phrasing."""
        shape = self.shapes[phrasing]
        return self.forward[self.starts[shape] : self.starts[shape + 1]]

    def query(self, tokens: Iterable[tuple[str, float]]) -> list[tuple[int, float]]:
        """(token id, weight) of the tokens some phrasing holds, in the order given."""
        ids = self.token_ids
        return [(ids[token], weight) for token, weight in tokens if token in ids]

    def _searched(self, lang: str) -> list[int]:
        """The language indexes a question in `lang` searches: the shared one, then its own."""
        if lang != SHARED and lang in self.languages:
            return [0, self.languages.index(lang)]
        return [0]

    def _lists(self, lang: str) -> list[dict[int, array[int]]]:
        """The postings a question in `lang` searches: the shared ones, then its own language's."""
        return [self._postings.get(language, {}) for language in self._searched(lang)]

    def _overlap(self, shape: int, query: Query) -> tuple[float, int]:
        """The question weight a shape holds (summed in question order), and the first token's place."""
        held = self.forward[self.starts[shape] : self.starts[shape + 1]]
        overlap, first = 0.0, -1
        for position, (token, weight) in enumerate(query):
            if token in held:
                overlap += weight
                if first < 0:
                    first = position
        return overlap, first

    # -- search ---------------------------------------------------------------------------------

    def rank(self, query: Query, scale: float, lang: str, limit: int) -> Ranked:
        """The `limit` best entries: the two searches give the same; short postings are cheaper to
        score outright than to bound."""
        # Few phrasings (a quote shape may stand for dozens), counted when the index was frozen.
        postings = 0
        for counts in self._count_lists(lang):
            for token, _ in query:
                postings += counts[token]
        if postings <= EXHAUSTIVE_POSTINGS:
            return self.rank_exhaustive(query, scale, lang, limit)
        return self.rank_pruned(query, scale, lang, limit)

    def _count_lists(self, lang: str) -> list[array[int]]:
        """Phrasings per token, for the postings `_lists(lang)` gives (in the same order)."""
        return [self._counts[language] for language in self._searched(lang)]

    def rank_pruned(self, query: Query, scale: float, lang: str, limit: int) -> Ranked:
        """The `limit` best entries, exactly as `rank_exhaustive` ranks them, scoring only shapes
        that can reach the k-th best."""
        if not query or limit <= 0:
            return []
        lists = self._lists(lang)
        weights, factors, kinds, entries = self.weights, self.factors, self.kinds, self.entries
        members, member_starts = self.members, self.member_starts
        top_factor = max(factors, default=1.0)
        sizes = [sum(len(p.get(token, ())) for p in lists) for token, _ in query]
        # Heaviest first; equal weights: the shorter postings first.
        order = sorted(range(len(query)), key=lambda i: (-query[i][1], sizes[i]))
        remaining = [0.0] * (len(order) + 1)
        for step in range(len(order) - 1, -1, -1):
            remaining[step] = remaining[step + 1] + query[order[step]][1]
        langs = self.langs
        best: dict[int, float] = {}  # entry -> its best score so far (entries that may still count)
        # entry -> where the exhaustive scorer meets its best phrasing (first such wins a tie)
        best_at: dict[int, tuple[int, bool, int]] = {}
        top: dict[int, float] = {}  # the `limit` entries best so far
        seen: set[int] = set()  # shapes scored
        floor = -1.0  # the limit-th best entry score so far: a lower bound of the final one
        forward, starts = self.forward, self.starts
        # Shapes of one weight and kind that hold the same question weight score the same.
        scores: dict[tuple[float, float, int], float] = {}
        asked = [(place, token, weight) for place, (token, weight) in enumerate(query)]

        def visit(shape: int) -> bool:
            """Score one shape, for each of its phrasings; whether the floor rose."""
            nonlocal floor
            seen.add(shape)
            held = forward[starts[shape] : starts[shape + 1]]
            overlap, first = 0.0, -1  # as _overlap: summed in question order, and the first token's place
            for place, token, weight in asked:
                if token in held:
                    overlap += weight
                    if first < 0:
                        first = place
            kind = kinds[shape]
            key = (overlap, weights[shape], kind)
            found = scores.get(key)
            if found is None:
                found = scores[key] = score(overlap, key[1], factors[kind], scale)
            # Below the cut nothing of this shape can rank (nor settle which phrasing is shown: the
            # entries that rank score at least the final cut, and the floor only rises).
            if found < floor - TIE_MARGIN:
                return False
            translated = langs[shape] != 0
            phrasings = members[member_starts[shape] : member_starts[shape + 1]]
            if found <= floor and len(top) == limit:
                # No place within reach (an entry of the top scores at least the floor): its entries'
                # best scores are only recorded (they may still tie with the k-th once rounded).
                for phrasing in phrasings:
                    entry = entries[phrasing]
                    current = best.get(entry)
                    if current is None or found > current:
                        best[entry] = found
                        best_at[entry] = (first, translated, phrasing)
                    elif found == current:
                        best_at[entry] = min(best_at[entry], (first, translated, phrasing))
                return False
            rose = False
            for phrasing in phrasings:
                entry = entries[phrasing]
                current = best.get(entry)
                if current is not None and found <= current:
                    if found == current:
                        best_at[entry] = min(best_at[entry], (first, translated, phrasing))
                    continue
                if found < floor - TIE_MARGIN:
                    break  # the floor rose past this shape while its phrasings were read
                best[entry] = found
                best_at[entry] = (first, translated, phrasing)
                if entry in top or len(top) < limit:
                    top[entry] = found
                elif found > floor:
                    del top[min(top, key=top.__getitem__)]
                    top[entry] = found
                else:
                    continue
                if len(top) == limit:
                    risen = min(top.values())
                    if risen != floor:
                        floor = risen
                        rose = True
            return rose

        def heaviest(held: float, bound: float) -> float:
            """The heaviest shape whose score, holding `held` of the question weight (`bound` its
            score at full precision), may still reach the cut: precision is held / shape weight,
            so past this weight the bound is below the cut (with a margin for rounding: a shape
            kept by the margin is only scored, never wrongly skipped)."""
            cut = floor - TIE_MARGIN
            if floor < 0.0 or cut <= 0.0:
                return _INFINITY
            if bound < cut:
                return -_INFINITY
            most: float = held * (bound / cut) ** (1.0 / PRECISION_EXPONENT) * (1.0 + _ROUNDING)
            return most

        def limits(
            left: float, reach: float, weight: float, alone: float, later: frozenset[int]
        ) -> tuple[float, float]:
            """`heaviest` for a shape first met at this token, and for one holding it alone. With no
            lighter token left, past the second nothing can reach the cut either."""
            most, most_alone = heaviest(left, reach), heaviest(weight, alone)
            return (min(most, most_alone) if not later else most), most_alone

        for step, position in enumerate(order):
            left = remaining[step]  # the most question weight a shape first met here can hold
            reach = 100.0 * top_factor * (left * scale) ** RECALL_EXPONENT
            if reach < floor - TIE_MARGIN:
                break
            token, weight = query[position]
            # A shape first met here that holds no lighter token holds this one alone: its bound.
            alone = 100.0 * top_factor * (weight * scale) ** RECALL_EXPONENT
            later = frozenset(query[p][0] for p in order[step + 1 :])
            for postings in lists:
                here = postings.get(token)
                if not here:
                    continue
                # Postings are sorted by weight: past `most` no shape can reach the cut; past
                # `most_alone` only one that holds a lighter token too (a look at its own tokens, not
                # a set operation over the lighter tokens' long postings).
                most, most_alone = limits(left, reach, weight, alone, later)
                for shape in here:
                    heft = weights[shape]
                    if heft > most:
                        break
                    if shape in seen:
                        continue
                    if heft > most_alone and later.isdisjoint(forward[starts[shape] : starts[shape + 1]]):
                        continue
                    if visit(shape):
                        most, most_alone = limits(left, reach, weight, alone, later)
        # Every entry that can rank has its best phrasing seen (a shape skipped by a bound scores
        # below the floor); the sum of an entry's scores only settles equal rounded scores, so it is
        # computed, over all the entry's phrasings, for those alone.
        cut = floor - TIE_MARGIN if len(top) == limit else -1.0
        # Rounded once per distinct score (round() is slow, and the entries that tie share theirs).
        rounding = {found: round(found, 2) for found in set(best.values()) if found >= cut}
        placed = self._placed([(rounding[found], entry) for entry, found in best.items() if found >= cut], limit)
        tied = self._tied(placed)
        if not tied:
            return [(entry, best[entry], best_at[entry][2]) for _, entry in placed[:limit]]
        support = self._supports(tied, query, scale, lang, sum(sizes))
        # (rounded score, support, -entry), best first: the exhaustive scorer's order.
        ordered = sorted([(value, support.get(entry, 0.0), -entry) for value, entry in placed], reverse=True)
        return [(-entry, best[-entry], best_at[-entry][2]) for _, _, entry in ordered[:limit]]

    @staticmethod
    def _placed(rounded: list[tuple[float, int]], limit: int) -> list[tuple[float, int]]:
        """The (rounded score, entry) pairs that can take one of the `limit` places, best first: those
        of the groups of equal scores that reach the `limit`-th place (a group wholly below it ranks no
        one). One sort of pairs, not a ranking by a key function: there may be thousands of them."""
        rounded.sort(reverse=True)
        if len(rounded) <= limit:
            return rounded
        end, last = limit, rounded[limit - 1][0]
        while end < len(rounded) and rounded[end][0] == last:
            end += 1
        return rounded[:end]

    @staticmethod
    def _tied(placed: list[tuple[float, int]]) -> set[int]:
        """The entries whose order needs the tie-break: those sharing a rounded score with another
        (`placed` is sorted, so such pairs are neighbours)."""
        tied: set[int] = set()
        for (value, entry), (after, other) in pairwise(placed):
            if value == after:
                tied.add(entry)
                tied.add(other)
        return tied

    def _supports(
        self, group: set[int], query: Query, scale: float, lang: str, postings: int
    ) -> dict[int, float]:
        """The sum of each group entry's scores. A few entries are summed one by one; many at once, in
        one pass over the question's postings (`postings` of them: cheaper than reading each entry's
        phrasings)."""
        if not group:
            return {}
        starts = self.entry_starts
        # The group's phrasings, as ranges of the index (C-level iteration: groups of ties are big).
        lows = list(map(starts.__getitem__, group))
        highs = list(map(starts.__getitem__, map((1).__add__, group)))
        if postings > SCAN_RATIO * sum(map(sub, highs, lows)):
            return {entry: self._support(entry, query, scale, lang) for entry in group}
        lists = self._lists(lang)
        shape_of, weights, kinds, factors = self.shapes, self.weights, self.kinds, self.factors
        members, member_starts, entries = self.members, self.member_starts, self.entries
        wanted = set(chain.from_iterable(map(shape_of.__getitem__, map(slice, lows, highs))))  # their shapes
        shared: dict[int, float] = {}  # shape -> the question weight it holds, added in question order
        met: set[int] = set()
        batches: list[set[int]] = []  # in the exhaustive scorer's order: first shared token, list
        for token, weight in query:
            for here in lists:
                hit = wanted.intersection(here.get(token, ()))
                if not hit:
                    continue
                for shape in hit & met:
                    shared[shape] += weight
                fresh = hit - met
                shared.update(dict.fromkeys(fresh, 0.0 + weight))
                met |= fresh
                batches.append(fresh)
        # The phrasings of quotes in many entries that are the group's: each one's entry looked up,
        # or, when those phrasings are more than about three quarters of the group's (a group of the
        # entries that share a quote), a set of the group's phrasings intersected with them.
        read = sum(map(sub, map(member_starts.__getitem__, map((1).__add__, met)), map(member_starts.__getitem__, met)))
        mine = set(chain.from_iterable(map(range, lows, highs))) if 4 * read > 3 * sum(map(sub, highs, lows)) else None
        support: dict[int, float] = {}
        for batch in batches:
            found: dict[int, float] = {}  # the group's phrasings of this batch -> their score
            for shape in batch:
                value = score(shared[shape], weights[shape], factors[kinds[shape]], scale)
                first, last = member_starts[shape], member_starts[shape + 1]
                if last - first == 1:
                    found[members[first]] = value  # its one phrasing is the group's: the shape is wanted
                else:
                    part = members[first:last]
                    ours = mine.intersection(part) if mine is not None else [p for p in part if entries[p] in group]
                    found.update(dict.fromkeys(ours, value))
            for phrasing in sorted(found):  # an entry's phrasings are added in index order
                entry = entries[phrasing]
                support[entry] = support.get(entry, 0.0) + found[phrasing]
        return support

    def _support(self, entry: int, query: Query, scale: float, lang: str) -> float:
        """The sum of an entry's scores, added up in the exhaustive scorer's order."""
        found = self._entry(entry, query, scale, lang)
        return found[3] if found is not None else 0.0

    def _entry(self, entry: int, query: Query, scale: float, lang: str) -> tuple[int, float, int, float] | None:
        """(entry, best score, its phrasing, sum of all scores) over every phrasing that shares a token,
        visited in the exhaustive scorer's order (first shared token, SHARED before translated, index)."""
        wanted = (0, self.languages.index(lang)) if lang != SHARED and lang in self.languages else (0,)
        visits = []
        for phrasing in range(self.entry_starts[entry], self.entry_starts[entry + 1]):
            shape = self.shapes[phrasing]
            if self.langs[shape] in wanted:
                overlap, first = self._overlap(shape, query)
                if first >= 0:
                    visits.append((first, self.langs[shape] != 0, phrasing, overlap, shape))
        if not visits:
            return None
        visits.sort()
        best, best_phrasing, support = -1.0, -1, 0.0
        for _, _, phrasing, overlap, shape in visits:
            found = score(overlap, self.weights[shape], self.factors[self.kinds[shape]], scale)
            support += found
            if found > best:
                best, best_phrasing = found, phrasing
        return entry, best, best_phrasing, support

    def rank_exhaustive(self, query: Query, scale: float, lang: str, limit: int) -> Ranked:
        """Every phrasing that shares a token scored: the reference `rank_pruned` must agree with.
        Overlaps add up in question order; phrasings are met by first shared token, shared before
        translated, then index (the order the ties below depend on)."""
        shared: dict[int, float] = {}
        met: dict[int, tuple[int, int, int]] = {}
        lists = self._lists(lang)
        members, member_starts = self.members, self.member_starts
        for position, (token, weight) in enumerate(query):
            for kind, postings in enumerate(lists):
                for shape in postings.get(token, ()):
                    for phrasing in members[member_starts[shape] : member_starts[shape + 1]]:
                        if phrasing in shared:
                            shared[phrasing] += weight
                        else:
                            shared[phrasing] = 0.0 + weight
                            met[phrasing] = (position, kind, phrasing)
        best: dict[int, float] = {}
        best_phrase: dict[int, int] = {}
        support: dict[int, float] = {}
        for phrasing in sorted(shared, key=met.__getitem__):
            overlap = shared[phrasing]
            entry = self.entries[phrasing]
            shape = self.shapes[phrasing]
            found = score(overlap, self.weights[shape], self.factors[self.kinds[shape]], scale)
            support[entry] = support.get(entry, 0.0) + found
            if found > best.get(entry, -1.0):
                best[entry] = found
                best_phrase[entry] = phrasing
        top = heapq.nlargest(limit, best, key=lambda e: (round(best[e], 2), support[e], -e))
        return [(entry, best[entry], best_phrase[entry]) for entry in top]
