"""`XapianEngine`: the engine interface (`search.engine`) over the shards opened as one.

Xapian's matcher runs each question on every shard with global statistics and merges
the answers. A match counts exactly (the matcher is asked to check every document) and
carries, from the same pass, the number of matching passages per page and per facet
value combination (Xapian's value counters; a passage's facet slot holds all its values,
so splitting the combinations gives exact multi-valued counts). Ties rank by passage id,
so every sharding of the same passages ranks alike. Scores are Whoosh's per-field BM25:
the shards' wdfs carry each field's length normalisation, Xapian's BM25 runs with b = 0,
and each term is scaled to Lucene's idf (`documents.Norms`); shards written without norms
get Xapian's BM25 with the ranking's k1 and b over the whole passage.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from ..fields import FACETS
from ..model import FacetValue
from ..search.engine import Filter, MatchSet, Unsupported, facet_values
from ..search.query import Node
from .documents import FACET_SLOTS, PAGE_SLOT, PASSAGE_SLOT
from .generation import XapianGeneration

__all__ = ["XapianEngine", "XapianMatches"]


@dataclass
class XapianMatches:
    """A match set as counts: passages, passages per page, per facet value combination."""

    count: int
    pages: dict[str, int] = field(default_factory=dict)
    combos: dict[str, dict[str, int]] = field(default_factory=dict)

    def __len__(self) -> int:
        return self.count


def _counts(spy: Any) -> dict[str, int]:
    return {(v.term.decode("utf-8") if isinstance(v.term, bytes) else v.term): int(v.termfreq) for v in spy.values()}


class XapianEngine:
    """One search's questions to the shards; remembers the translated trees."""

    def __init__(self, gen: XapianGeneration):
        self.gen = gen
        self.x = gen.xapian
        self.db = gen.db
        self._memo: dict[int, Any] = {}
        r = gen.ranking
        if gen.norms is None:
            self.weighting = self.x.BM25Weight(r.k1, 0.0, 1.0, r.b, 0.5)
        else:  # lengths are normalised in the wdfs already (documents.Norms)
            self.weighting = self.x.BM25Weight(r.k1 * gen.norms.scale, 0.0, 1.0, 0.0, 0.0)

    def _query(self, query: Node) -> Any:
        got = self._memo.get(id(query))
        if got is None:
            got = self._memo[id(query)] = (query, self.gen.translator.node(query))
        return got[1]

    def supports(self, query: Node) -> bool:
        try:
            self._query(query)
        except Unsupported:
            return False
        return True

    def _filtered(self, query: Node | None, within: Filter | None) -> Any:
        x = self.x
        if query is None:
            base = x.Query(x.Query.OP_SCALE_WEIGHT, x.Query.MatchAll, 0.0)
        else:
            base = self._query(query)
        if within is not None:
            base = x.Query(x.Query.OP_FILTER, base, self.gen.translator.filter(within))
        return base

    def _enquire(self, q: Any) -> Any:
        enq = self.x.Enquire(self.db)
        enq.set_query(q)
        enq.set_weighting_scheme(self.weighting)
        enq.set_sort_by_relevance_then_value(PASSAGE_SLOT, False)
        return enq

    def _count(self, q: Any) -> int:
        mset = self._enquire(q).get_mset(0, 0, self.db.get_doccount())
        return int(mset.get_matches_estimated())

    def match(self, query: Node | None, within: Filter | None) -> tuple[int, MatchSet]:
        x = self.x
        enq = self._enquire(self._filtered(query, within))
        pages = x.ValueCountMatchSpy(PAGE_SLOT)
        spies = {f: x.ValueCountMatchSpy(slot) for f, slot in FACET_SLOTS.items()}
        enq.add_matchspy(pages)
        for spy in spies.values():
            enq.add_matchspy(spy)
        mset = enq.get_mset(0, 0, self.db.get_doccount())
        matched = XapianMatches(int(mset.get_matches_estimated()), _counts(pages), {f: _counts(s) for f, s in spies.items()})
        if query is None or within is None:
            return matched.count, matched
        return self._count(self._filtered(query, None)), matched

    def top(self, query: Node | None, limit: int, within: Filter | None) -> list[tuple[int, float]]:
        if limit <= 0:
            return []
        mset = self._enquire(self._filtered(query, within)).get_mset(0, limit)
        out = []
        for item in mset:
            d = int(item.docid)
            if not self.gen.knows(d):  # each document is a round trip to its shard
                self.gen.remember(d, item.document)
            out.append((d, float(item.weight)))
        return out

    def page_key(self, passage: int) -> str:
        return self.gen.page_key(passage)

    def page_counts(self, matched: MatchSet) -> tuple[int, Callable[[int], int]]:
        pages = matched.pages if isinstance(matched, XapianMatches) else {}
        return len(pages), lambda d: pages.get(self.page_key(d), 0)

    def facets(self, matched: MatchSet | None) -> dict[str, tuple[FacetValue, ...]]:
        out: dict[str, tuple[FacetValue, ...]] = {}
        for facet, fieldname in FACETS.items():
            if not isinstance(matched, XapianMatches) or not matched.count:
                out[facet] = ()
                continue
            per_value: Counter[str] = Counter()
            for combo, n in matched.combos.get(fieldname, {}).items():
                for v in combo.split("\t"):
                    per_value[v] += n
            out[facet] = facet_values(per_value.items())
        return out
