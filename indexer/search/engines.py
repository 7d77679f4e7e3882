"""The two engines behind `engine.run` (Whoosh's own searcher, numpy arrays) and feedback.

`WhooshEngine` runs any plan (our nodes turned into Whoosh queries, `Native` trees as
they are) with Whoosh's top-N collector. `ArrayEngine` runs plans of our own nodes over
`ArrayIndex` and gives the same scores; it is much faster on plain-word queries. Each is
made per search over one `Generation` and remembers that search's evaluated trees.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable

import numpy as np

from ..fields import FACETS
from ..model import FacetValue
from .arrays import ArrayIndex, Res, order, supports
from .engine import Filter, MatchSet, facet_values
from .feedback import expand, related_note
from .generation import Generation
from .query import Node, Plan
from .ranking import Ranking
from .whoosh_query import to_whoosh

__all__ = ["ArrayEngine", "StoredFeedback", "WhooshEngine"]


class WhooshEngine:
    """Whoosh's searcher; answers every plan."""

    def __init__(self, gen: Generation):
        self.gen = gen
        self.searcher = gen.searcher
        self._page_of: list[str] | None = None

    def supports(self, query: Node) -> bool:
        return True

    def _within(self, within: Filter | None) -> set[int] | None:
        return self.gen.filter_set(within) if within is not None else None

    def match(self, query: Node | None, within: Filter | None) -> tuple[int, MatchSet]:
        fset = self._within(within)
        if query is None:
            docs = fset or set()
            return len(docs), docs
        docs = set(self.searcher.docs_for_query(to_whoosh(query)))
        return len(docs), (docs & fset if fset is not None else docs)

    def top(self, query: Node | None, limit: int, within: Filter | None) -> list[tuple[int, float]]:
        fset = self._within(within)
        if query is None:
            return [(d, 0.0) for d in sorted(fset or ())[:limit]]
        res = self.searcher.search(to_whoosh(query), limit=limit, filter=fset)
        return [(docnum, score) for score, docnum in res.top_n]

    def page_key(self, passage: int) -> str:
        if self._page_of is None:
            self._page_of = self.gen.page_of()
        return self._page_of[passage]

    def page_counts(self, matched: MatchSet) -> tuple[int, Callable[[int], int]]:
        page_of = self.gen.page_of()
        counts = Counter(page_of[d] for d in matched)  # type: ignore[attr-defined]
        return len(counts), lambda d: counts[page_of[d]]

    def facets(self, matched: MatchSet | None) -> dict[str, tuple[FacetValue, ...]]:
        out: dict[str, tuple[FacetValue, ...]] = {}
        gen = self.gen
        for facet, fieldname in FACETS.items():
            if matched:
                docs: set[int] = matched  # type: ignore[assignment]
                out[facet] = facet_values((v, len(docs & gen.postings(fieldname, v))) for v in gen.values(fieldname))
            else:
                out[facet] = ()
        return out


class ArrayEngine:
    """numpy over one commit's arrays; declines `Native` trees (`Unsupported`)."""

    def __init__(self, gen: Generation, arrays: ArrayIndex):
        self.gen = gen
        self.fx = arrays
        self._memo: dict[int, Res] = {}
        self._codes: np.ndarray | None = None

    def supports(self, query: Node) -> bool:
        return supports(query)

    def _mask(self, within: Filter | None) -> np.ndarray | None:
        if within is None:
            return None
        return self.fx.filter_mask(within, self.gen.filter_set(within))

    def _evaluate(self, query: Node | None, within: Filter | None) -> Res:
        if query is None:
            mask = self._mask(within)
            ids = np.flatnonzero(mask).astype(np.int32) if mask is not None else np.zeros(0, dtype=np.int32)
            return ids, np.zeros(len(ids), dtype=np.float64)
        ids, sc = self.fx.evaluate(query, self._memo)
        mask = self._mask(within)
        if mask is not None:
            keep = mask[ids]
            ids, sc = ids[keep], sc[keep]
        return ids, sc

    def match(self, query: Node | None, within: Filter | None) -> tuple[int, MatchSet]:
        if query is None:
            ids, _ = self._evaluate(None, within)
            return len(ids), ids
        everywhere = len(self.fx.evaluate(query, self._memo)[0])
        return everywhere, self._evaluate(query, within)[0]

    def top(self, query: Node | None, limit: int, within: Filter | None) -> list[tuple[int, float]]:
        ids, sc = self._evaluate(query, within)
        return [(int(ids[i]), float(sc[i])) for i in order(sc, limit)]

    def _page_codes(self) -> np.ndarray:
        if self._codes is None:
            self._codes = self.fx.page_codes(self.gen.page_of())
        return self._codes

    def page_key(self, passage: int) -> str:
        return self.fx.page_names[int(self._page_codes()[passage])]

    def page_counts(self, matched: MatchSet) -> tuple[int, Callable[[int], int]]:
        codes = self._page_codes()
        ids: Any = matched
        per_page = np.bincount(codes[ids], minlength=len(self.fx.page_names))
        return int(np.count_nonzero(per_page)), lambda d: int(per_page[codes[d]])

    def facets(self, matched: MatchSet | None) -> dict[str, tuple[FacetValue, ...]]:
        out: dict[str, tuple[FacetValue, ...]] = {}
        mask = None
        if matched is not None and len(matched):
            mask = np.zeros(self.fx.n, dtype=bool)
            ids: Any = matched
            mask[ids] = True
        for facet, fieldname in FACETS.items():
            if mask is None:
                out[facet] = ()
                continue
            values, docs, vcodes = self.fx.facet_table(fieldname, self.gen.values, self.gen.postings)
            if not len(values):
                out[facet] = ()
                continue
            n_of = np.bincount(vcodes[mask[docs]], minlength=len(values))
            out[facet] = facet_values((values[i], int(n_of[i])) for i in np.flatnonzero(n_of))
        return out


class StoredFeedback:
    """Feedback as the search flow asks for it, over one commit's stored passages."""

    def __init__(self, gen: Generation, ranking: Ranking):
        self.gen = gen
        self.ranking = ranking
        self.docs = ranking.feedback_docs
        self.max_matches = ranking.feedback_max_matches

    def _terms_of(self, docnum: int) -> list[str]:
        # through the commit's spans memo: the results shown are often these passages
        return [t for t, _, _ in self.gen.analyzed.spans(self.gen.stored(docnum).get("text", ""))]

    def expand(self, plan: Plan, top: list[tuple[int, float]], matches: int) -> Plan:
        return expand(plan, top, matches, self.gen.feedback_terms(), self._terms_of, self.ranking)

    def note(self, plan: Plan, typed: int, matched: int) -> str | None:
        return related_note(plan, typed, matched, lambda d: self.gen.stored(d).get("text", ""), self.gen.analyzed.spans)
