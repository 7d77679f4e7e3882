"""Pseudo-relevance feedback: the words a query's best passages share.

RM3-like, over one index generation. A passage is read once into (term id, share) arrays,
where a share is the square root of the term's fraction of the passage (one repeated word
should not outweigh several shared ones), keeping only terms feedback may ever pick: three
or more characters, not a number, in at least 2 passages and at most a tenth of them (a
common word says little about a query). A query's candidates are then one `bincount` over
its top passages, each weighted by (score / best score) ** sharpness, times the term's idf.

Arrays instead of dictionaries because some passages (CJK text without spaces, code
listings) hold hundreds of distinct one-off tokens, which made a per-term Python loop
the slowest part of a search.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any, Callable

import numpy as np

__all__ = ["FeedbackTerms"]

_NONE = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))


class FeedbackTerms:
    """Term ids, idf and per-passage shares for one searcher; not thread-safe (callers lock)."""

    MAX_PASSAGES = 50_000  # cached passages, then start over

    def __init__(self, n_docs: int, doc_frequency: Callable[[str], int]):
        self.n = n_docs
        self.doc_frequency = doc_frequency
        self.ids: dict[str, int] = {}  # eligible terms only
        self.terms: list[str] = []
        self.idf = np.zeros(1024, dtype=np.float64)  # by term id; grows by doubling
        self.skip: set[str] = set()  # terms seen and found ineligible
        self.passages: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def _id(self, term: str) -> int | None:
        i = self.ids.get(term)
        if i is not None or term in self.skip:
            return i
        df = self.doc_frequency(term) if len(term) >= 3 and not term.isdigit() else 0
        if df < 2 or df > self.n // 10:
            self.skip.add(term)
            return None
        i = self.ids[term] = len(self.terms)
        self.terms.append(term)
        if i >= len(self.idf):
            self.idf = np.concatenate([self.idf, np.zeros(len(self.idf), dtype=np.float64)])
        self.idf[i] = math.log(1 + self.n / df)
        return i

    def passage(self, docnum: int, terms_of: Callable[[int], list[str]]) -> tuple[np.ndarray, np.ndarray]:
        got = self.passages.get(docnum)
        if got is not None:
            return got
        toks = terms_of(docnum)
        pairs = [(i, math.sqrt(c / len(toks))) for t, c in Counter(toks).items() if (i := self._id(t)) is not None]
        got = (np.array([i for i, _ in pairs], dtype=np.int64), np.array([s for _, s in pairs], dtype=np.float64)) if pairs else _NONE
        if len(self.passages) >= self.MAX_PASSAGES:
            self.passages.clear()
        self.passages[docnum] = got
        return got

    def related(self, top: list[tuple[int, float]], terms_of: Callable[[int], list[str]], own: set[str], sharpness: float, k: int) -> list[tuple[float, str]]:
        """The k best (weight, term) for these (docnum, score) passages, best first."""
        best = max(sc for _, sc in top) or 1.0
        ids, weights = [], []
        for docnum, score in top:
            pid, share = self.passage(docnum, terms_of)
            if len(pid):
                ids.append(pid)
                weights.append(share * (max(score, 0.0) / best) ** sharpness)
        if not ids:
            return []
        uniq, inv = np.unique(np.concatenate(ids), return_inverse=True)
        sums = np.bincount(inv, weights=np.concatenate(weights)) * self.idf[uniq]
        own_ids = [i for t in own if (i := self.ids.get(t)) is not None]
        if own_ids:
            sums[np.isin(uniq, own_ids)] = 0.0
        keep = np.flatnonzero(sums > 0)
        if len(keep) > k:
            cut = np.partition(sums[keep], len(keep) - k)[len(keep) - k]
            keep = keep[sums[keep] >= cut]
        # ties by term, as a sort of (weight, term) pairs would break them
        scored = sorted(((float(sums[j]), self.terms[int(uniq[j])]) for j in keep), reverse=True)
        return scored[:k]
