"""The array engine's data: one commit's postings, lengths and tables as numpy arrays.

Whoosh walks its matcher trees one document at a time in Python; a plain-word query
(each word over text, title and heading, plus synonyms, tag clauses and the all-words
bonus) runs through several such trees per search. `ArrayIndex.evaluate` runs the same
query trees (our nodes, `query.py`) as array operations:

* `Term` → the term's postings read once per commit (document numbers and term
  frequencies straight from Whoosh's posting blocks, `whoosh_internals.py`), scored once
  with the searcher's own BM25F formula, idf (`searcher.idf`, so `ReliefBM25`'s Lucene
  idf) and average field length, over the same one-byte-encoded field lengths Whoosh
  scores with;
* `AnyOf` sums the scores of the children that match a document, `AllOf` keeps documents
  every child matches and sums, `Boosted` adds the extra part's score where it matches,
  `Constant` gives its constant; boosts multiply as Whoosh's `WrappingMatcher` does,
  including Whoosh's habit of ignoring the boost of a compound with a single child;
* `Phrase` (multi-word synonyms) is run by Whoosh itself, once per commit, and its
  (documents, scores) reused.

`Native` raises `Unsupported`, and the search flow answers with the Whoosh engine.
Ties are broken as Whoosh's top-N collector breaks them: lower document number first.
Every cache here follows `cache.Bounded`'s rule; the whole object belongs to one
`Generation` and goes with it.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
from whoosh.query.qcore import QueryError
from whoosh.scoring import BM25F

from . import whoosh_internals as wi
from .cache import Bounded
from .engine import Unsupported
from .query import AllOf, AnyOf, Boosted, Constant, Node, Phrase, Term, own_nodes
from .whoosh_query import to_whoosh

__all__ = ["ArrayIndex", "Res", "order", "supports"]

_EMPTY_IDS = np.zeros(0, dtype=np.int32)
_EMPTY_SC = np.zeros(0, dtype=np.float64)

Res = tuple[np.ndarray, np.ndarray]  # (ids: sorted unique int32, scores: float64 aligned with ids)


def supports(q: Node) -> bool:
    """True when every node of the tree is one the array engine evaluates exactly."""
    return own_nodes(q)


def order(sc: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k best scores, best first; ties by position (= document number)."""
    n = len(sc)
    if k <= 0 or n == 0:
        return np.zeros(0, dtype=np.int64)
    if k < n:
        thr = sc[np.argpartition(sc, n - k)[n - k :]].min()
        cand = np.flatnonzero(sc >= thr)
    else:
        cand = np.arange(n)
    return cand[np.argsort(-sc[cand], kind="stable")][:k]


def _weight(res: Res) -> int:
    return len(res[0])


class ArrayIndex:
    """Arrays over one searcher (one commit)."""

    MAX_LAZY_POSTINGS = 3_000_000  # postings read by searches (12 bytes each), then start over
    MAX_CACHED_QUERIES = 2_000
    MAX_FILTER_MASKS = 256

    def __init__(self, searcher: Any):
        w = searcher.weighting
        if not isinstance(w, BM25F) or getattr(w, "use_final", False):
            raise Unsupported("weighting is not BM25F")
        self.searcher = searcher
        self.weighting = w
        self.schema = searcher.schema
        reader = searcher.reader()
        self.n = int(reader.doc_count_all())
        self.leaves = [(sub, int(off)) for sub, off in searcher.leaf_searchers()]
        live = np.ones(self.n, dtype=bool)
        for sub, off in self.leaves:
            r = sub.reader()
            if r.has_deletions():
                live[np.array(wi.deleted_docs(r), dtype=np.int64) + off] = False
        self.live = live
        self.has_deleted = not bool(live.all())
        self._lengths: dict[str, np.ndarray] = {}  # one per field of the schema
        self.terms: Bounded[tuple[str, bytes], Res] = Bounded(self.MAX_LAZY_POSTINGS, _weight)
        self._leaf_results: Bounded[Phrase, Res] = Bounded(self.MAX_CACHED_QUERIES)
        self._filter_masks: Bounded[Any, np.ndarray] = Bounded(self.MAX_FILTER_MASKS)
        self._page_codes: np.ndarray | None = None
        self.page_names: list[str] = []
        self._facets: dict[str, tuple[list[str], np.ndarray, np.ndarray]] = {}  # one per facet
        self.uses = 0
        self.warmed = False  # warm-up has run to its end

    # ------------------------------------------------------------ reading the index
    def lengths(self, fieldname: str) -> np.ndarray:
        """Every document's length in `fieldname` as Whoosh scores it (one-byte encoded)."""
        got = self._lengths.get(fieldname)
        if got is not None:
            return got
        arr = np.ones(self.n, dtype=np.float64)  # Whoosh's default when a segment has no lengths
        for sub, off in self.leaves:
            r = sub.reader()
            dc = int(r.doc_count_all())
            vals = wi.field_lengths(r, fieldname, dc)
            if vals is not None:
                arr[off : off + dc] = vals
        self._lengths[fieldname] = arr
        return arr

    def postings(self, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
        id_parts, w_parts = [], []
        for sub, off in self.leaves:
            try:
                got = wi.segment_postings(sub.reader(), self.schema, fieldname, btext)
            except wi.Unreadable as exc:
                raise Unsupported(str(exc)) from exc
            if got is None:
                continue
            ids, w = got
            id_parts.append(ids + np.int32(off) if off else ids)
            w_parts.append(w)
        if not id_parts:
            return _EMPTY_IDS, _EMPTY_SC
        ids = np.concatenate(id_parts) if len(id_parts) > 1 else id_parts[0]
        w = np.concatenate(w_parts) if len(w_parts) > 1 else w_parts[0]
        if self.has_deleted:
            keep = self.live[ids]
            ids, w = ids[keep], w[keep]
        return ids, w

    def _key(self, fieldname: str, text: Any) -> tuple[str, bytes] | None:
        if fieldname not in self.schema:
            return None
        try:
            return fieldname, self.schema[fieldname].to_bytes(text)
        except ValueError:
            return None

    def _scores(self, fieldname: str, btext: bytes, ids: np.ndarray, tf: np.ndarray) -> np.ndarray:
        if len(ids) == 0:
            return _EMPTY_SC
        if not self.schema[fieldname].scorable:
            return tf  # WeightScorer: the posting's weight
        s = self.searcher
        idf = s.idf(fieldname, btext)
        avgfl = s.avg_field_length(fieldname) or 1
        B, K1 = wi.bm25_params(self.weighting, fieldname)
        fl = self.lengths(fieldname)[ids]
        # whoosh.scoring.bm25, operation for operation
        return np.asarray(idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * fl / avgfl))))

    def term(self, fieldname: str, text: Any) -> Res:
        """(documents, unboosted scores) of one term, as Whoosh's scorer gives them."""
        key = self._key(fieldname, text)
        if key is None:
            return _EMPTY_IDS, _EMPTY_SC
        got = self.terms.get(key)
        if got is not None:
            return got
        ids, tf = self.postings(*key)
        got = (ids, self._scores(key[0], key[1], ids, tf)) if len(ids) else (_EMPTY_IDS, _EMPTY_SC)
        return self.terms.put(key, got)

    def pin(self, fieldname: str, text: Any) -> int:
        """Read a term's postings ahead and keep them for this commit; their count."""
        key = self._key(fieldname, text)
        if key is None or (key in self.terms and not self.terms.pin(key)):
            return 0
        n = len(self.term(fieldname, text)[0])
        self.terms.pin(key)
        return n

    def whoosh_leaf(self, q: Phrase) -> Res:
        """(documents, scores) of a phrase Whoosh runs itself, cached per commit."""
        got = self._leaf_results.get(q)
        if got is not None:
            return got
        wq = to_whoosh(q)
        ctx = self.searcher.context()
        ids_l: list[int] = []
        sc_l: list[float] = []
        try:
            for sub, off in self.leaves:
                m = wq.matcher(sub, ctx)
                while m.is_active():
                    ids_l.append(m.id() + off)
                    sc_l.append(m.score())
                    m.next()
        except QueryError as exc:  # whatever Whoosh makes of it, the Whoosh engine will say
            raise Unsupported(f"phrase: {exc}") from exc
        ids = np.array(ids_l, dtype=np.int32)
        sc = np.array(sc_l, dtype=np.float64)
        if len(ids) > 1 and not bool(np.all(ids[1:] > ids[:-1])):
            idx = np.argsort(ids, kind="stable")
            ids, sc = ids[idx], sc[idx]
        return self._leaf_results.put(q, (ids, sc))

    # ------------------------------------------------------------ evaluating query trees
    def evaluate(self, q: Node, memo: dict[int, Res]) -> Res:
        key = id(q)
        got = memo.get(key)
        if got is None:
            got = self._eval(q, memo)
            memo[key] = got
        return got

    def _eval(self, q: Node, memo: dict[int, Res]) -> Res:
        if isinstance(q, Term):
            ids, sc = self.term(q.field, q.text)
            if q.boost != 1.0:
                sc = sc * q.boost
            return ids, sc
        if isinstance(q, (AnyOf, AllOf)):
            subs = q.children
            if not subs:
                return _EMPTY_IDS, _EMPTY_SC
            if len(subs) == 1:  # Whoosh uses the child's matcher as is: the boost is lost
                return self.evaluate(subs[0], memo)
            if isinstance(q, AnyOf):
                parts: list[tuple[np.ndarray, np.ndarray, float]] = []
                self._or_parts(q, q.boost, parts, memo)
                return self._union(parts)
            res = self.evaluate(subs[0], memo)
            for s in subs[1:]:
                ids, sc = res
                o_ids, o_sc = self.evaluate(s, memo)
                if len(ids) == 0 or len(o_ids) == 0:
                    res = (_EMPTY_IDS, _EMPTY_SC)
                    continue
                pos = np.searchsorted(o_ids, ids)
                np.minimum(pos, len(o_ids) - 1, out=pos)
                hit = o_ids[pos] == ids
                res = (ids[hit], sc[hit] + o_sc[pos[hit]])
            if q.boost != 1.0:
                res = (res[0], res[1] * q.boost)
            return res
        if isinstance(q, Boosted):
            a_ids, a_sc = self.evaluate(q.base, memo)
            if len(a_ids) == 0:
                return a_ids, a_sc
            b_ids, b_sc = self.evaluate(q.extra, memo)
            if len(b_ids) == 0:
                return a_ids, a_sc
            pos = np.searchsorted(b_ids, a_ids)
            np.minimum(pos, len(b_ids) - 1, out=pos)
            hit = b_ids[pos] == a_ids
            sc = a_sc.copy()
            sc[hit] += b_sc[pos[hit]]
            return a_ids, sc
        if isinstance(q, Constant):
            # a top-N search runs without `needs_current`, so Whoosh gives the constant
            ids, _ = self.evaluate(q.child, memo)
            return ids, np.full(len(ids), float(q.score), dtype=np.float64)
        if isinstance(q, Phrase):
            return self.whoosh_leaf(q)
        raise Unsupported(type(q).__name__)

    def _or_parts(self, q: AnyOf, mult: float, parts: list[tuple[np.ndarray, np.ndarray, float]], memo: dict[int, Res]) -> None:
        """The leaves of a tree of AnyOfs, each with the product of the boosts above it."""
        for s in q.children:
            if id(s) in memo:
                ids, sc = memo[id(s)]
                parts.append((ids, sc, mult))
            elif isinstance(s, Term):
                ids, sc = self.term(s.field, s.text)
                parts.append((ids, sc, mult * s.boost))
            elif isinstance(s, AnyOf) and len(s.children) > 1:
                self._or_parts(s, mult * s.boost, parts, memo)
            else:
                ids, sc = self.evaluate(s, memo)
                parts.append((ids, sc, mult))

    def _union(self, parts: list[tuple[np.ndarray, np.ndarray, float]]) -> Res:
        parts = [p for p in parts if len(p[0])]
        if not parts:
            return _EMPTY_IDS, _EMPTY_SC
        if len(parts) == 1:
            ids, sc, m = parts[0]
            return ids, (sc * m if m != 1.0 else sc)
        ids = np.concatenate([p[0] for p in parts])
        sc = np.concatenate([p[1] * p[2] if p[2] != 1.0 else p[1] for p in parts])
        if len(ids) * 8 > self.n:
            sums = np.bincount(ids, weights=sc, minlength=self.n)
            seen = np.zeros(self.n, dtype=bool)
            seen[ids] = True
            uid = np.flatnonzero(seen)
            return uid, sums[uid]
        idx = np.argsort(ids, kind="stable")
        ids_s = ids[idx]
        first = np.empty(len(ids_s), dtype=bool)
        first[0] = True
        np.not_equal(ids_s[1:], ids_s[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        return ids_s[starts], np.add.reduceat(sc[idx], starts)

    # ------------------------------------------------------------ per-commit tables
    def page_codes(self, page_of: list[str]) -> np.ndarray:
        if self._page_codes is None or len(self._page_codes) != len(page_of):
            table: dict[str, int] = {}
            codes = np.fromiter((table.setdefault(p, len(table)) for p in page_of), dtype=np.int64, count=len(page_of))
            names = [""] * len(table)
            for p, c in table.items():
                names[c] = p
            self._page_codes, self.page_names = codes, names
        return self._page_codes

    def filter_mask(self, key: Any, docs: frozenset[int] | set[int]) -> np.ndarray:
        got = self._filter_masks.get(key)
        if got is not None:
            return got
        mask = np.zeros(self.n, dtype=bool)
        if docs:
            mask[np.fromiter(docs, dtype=np.int64, count=len(docs))] = True
        return self._filter_masks.put(key, mask)

    def facet_table(self, fieldname: str, values: Callable[[str], list[str]], postings: Callable[[str, str], frozenset[int]]) -> tuple[list[str], np.ndarray, np.ndarray]:
        """A facet's values, and (document, value code) pairs of their postings."""
        got = self._facets.get(fieldname)
        if got is None:
            vals = list(values(fieldname))
            docs_l, codes_l = [], []
            for c, v in enumerate(vals):
                p = postings(fieldname, v)
                docs_l.append(np.fromiter(p, dtype=np.int64, count=len(p)))
                codes_l.append(np.full(len(p), c, dtype=np.int64))
            docs = np.concatenate(docs_l) if docs_l else _EMPTY_IDS
            codes = np.concatenate(codes_l) if codes_l else _EMPTY_IDS
            got = self._facets[fieldname] = (vals, docs, codes)
        return got
