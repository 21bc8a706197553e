"""The phrasing index behind the matcher: compact arrays, and a search that scores only what can win.

A plain dict-of-lists index scores every phrasing that shares a word with the question: at 100,000
entries a question naming "ceasefire" touches tens of thousands of them, and Python ints and lists
cost ten times the memory of the numbers they hold. Here phrasings are numbered in entry order and
kept in `array` columns (owner entry, weight, factor, language, content-token ids); each token's
postings are one array, sorted by phrasing weight.

`rank` is exact, not approximate. Tokens are visited rarest (heaviest) first; a phrasing first met
under a token can only hold that token and lighter ones, so its score is bounded by the weight still
unvisited, and by how short it is (a short phrasing has the better precision: postings are sorted by
weight, so the walk through a token stops at the first phrasing whose bound cannot reach the current
k-th best entry). A phrasing that holds none of the lighter tokens is bounded by the one token's
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
from collections import Counter
from collections.abc import Iterable, Sequence

RECALL_EXPONENT = 0.7  # how much of the question a phrase explains ...
PRECISION_EXPONENT = 0.3  # ... matters more than how much of the phrase the question uses
# Scores within this distance of the k-th best may still tie with it once rounded to 2 decimals
# (the ranking's first key): such entries are always kept in the running.
TIE_MARGIN = 0.02
# A question whose tokens' postings hold at most this many phrasings in all is scored exhaustively:
# bounding them would cost more than it saves.
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
    """Phrasings in entry order; SHARED ones serve every question, the others their own language's."""

    def __init__(self) -> None:
        self.token_ids: dict[str, int] = {}
        self.texts: list[str] = []
        self.entries = array("I")  # phrasing -> entry
        self.weights = array("d")  # phrasing -> sum of its tokens' weights
        self.kinds = bytearray()  # phrasing -> index into factors
        self.langs = bytearray()  # phrasing -> index into languages (0: SHARED)
        self.forward = array("I")  # token ids of every phrasing, one after another
        self.starts = array("I", [0])  # phrasing i's tokens: forward[starts[i]:starts[i + 1]]
        self.entry_starts = array("I", [0])  # entry e's phrasings: entry_starts[e] to entry_starts[e + 1]
        self.factors: list[float] = []
        self.languages: list[str] = [SHARED]
        self._postings: dict[int, dict[int, array[int]]] = {}  # language index -> token -> phrasings
        self._building: dict[int, dict[int, list[int]]] | None = {}

    def __len__(self) -> int:
        return len(self.texts)

    def add(self, entry: int, text: str, tokens: Iterable[str], weight: float, factor: float, lang: str) -> None:
        """One phrasing (entries must come in order, 0, 1, 2 …; an entry may have none)."""
        building = self._building
        assert building is not None, "the index is frozen"
        while len(self.entry_starts) < entry + 2:  # entries without phrasings have empty ranges
            self.entry_starts.append(len(self.texts))
        if factor not in self.factors:
            self.factors.append(factor)
        if lang not in self.languages:
            self.languages.append(lang)
        language = self.languages.index(lang)
        phrasing = len(self.texts)
        ids = self.token_ids
        postings = building.setdefault(language, {})
        for token in tokens:
            token_id = ids.setdefault(token, len(ids))
            self.forward.append(token_id)
            postings.setdefault(token_id, []).append(phrasing)
        self.starts.append(len(self.forward))
        self.texts.append(text)
        self.entries.append(entry)
        self.weights.append(weight)
        self.kinds.append(self.factors.index(factor))
        self.langs.append(language)
        self.entry_starts[entry + 1] = len(self.texts)

    def freeze(self, entry_count: int) -> None:
        """Postings become arrays sorted by phrasing weight (the lightest, most precise, first)."""
        assert self._building is not None
        while len(self.entry_starts) < entry_count + 1:
            self.entry_starts.append(len(self.texts))
        weights = self.weights.__getitem__
        for language, postings in self._building.items():
            self._postings[language] = {
                token: array("I", sorted(phrasings, key=weights)) for token, phrasings in postings.items()
            }
        self._building = None

    def query(self, tokens: Iterable[tuple[str, float]]) -> list[tuple[int, float]]:
        """(token id, weight) of the tokens some phrasing holds, in the order given."""
        ids = self.token_ids
        return [(ids[token], weight) for token, weight in tokens if token in ids]

    def _lists(self, lang: str) -> list[dict[int, array[int]]]:
        """The postings a question in `lang` searches: the shared ones, then its own language's."""
        lists = [self._postings.get(0, {})]
        if lang != SHARED and lang in self.languages:
            lists.append(self._postings.get(self.languages.index(lang), {}))
        return lists

    def _overlap(self, phrasing: int, query: Query) -> tuple[float, int]:
        """The question weight a phrasing holds (summed in question order), and the first token's place."""
        held = self.forward[self.starts[phrasing] : self.starts[phrasing + 1]]
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
        lists = self._lists(lang)
        postings = sum(len(p.get(token, ())) for token, _ in query for p in lists)
        if postings <= EXHAUSTIVE_POSTINGS:
            return self.rank_exhaustive(query, scale, lang, limit)
        return self.rank_pruned(query, scale, lang, limit)

    def rank_pruned(self, query: Query, scale: float, lang: str, limit: int) -> Ranked:
        """The `limit` best entries, exactly as `rank_exhaustive` ranks them, scoring only phrasings
        that can reach the k-th best."""
        if not query or limit <= 0:
            return []
        lists = self._lists(lang)
        weights, factors, kinds, entries = self.weights, self.factors, self.kinds, self.entries
        top_factor = max(factors, default=1.0)
        # Heaviest first; equal weights: the shorter postings first.
        order = sorted(
            range(len(query)),
            key=lambda i: (-query[i][1], sum(len(p.get(query[i][0], ())) for p in lists)),
        )
        remaining = [0.0] * (len(order) + 1)
        for step in range(len(order) - 1, -1, -1):
            remaining[step] = remaining[step + 1] + query[order[step]][1]
        langs = self.langs
        best: dict[int, float] = {}  # entry -> its best score so far (entries that may still count)
        # entry -> where the exhaustive scorer meets its best phrasing (first such wins a tie)
        best_at: dict[int, tuple[int, bool, int]] = {}
        top: dict[int, float] = {}  # the `limit` entries best so far
        seen: set[int] = set()
        floor = -1.0  # the limit-th best entry score so far: a lower bound of the final one
        # At scale many phrasings are alike (a quote in many entries, one template filled with one
        # word): the overlap of each set of tokens, and each score, is worked out once per question.
        forward, starts = self.forward, self.starts
        shapes: dict[bytes, tuple[float, int]] = {}
        scores: dict[tuple[float, float, int], float] = {}
        asked = list(enumerate(query))

        def visit(phrasing: int) -> bool:
            """Score one phrasing; whether the floor rose."""
            nonlocal floor
            seen.add(phrasing)
            held = forward[starts[phrasing] : starts[phrasing + 1]]
            shape = held.tobytes()
            known = shapes.get(shape)
            if known is None:  # as _overlap: summed in question order, and the first token's place
                overlap, first = 0.0, -1
                for place, (token, weight) in asked:
                    if token in held:
                        overlap += weight
                        if first < 0:
                            first = place
                shapes[shape] = overlap, first
            else:
                overlap, first = known
            kind = kinds[phrasing]
            key = (overlap, weights[phrasing], kind)
            found = scores.get(key)
            if found is None:
                found = scores[key] = score(overlap, key[1], factors[kind], scale)
            entry = entries[phrasing]
            current = best.get(entry)
            if current is not None and found <= current:
                if found == current:
                    best_at[entry] = min(best_at[entry], (first, langs[phrasing] != 0, phrasing))
                return False
            if found < floor - TIE_MARGIN:
                return False
            best[entry] = found
            best_at[entry] = (first, langs[phrasing] != 0, phrasing)
            if entry in top or len(top) < limit:
                top[entry] = found
            elif found > floor:
                del top[min(top, key=top.__getitem__)]
                top[entry] = found
            else:
                return False
            if len(top) == limit:
                risen = min(top.values())
                if risen != floor:
                    floor = risen
                    return True
            return False

        def heaviest(held: float, bound: float) -> float:
            """The heaviest phrasing whose score, holding `held` of the question weight (`bound` its
            score at full precision), may still reach the cut: precision is held / phrasing weight,
            so past this weight the bound is below the cut (with a margin for rounding: a phrasing
            kept by the margin is only scored, never wrongly skipped)."""
            cut = floor - TIE_MARGIN
            if floor < 0.0 or cut <= 0.0:
                return _INFINITY
            if bound < cut:
                return -_INFINITY
            most: float = held * (bound / cut) ** (1.0 / PRECISION_EXPONENT) * (1.0 + _ROUNDING)
            return most

        for step, position in enumerate(order):
            left = remaining[step]  # the most question weight a phrasing first met here can hold
            reach = 100.0 * top_factor * (left * scale) ** RECALL_EXPONENT
            if reach < floor - TIE_MARGIN:
                break
            token, weight = query[position]
            # A phrasing first met here that holds no lighter token holds this one alone: its bound.
            alone = 100.0 * top_factor * (weight * scale) ** RECALL_EXPONENT
            later = frozenset(query[p][0] for p in order[step + 1 :])
            for postings in lists:
                here = postings.get(token)
                if not here:
                    continue
                # Postings are sorted by weight: past `most` no phrasing can reach the cut; past
                # `most_alone` only one that holds a lighter token too (a look at its own tokens, not
                # a set operation over the lighter tokens' long postings).
                most, most_alone = heaviest(left, reach), heaviest(weight, alone)
                for phrasing in here:
                    heft = weights[phrasing]
                    if heft > most:
                        break
                    if phrasing in seen:
                        continue
                    if heft > most_alone and later.isdisjoint(forward[starts[phrasing] : starts[phrasing + 1]]):
                        continue
                    if visit(phrasing):
                        most, most_alone = heaviest(left, reach), heaviest(weight, alone)
        # Every entry that can rank has its best phrasing seen (a phrasing skipped by a bound scores
        # below the floor); the sum of an entry's scores only settles equal rounded scores, so it is
        # computed, over all the entry's phrasings, for those alone.
        cut = floor - TIE_MARGIN if len(top) == limit else -1.0
        rounded = {entry: round(found, 2) for entry, found in best.items() if found >= cut}
        support = self._supports(self._tied(rounded, limit), query, scale, lang)
        ranked = heapq.nlargest(limit, rounded, key=lambda e: (rounded[e], support.get(e, 0.0), -e))
        return [(entry, best[entry], best_at[entry][2]) for entry in ranked]

    @staticmethod
    def _tied(rounded: dict[int, float], limit: int) -> set[int]:
        """The entries whose order needs the tie-break: those sharing a rounded score with another, in
        the groups of equal scores that reach the `limit`-th place (a group wholly below it ranks no one)."""
        alike = Counter(rounded.values())
        needed: set[float] = set()
        placed = 0
        for value in sorted(alike, reverse=True):
            if placed >= limit:
                break
            if alike[value] > 1:
                needed.add(value)
            placed += alike[value]
        return {entry for entry, value in rounded.items() if value in needed}

    def _supports(self, group: set[int], query: Query, scale: float, lang: str) -> dict[int, float]:
        """The sum of each group entry's scores. A few entries are summed one by one; many at once, in
        one pass over the question's postings (cheaper than reading each entry's phrasings)."""
        if not group:
            return {}
        lists = self._lists(lang)
        postings = sum(len(p.get(token, ())) for token, _ in query for p in lists)
        starts = self.entry_starts
        phrasings = sum(starts[entry + 1] - starts[entry] for entry in group)
        if postings > SCAN_RATIO * phrasings:
            return {entry: self._support(entry, query, scale, lang) for entry in group}
        entries, weights, kinds, factors = self.entries, self.weights, self.kinds, self.factors
        members: set[int] = set()
        for entry in group:
            members.update(range(starts[entry], starts[entry + 1]))
        shared: dict[int, float] = {}  # phrasing -> the question weight it holds, added in question order
        met: set[int] = set()
        batches: list[list[int]] = []  # in the exhaustive scorer's order: first shared token, list, index
        for token, weight in query:
            for here in lists:
                hit = members.intersection(here.get(token, ()))
                if not hit:
                    continue
                for phrasing in hit & met:
                    shared[phrasing] += weight
                fresh = hit - met
                shared.update(dict.fromkeys(fresh, 0.0 + weight))
                met |= fresh
                batches.append(sorted(fresh))
        # score(), with its first factors, 100 · factor · (overlap · scale) ** 0.7, remembered by
        # (overlap, kind); times the precision's factor it is the same float (same operations, same order).
        head: dict[tuple[float, int], float] = {}
        support: dict[int, float] = {}
        for batch in batches:
            for phrasing in batch:
                overlap = shared[phrasing]
                kind = kinds[phrasing]
                # score(): the part that depends on the overlap alone, then the precision's part
                found = head.get((overlap, kind))
                if found is None:
                    found = head[overlap, kind] = 100.0 * factors[kind] * (overlap * scale) ** RECALL_EXPONENT
                precision = overlap / weights[phrasing]
                if precision < 1.0:
                    found *= precision**PRECISION_EXPONENT
                entry = entries[phrasing]
                support[entry] = support.get(entry, 0.0) + found
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
            if self.langs[phrasing] in wanted:
                overlap, first = self._overlap(phrasing, query)
                if first >= 0:
                    visits.append((first, self.langs[phrasing] != 0, phrasing, overlap))
        if not visits:
            return None
        visits.sort()
        best, best_phrasing, support = -1.0, -1, 0.0
        for _, _, phrasing, overlap in visits:
            found = score(overlap, self.weights[phrasing], self.factors[self.kinds[phrasing]], scale)
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
        for position, (token, weight) in enumerate(query):
            for kind, postings in enumerate(lists):
                for phrasing in postings.get(token, ()):
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
            found = score(overlap, self.weights[phrasing], self.factors[self.kinds[phrasing]], scale)
            support[entry] = support.get(entry, 0.0) + found
            if found > best.get(entry, -1.0):
                best[entry] = found
                best_phrase[entry] = phrasing
        top = heapq.nlargest(limit, best, key=lambda e: (round(best[e], 2), support[e], -e))
        return [(entry, best[entry], best_phrase[entry]) for entry in top]
