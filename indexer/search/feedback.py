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
from dataclasses import replace
from typing import Callable

import numpy as np

from .cache import Bounded
from .query import AnyOf, Boosted, Constant, Node, Plan, Term, leaves
from .ranking import Ranking

__all__ = ["FeedbackTerms", "expand", "related_note"]

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
        self.passages: Bounded[int, tuple[np.ndarray, np.ndarray]] = Bounded(self.MAX_PASSAGES)

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
        return self.passages.put(docnum, got)

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


def expand(plan: Plan, top: list[tuple[int, float]], matches: int, terms: FeedbackTerms, terms_of: Callable[[int], list[str]], r: Ranking) -> Plan:
    """The plan with the words its best (docnum, score) passages share (RM3-like); the
    same plan when there is too little evidence or nothing to add."""
    if len(top) < 2:
        return plan  # too little evidence: feedback would only echo a handful of pages
    own = {t for leaf in leaves(plan.match) for t in ((leaf.text,) if isinstance(leaf, Term) else leaf.words)}
    picked = terms.related(top, terms_of, own, r.feedback_sharpness, r.feedback_terms)
    if not picked:
        return plan
    top_w = picked[0][0]
    extra: tuple[Node, ...] = tuple(Term("text", t, r.feedback_weight * w / top_w) for w, t in picked)
    related = tuple(t for _, t in picked)
    sources = tuple(d for d, _ in top)
    if matches < r.feedback_expands_below:
        # the related words bring in passages that lack the typed ones; a constant tier
        # keeps every passage with a typed word (or its synonym) above all of those
        typed_first = Constant(plan.match, r.all_words_bonus / 2)
        query = AnyOf((plan.query, typed_first, *extra))
        return replace(plan, query=query, match=AnyOf((plan.match, *extra)), typed=plan.match, related=related, related_from=sources)
    # the related words only re-rank what the typed ones matched
    return replace(plan, query=Boosted(plan.query, AnyOf(extra)), typed=plan.match, related=related, related_from=sources)


def related_note(plan: Plan, typed: int, matched: int, text_of: Callable[[int], str], spans: Callable[[str], list[tuple[str, int, int]]]) -> str | None:
    """Say how many passages only related words found, and which words, as people read them."""
    added = matched - typed
    if added <= 0 or not plan.related:
        return None
    want, surface = set(plan.related[:5]), {}
    for docnum in plan.related_from:
        text = text_of(docnum)
        for term, start, end in spans(text):
            if term in want and term not in surface:
                surface[term] = text[start:end].lower()
        if len(surface) == len(want):
            break
    words = ", ".join(surface.get(t, t) for t in plan.related[:5])
    have = f"{typed} passage{'s' if typed != 1 else ''} match{'es' if typed == 1 else ''} your words"
    return f"{have}; {added} more {'is' if added == 1 else 'are'} listed after them for related words: {words}"
