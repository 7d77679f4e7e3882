"""Plain-word searches scored with numpy over cached postings: Whoosh's scores, faster.

Whoosh walks its matcher trees one document at a time in Python; a plain-word query
(each word over text, title and heading, plus synonyms, tag clauses and the all-words
bonus) runs through several such trees per search. This module evaluates the very same
query trees, built by `QueryBuilder`, as array operations:

* `Term` → the term's postings read once per index generation (document numbers and
  term frequencies straight from Whoosh's posting blocks), scored once with the
  searcher's own BM25F formula, idf (`searcher.idf`, so `ReliefBM25`'s Lucene idf) and
  average field length, over the same one-byte-encoded field lengths Whoosh scores with;
* `Or` sums the scores of the children that match a document, `And` keeps documents
  every child matches and sums, `AndMaybe` adds the second part's score where it
  matches, `ConstantScoreQuery` gives its constant; boosts multiply as Whoosh's
  `WrappingMatcher` does — including Whoosh's habit of ignoring the boost of a compound
  query that has a single child;
* `Phrase` (multi-word synonyms) is run by Whoosh itself, once per generation, and
  its (documents, scores) reused.

Any other node type raises `Unsupported`, and the caller answers with the Whoosh path.
Ties are broken as Whoosh's top-N collector breaks them: lower document number first.

Totals, facets (`np.bincount` over per-value postings), filters (a boolean mask), the
feedback passages, grouping by page and paging all come from the arrays; only the
passages shown are read from stored fields.

The ranking is exhaustive: the best N by Whoosh's own scores. Whoosh's top-N collector
is not always: it swaps matchers for cheaper ones using `max_quality()` bounds, and
`ArrayUnionMatcher` (an Or of 3+ clauses in a segment of ≤ 5,000 documents) reports the
largest child bound instead of their sum, so the shipped Whoosh path now and then leaves
out a passage its scores rank higher (tests/test_fastscore.py shows one). The parity
tests therefore compare with Whoosh run without that replacement.

An index searched a second time is warmed (`warm`): the postings of text terms in 20+
passages (about 8M postings, ~100 MB, at 110,000 passages), every text term's document
frequency and every surface word's term; ~9 s once per generation at that size.

Everything here runs under `Index._lock`; a `FastIndex` belongs to one searcher and is
dropped with the other per-generation caches (`_State.reset_caches`).
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any, Callable, Iterator

import numpy as np
from whoosh import query as Q
from whoosh.scoring import BM25F

try:  # Whoosh internals for reading posting blocks and length columns in bulk
    from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
    from whoosh.util.numeric import _length_byte_cache
except ImportError:  # pragma: no cover - other Whoosh versions take the slow, generic reads
    W3LeafMatcher = None  # type: ignore[assignment,misc]
    LENGTHS_COLUMN = None
    _lenfield = None  # type: ignore[assignment]
    _length_byte_cache = None
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound

__all__ = ["FastIndex", "Unsupported", "run", "fast_index"]

_EMPTY_IDS = np.zeros(0, dtype=np.int32)
_EMPTY_SC = np.zeros(0, dtype=np.float64)
_LEN_OF_BYTE = np.array([0] + [_length_byte_cache[i] for i in range(1, 256)], dtype=np.float64) if _length_byte_cache is not None else None

Res = tuple  # (ids: sorted unique int32 array, scores: float64 array aligned with ids)


class Unsupported(Exception):
    """A query (or index) the fast path does not evaluate; use the Whoosh path."""


def supports(q: Any) -> bool:
    """True when every node of the tree is one the fast path evaluates exactly."""
    t = type(q)
    if q is Q.NullQuery or t is type(Q.NullQuery):
        return True
    if t is Q.Term or t is Q.Phrase:
        return True
    if t is Q.Or:
        if getattr(q, "scale", None) or getattr(q, "minmatch", 0):
            return False
        return all(supports(s) for s in q.subqueries)
    if t is Q.And:
        return all(supports(s) for s in q.subqueries)
    if t is Q.AndMaybe:
        return supports(q.a) and supports(q.b)
    if t is Q.ConstantScoreQuery:
        return supports(q.child)
    return False


def _order(sc: np.ndarray, k: int) -> np.ndarray:
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


class FastIndex:
    """Arrays over one searcher (one index generation)."""

    MAX_LAZY_POSTINGS = 3_000_000  # postings read by searches (12 bytes each), then start over
    MAX_CACHED_QUERIES = 2_000

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
                perdoc = getattr(r, "_perdoc", None)
                if perdoc is not None and hasattr(perdoc, "deleted_docs"):
                    gone = list(perdoc.deleted_docs())
                else:
                    gone = [d for d in range(r.doc_count_all()) if r.is_deleted(d)]
                dels = np.array(gone, dtype=np.int64)
                live[dels + off] = False
        self.live = live
        self.has_deleted = not bool(live.all())
        self._lengths: dict[str, np.ndarray] = {}
        self._terms: dict[tuple[str, bytes], Res] = {}
        self._cached = 0
        self._pinned: set[tuple[str, bytes]] = set()  # read ahead by `warm`, never evicted
        self._pinned_postings = 0
        self._leaf_results: dict[Any, Res] = {}
        self._page_codes: np.ndarray | None = None
        self._page_names: list[str] = []
        self._facets: dict[str, tuple[list[str], np.ndarray, np.ndarray]] = {}
        self._filter_masks: dict[int, tuple[Any, np.ndarray]] = {}
        self.uses = 0
        self.warmed = False  # warm() has run to its end

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
            got = self._length_values(r, fieldname, dc)
            if got is not None:
                arr[off : off + dc] = got
        self._lengths[fieldname] = arr
        return arr

    @staticmethod
    def _length_values(r: Any, fieldname: str, dc: int) -> np.ndarray | None:
        """One segment's decoded lengths: the raw length column in one read when we can."""
        perdoc = getattr(r, "_perdoc", None)
        if perdoc is not None and _LEN_OF_BYTE is not None and hasattr(perdoc, "_cached_reader"):
            col = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
            if col is None:
                return None
            try:
                count = min(int(col._count), dc)
                raw = np.frombuffer(col._dbfile.get(col._basepos, count), dtype=np.uint8)
            except Exception:
                raw = None
            if raw is not None and len(raw) == count:
                if count < dc:
                    raw = np.concatenate([raw, np.zeros(dc - count, dtype=np.uint8)])
                return _LEN_OF_BYTE[raw]
        # generic (slow) path: one document at a time
        return np.array([r.doc_field_length(d, fieldname, 1) or 0 for d in range(dc)], dtype=np.float64)

    def _read_matcher(self, m: Any) -> tuple[np.ndarray, np.ndarray]:
        if W3LeafMatcher is not None and type(m) is W3LeafMatcher and not m._byteids:
            # the posting blocks as stored: delta-coded ids (from 0 in each block) and
            # weights (None = all 1.0, one float = all equal, else one per posting)
            deltas: list[int] = []
            weights: list[float] = []
            lens: list[int] = []
            while True:
                m._read_data()
                ids_raw, w = m._data[0], m._data[1]
                k = m._blocklength
                if len(ids_raw) != k:
                    raise Unsupported("posting block size mismatch")
                deltas.extend(ids_raw)
                if w is None:
                    weights.extend([1.0] * k)
                elif isinstance(w, float):
                    weights.extend([w] * k)
                else:
                    weights.extend(w)
                lens.append(k)
                if m._lastblock:
                    break
                m._goto(m._nextoffset)
            cs = np.cumsum(np.array(deltas, dtype=np.int64))
            if len(lens) > 1:
                ends = np.cumsum(lens)[:-1]
                base = np.concatenate(([0], cs[ends - 1]))
                cs -= np.repeat(base, lens)
            # Whoosh hands out weights through array("f"): float32 values
            return cs.astype(np.int32), np.array(weights, dtype=np.float32).astype(np.float64)
        ids_l, w_l = [], []
        while m.is_active():
            ids_l.append(m.id())
            w_l.append(m.weight())
            m.next()
        return np.array(ids_l, dtype=np.int32), np.array(w_l, dtype=np.float32).astype(np.float64)

    def _segment_postings(self, r: Any, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray] | None:
        """One segment's postings of a term (deleted documents included), None if absent."""
        terms = getattr(r, "_terms", None)
        if terms is not None and type(terms).__name__ == "W3TermsReader":
            # one term-table lookup instead of three (`in`, `postings`, the deletion filter)
            try:
                ti = terms.term_info(fieldname, btext)
            except TermNotFound:
                return None
            if ti.is_inlined():
                ids_raw, weights, _ = ti.inlined_postings()
                return np.array(ids_raw, dtype=np.int32), np.array(weights, dtype=np.float32).astype(np.float64)
            m = terms._codec.postings_reader(terms._postfile, ti, self.schema[fieldname].format, term=(fieldname, btext))
            return self._read_matcher(m)
        if (fieldname, btext) not in r:
            return None
        m = r.postings(fieldname, btext)
        if isinstance(m, FilterMatcher):
            m = m.child  # the deleted documents; dropped with the live mask
        return self._read_matcher(m)

    def postings(self, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
        id_parts, w_parts = [], []
        for sub, off in self.leaves:
            got = self._segment_postings(sub.reader(), fieldname, btext)
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
        w = self.weighting
        idf = s.idf(fieldname, btext)
        avgfl = s.avg_field_length(fieldname) or 1
        B = w._field_B.get(fieldname, w.B)
        K1 = w.K1
        fl = self.lengths(fieldname)[ids]
        # whoosh.scoring.bm25, operation for operation
        return idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * fl / avgfl)))

    def term(self, fieldname: str, text: Any) -> Res:
        """(documents, unboosted scores) of one term, as Whoosh's scorer gives them."""
        key = self._key(fieldname, text)
        if key is None:
            return _EMPTY_IDS, _EMPTY_SC
        got = self._terms.get(key)
        if got is not None:
            return got
        ids, tf = self.postings(*key)
        got = (ids, self._scores(key[0], key[1], ids, tf)) if len(ids) else (_EMPTY_IDS, _EMPTY_SC)
        if self._cached + len(ids) > self._pinned_postings + self.MAX_LAZY_POSTINGS:
            # start over, keeping what warm-up read ahead
            self._terms = {k: v for k, v in self._terms.items() if k in self._pinned}
            self._cached = self._pinned_postings
        self._terms[key] = got
        self._cached += len(ids)
        return got

    def pin(self, fieldname: str, text: Any) -> int:
        """Read a term's postings ahead and keep them for this generation; their count."""
        key = self._key(fieldname, text)
        if key is None or key in self._pinned:
            return 0
        n = len(self.term(fieldname, text)[0])
        self._pinned.add(key)
        self._pinned_postings += n
        return n

    def whoosh_leaf(self, q: Any) -> Res:
        """(documents, scores) of a query Whoosh runs itself (phrases), cached per generation."""
        try:
            got = self._leaf_results.get(q)
        except TypeError:
            got = None
        if got is not None:
            return got
        s = self.searcher
        ctx = s.context()
        ids_l: list[int] = []
        sc_l: list[float] = []
        try:
            for sub, off in self.leaves:
                m = q.matcher(sub, ctx)
                while m.is_active():
                    ids_l.append(m.id() + off)
                    sc_l.append(m.score())
                    m.next()
        except Exception as exc:  # whatever Whoosh makes of it, the Whoosh path will say
            raise Unsupported(f"{type(q).__name__}: {exc}") from exc
        ids = np.array(ids_l, dtype=np.int32)
        sc = np.array(sc_l, dtype=np.float64)
        if len(ids) > 1 and not bool(np.all(ids[1:] > ids[:-1])):
            order = np.argsort(ids, kind="stable")
            ids, sc = ids[order], sc[order]
        got = (ids, sc)
        if len(self._leaf_results) > self.MAX_CACHED_QUERIES:
            self._leaf_results.clear()
        try:
            self._leaf_results[q] = got
        except TypeError:
            pass
        return got

    # ------------------------------------------------------------ evaluating query trees
    def evaluate(self, q: Any, memo: dict[int, Res]) -> Res:
        key = id(q)
        got = memo.get(key)
        if got is None:
            got = self._eval(q, memo)
            memo[key] = got
        return got

    def _eval(self, q: Any, memo: dict[int, Res]) -> Res:
        t = type(q)
        if t is Q.Term:
            ids, sc = self.term(q.fieldname, q.text)
            if q.boost != 1.0:
                sc = sc * q.boost
            return ids, sc
        if t is Q.Or or t is Q.And:
            subs = q.subqueries
            if not subs:
                return _EMPTY_IDS, _EMPTY_SC
            if len(subs) == 1:  # Whoosh uses the child's matcher as is: the boost is lost
                return self.evaluate(subs[0], memo)
            if t is Q.Or:
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
        if t is Q.AndMaybe:
            a_ids, a_sc = self.evaluate(q.a, memo)
            if len(a_ids) == 0:
                return a_ids, a_sc
            b_ids, b_sc = self.evaluate(q.b, memo)
            if len(a_ids) == 0 or len(b_ids) == 0:
                return a_ids, a_sc
            pos = np.searchsorted(b_ids, a_ids)
            np.minimum(pos, len(b_ids) - 1, out=pos)
            hit = b_ids[pos] == a_ids
            sc = a_sc.copy()
            sc[hit] += b_sc[pos[hit]]
            return a_ids, sc
        if t is Q.ConstantScoreQuery:
            # a top-N search runs without `needs_current`, so Whoosh gives the constant
            ids, _ = self.evaluate(q.child, memo)
            return ids, np.full(len(ids), float(q.score), dtype=np.float64)
        if t is Q.Phrase:
            return self.whoosh_leaf(q)
        if q is Q.NullQuery or t is type(Q.NullQuery):
            return _EMPTY_IDS, _EMPTY_SC
        raise Unsupported(t.__name__)

    def _or_parts(self, q: Any, mult: float, parts: list[tuple[np.ndarray, np.ndarray, float]], memo: dict[int, Res]) -> None:
        """The leaves of a tree of Ors, each with the product of the boosts above it."""
        for s in q.subqueries:
            t = type(s)
            if id(s) in memo:
                ids, sc = memo[id(s)]
                parts.append((ids, sc, mult))
            elif t is Q.Term:
                ids, sc = self.term(s.fieldname, s.text)
                parts.append((ids, sc, mult * s.boost))
            elif t is Q.Or and len(s.subqueries) > 1 and not (getattr(s, "scale", None) or getattr(s, "minmatch", 0)):
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
        order = np.argsort(ids, kind="stable")
        ids_s = ids[order]
        first = np.empty(len(ids_s), dtype=bool)
        first[0] = True
        np.not_equal(ids_s[1:], ids_s[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        return ids_s[starts], np.add.reduceat(sc[order], starts)

    # ------------------------------------------------------------ per-generation tables
    def page_codes(self, page_of: list[str]) -> np.ndarray:
        if self._page_codes is None or len(self._page_codes) != len(page_of):
            table: dict[str, int] = {}
            codes = np.fromiter((table.setdefault(p, len(table)) for p in page_of), dtype=np.int64, count=len(page_of))
            names = [""] * len(table)
            for p, c in table.items():
                names[c] = p
            self._page_codes, self._page_names = codes, names
        return self._page_codes

    def filter_mask(self, fset: Any) -> np.ndarray:
        got = self._filter_masks.get(id(fset))
        if got is not None and got[0] is fset:
            return got[1]
        mask = np.zeros(self.n, dtype=bool)
        if fset:
            mask[np.fromiter(fset, dtype=np.int64, count=len(fset))] = True
        if len(self._filter_masks) > 256:
            self._filter_masks.clear()
        self._filter_masks[id(fset)] = (fset, mask)
        return mask

    def facet_table(self, index: Any, fieldname: str) -> tuple[list[str], np.ndarray, np.ndarray]:
        got = self._facets.get(fieldname)
        if got is None:
            values = list(index._values(fieldname))
            docs_l, codes_l = [], []
            for c, v in enumerate(values):
                p = index._postings(fieldname, v)
                docs_l.append(np.fromiter(p, dtype=np.int64, count=len(p)))
                codes_l.append(np.full(len(p), c, dtype=np.int64))
            docs = np.concatenate(docs_l) if docs_l else _EMPTY_IDS
            codes = np.concatenate(codes_l) if codes_l else _EMPTY_IDS
            got = self._facets[fieldname] = (values, docs, codes)
        return got


def _current(index: Any) -> FastIndex:
    st = index._state
    fx = getattr(st, "fast", None)
    if fx is None or fx.searcher is not st.searcher:
        fx = FastIndex(st.searcher)
        st.fast = fx
    return fx


def fast_index(index: Any) -> FastIndex:
    """The arrays of the index's current generation (built on first use)."""
    fx = _current(index)
    fx.uses += 1
    if fx.uses == 2:
        # an index asked twice (a server, a batch, a benchmark) is worth warming; a one-shot
        # `relief search` is not. A server warms beside its searches instead of within one.
        if index.background_warm:
            index.warm_in_background(fx)
        else:
            warm(index, fx)
    return fx


PRELOAD_MIN_DF = 20  # text terms in at least this many passages are read at warm-up …
PRELOAD_POSTINGS = 8_000_000  # … the most frequent first, up to this many postings (~96 MB)


def warm(index: Any, fx: FastIndex | None = None) -> None:
    """Read ahead what cold searches would otherwise read one query at a time.

    The postings of frequent text terms (query words and feedback words alike: a posting
    block costs ~40 µs to decode, and such a term has dozens), every text term's document
    frequency (the feedback's cache), the analyzed term of every surface word (the
    snippets' and feedback's cache), field lengths, page codes and facet tables. About
    9 s at 110,000 passages, once per index generation. Call under `Index._lock`.
    """
    for _ in warm_steps(index, fx):
        pass


WARM_SLICE = 0.02  # seconds of warm-up work between chances for a waiting search


def warm_steps(index: Any, fx: FastIndex | None = None) -> Iterator[None]:
    """`warm` in slices of about WARM_SLICE seconds, each to be run under `Index._lock`.

    A server warms a new commit in the background this way: a search waits for one
    slice at most, not for the whole warm-up.
    """
    st = index._state
    if fx is None:
        fx = _current(index)
    clock = time.perf_counter
    due = clock() + WARM_SLICE

    def pause() -> bool:
        nonlocal due
        if clock() < due:
            return False
        due = clock() + WARM_SLICE
        return True

    df: dict[str, int] = {}
    try:
        for r in _leaf_readers(st):
            for btext, ti in r.iter_field("text"):
                t = btext.decode("utf-8") if isinstance(btext, bytes) else btext
                df[t] = df.get(t, 0) + ti.doc_frequency()
                if pause():
                    yield
    except Exception:
        df = {}
    st.df.update(df)  # in place: the feedback's lookup holds this dict (same counts as it read)
    for name in ("text", "title", "heading", "treatment"):
        if name in fx.schema:
            fx.lengths(name)
    yield
    # words feedback may add (in at most a tenth of the passages) first, then the commoner
    budget = PRELOAD_POSTINGS
    cap = fx.n // 10
    ranked = sorted(((d > cap, -d, t) for t, d in df.items() if d >= PRELOAD_MIN_DF))
    for _, d, t in ranked:
        if -d <= budget:
            budget -= fx.pin("text", t)
            if pause():
                yield
    yield from _prefill_terms(st, pause)
    yield
    fx.page_codes(index._page_of())
    from .search import FACETS

    for fieldname in FACETS.values():
        yield
        fx.facet_table(index, fieldname)
    fx.warmed = True


def _leaf_readers(st: Any) -> list[Any]:
    reader = st.searcher.reader()
    return [r for r, _ in reader.leaf_readers()] if hasattr(reader, "leaf_readers") else [reader]


def _prefill_terms(st: Any, pause: Callable[[], bool]) -> Iterator[None]:
    """The analyzed term of every surface word of the index (the `spell` field) into
    `analyzed_spans`' cache, so snippets and feedback stem no word at query time."""
    from . import search

    cache = search._TERM_OF
    try:
        for r in _leaf_readers(st):
            for b in r.lexicon("spell"):
                w = b.decode("utf-8") if isinstance(b, bytes) else b
                if w not in cache:
                    if len(cache) >= search.TERM_CACHE_MAX * 9 // 10:
                        return  # leave room, or the searches' own words would clear it
                    search.analyzed_term(w)
                if pause():
                    yield
    except Exception:
        return


def run(index: Any, built: Any, filters: dict[str, list[str]], page: int, per_page: int, group: str | None, want_facets: bool, snippets: bool, notes: list[str]) -> tuple[int, list[Any], dict[str, Any]] | None:
    """`Index._run` for a plain-word query, from arrays; None when the fast path cannot."""
    from .model import FacetValue
    from .search import FACETS

    if not supports(built.query) or not supports(built.match):
        return None
    try:
        fx = fast_index(index)
    except Unsupported:
        return None
    r = index.ranking
    memo: dict[int, Res] = {}
    note = None
    try:
        m_ids, m_sc = fx.evaluate(built.match, memo)
        fset = index._filter_set(filters)
        fmask = fx.filter_mask(fset) if fset is not None else None
        matched = m_ids[fmask[m_ids]] if fmask is not None else m_ids
        if r.feedback_docs > 0 and len(m_ids) <= r.feedback_max_matches:
            top = _order(m_sc, r.feedback_docs)
            fed = index._feedback_from(built, [(int(m_ids[i]), float(m_sc[i])) for i in top], len(m_ids))
            if fed is not built:
                if not supports(fed.query) or not supports(fed.match):
                    return None
                expanded = fed.match is not built.match
                built = fed
                if expanded:
                    typed = len(matched)
                    m_ids, _ = fx.evaluate(built.match, memo)
                    matched = m_ids[fmask[m_ids]] if fmask is not None else m_ids
                    note = index._related_note(built, typed, len(matched))
        offset = (page - 1) * per_page
        page_of = index._page_of() if group else None
        codes = fx.page_codes(page_of) if page_of is not None else None
        if codes is not None:
            per_page_counts = np.bincount(codes[matched], minlength=len(fx._page_names))
            total = int(np.count_nonzero(per_page_counts))
        else:
            per_page_counts = None
            total = int(len(matched))
        hits: list[tuple[int, float]] = []
        if offset < total:
            r_ids, r_sc = fx.evaluate(built.query, memo)
            if fmask is not None:
                keep = fmask[r_ids]
                r_ids, r_sc = r_ids[keep], r_sc[keep]
            hits = _ranked(r_ids, r_sc, offset, per_page, codes)
    except Unsupported:
        return None
    if note:
        notes.append(note)
    counts: Counter = Counter()
    if per_page_counts is not None and codes is not None:
        for d, _ in hits:
            c = int(codes[d])
            counts[fx._page_names[c]] = int(per_page_counts[c])
    results = [index._result(d, score, built, counts, page_of, snippets) for d, score in hits]
    facets: dict[str, tuple[Any, ...]] = {}
    if want_facets:
        mask = None
        if len(matched):
            mask = np.zeros(fx.n, dtype=bool)
            mask[matched] = True
        for facet, fieldname in FACETS.items():
            values_out = []
            if mask is not None:
                values, docs, vcodes = fx.facet_table(index, fieldname)
                if len(values):
                    n_of = np.bincount(vcodes[mask[docs]], minlength=len(values))
                    values_out = [FacetValue(values[i], int(n_of[i])) for i in np.flatnonzero(n_of)]
            values_out.sort(key=lambda fv: (-fv.count, fv.value))
            facets[facet] = tuple(values_out)
    return total, results, facets


def _ranked(ids: np.ndarray, sc: np.ndarray, offset: int, per_page: int, codes: np.ndarray | None) -> list[tuple[int, float]]:
    """Index._ranked from arrays: the page of (docnum, score), best passage per page if grouped."""
    need = offset + per_page
    if codes is None:
        picked = _order(sc, need)
    else:
        limit = need * 3
        while True:
            order = _order(sc, limit)
            _, first = np.unique(codes[ids[order]], return_index=True)
            first.sort()
            picked = order[first]
            if len(order) < limit or len(picked) >= need:
                break
            limit *= 4
    # scores as ranked (the all-words bonus included), as the Whoosh path reports them
    return [(int(ids[i]), float(sc[i])) for i in picked[offset:need]]
