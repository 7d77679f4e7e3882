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
from typing import Callable

import numpy as np

__all__ = ["FeedbackTerms"]

_NONE = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))


class FeedbackTerms:
    """Term ids, idf and per-passage shares for one searcher; not thread-safe (callers lock)."""

    MAX_PASSAGES = 50_000  # cached passages, then start over
    # a passage weighing under this (score under ~37% of the best, at sharpness 3) is not
    # read: NFCorpus dev nDCG@10 is the same to four places without it, and reading is
    # most of feedback's cost
    MIN_WEIGHT = 0.05

    def __init__(self, n_docs: int, doc_frequency: Callable[[str], int]):
        self.n = n_docs
        self.doc_frequency = doc_frequency
        self.ids: dict[str, int] = {}  # term -> id, or -1 for a term feedback never picks
        self.terms: list[str] = []
        self.idf = np.zeros(1024, dtype=np.float64)  # by term id; grows by doubling
        self.passages: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def _id(self, term: str) -> int:
        i = self.ids.get(term)
        if i is not None:
            return i
        df = self.doc_frequency(term) if len(term) >= 3 and not term.isdigit() else 0
        if df < 2 or df > self.n // 10:
            self.ids[term] = -1
            return -1
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
        get, new = self.ids.get, self._id
        codes = np.array([i if (i := get(t)) is not None else new(t) for t in toks], dtype=np.int64)
        ids, counts = np.unique(codes[codes >= 0], return_counts=True)
        got = (ids, np.sqrt(counts / len(toks))) if len(ids) else _NONE
        if len(self.passages) >= self.MAX_PASSAGES:
            self.passages.clear()
        self.passages[docnum] = got
        return got

    def related(self, top: list[tuple[int, float]], terms_of: Callable[[int], list[str]], own: set[str], sharpness: float, k: int) -> list[tuple[float, str]]:
        """The k best (weight, term) for these (docnum, score) passages, best first."""
        best = max(sc for _, sc in top) or 1.0
        ids, weights = [], []
        for docnum, score in top:
            weight = (max(score, 0.0) / best) ** sharpness
            if weight < self.MIN_WEIGHT:
                continue
            pid, share = self.passage(docnum, terms_of)
            if len(pid):
                ids.append(pid)
                weights.append(share * weight)
        if not ids:
            return []
        uniq, inv = np.unique(np.concatenate(ids), return_inverse=True)
        sums = np.bincount(inv, weights=np.concatenate(weights)) * self.idf[uniq]
        own_ids = [i for t in own if (i := self.ids.get(t, -1)) >= 0]
        if own_ids:
            sums[np.isin(uniq, own_ids)] = 0.0
        keep = np.flatnonzero(sums > 0)
        if len(keep) > k:
            cut = np.partition(sums[keep], len(keep) - k)[len(keep) - k]
            keep = keep[sums[keep] >= cut]
        # ties by term, as a sort of (weight, term) pairs would break them
        scored = sorted(((float(sums[j]), self.terms[int(uniq[j])]) for j in keep), reverse=True)
        return scored[:k]
