"""Every read of Whoosh's private internals, fenced here.

Whoosh 2.7 is no longer maintained; the array engine reads its posting blocks, length
columns, deletion lists and BM25F parameters in bulk instead of one document at a time.
Those reads rely on private names of `whoosh.codec.whoosh3` and friends; each function
here falls back to Whoosh's public (slower) API when an internal is not what it expects,
so a different Whoosh version costs speed, not answers. Nothing else in the project
touches a private Whoosh member.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound

try:
    from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
    from whoosh.util.numeric import _length_byte_cache
except ImportError:  # pragma: no cover - other Whoosh versions take the generic reads
    W3LeafMatcher = None
    LENGTHS_COLUMN = None
    _lenfield = None
    _length_byte_cache = None

__all__ = ["Unreadable", "bm25_params", "deleted_docs", "field_lengths", "segment_postings"]

_LEN_OF_BYTE = np.array([0] + [_length_byte_cache[i] for i in range(1, 256)], dtype=np.float64) if _length_byte_cache is not None else None


class Unreadable(Exception):
    """Whoosh's data is not laid out as these reads expect; use Whoosh's own path."""


def deleted_docs(r: Any) -> list[int]:
    """A segment's deleted document numbers."""
    perdoc = getattr(r, "_perdoc", None)
    if perdoc is not None and hasattr(perdoc, "deleted_docs"):
        return list(perdoc.deleted_docs())
    return [d for d in range(r.doc_count_all()) if r.is_deleted(d)]


def field_lengths(r: Any, fieldname: str, dc: int) -> np.ndarray | None:
    """One segment's decoded field lengths (as Whoosh scores them): the raw length column
    in one read when we can; None when the segment has none."""
    perdoc = getattr(r, "_perdoc", None)
    if perdoc is not None and _LEN_OF_BYTE is not None and _lenfield is not None and hasattr(perdoc, "_cached_reader"):
        col = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        if col is None:
            return None
        try:
            count = min(int(col._count), dc)
            raw = np.frombuffer(col._dbfile.get(col._basepos, count), dtype=np.uint8)
        except (AttributeError, TypeError, ValueError, OSError):
            raw = None
        if raw is not None and len(raw) == count:
            if count < dc:
                raw = np.concatenate([raw, np.zeros(dc - count, dtype=np.uint8)])
            return np.asarray(_LEN_OF_BYTE[raw])
    # generic (slow) path: one document at a time
    return np.array([r.doc_field_length(d, fieldname, 1) or 0 for d in range(dc)], dtype=np.float64)


def _read_matcher(m: Any) -> tuple[np.ndarray, np.ndarray]:
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
                raise Unreadable("posting block size mismatch")
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


def segment_postings(r: Any, schema: Any, fieldname: str, btext: bytes) -> tuple[np.ndarray, np.ndarray] | None:
    """One segment's postings of a term as (ids, weights), deleted documents included;
    None if the term is absent."""
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
        m = terms._codec.postings_reader(terms._postfile, ti, schema[fieldname].format, term=(fieldname, btext))
        return _read_matcher(m)
    if (fieldname, btext) not in r:
        return None
    m = r.postings(fieldname, btext)
    if isinstance(m, FilterMatcher):
        m = m.child  # the deleted documents; dropped with the live mask
    return _read_matcher(m)


def bm25_params(weighting: Any, fieldname: str) -> tuple[float, float]:
    """(B, K1) Whoosh's BM25F uses for a field."""
    return float(weighting._field_B.get(fieldname, weighting.B)), float(weighting.K1)
