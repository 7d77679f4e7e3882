"""The engine interface, and the one search flow over it.

An engine answers a few questions about one commit of the index, in our own terms:

    supports(query) -> bool                   can it run this tree of `query.py` nodes?
    match(query | None, within) -> (n, M)     what the query matches: n before the
                                              filter, and a match set M (len(M) after it);
                                              None matches every passage within the filter
    top(query | None, limit, within)          the `limit` best (passage id, score), best
                                              first, ties by lower id; None lists passages
                                              in id order with score 0
    page_key(passage id) -> str               the page a passage belongs to
    page_counts(M) -> (pages, count_of)       distinct pages in M, and per passage id the
                                              number of passages of its page in M
    facets(M | None) -> {facet: (FacetValue, …)}  value counts over M, most first

`within` is a `Filter`: index field → accepted values (AND across fields, OR within one),
already widened by the vocabulary. Passage ids are integers the engine hands out and
takes back (Whoosh document numbers here); the facade reads stored fields by them. An
engine that cannot run something raises `Unsupported`, and the caller asks another.

`run` is the whole flow of one search (match, feedback, totals, the ranked page, facets)
written once for every engine; the Whoosh engine (`engines.WhooshEngine`) and the array
engine (`engines.ArrayEngine`) implement the questions. A sharded engine plugs in here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Protocol, Sized

from ..model import FacetValue
from .query import Node, Plan, is_nothing

__all__ = ["Engine", "Feedback", "Filter", "MatchSet", "Outcome", "Paging", "Unsupported", "facet_values", "run"]


class Unsupported(Exception):
    """A query (or index) an engine does not evaluate; ask another engine."""


@dataclass(frozen=True)
class Filter:
    """Index field → values; a passage passes when each field has one of its values."""

    fields: tuple[tuple[str, tuple[str, ...]], ...]


MatchSet = Sized  # an engine's own set of matched passages; the flow only counts it


class Engine(Protocol):
    def supports(self, query: Node) -> bool: ...

    def match(self, query: Node | None, within: Filter | None) -> tuple[int, MatchSet]: ...

    def top(self, query: Node | None, limit: int, within: Filter | None) -> list[tuple[int, float]]: ...

    def page_key(self, passage: int) -> str: ...

    def page_counts(self, matched: MatchSet) -> tuple[int, Callable[[int], int]]: ...

    def facets(self, matched: MatchSet | None) -> dict[str, tuple[FacetValue, ...]]: ...


class Feedback(Protocol):
    """Pseudo-relevance feedback as the facade provides it (it reads stored passages)."""

    docs: int  # top passages read
    max_matches: int  # above this many matches, no feedback

    def expand(self, plan: Plan, top: list[tuple[int, float]], matches: int) -> Plan: ...

    def note(self, plan: Plan, typed: int, matched: int) -> str | None: ...


@dataclass(frozen=True)
class Paging:
    page: int
    per_page: int
    group: bool  # one passage per page, the best


@dataclass(frozen=True)
class Outcome:
    total: int  # passages, or pages when grouped
    hits: list[tuple[int, float]]  # the page asked for: (passage id, score), best first
    more: dict[int, int]  # grouped: per hit, the other matching passages of its page
    facets: dict[str, tuple[FacetValue, ...]]
    plan: Plan | None  # after feedback
    notes: list[str] = field(default_factory=list)


def facet_values(pairs: Iterable[tuple[str, int]]) -> tuple[FacetValue, ...]:
    """Facet counts as shown: most first, then by value; zero counts left out."""
    values = [FacetValue(v, n) for v, n in pairs if n]
    values.sort(key=lambda fv: (-fv.count, fv.value))
    return tuple(values)


def run(engine: Engine, plan: Plan | None, within: Filter | None, paging: Paging, feedback: Feedback | None, want_facets: bool) -> Outcome:
    """One search on one engine; `Unsupported` when the engine cannot run the plan."""
    if plan is not None and not (engine.supports(plan.query) and engine.supports(plan.match)):
        raise Unsupported("plan")
    query = None if plan is None or is_nothing(plan.match) else plan.match
    if query is None and within is None:
        # an empty query lists what the filters select, or nothing
        return Outcome(0, [], {}, engine.facets(None) if want_facets else {}, plan)
    notes: list[str] = []
    everywhere, matched = engine.match(query, within)
    if query is not None and plan is not None and plan.plain and feedback is not None and everywhere <= feedback.max_matches:
        # feedback costs grow with the matches; a broad query has evidence enough
        fed = feedback.expand(plan, engine.top(plan.match, feedback.docs, None), everywhere)
        if fed is not plan:
            if not (engine.supports(fed.query) and engine.supports(fed.match)):
                raise Unsupported("feedback")
            expanded = fed.match is not plan.match
            plan = fed
            if expanded:
                typed = len(matched)
                _, matched = engine.match(plan.match, within)
                note = feedback.note(plan, typed, len(matched))
                if note:
                    notes.append(note)
    count_of: Callable[[int], int] | None = None
    if paging.group:
        total, count_of = engine.page_counts(matched)
    else:
        total = len(matched)
    offset = (paging.page - 1) * paging.per_page
    hits: list[tuple[int, float]] = []
    if offset < total:
        # the ranking query matches exactly what the match query matched (feedback only re-ranks)
        ranking_query = None if query is None or plan is None else plan.query
        hits = _ranked(engine, ranking_query, within, offset, paging.per_page, paging.group)
    more = {d: max(0, count_of(d) - 1) for d, _ in hits} if count_of is not None else {}
    return Outcome(total, hits, more, engine.facets(matched) if want_facets else {}, plan, notes)


def _ranked(engine: Engine, query: Node | None, within: Filter | None, offset: int, per_page: int, group: bool) -> list[tuple[int, float]]:
    """The page of (passage id, score); grouped, the best passage of each page, asking the
    engine for more until enough pages are found or nothing is left."""
    need = offset + per_page
    limit = need * 3 if group else need
    while True:
        scored = engine.top(query, limit, within)
        if not group:
            picked = scored
            break
        seen: set[str] = set()
        picked = []
        for d, sc in scored:
            p = engine.page_key(d)
            if p not in seen:
                seen.add(p)
                picked.append((d, sc))
        if len(scored) < limit or len(picked) >= need:
            break
        limit *= 4
    # scores stay as ranked (the all-words bonus included), so they fall with the rank
    # and tools that sort a run by score (trec_eval) see our order
    return picked[offset:need]
