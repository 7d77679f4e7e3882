"""The typed read API: what `Index.page()`, `Index.treatments()` and searches take and give.

Frozen dataclasses with `to_dict()` giving the JSON API's keys; a new field (a page's
treatment verdicts, say) is one more attribute with a default and one more key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence

from ..model import Claim, Verdict

__all__ = [
    "PageView", "PassageView", "SearchRequest", "TreatmentInfo", "claim_from_dict", "claims_from_json",
    "verdicts_from_meta",
]  # fmt: skip


def claim_from_dict(d: dict[str, Any]) -> Claim:
    return Claim(
        text=d.get("text", ""),
        start=int(d.get("start", 0)),
        end=int(d.get("end", 0)),
        type=d.get("type", ""),
        types=tuple(d.get("types", ())),
        polarity=d.get("polarity", "positive"),
        evidence=d.get("evidence", "none"),
        hedged=bool(d.get("hedged", False)),
        treatments=tuple(d.get("treatments", ())),
        conditions=tuple(d.get("conditions", ())),
    )


def claims_from_json(raw: str | None) -> tuple[Claim, ...]:
    """A passage's stored claims (the index keeps them as JSON)."""
    return tuple(claim_from_dict(d) for d in json.loads(raw)) if raw else ()


_VERDICTS = ("helps", "does-not-help", "mixed", "unclear")


def verdicts_from_meta(meta: dict[str, Any]) -> tuple[Verdict, ...]:
    """A page's stored verdicts (kept in its first passage's page metadata), in stored order."""
    out = []
    for tid, d in (meta.get("verdicts") or {}).items():
        if isinstance(d, dict) and d.get("verdict") in _VERDICTS:
            out.append(
                Verdict(
                    treatment=str(tid),
                    verdict=d["verdict"],
                    claims=tuple(claim_from_dict(c) for c in d.get("claims", ())),
                    score=float(d.get("score", 0.0)),
                )
            )
    return tuple(out)


@dataclass(frozen=True)
class PassageView:
    passage_id: str
    position: int
    heading: str
    text: str
    treatments: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    claims: tuple[Claim, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "passage_id": self.passage_id,
            "position": self.position,
            "heading": self.heading,
            "text": self.text,
            "treatments": list(self.treatments),
            "conditions": list(self.conditions),
            "claims": [c.to_dict() for c in self.claims],
        }


@dataclass(frozen=True)
class PageView:
    """One indexed page with its passages, in reading order."""

    page_id: str
    url: str
    title: str
    byline: str = ""
    published: str = ""
    passages: tuple[PassageView, ...] = ()
    verdicts: tuple[Verdict, ...] = ()  # the page's position on each treatment it discusses

    @property
    def claim_count(self) -> int:
        return sum(len(p.claims) for p in self.passages)

    def to_dict(self) -> dict[str, Any]:
        return {
            "page_id": self.page_id,
            "url": self.url,
            "title": self.title,
            "byline": self.byline,
            "published": self.published,
            "passages": [p.to_dict() for p in self.passages],
            "verdicts": {v.treatment: v.to_dict() for v in self.verdicts},
        }


@dataclass(frozen=True)
class TreatmentInfo:
    """A treatment of the vocabulary or the index, and how many passages mention it."""

    id: str
    label: str
    parent: str | None
    passages: int

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "parent": self.parent, "passages": self.passages}


@dataclass(frozen=True)
class Topic:
    """A treatment or condition the index speaks of, and in how many passages."""

    id: str
    label: str
    passages: int
    ancestors: tuple[str, ...] = ()  # broader concepts of the vocabulary, nearest first


@dataclass(frozen=True)
class Topics:
    """What an index is mostly about: its most frequent treatments and conditions, most first.

    The home page takes its subject line and example searches from it, so an index of
    another health site reads right without a code change.
    """

    treatments: tuple[Topic, ...] = ()
    conditions: tuple[Topic, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {kind: [{"id": t.id, "label": t.label, "passages": t.passages, "ancestors": list(t.ancestors)}
                       for t in getattr(self, kind)]
                for kind in ("treatments", "conditions")}


Values = str | Sequence[str] | None


@dataclass(frozen=True)
class SearchRequest:
    """One search, as every caller asks it (filters: one value, a list, or comma-separated)."""

    q: str = ""
    page: int = 1
    per_page: int | None = None  # None: the settings' per_page
    group: str | None = None  # "page": the best passage of each page
    treatment: Values = None
    condition: Values = None
    claim: Values = None
    evidence: Values = None
    facets: bool = True
    snippets: bool = True
    spell: bool = True
    debug: bool = False

    def filter_values(self) -> dict[str, Values]:
        return {"treatment": self.treatment, "condition": self.condition, "claim": self.claim, "evidence": self.evidence}
