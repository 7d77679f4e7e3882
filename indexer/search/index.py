"""The `Index` facade: open, refresh, search, and read one index, from any thread.

`Index.open(path)` keeps one `Generation` (the current commit's searcher and caches) and
answers every call from it under a lock (Whoosh searchers are not safe for concurrent
use); `refresh()` picks up a newer commit with two `stat` calls when nothing changed.
A search: clean the text and lift its filters (querylang), build the plan (build),
suggest spellings (spelling), run the one flow (engine.run) on the array engine when the
plan is plain words and on Whoosh otherwise, then read the shown passages and cut their
snippets. Nothing here raises on bad input.
"""

from __future__ import annotations

import json
import logging
import os
import struct
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator, Sequence

from whoosh.index import EmptyIndexError
from whoosh.query.qcore import QueryError

from .. import store
from ..config import Settings, load_settings
from ..fields import FACETS
from ..model import SearchResponse, SearchResult
from ..store import IndexMissing
from ..vocabulary import VocabularyError, load_vocabulary
from .arrays import ArrayIndex, supports
from .build import QueryBuilder, VocabularyLike
from .claims_report import ClaimRecord, ClaimsReport, PageVerdicts, about_report, build_report
from .engine import Filter, Outcome, Paging, Unsupported, run
from .engines import ArrayEngine, StoredFeedback, WhooshEngine
from .generation import Generation
from .query import Native, Plan, is_nothing, own_nodes, text_terms
from .querylang import SYNONYMS_FILE, Synonyms, as_list, clean_query, lift_filters
from .ranking import Ranking
from .records import PageView, PassageView, SearchRequest, Topic, Topics, TreatmentInfo, claim_from_dict, claims_from_json, verdicts_from_meta
from .snippets import make_snippet
from .spelling import suggest
from .warmup import warm, warm_steps
from .whoosh_query import describe, native_terms

__all__ = ["Index"]

log = logging.getLogger(__name__)

# a plan Whoosh parsed but cannot run: answered from its words, with a note
_RUN_ERRORS = (QueryError, ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError)
# a commit's files read while a writer replaces them, or a damaged index
_READ_ERRORS = (OSError, EOFError, struct.error)


def _no_index_here(root: Path) -> str:
    """Says what is at `root` instead, so the fix suggested is one that can work."""
    if root.is_file():
        return (f"{root} is a file, not an index folder; give --index (or RELIEF_INDEX) the folder "
                "an index was built in")
    return f"no index at {root}; build one with `relief ingest PATH --index {root}` or `relief crawl URL --index {root}`"


class Index:
    """A searchable index; one per process, safe to share between threads."""

    def __init__(
        self,
        root: Path,
        settings: Settings,
        ranking: Ranking | None = None,
        *,
        background_warm: bool = False,
        vocabulary: VocabularyLike | None = None,
        synonyms: Synonyms | Path | None = None,
    ):
        self.root = Path(root)
        self.settings = settings
        self.ranking = ranking or Ranking()
        # a server warms each new commit in slices beside its searches (warmup.warm_steps)
        self.background_warm = background_warm
        self._warming: tuple[Generation, ArrayIndex, Iterator[None]] | None = None
        self._lock = threading.RLock()
        self._stamp: tuple[Any, ...] | None = None
        # a Synonyms table is fixed; a file (the data file by default) is re-read when it changes
        self._synonyms_file: Path | None = None if isinstance(synonyms, Synonyms) else (synonyms or SYNONYMS_FILE)
        self._synonyms = synonyms if isinstance(synonyms, Synonyms) else Synonyms()
        self._syn_stamp: float | None = None
        self._vocabulary: VocabularyLike | None = vocabulary
        self._vocab_given = vocabulary is not None
        self._gen: Generation | None = None
        self._builder: QueryBuilder | None = None
        self.refresh()

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
    ) -> "Index":
        """The index at `path` (else the settings' index). `vocabulary` and `synonyms`
        replace the data files' (a `Synonyms` table is fixed; a path is watched)."""
        settings = settings or load_settings()
        root = Path(path) if path is not None else settings.index
        if not store.index_exists(root):
            raise IndexMissing(_no_index_here(root))
        return cls(root, settings, ranking, background_warm=background_warm, vocabulary=vocabulary, synonyms=synonyms)

    # opening and refreshing ------------------------------------------
    @property
    def generation(self) -> Generation:
        """The current commit (its searcher and caches); use under `lock` while it may change."""
        with self._lock:
            if self._gen is None:
                raise IndexMissing(f"the index at {self.root} is closed")
            return self._gen

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    @property
    def vocabulary(self) -> VocabularyLike | None:
        return self._vocabulary

    @property
    def builder(self) -> QueryBuilder:
        with self._lock:
            if self._builder is None:
                self._builder = QueryBuilder(self.generation.searcher.schema, self.ranking, self._synonyms, self._vocabulary)
            return self._builder

    def _disk_stamp(self) -> tuple[Any, ...]:
        try:
            cur = os.stat(self.root / store.CURRENT)
        except FileNotFoundError:
            return ("missing",)
        return (cur.st_mtime_ns, cur.st_ino, cur.st_size, self._gen.stamp() if self._gen else None)

    def refresh(self) -> bool:
        """Pick up a newer commit or a swapped rebuild; cheap when nothing changed.

        A writer committing at the same moment can remove the table of contents we are
        about to read; then we try again, and at worst keep answering from what we have.
        """
        for attempt in range(5):
            try:
                return self._refresh()
            except (OSError, EmptyIndexError, store.StoreCorrupt):
                if attempt == 4:
                    if self._gen is None:
                        raise
                    return False
                time.sleep(0.02 * (attempt + 1))
        return False

    def _load_data(self) -> None:
        if self._synonyms_file is not None:
            try:
                syn_m: float | None = self._synonyms_file.stat().st_mtime
            except OSError:
                syn_m = None
            if syn_m != self._syn_stamp:
                self._synonyms = Synonyms.load(self._synonyms_file)
                self._syn_stamp = syn_m
                self._builder = None
        if self._vocabulary is None and not self._vocab_given:
            try:
                self._vocabulary = load_vocabulary()
            except (VocabularyError, OSError, UnicodeDecodeError):  # a broken vocabulary file must not break search
                log.warning("vocabulary not loaded; search runs without it", exc_info=True)
            self._builder = None

    def _refresh(self) -> bool:
        with self._lock:
            self._load_data()
            stamp = self._disk_stamp()
            if stamp == self._stamp and self._gen is not None:
                return False
            path = store.live_dir(self.root)
            if path is None:
                if self._gen is None:
                    raise IndexMissing(_no_index_here(self.root))
                return False
            old = self._gen
            changed = False
            if old is None or path != old.gen:
                self._gen = Generation(path, self.ranking)
                self._gen.page_of()
                self._builder = None
                if old is not None:
                    old.close()
                changed = True
            else:
                new = old.next_commit()
                if new is not old:
                    self._gen = new
                    new.page_of()
                    old.release()  # its searcher's segments live on in the new one
                    changed = True
            self._stamp = self._disk_stamp()
            return changed

    def close(self) -> None:
        with self._lock:
            if self._gen is not None:
                self._gen.close()
            self._gen = None

    def __del__(self) -> None:
        try:
            self.close()
        except (OSError, AttributeError):
            pass

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # warm-up -----------------------------------------------------------
    def warm(self) -> None:
        """Read ahead what the array engine caches for this commit (seconds on a large index).

        Searches otherwise do it on the second search of a commit, which then waits;
        a server calls this before it listens.
        """
        with self._lock:
            self.refresh()
            gen = self.generation
            try:
                fx = gen.arrays()
            except Unsupported:
                return
            if fx.uses < 2:
                fx.uses = 2
                warm(gen, fx)

    def warm_in_background(self, gen: Generation, fx: ArrayIndex) -> threading.Thread:
        """Warm this commit's caches a slice at a time: in a thread, and after each search.

        Searches meanwhile run cold (tens of ms more) instead of waiting seconds for the
        whole warm-up. A busy searcher re-takes the lock before a waiting thread wakes, so
        each search also runs one slice: the warm-up advances under load too. It stops
        early when a newer commit replaces this one.
        """
        self._warming = (gen, fx, warm_steps(gen, fx))

        def work() -> None:
            while True:
                with self._lock:
                    if not self._warm_slice():
                        return
                time.sleep(0.001)  # a waiting search takes the lock now

        thread = threading.Thread(target=work, name="relief-warm", daemon=True)
        thread.start()
        return thread

    def _warm_slice(self) -> bool:
        """One slice of a background warm-up (under the lock); False once there is none."""
        if self._warming is None:
            return False
        gen, fx, steps = self._warming
        if self._gen is not gen or not gen.has_arrays or gen.arrays() is not fx:
            self._warming = None
            return False
        try:
            next(steps)
        except StopIteration:
            self._warming = None
            return False
        except (*_READ_ERRORS, ValueError, Unsupported):  # a cache left cold only costs speed
            log.warning("background warm-up of %s stopped", self.root, exc_info=True)
            self._warming = None
            return False
        return True

    def _array_engine(self, gen: Generation) -> ArrayEngine | None:
        try:
            fx = gen.arrays()
        except Unsupported:
            return None
        fx.uses += 1
        if fx.uses == 2:
            # an index asked twice (a server, a batch, a benchmark) is worth warming; a one-shot
            # `relief search` is not. A server warms beside its searches instead of within one.
            if self.background_warm:
                self.warm_in_background(gen, fx)
            else:
                warm(gen, fx)
        return ArrayEngine(gen, fx)

    # searching ---------------------------------------------------------
    def parse(self, q: str) -> str:
        """The parsed query as Whoosh prints it (for --explain and the web's debug view)."""
        with self._lock:
            text, _ = clean_query(q, self.settings.max_query_chars)
            return describe(self.builder.build(text).query)

    def search(
        self,
        q: str | SearchRequest = "",
        *,
        page: int = 1,
        per_page: int | None = None,
        group: str | None = None,
        treatment: str | Sequence[str] | None = None,
        condition: str | Sequence[str] | None = None,
        claim: str | Sequence[str] | None = None,
        evidence: str | Sequence[str] | None = None,
        facets: bool = True,
        snippets: bool = True,
        spell: bool = True,
        debug: bool = False,
    ) -> SearchResponse:
        """Search with keywords, or with a whole `SearchRequest` as `q`."""
        if isinstance(q, SearchRequest):
            return self.run(q)
        return self.run(SearchRequest(q, page, per_page, group, treatment, condition, claim, evidence, facets, snippets, spell, debug))

    def run(self, request: SearchRequest) -> SearchResponse:
        started = time.perf_counter()
        with self._lock:
            try:
                response = self._search(request, started)
                self._warm_slice()
                return response
            except _READ_ERRORS as exc:
                raise store.StoreCorrupt(f"cannot read the index at {self.root}: {exc}; rebuild it with `relief ingest --rebuild`") from exc

    def _filter(self, filters: dict[str, list[str]]) -> Filter | None:
        if not filters:
            return None
        fields = []
        for facet, values in sorted(filters.items()):
            ids: set[str] = set()
            for v in values:
                ids.update(self.builder.resolve(v, facet))
            fields.append((FACETS[facet], tuple(sorted(ids))))
        return Filter(tuple(fields))

    def _search(self, req: SearchRequest, started: float) -> SearchResponse:
        s = self.settings
        gen = self.generation
        notes: list[str] = []
        try:
            per_page = max(1, min(int(s.per_page if req.per_page is None else req.per_page), s.max_per_page))
            page = max(1, int(req.page))
        except (TypeError, ValueError):
            per_page, page = s.per_page, 1
            notes.append("bad page or per_page; defaults used")
        group = "page" if req.group == "page" else None
        filters = {k: v for k, v in ((k, as_list(v)) for k, v in req.filter_values().items()) if v}
        text, clean_notes = clean_query(req.q, s.max_query_chars)
        notes.extend(clean_notes)
        text, lifted = lift_filters(text)
        for name, values in lifted.items():
            filters[name] = list(dict.fromkeys([*filters.get(name, []), *values]))
        within = self._filter(filters)
        paging = Paging(page, per_page, group is not None)

        plan = self.builder.build(text) if text else None
        if plan is not None:
            notes.extend(plan.notes)
        suggestion = suggest(gen.speller(), text, plan.words) if plan is not None and req.spell else None
        outcome = self._safe_run(gen, plan, text, within, paging, req.facets)
        notes.extend(outcome.notes)
        if outcome.total == 0 and suggestion:
            alt = self._safe_run(gen, self.builder.build(suggestion), suggestion, within, paging, req.facets)
            if alt.total > 0:
                notes.append(f"no results for {text!r}; showing results for {suggestion!r}")
                outcome = alt
        if req.debug and plan is not None:
            notes.append(f"parsed: {describe(plan.query)}")
        results = self._results(gen, outcome, req.snippets)
        return SearchResponse(
            query=text,
            total=outcome.total,
            results=tuple(results),
            facets=outcome.facets,
            suggestion=suggestion,
            notes=tuple(notes),
            took_ms=(time.perf_counter() - started) * 1000,
            page=page,
            per_page=per_page,
            group=group,
            filters={k: tuple(v) for k, v in filters.items()},
        )

    def _safe_run(self, gen: Generation, plan: Plan | None, text: str, within: Filter | None, paging: Paging, want_facets: bool) -> Outcome:
        try:
            return self._run(gen, plan, within, paging, want_facets)
        except _RUN_ERRORS as exc:
            note = f"the query could not be run as written ({type(exc).__name__}); its words were searched instead"
            words = self.builder.words_query(text)
            fallback = Plan(words, words, (), plan.words if plan else (), plain=False)
            out = self._run(gen, fallback, within, paging, want_facets)
            return replace(out, notes=[note, *out.notes])

    def _run(self, gen: Generation, plan: Plan | None, within: Filter | None, paging: Paging, want_facets: bool) -> Outcome:
        r = self.ranking
        feedback = StoredFeedback(gen, r) if r.feedback_docs > 0 else None
        if r.fast_path and plan is not None and plan.plain and not is_nothing(plan.match) and supports(plan.query) and supports(plan.match):
            engine = self._array_engine(gen)
            if engine is not None:
                try:
                    return run(engine, plan, within, paging, feedback, want_facets)
                except Unsupported:
                    pass  # the Whoosh engine answers
        return run(WhooshEngine(gen), plan, within, paging, feedback, want_facets)

    def _highlight_terms(self, gen: Generation, plan: Plan | None) -> set[str]:
        if plan is None:
            return set()
        # the typed words (and synonyms), not the related words feedback added
        q = plan.typed if plan.typed is not None else plan.match
        if own_nodes(q):
            return text_terms(q)
        return native_terms(q.query, gen.reader) if isinstance(q, Native) else set()

    def _results(self, gen: Generation, outcome: Outcome, snippets: bool) -> list[SearchResult]:
        plan = outcome.plan
        terms = self._highlight_terms(gen, plan) if snippets and outcome.hits else set()
        out = []
        for docnum, score in outcome.hits:
            f = gen.stored(docnum)
            text = f.get("text", "")
            snippet = ""
            if snippets:
                snippet = make_snippet(text, terms, analyzed=gen.analyzed)
                if plan is not None and plan.related and "<mark>" not in snippet:
                    # found through related words only: show and mark those
                    snippet = make_snippet(text, set(plan.related), analyzed=gen.analyzed)
            out.append(
                SearchResult(
                    page_id=f["page_id"],
                    passage_id=f["passage_id"],
                    url=f.get("url", ""),
                    title=f.get("title", ""),
                    heading=f.get("heading", ""),
                    score=round(float(score), 4),
                    snippet=snippet,
                    text=text,
                    treatments=tuple(as_list(f.get("treatment"))),
                    conditions=tuple(as_list(f.get("condition"))),
                    claims=claims_from_json(f.get("claims_json")),
                    more_on_page=outcome.more.get(docnum, 0),
                )
            )
        return out

    # reading -----------------------------------------------------------
    def page(self, page_id: str) -> PageView | None:
        """A page's passages (with claims), url and title; None for an unknown id."""
        if not isinstance(page_id, str) or not page_id:
            return None
        with self._lock:
            gen = self.generation
            docs = sorted(gen.postings("page_id", page_id))
            if not docs:
                return None
            fields = sorted((gen.stored(d) for d in docs), key=lambda f: f.get("position", 0))
        first = fields[0]
        meta = json.loads(first.get("page_meta") or "{}")
        return PageView(
            page_id=page_id,
            url=first.get("url", ""),
            title=first.get("title", ""),
            byline=meta.get("byline", ""),
            published=meta.get("published", ""),
            passages=tuple(
                PassageView(
                    passage_id=f["passage_id"],
                    position=f.get("position", 0),
                    heading=f.get("heading", ""),
                    text=f.get("text", ""),
                    treatments=tuple(as_list(f.get("treatment"))),
                    conditions=tuple(as_list(f.get("condition"))),
                    claims=claims_from_json(f.get("claims_json")),
                )
                for f in fields
            ),
            verdicts=verdicts_from_meta(meta),
        )

    def treatments(self) -> list[TreatmentInfo]:
        """Every treatment in the vocabulary or the index, with its passage count."""
        with self._lock:
            gen = self.generation
            counts = {v: len(gen.postings(FACETS["treatment"], v)) for v in gen.values(FACETS["treatment"])}
            vocab = self._vocabulary
        ids: list[str] = list(counts)
        if vocab is not None:
            vocab_ids = [str(getattr(t, "id", t)) for t in vocab.treatments]
            ids = vocab_ids + [i for i in ids if i not in vocab_ids]
        out = []
        for i in ids:
            label, parent = i, None
            if vocab is not None:
                label = vocab.label(i) or i
                anc = list(vocab.ancestors(i))
                parent = anc[0] if anc else None
            out.append(TreatmentInfo(i, label, parent, counts.get(i.lower(), 0)))
        return out

    def topics(self, limit: int = 5) -> Topics:
        """The `limit` treatments and conditions found in most passages, most first."""
        with self._lock:
            gen = self.generation
            counts = {
                kind: sorted(((len(gen.postings(FACETS[kind], v)), v) for v in gen.values(FACETS[kind])),
                             key=lambda cv: (-cv[0], cv[1]))[:limit]
                for kind in ("treatment", "condition")
            }
            vocab = self._vocabulary

        def topic(count: int, value: str) -> Topic:
            label = (vocab.label(value) if vocab is not None else "") or value.replace("-", " ")
            ancestors = tuple(str(a) for a in vocab.ancestors(value) if a != value) if vocab is not None else ()
            return Topic(value, label, count, ancestors)

        return Topics(tuple(topic(c, v) for c, v in counts["treatment"] if c),
                      tuple(topic(c, v) for c, v in counts["condition"] if c))

    def claims(
        self, treatment: str | None = None, type: str | None = None, about: str | None = None, max_pages: int | None = None
    ) -> ClaimsReport:
        """Stored claims as ClaimRecords, summarised by `claims_report.build_report`.

        With `about` (a treatment in free words): each page's position on it instead, read
        from the pages whose text holds every stem of one of its names (at most `max_pages`
        of them, those naming it most first).
        """
        if about is not None and about.strip():
            return self._about(about, max_pages)
        records = []
        pages: list[PageVerdicts] = []
        with self._lock:
            for _, f in self.generation.reader.iter_docs():
                meta = f.get("page_meta")
                if meta and '"verdicts"' in meta:
                    found = verdicts_from_meta(json.loads(meta))
                    pages.append(PageVerdicts(f["page_id"], f.get("url", ""), f.get("title", ""), found))
                raw = f.get("claims_json")
                if not raw:
                    continue
                for d in json.loads(raw):
                    records.append(ClaimRecord(claim=claim_from_dict(d), page_id=f["page_id"], passage_id=f["passage_id"], url=f.get("url", ""), title=f.get("title", "")))
        return build_report(records, treatment=treatment, type=type, page_verdicts=pages)

    def _about(self, text: str, max_pages: int | None = None) -> ClaimsReport:
        with self._lock:
            docs = [f for _, f in self.generation.reader.iter_docs()]
        return about_report(text, docs, max_pages)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            self.refresh()
            return self.generation.stats(self.root)
