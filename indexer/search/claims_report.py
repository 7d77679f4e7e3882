"""The claims report: claims per treatment, their tallies, and claims that contradict.

A pure function over stored claims (`ClaimRecord`s), so the index, the CLI and the web
app all give the same answer. Contradictions are looked for between different pages:

* comparison: one page says A beats B, another that B beats A or that they are equal
  (placebo and sham count as a "treatment" B);
* efficacy: one page says a treatment helps (or beats placebo), another that it is no
  better than placebo, does not help, or fails.

Beside the claims, each treatment's pages by their position on it (`verdicts.py`): the
pages that say it helps, that it does not, and those mixed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Sequence

import json
from typing import Iterable

from .. import verdicts as verdicts_mod
from ..analysis import terms_with_spans
from ..knowledge import load_cues
from ..model import Claim, Page, Passage, Verdict
from ..passages import sentence_spans
from .records import claim_from_dict
from ..vocabulary import Vocabulary, load_vocabulary

__all__ = ["ClaimRecord", "ClaimsReport", "Contradiction", "PageVerdicts", "about_report", "build_report"]

PLACEBO = "placebo"
_PLACEBO_WORDS = frozenset({"placebo", "sham", "sugar", "dummi"})  # stems


@dataclass(frozen=True)
class ClaimRecord:
    claim: Claim
    page_id: str
    passage_id: str
    url: str
    title: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "page_id": self.page_id,
            "passage_id": self.passage_id,
            "url": self.url,
            "title": self.title,
            "claim": self.claim.to_dict(),
        }


@dataclass(frozen=True)
class Contradiction:
    """Two claims of different pages that cannot both be true."""

    treatment: str
    kind: str  # comparison | efficacy
    reason: str
    a: ClaimRecord
    b: ClaimRecord

    def to_dict(self) -> dict[str, Any]:
        return {"treatment": self.treatment, "kind": self.kind, "reason": self.reason, "a": self.a.to_dict(), "b": self.b.to_dict()}


@dataclass(frozen=True)
class PageVerdicts:
    """One indexed page's stored verdicts."""

    page_id: str
    url: str
    title: str
    verdicts: tuple[Verdict, ...]


@dataclass(frozen=True)
class PagePosition:
    """A page's position on one treatment, for the report's per-treatment lists."""

    page_id: str
    url: str
    title: str
    verdict: Verdict

    def to_dict(self) -> dict[str, Any]:
        return {"page_id": self.page_id, "url": self.url, "title": self.title, **self.verdict.to_dict()}


POSITIONS = ("helps", "does-not-help", "mixed")


@dataclass
class ClaimsReport:
    claims: list[ClaimRecord] = field(default_factory=list)
    summary: dict[str, dict[str, Any]] = field(default_factory=dict)
    contradictions: list[Contradiction] = field(default_factory=list)
    treatment: str | None = None
    type: str | None = None
    about: str | None = None  # a treatment named in free words (`about_report`)
    about_pages: int = 0  # pages that name it
    about_read: int = 0  # of those, pages read (a budget may stop short)
    # treatment → position (helps, does-not-help, mixed) → pages, strongest first
    positions: dict[str, dict[str, list[PagePosition]]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "filters": {"treatment": self.treatment, "type": self.type, "about": self.about},
            **({"about_pages": {"naming": self.about_pages, "read": self.about_read}} if self.about is not None else {}),
            "total": len(self.claims),
            "summary": self.summary,
            "verdicts": {t: {k: [p.to_dict() for p in v] for k, v in by.items()} for t, by in self.positions.items()},
            "contradictions": [c.to_dict() for c in self.contradictions],
            "claims": [r.to_dict() for r in self.claims],
        }


def _positions(pages: Sequence[PageVerdicts], wanted: set[str] | None) -> dict[str, dict[str, list[PagePosition]]]:
    out: dict[str, dict[str, list[PagePosition]]] = {}
    for page in pages:
        for v in page.verdicts:
            if v.verdict not in POSITIONS or (wanted is not None and v.treatment not in wanted):
                continue
            by = out.setdefault(v.treatment, {k: [] for k in POSITIONS})
            by[v.verdict].append(PagePosition(page.page_id, page.url, page.title, v))
    for by in out.values():
        for items in by.values():
            items.sort(key=lambda p: (-abs(p.verdict.score), p.page_id))
    return dict(sorted(out.items(), key=lambda kv: (-sum(len(v) for v in kv[1].values()), kv[0])))


_NOT_BETTER = re.compile(r"\b(?:no|not|n't|nothing)\b[\w\s-]{0,12}?\b(?:better|more effective|advantage|more)\b|adds nothing|fares no", re.I)
_FLIP = {">": "<", "<": ">", "=": "=", "<=": ">="}
# relations that cannot both hold: ">" (beats), "<" (is beaten), "=" (as good as),
# "<=" (no better than; compatible with "=" and "<")
_CLASH = {
    frozenset({">", "<"}), frozenset({">", "="}), frozenset({">", "<="}),
    frozenset({"<", "="}), frozenset({"<", ">="}),
}


def _stance(claim: Claim) -> tuple[str, str, str] | None:
    """A comparison as (A, relation, B), relation one of ">", "<", "=", "<="; None if not one."""
    if claim.type != "comparison" and "comparison" not in claim.types:
        return None
    toks = [t for t, _, _ in terms_with_spans(claim.text)]
    hits = load_cues().find(toks)
    treatments = list(claim.treatments)
    placebo = any(t in _PLACEBO_WORDS for t in toks)
    if not treatments:
        return None
    a = treatments[0]
    b = next((t for t in treatments[1:] if t != a), PLACEBO if placebo else None)
    if b is None:
        return None
    if "comparison.negative" in hits:
        rel = "<=" if _NOT_BETTER.search(claim.text) else "<"
    elif "comparison.equal" in hits:
        rel = "="
    elif "comparison.positive" in hits or "comparison.weak" in hits:
        rel = ">" if claim.polarity == "positive" else "<"
    else:
        return None
    return a, rel, b


def _same(x: str, y: str, vocab: Vocabulary) -> bool:
    return x == y or vocab.is_a(x, y) or vocab.is_a(y, x)


def _oppose(s1: tuple[str, str, str], s2: tuple[str, str, str], vocab: Vocabulary) -> bool:
    """Whether two comparisons of the same pair of treatments cannot both be true."""
    a1, r1, b1 = s1
    a2, r2, b2 = s2
    if _same(a1, a2, vocab) and _same(b1, b2, vocab):
        pass
    elif _same(a1, b2, vocab) and _same(b1, a2, vocab):
        r2 = _FLIP[r2]
    else:
        return False
    return frozenset({r1, r2}) in _CLASH


def _helps(claim: Claim) -> bool | None:
    """True if the claim says its treatment works, False if it says it fails; else None.

    A failure is a strong statement: no better than placebo or sham, a negative finding
    with cited evidence, or "makes it worse"; a mere limit ("not a quick fix") is not.
    """
    toks = [t for t, _, _ in terms_with_spans(claim.text)]
    placebo = bool(set(toks) & _PLACEBO_WORDS)
    if claim.type == "comparison" and placebo:
        return claim.polarity == "positive"
    if claim.type == "efficacy" or ("efficacy" in claim.types and claim.type == "mechanism"):
        if claim.polarity == "positive":
            return True
        return False if claim.evidence != "none" and claim.type == "efficacy" else None
    if claim.type == "caution" and claim.polarity == "negative" and not claim.hedged:
        for i, t in enumerate(toks):
            if t == "make" and "wors" in toks[i + 1 : i + 5]:
                return False
    return None


def _strength(r: ClaimRecord) -> tuple[bool, bool, bool]:
    """Which claim best stands for a page's view: a comparison, with evidence, unhedged."""
    return (r.claim.type == "comparison", r.claim.evidence != "none", not r.claim.hedged)


def build_report(
    records: Sequence[ClaimRecord],
    treatment: str | None = None,
    type: str | None = None,
    vocab: Vocabulary | None = None,
    page_verdicts: Sequence[PageVerdicts] = (),
) -> ClaimsReport:
    """Claims filtered by treatment (its narrower treatments included) and type,
    with per-treatment tallies, contradicting pairs across pages, and the pages'
    positions on each treatment (`page_verdicts`: their stored verdicts)."""
    vocab = vocab or load_vocabulary()
    wanted: set[str] | None = None
    if treatment:
        tid = vocab.resolve(treatment, "treatment") or treatment.strip().lower()
        wanted = set(vocab.descendants(tid))
    kind = type.strip().lower() if type else None
    selected = [
        r
        for r in records
        if (wanted is None or wanted & set(r.claim.treatments))
        and (kind is None or r.claim.type == kind or kind in r.claim.types)
    ]

    summary: dict[str, dict[str, Any]] = {}
    for r in selected:
        for t in dict.fromkeys(r.claim.treatments):
            if wanted is not None and t not in wanted:
                continue
            s = summary.setdefault(t, {"label": vocab.label(t), "claims": 0, "types": {}, "polarity": {}})
            s["claims"] += 1
            s["types"][r.claim.type] = s["types"].get(r.claim.type, 0) + 1
            s["polarity"][r.claim.polarity] = s["polarity"].get(r.claim.polarity, 0) + 1
    summary = dict(sorted(summary.items(), key=lambda kv: (-kv[1]["claims"], kv[0])))

    contradictions: list[Contradiction] = []
    seen: set[tuple[str, ...]] = set()
    stances = [(r, _stance(r.claim)) for r in selected]
    comparisons = [(r, s) for r, s in stances if s]
    for i, (r1, s1) in enumerate(comparisons):
        for r2, s2 in comparisons[i + 1 :]:
            if r1.page_id == r2.page_id or not _oppose(s1, s2, vocab):
                continue
            pair = tuple(sorted((s1[0], s1[2])))
            key = ("comparison", "|".join(pair), *sorted((r1.page_id, r2.page_id)))
            if key in seen:
                continue
            seen.add(key)
            contradictions.append(Contradiction(s1[0], "comparison", f"{s1[0]} {s1[1]} {s1[2]} vs {s2[0]} {s2[1]} {s2[2]}", r1, r2))
    verdicts: dict[str, list[tuple[ClaimRecord, bool]]] = {}
    for r in selected:
        helps = _helps(r.claim)
        if helps is None or not r.claim.treatments:
            continue
        verdicts.setdefault(r.claim.treatments[0], []).append((r, helps))
    compared = {(c.treatment, *sorted((c.a.page_id, c.b.page_id))) for c in contradictions}
    for t, items in verdicts.items():
        pos = sorted((r for r, h in items if h), key=_strength, reverse=True)
        neg = sorted((r for r, h in items if not h), key=_strength, reverse=True)
        for rn in neg:
            for rp in pos:
                pages = tuple(sorted((rp.page_id, rn.page_id)))
                if rp.page_id == rn.page_id or (t, *pages) in compared:
                    continue
                key = ("efficacy", t, *pages)
                if key in seen:
                    continue  # the strongest pair of these two pages is already listed
                seen.add(key)
                contradictions.append(Contradiction(t, "efficacy", f"{t} helps vs {t} does not help", rp, rn))
    return ClaimsReport(
        claims=selected, summary=summary, contradictions=contradictions, treatment=treatment, type=type,
        positions=_positions(page_verdicts, wanted),
    )  # fmt: skip


def about_report(text: str, docs: Iterable[dict[str, Any]], max_pages: int | None = None) -> ClaimsReport:
    """Each page's position on a treatment named in free words (`verdicts.about`).

    `docs`: the stored fields of passages (any order). Only pages with a passage holding
    the start of every stem of one of the treatment's names are read; their sentences
    are split again from the stored text. `max_pages` bounds the reading (a public URL
    must not re-read the whole index): the pages with most such passages go first.
    """
    names = verdicts_mod.name_stems(text)
    by_page: dict[str, list[dict[str, Any]]] = {}
    hits: dict[str, int] = {}
    for f in docs:
        by_page.setdefault(f["page_id"], []).append(f)
        lowered = f.get("text", "").lower()
        if any(all(s[:4] in lowered for s in stems) for stems in names):
            hits[f["page_id"]] = hits.get(f["page_id"], 0) + 1
    chosen = sorted(hits, key=lambda k: (-hits[k], k))
    if max_pages is not None:
        chosen = chosen[: max(0, max_pages)]
    by_page = {k: by_page[k] for k in chosen}
    positions: dict[str, list[PagePosition]] = {k: [] for k in POSITIONS}
    records: list[ClaimRecord] = []
    for page_id, fields in sorted(by_page.items()):
        fields.sort(key=lambda f: f.get("position", 0))
        first = fields[0]
        passages = tuple(
            Passage(
                passage_id=f["passage_id"], page_id=page_id, url=f.get("url", ""), title=f.get("title", ""),
                heading=f.get("heading", ""), text=f.get("text", ""), position=f.get("position", 0),
                sentences=tuple(sentence_spans(f.get("text", ""))),
                claims=tuple(claim_from_dict(d) for d in json.loads(f.get("claims_json") or "[]")),
            )
            for f in fields
        )  # fmt: skip
        page = Page(page_id=page_id, source="", url=first.get("url", ""), site="", title=first.get("title", ""), passages=passages)
        verdict = verdicts_mod.about(page, text)
        if verdict.verdict not in POSITIONS:
            continue
        positions[verdict.verdict].append(PagePosition(page_id, page.url, page.title, verdict))
        records.extend(ClaimRecord(c, page_id, "", page.url, page.title) for c in verdict.claims)
    for items in positions.values():
        items.sort(key=lambda p: (-abs(p.verdict.score), p.page_id))
    label = " ".join(text.split())
    return ClaimsReport(
        claims=records, about=label, positions={label: positions} if any(positions.values()) else {},
        about_pages=len(hits), about_read=len(by_page),
    )  # fmt: skip
