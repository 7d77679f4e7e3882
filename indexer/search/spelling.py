"""Spelling: "did you mean" from the index's own words (the unstemmed `spell` field)."""

from __future__ import annotations

from typing import Any

from ..analysis import stop_words
from .build import FREE_WORD

__all__ = ["Speller", "suggest"]
def _edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein (optimal string alignment), giving up past `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        best = cur[0]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
            best = min(best, v)
        if best > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


class Speller:
    """Corrections from the index's own words (the unstemmed `spell` field)."""

    def __init__(self, reader: Any):
        self.reader = reader
        self._buckets: dict[tuple[str, int], list[str]] | None = None

    def _load(self) -> dict[tuple[str, int], list[str]]:
        if self._buckets is None:
            buckets: dict[tuple[str, int], list[str]] = {}
            for btext in self.reader.lexicon("spell"):
                w = btext.decode("utf-8") if isinstance(btext, bytes) else btext
                if w.isalpha() and len(w) >= 3:
                    buckets.setdefault((w[0], len(w)), []).append(w)
            self._buckets = buckets
        return self._buckets

    def known(self, word: str) -> bool:
        return self.reader.doc_frequency("spell", word) > 0

    def correct(self, word: str) -> str | None:
        word = word.lower()
        if len(word) < 4 or not word.isalpha() or word in stop_words() or self.known(word):
            return None
        limit = 1 if len(word) <= 5 else 2
        buckets = self._load()
        best: tuple[int, int, str] | None = None
        firsts = {word[0]}
        for first in firsts:
            for n in range(len(word) - limit, len(word) + limit + 1):
                for cand in buckets.get((first, n), ()):
                    d = _edit_distance(word, cand, limit)
                    if d <= limit:
                        key = (d, -self.reader.doc_frequency("spell", cand), cand)
                        if best is None or key < best:
                            best = key
        return best[2] if best else None



def suggest(speller: Speller, text: str, words: tuple[str, ...]) -> str | None:
    """The query with each unknown word replaced by its correction; None if none is needed."""
    fixes: dict[str, str] = {}
    for w in words:
        lw = w.lower()
        if lw in fixes or lw in ("and", "or", "not"):
            continue
        c = speller.correct(lw)
        if c:
            fixes[lw] = c
    if not fixes:
        return None
    return FREE_WORD.sub(lambda m: fixes.get(m.group(0).lower(), m.group(0)), text)
