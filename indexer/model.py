"""The records that flow between pipeline stages.

Every stage takes and returns these plain, immutable values, so each stage can be
run and tested alone and the flow stays one-way: RawPage → Page → Passage (+Claim)
→ index → SearchResult / SearchResponse.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

BlockKind = Literal["heading", "paragraph", "list", "table", "quote", "pre"]


@dataclass(frozen=True)
class RawPage:
    """One input page, decoded to text but not yet cleaned."""

    page_id: str
    source: str  # the path as given, or "path:LINE" for a JSONL record
    url: str
    site: str  # the folder it came from; pipeline.by_site also joins pages by URL host
    kind: Literal["html", "text"]
    body: str  # decoded HTML or plain text
    encoding: str
    sha256: str  # of the raw bytes (or the JSONL record), for incremental re-index
    title: str = ""  # given by a JSONL record; the cleaner finds it otherwise
    etag: str = ""  # HTTP validators of a crawled page, sent back on the next crawl
    last_modified: str = ""
    refresh: bool = False  # index even if the body hash is unchanged: the crawl got new validators


@dataclass(frozen=True)
class Validators:
    """What the index remembers of a crawled page, sent back by the next crawl (conditional GET)."""

    page_id: str
    etag: str = ""
    last_modified: str = ""
    sha256: str = ""  # of the indexed body: a 200 answer with the same hash is the same page


@dataclass(frozen=True)
class Block:
    """A unit of main text: a paragraph, heading, list, table or quote."""

    text: str
    kind: BlockKind = "paragraph"
    level: int = 0  # heading level (1-6) for headings


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int


@dataclass(frozen=True)
class Claim:
    text: str
    start: int  # character span in the passage text
    end: int
    type: str  # efficacy | comparison | statistic | mechanism | caution
    types: tuple[str, ...] = ()  # all types, primary first
    polarity: Literal["positive", "negative"] = "positive"
    evidence: Literal["study", "expert", "none"] = "none"
    hedged: bool = False
    treatments: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["types"] = list(self.types)
        d["treatments"] = list(self.treatments)
        d["conditions"] = list(self.conditions)
        return d


VerdictValue = Literal["helps", "does-not-help", "mixed", "unclear"]


@dataclass(frozen=True)
class Verdict:
    """A page's position on one treatment, with the claims that decide it, strongest first."""

    treatment: str  # a vocabulary id, or the free words of an `about` request
    verdict: VerdictValue
    claims: tuple[Claim, ...] = ()
    score: float = 0.0  # helps weight minus does-not-help weight

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "score": round(self.score, 3),
            "claims": [c.to_dict() for c in self.claims],
        }


@dataclass(frozen=True)
class Passage:
    passage_id: str  # "<page_id>#<position>"
    page_id: str
    url: str
    title: str
    heading: str
    text: str
    position: int
    sentences: tuple[Sentence, ...] = ()
    treatments: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    claims: tuple[Claim, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "passage_id": self.passage_id,
            "page_id": self.page_id,
            "heading": self.heading,
            "position": self.position,
            "text": self.text,
            "sentences": [[s.start, s.end] for s in self.sentences],
            "treatments": list(self.treatments),
            "conditions": list(self.conditions),
            "claims": [c.to_dict() for c in self.claims],
        }


@dataclass(frozen=True)
class Page:
    """A cleaned page: what the reader came for, without the site around it."""

    page_id: str
    source: str
    url: str
    site: str
    title: str
    byline: str = ""
    published: str = ""
    blocks: tuple[Block, ...] = ()
    sha256: str = ""
    passages: tuple[Passage, ...] = ()
    verdicts: tuple[Verdict, ...] = ()
    about: Verdict | None = None
    etag: str = ""  # carried from the RawPage, stored for conditional GET
    last_modified: str = ""

    @property
    def headings(self) -> list[str]:
        return [b.text for b in self.blocks if b.kind == "heading"]

    @property
    def text(self) -> str:
        return "\n\n".join(b.text for b in self.blocks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "page_id": self.page_id,
            "url": self.url,
            "title": self.title,
            "byline": self.byline,
            "published": self.published,
            "headings": self.headings,
            "text": self.text,
            "passages": [p.to_dict() for p in self.passages],
            "verdicts": {v.treatment: v.to_dict() for v in self.verdicts},
            "about": {"text": self.about.treatment, **self.about.to_dict()} if self.about else None,
        }


@dataclass(frozen=True)
class IngestError:
    """A page that could not be taken in, and why; a value, never an exception."""

    source: str
    reason: str  # short code: unreadable, binary, empty, too-large, bad-json, bad-gzip, ...
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class IngestReport:
    pages_read: int = 0
    passages: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    claims: int = 0
    skipped: list[IngestError] = field(default_factory=list)
    seconds: float = 0.0
    index: str = ""

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["skipped"] = [asdict(e) for e in self.skipped]
        return d


@dataclass(frozen=True)
class SearchResult:
    page_id: str
    passage_id: str
    url: str
    title: str
    heading: str
    score: float
    snippet: str  # HTML: escaped text with <mark> around matched terms
    text: str = ""
    treatments: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    claims: tuple[Claim, ...] = ()
    more_on_page: int = 0  # with group=page: other matching passages of this page

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("treatments", "conditions"):
            d[k] = list(d[k])
        d["claims"] = [c.to_dict() for c in self.claims]
        return d


@dataclass(frozen=True)
class FacetValue:
    value: str
    count: int


@dataclass(frozen=True)
class SearchResponse:
    query: str
    total: int
    results: tuple[SearchResult, ...] = ()
    facets: dict[str, tuple[FacetValue, ...]] = field(default_factory=dict)
    suggestion: str | None = None
    notes: tuple[str, ...] = ()
    took_ms: float = 0.0
    page: int = 1
    per_page: int = 10
    group: str | None = None
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "pages": self.pages,
            "group": self.group,
            "filters": {k: list(v) for k, v in self.filters.items()},
            "took_ms": round(self.took_ms, 2),
            "suggestion": self.suggestion,
            "notes": list(self.notes),
            "facets": {k: [asdict(f) for f in v] for k, v in self.facets.items()},
            "results": [r.to_dict() for r in self.results],
        }
