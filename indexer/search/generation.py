"""One commit of the index as searches see it: its searcher and every cache over it.

A `Generation` is made for each commit the facade picks up and dropped with it, so no
cache can outlive its commit or mix two of them. Each cache sits behind a public method
and follows `cache.Bounded`'s one rule (a budget; a full cache starts over); tables whose
size the commit itself bounds (field lengths, facet values, the page of each passage,
text-term frequencies) are read once. Not thread-safe: the facade's lock guards it.
"""

from __future__ import annotations

import json
import os
import pickle
import struct
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh import query as Q
from whoosh.index import IndexError as WhooshIndexError

from .. import store
from ..fields import FACETS
from .arrays import ArrayIndex
from .cache import Bounded
from .engine import Filter
from .feedback import FeedbackTerms
from .ranking import Ranking
from .snippets import Analyzed
from .spelling import Speller

__all__ = ["Generation"]

# what a damaged or half-written table of contents or segment makes Whoosh raise
_OPEN_ERRORS = (OSError, WhooshIndexError, ValueError, EOFError, KeyError, IndexError, AttributeError, struct.error, pickle.UnpicklingError)


def _text(b: Any) -> str:
    return b.decode("utf-8") if isinstance(b, bytes) else str(b)


class Generation:
    """The searcher of one commit, and what searches remember about it."""

    POSTINGS_BUDGET = 65_536  # (field, value) posting sets
    FILTERS_BUDGET = 256  # filter combinations
    STORED_BUDGET = 2048  # passages' stored fields

    def __init__(self, gen: Path, ranking: Ranking, ix: Any = None, searcher: Any = None):
        self.gen = gen
        self.ranking = ranking
        if ix is None:
            try:
                ix = whoosh_index.open_dir(str(gen))
            except _OPEN_ERRORS as exc:
                raise store.StoreCorrupt(f"cannot open index {gen}: {exc}; rebuild it with `relief ingest --rebuild`") from exc
        self.ix = ix
        if searcher is None:
            try:
                searcher = ix.searcher(weighting=ranking.weighting())
            except _OPEN_ERRORS as exc:
                raise store.StoreCorrupt(f"cannot read index {gen}: {exc}; rebuild it with `relief ingest --rebuild`") from exc
        self.searcher: Any = searcher
        self.meta = store.read_meta(gen)
        self.analyzed = Analyzed()
        self.doc_frequencies: dict[str, int] = {}  # text term → passages; bounded by the lexicon
        self._postings: Bounded[tuple[str, str], frozenset[int]] = Bounded(self.POSTINGS_BUDGET)
        self._filters: Bounded[Filter, set[int]] = Bounded(self.FILTERS_BUDGET)
        self._stored: Bounded[int, dict[str, Any]] = Bounded(self.STORED_BUDGET)
        self._values: dict[str, list[str]] = {}
        self._page_of: list[str] | None = None
        self._feedback: FeedbackTerms | None = None
        self._speller: Speller | None = None
        self._stats: dict[str, Any] | None = None
        self._arrays: ArrayIndex | None = None

    def next_commit(self) -> "Generation":
        """This folder's newest commit: self when it is this one, else a new Generation
        over a refreshed searcher (which reuses this one's unchanged segments)."""
        if self.searcher.up_to_date():
            return self
        return Generation(self.gen, self.ranking, self.ix, self.searcher.refresh())

    def release(self) -> None:
        """Drop the caches now; their arrays may map the commit's files."""
        self.analyzed = Analyzed()
        self.doc_frequencies = {}
        self._postings.clear()
        self._filters.clear()
        self._stored.clear()
        self._values = {}
        self._page_of = None
        self._feedback = None
        self._speller = None
        self._arrays = None

    def close(self) -> None:
        """Release this commit's files now, not at the next garbage collection.

        Whoosh maps segment files into memory; a cache that still points into them keeps
        the map (and the file) open, so a replaced generation's disk space would not come
        back and its folder could not be unmounted.
        """
        self.searcher.close()
        self.release()

    # ------------------------------------------------------------ index reads, remembered
    @property
    def reader(self) -> Any:
        return self.searcher.reader()

    def postings(self, fieldname: str, value: str) -> frozenset[int]:
        key = (fieldname, value)
        got = self._postings.get(key)
        if got is None:
            got = self._postings.put(key, frozenset(self.searcher.docs_for_query(Q.Term(fieldname, value))))
        return got

    def values(self, fieldname: str) -> list[str]:
        """The values of a tag field that some live passage has."""
        got = self._values.get(fieldname)
        if got is None:
            got = [v for v in map(_text, self.reader.lexicon(fieldname)) if self.postings(fieldname, v)]
            self._values[fieldname] = got
        return got

    def page_of(self) -> list[str]:
        """The page id of every passage, by document number."""
        if self._page_of is None:
            # an index with no passage yet (a crawl that reached nothing) has no column at all
            has = self.reader.has_column("page_id")
            self._page_of = list(self.reader.column_reader("page_id")) if has else []
        return self._page_of

    def filter_set(self, within: Filter) -> set[int]:
        """The passages a filter lets through (Whoosh takes a plain set as a filter)."""
        got = self._filters.get(within)
        if got is None:
            result: frozenset[int] | None = None
            for fieldname, values in within.fields:
                docs: set[int] = set()
                for v in values:
                    docs |= self.postings(fieldname, v)
                result = frozenset(docs) if result is None else result & docs
            got = self._filters.put(within, set(result) if result else set())
        return got

    def stored(self, docnum: int) -> dict[str, Any]:
        """A passage's stored fields; feedback reads the top passages, and the results are
        mostly the same ones (callers only read the dict)."""
        got = self._stored.get(docnum)
        if got is None:
            got = self._stored.put(docnum, self.searcher.stored_fields(docnum))
        return got

    def doc_frequency(self, term: str) -> int:
        got = self.doc_frequencies.get(term)
        if got is None:
            got = self.doc_frequencies[term] = self.reader.doc_frequency("text", term)
        return got

    def feedback_terms(self) -> FeedbackTerms:
        if self._feedback is None:
            self._feedback = FeedbackTerms(self.reader.doc_count_all(), self.doc_frequency)
        return self._feedback

    def speller(self) -> Speller:
        if self._speller is None:
            self._speller = Speller(self.reader)
        return self._speller

    def arrays(self) -> ArrayIndex:
        """The array engine's data for this commit (built on first use); `Unsupported`
        when the searcher's weighting is not one it reproduces."""
        if self._arrays is None:
            self._arrays = ArrayIndex(self.searcher)
        return self._arrays

    @property
    def has_arrays(self) -> bool:
        return self._arrays is not None

    def leaf_readers(self) -> list[Any]:
        reader = self.reader
        return [r for r, _ in reader.leaf_readers()] if hasattr(reader, "leaf_readers") else [reader]

    def stats(self, root: Path) -> dict[str, Any]:
        """Counting claims reads every stored passage: done once per commit, not per call."""
        if self._stats is None:
            reader = self.reader
            page_of = self.page_of()
            pages = len(set(page_of[d] for d in range(reader.doc_count_all()) if not reader.is_deleted(d)))
            claims = 0
            for _, f in reader.iter_docs():
                raw = f.get("claims_json")
                if raw:
                    claims += len(json.loads(raw))
            size = sum(p.stat().st_size for p in self.gen.iterdir() if p.is_file())
            self._stats = {
                "index": str(root),
                "generation": self.gen.name,
                "pages": pages,
                "passages": reader.doc_count(),
                "claims": claims,
                "treatments": len(self.values(FACETS["treatment"])),
                "conditions": len(self.values(FACETS["condition"])),
                "size_bytes": size,
                "size_mb": round(size / 1e6, 2),
                "last_ingest": self.meta.get("last_ingest"),
                "segments": len(reader.leaf_readers()) if hasattr(reader, "leaf_readers") else 1,
            }
        return dict(self._stats)

    def stamp(self) -> int | None:
        """The folder's modification time, for the facade's cheap change check."""
        try:
            return os.stat(self.gen).st_mtime_ns
        except OSError:
            return None
