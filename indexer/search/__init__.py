"""The search side: query building, engines, per-commit caches and the `Index` facade.

Modules, each depending only on those above it:

    cache            the one eviction rule of every per-commit cache (`Bounded`)
    ranking          `Ranking` knobs and the BM25F formula (`ReliefBM25`)
    query            our query representation (`Term`, `AnyOf`, … `Plan`)
    querylang        query text: cleaning, lifted filters, repairs, synonym tables
    build            query text → `Plan` (`QueryBuilder`)
    whoosh_query     our nodes as Whoosh queries
    snippets         analyzed spans and `make_snippet`
    spelling         "did you mean" from the index's own words
    engine           the engine interface and the one search flow (`run`)
    feedback         pseudo-relevance feedback (related words)
    whoosh_internals every read of Whoosh's private internals
    arrays           one commit's postings and tables as numpy arrays
    generation       one commit: searcher + every cache (`Generation`)
    engines          `WhooshEngine`, `ArrayEngine`
    warmup           reading a commit's caches ahead
    records          the typed read API (`PageView`, `TreatmentInfo`, `SearchRequest`)
    claims_report    the claims report (`ClaimsReport`)
    index            the `Index` facade
"""

from ..store import IndexMissing, StoreError, index_exists
from .claims_report import ClaimRecord, ClaimsReport, Contradiction, build_report
from .engine import Engine, Filter, Unsupported
from .index import Index
from .querylang import Synonyms, clean_query, lift_filters, repair_query
from .ranking import Ranking
from .records import PageView, PassageView, SearchRequest, Topic, Topics, TreatmentInfo
from .snippets import make_snippet

__all__ = [
    "ClaimRecord",
    "ClaimsReport",
    "Contradiction",
    "Engine",
    "Filter",
    "Index",
    "IndexMissing",
    "PageView",
    "PassageView",
    "Ranking",
    "SearchRequest",
    "StoreError",
    "Synonyms",
    "Topic",
    "Topics",
    "TreatmentInfo",
    "Unsupported",
    "build_report",
    "clean_query",
    "index_exists",
    "lift_filters",
    "make_snippet",
    "repair_query",
]
