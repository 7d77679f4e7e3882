"""`XapianIndex`: the `Index` facade (search, pages, treatments, claims, stats) on the shards.

Everything above the engine is the facade's own: query text and filters, synonyms and the
treatment hierarchy (query-time, from the same data files), "did you mean" (from the
spelling lexicon this front end reads off the shards), feedback, grouping, paging and
snippets. Only opening, refreshing and running a plan differ. A shard server that stops
answering is reopened once (a replica answers if one is listed); if none answers, the
call raises `ShardUnavailable`, a `StoreError` whose message names the server, never a
partial answer.
"""

from __future__ import annotations

import fnmatch
import itertools
import os
import re
import time
from pathlib import Path
from typing import Any, Callable, TypeVar

from whoosh import query as Q

from .. import store
from ..config import Settings, load_settings
from ..fields import TEXT_FIELDS
from ..search.build import QueryBuilder, VocabularyLike
from ..search.engine import Filter, Outcome, Paging, Unsupported, run
from ..search.engines import StoredFeedback
from ..search.generation import Generation
from ..search.index import Index
from ..search.query import Native, Plan, own_nodes, text_terms
from ..search.querylang import Synonyms
from ..search.ranking import Ranking
from . import load
from .documents import FIELD_PREFIX
from .engine import XapianEngine
from .generation import XapianGeneration
from .shards import SWAP_WAIT_S, ShardUnavailable
from .translate import MAX_EXPANSION

__all__ = ["XapianIndex"]

T = TypeVar("T")


class XapianIndex(Index):
    """The index on Xapian shards; the same methods and answers as `Index`."""

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str] | None = None,
        settings: Settings | None = None,
        ranking: Ranking | None = None,
        *,
        background_warm: bool = False,
        vocabulary: VocabularyLike | None = None,
        synonyms: Synonyms | Path | None = None,
    ) -> "XapianIndex":
        """The shards the settings name (`path` replaces the index folder of local shards)."""
        settings = settings or load_settings()
        if path is not None:
            settings = settings.with_overrides(index=path)
        return cls(Path(settings.index), settings, ranking, background_warm=background_warm, vocabulary=vocabulary, synonyms=synonyms)

    @property
    def builder(self) -> QueryBuilder:
        with self._lock:
            if self._builder is None:
                self._builder = QueryBuilder(store.make_schema(), self.ranking, self._synonyms, self._vocabulary)
            return self._builder

    def refresh(self) -> bool:
        return self._guard(self._refresh)

    # asking every shard server whether it changed is a round trip to each; a server
    # refreshes per request, so they are asked at most this often
    REFRESH_SECONDS = 0.2
    _checked = 0.0

    def _refresh(self) -> bool:
        with self._lock:
            self._load_data()
            old = self._gen
            if not isinstance(old, XapianGeneration):
                self._gen = self._open()
                self._checked = time.monotonic()
                return True
            if not self._split and time.monotonic() - self._checked < self.REFRESH_SECONDS:
                return False
            self._checked = time.monotonic()
            return self._move(old)

    # the shards disagreed on their generation at the last look: the state the database
    # moved to is mixed, so it is never searched; every call looks again (without waiting)
    _split = False

    SWAP_WAIT = SWAP_WAIT_S  # seconds a reader waits for the shards to agree before it says so

    def _wait(self) -> float:
        return 0.0 if self._split else self.SWAP_WAIT

    def _open(self) -> XapianGeneration:
        wait, self._split = self._wait(), True
        gen = XapianGeneration(self.settings, self.ranking, wait=wait)
        self._split = False
        return gen

    def _move(self, old: XapianGeneration, force: bool = False) -> bool:
        """To the newest state in which every shard holds one generation."""
        wait, force = self._wait(), force or self._split
        self._split = True
        new = old.reopen(force=force, wait=wait)
        self._split = False
        if new is old:
            return False
        self._gen = new
        old.release()
        return True

    _down = False  # a reconnection failed: the next call tries again first

    def _reconnect(self) -> None:
        """Open every shard anew (the first answering replica of each)."""
        with self._lock:
            old, self._gen = self._gen, None
            self._down = True
            if old is not None:
                try:
                    old.close()
                except load().Error:
                    pass
            self._gen = self._open()
            self._down = False

    def _guard(self, call: Callable[[], T]) -> T:
        """A call, tried again once on newly opened shards when a server stopped answering
        or a shard changed under it; a clear `ShardUnavailable` when that fails too, and
        `ShardsDisagree` while the shards hold different generations."""
        xapian = load()
        for attempt in range(2):
            try:
                if self._down:
                    self._reconnect()
                elif self._split and isinstance(self._gen, XapianGeneration):
                    with self._lock:
                        self._move(self._gen, force=True)
                return call()
            except xapian.DatabaseModifiedError:
                with self._lock:
                    if isinstance(self._gen, XapianGeneration):
                        self._move(self._gen, force=True)
            except (xapian.NetworkError, xapian.DatabaseClosedError) as exc:
                if attempt:
                    raise ShardUnavailable(f"a shard server stopped answering ({exc.get_msg()}); the search was not answered. Check the servers in RELIEF_SHARDS") from exc
                self._reconnect()
        return call()

    # the facade's reads, each guarded
    def run(self, request: Any) -> Any:
        return self._guard(lambda: Index.run(self, request))

    def page(self, page_id: str) -> Any:
        return self._guard(lambda: Index.page(self, page_id))

    def treatments(self) -> Any:
        return self._guard(lambda: Index.treatments(self))

    def claims(self, treatment: str | None = None, type: str | None = None, about: str | None = None, max_pages: int | None = None) -> Any:
        return self._guard(lambda: Index.claims(self, treatment, type, about, max_pages))

    def topics(self, limit: int = 5) -> Any:
        return self._guard(lambda: Index.topics(self, limit))

    def stats(self) -> dict[str, Any]:
        return self._guard(lambda: Index.stats(self))

    def warm(self) -> None:
        """Nothing to read ahead here: the shard servers keep their own caches."""

    # running a plan
    def _run(self, gen: Generation, plan: Plan | None, within: Filter | None, paging: Paging, want_facets: bool) -> Outcome:
        assert isinstance(gen, XapianGeneration)
        r = self.ranking
        feedback = StoredFeedback(gen, r) if r.feedback_docs > 0 else None
        try:
            return run(XapianEngine(gen), plan, within, paging, feedback, want_facets)
        except Unsupported as exc:
            # the facade answers from the query's words, with a note
            raise ValueError(f"the xapian backend cannot run this query ({exc})") from exc

    def _highlight_terms(self, gen: Generation, plan: Plan | None) -> set[str]:
        if plan is None:
            return set()
        q = plan.typed if plan.typed is not None else plan.match
        if own_nodes(q):
            return text_terms(q)
        if not isinstance(q, Native) or not isinstance(gen, XapianGeneration):
            return set()
        terms: set[str] = set()
        for leaf in q.query.leaves():
            field = getattr(leaf, "fieldname", None)
            if field not in (*TEXT_FIELDS, "claims"):
                continue
            if isinstance(leaf, Q.Phrase):
                terms.update(leaf.words)
            elif isinstance(leaf, (Q.Prefix, Q.Wildcard)):
                pattern = str(leaf.text) + ("*" if isinstance(leaf, Q.Prefix) else "")
                literal = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
                prefix = FIELD_PREFIX[field]
                found = (t[len(prefix) :] for t in gen.all_terms(prefix + literal) if fnmatch.fnmatchcase(t[len(prefix) :], pattern))
                terms.update(itertools.islice(found, MAX_EXPANSION))
            elif isinstance(leaf, Q.Term):
                terms.add(str(leaf.text))
        return terms
