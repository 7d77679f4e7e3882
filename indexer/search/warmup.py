"""Warm-up: read ahead, for one commit, what cold searches would read one query at a time.

The postings of frequent text terms (query words and feedback words alike: a posting
block costs ~40 µs to decode, and such a term has dozens), every text term's document
frequency (the feedback's table), the analyzed term of every surface word (the snippets'
and feedback's table), field lengths, page codes and facet tables. About 9 s at 110,000
passages, once per commit. `warm_steps` cuts it into slices of about WARM_SLICE seconds,
each run under the facade's lock, so a server can warm beside its searches.
"""

from __future__ import annotations

import struct
import time
from typing import Callable, Iterator

from ..fields import FACETS
from .arrays import ArrayIndex
from .generation import Generation
from .snippets import TERM_BUDGET

__all__ = ["PRELOAD_MIN_DF", "PRELOAD_POSTINGS", "WARM_SLICE", "warm", "warm_steps"]

PRELOAD_MIN_DF = 20  # text terms in at least this many passages are read at warm-up …
PRELOAD_POSTINGS = 8_000_000  # … the most frequent first, up to this many postings (~96 MB)
WARM_SLICE = 0.02  # seconds of warm-up work between chances for a waiting search

# a commit's files can go while a slice reads them; the warm-up then stops, costing speed only
_READ_ERRORS = (OSError, EOFError, ValueError, struct.error)


def warm(gen: Generation, fx: ArrayIndex) -> None:
    for _ in warm_steps(gen, fx):
        pass


def warm_steps(gen: Generation, fx: ArrayIndex) -> Iterator[None]:
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
        for r in gen.leaf_readers():
            for btext, ti in r.iter_field("text"):
                t = btext.decode("utf-8") if isinstance(btext, bytes) else btext
                df[t] = df.get(t, 0) + ti.doc_frequency()
                if pause():
                    yield
    except _READ_ERRORS:
        df = {}
    gen.doc_frequencies.update(df)
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
    yield from _prefill_terms(gen, pause)
    yield
    fx.page_codes(gen.page_of())
    for fieldname in FACETS.values():
        yield
        fx.facet_table(fieldname, gen.values, gen.postings)
    fx.warmed = True


def _prefill_terms(gen: Generation, pause: Callable[[], bool]) -> Iterator[None]:
    """The analyzed term of every surface word of the index (the `spell` field), so
    snippets and feedback stem no word at query time."""
    analyzed = gen.analyzed
    try:
        for r in gen.leaf_readers():
            for b in r.lexicon("spell"):
                w = b.decode("utf-8") if isinstance(b, bytes) else b
                if w not in analyzed.terms:
                    if len(analyzed.terms) >= TERM_BUDGET * 9 // 10:
                        return  # leave room, or the searches' own words would start it over
                    analyzed.term(w)
                if pause():
                    yield
    except _READ_ERRORS:
        return
