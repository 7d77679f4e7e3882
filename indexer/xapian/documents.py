"""One Xapian document per passage, with the same fields and values as the Whoosh index.

The fields come from `store.passage_documents`, so both backends index the same thing.
Each field's terms carry a prefix of their own; the text fields keep positions (phrases)
and go through the one analyzer chain, so a query's terms are the Whoosh index's terms.

* stored fields: the document data, JSON of Whoosh's stored fields (the facade reads
  results and pages from it unchanged);
* facets: a boolean term per value (filters), and per facet one value slot holding the
  passage's sorted values joined by a tab: Xapian's value counter counts those
  combinations over every match, and splitting them gives exact multi-valued counts;
* the page id in a value slot (pages per query, "more on this page"), the passage id in
  another (ties rank by it, so any sharding of the same passages ranks alike), and the
  passage's position on its page as a sortable number (`position:[0 TO 2]` ranges).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, Iterable, Iterator, Sequence

from whoosh.util.numeric import byte_to_length, length_to_byte

from ..analysis import analyzer
from ..model import Page
from ..store import passage_documents, spell_analyzer
from . import load

__all__ = ["FACET_SLOTS", "FIELD_PREFIX", "NORMS_KEY", "NUMERIC_SLOTS", "Norms", "PassageTokens", "analyze", "analyze_page", "idf_scale", "measure_norms", "PAGE_SLOT", "PASSAGE_SLOT", "STORED_FIELDS", "facet_term", "key_term", "page_documents", "term"]

FIELD_PREFIX: dict[str, str] = {
    "text": "B",
    "title": "S",
    "heading": "H",
    "claims": "C",
    "spell": "W",
    "treatment": "XTREAT",
    "condition": "XCOND",
    "claim_type": "XCLAIM",
    "evidence": "XEVID",
    "page_id": "K",
    "passage_id": "Q",
}
POSITIONAL = ("text", "title", "heading")
PAGE_SLOT = 0
FACET_SLOTS: dict[str, int] = {"treatment": 1, "condition": 2, "claim_type": 3, "evidence": 4}
PASSAGE_SLOT = 5
NUMERIC_SLOTS: dict[str, int] = {"position": 6}  # the schema's NUMERIC fields
STORED_FIELDS = ("passage_id", "page_id", "content_sha", "url", "position", "title", "heading", "text", "treatment", "condition", "claim_type", "evidence", "claims_json", "page_meta")
_MAX_KEY_BYTES = 200  # Xapian's terms stop at 245 bytes; longer ids are hashed
NORMS_KEY = "norms"  # each shard's metadata: the length normalisation its wdfs carry
SCORED = ("text", "title", "heading", "claims", "treatment")
WDF_SCALE = 100  # wdf = WDF_SCALE x the normalised frequency, rounded (±0.5 %)


@dataclass(frozen=True)
class Norms:
    """Per-field BM25 length normalisation, applied when a passage is written.

    Whoosh scores each field with BM25 over that field's own length (tf / (1 - b + b x
    fl / avgfl)); Xapian's BM25 divides by the whole document's length. So the writer
    stores each term's wdf already normalised by its field's length, scaled by
    `scale`, and the searcher runs Xapian's BM25 with b = 0 and k1 x scale: that is
    Whoosh's per-field formula. The average field lengths are measured on the first
    passages an ingest writes into empty shards (a rebuild measures them again) and kept
    in the shards' metadata, so every shard normalises alike.
    """

    b: float
    avg: dict[str, float] = dataclass_field(default_factory=dict)
    scale: int = WDF_SCALE

    def wdf(self, name: str, tf: int, length: int) -> int:
        fl = byte_to_length(length_to_byte(length))  # the lengths Whoosh keeps, one byte each
        norm = 1.0 - self.b + self.b * fl / (self.avg.get(name) or 1.0)
        return max(1, round(self.scale * tf / norm))

    def to_json(self) -> str:
        return json.dumps({"b": self.b, "avg": self.avg, "scale": self.scale}, sort_keys=True)

    @classmethod
    def from_json(cls, raw: bytes | str) -> "Norms | None":
        if not raw:
            return None
        d = json.loads(raw)
        return cls(float(d["b"]), {k: float(v) for k, v in d["avg"].items()}, int(d["scale"]))


def measure_norms(passages: Iterable["PassageTokens"], b: float) -> Norms:
    """The average length of each scored field over these passages (empty fields count)."""
    totals: Counter[str] = Counter()
    n = 0
    for p in passages:
        n += 1
        for name, length in p.lengths().items():
            totals[name] += length
    return Norms(b, {name: totals[name] / n if n else 1.0 for name in SCORED})


def idf_scale(n: int, total: int, k1: float, norms: Norms) -> float:
    """What turns Xapian's BM25 weight of a term into Whoosh's: Lucene's idf over Xapian's
    (which halves frequent words' idf), and Whoosh's (k1 + 1) over the scaled k1's."""
    if n <= 0 or total <= 0:
        return 1.0
    tw = (total - n + 0.5) / (n + 0.5)
    if tw < 2:
        tw = max(tw, 1e-6) * 0.5 + 1
    xapian_idf = math.log(tw)
    lucene_idf = math.log(1.0 + (total - n + 0.5) / (n + 0.5))
    return lucene_idf / xapian_idf * (k1 + 1) / (k1 * norms.scale + 1)


def term(field: str, text: str) -> str:
    return FIELD_PREFIX[field] + text


def key_term(field: str, value: str) -> str:
    """The boolean term of an id (page, passage): the id, or its hash when too long."""
    if len(value.encode("utf-8")) > _MAX_KEY_BYTES:
        value = "#" + hashlib.sha256(value.encode("utf-8")).hexdigest()
    return FIELD_PREFIX[field] + value


def facet_term(field: str, value: str) -> str:
    return key_term(field, value)


def _values(doc: dict[str, Any], field: str) -> list[str]:
    raw = doc.get(field) or ""
    return [v for v in (p.strip() for p in raw.split(",")) if v]


@dataclass(frozen=True)
class PassageTokens:
    """A passage's document and its fields as the analyzer leaves them: what an ingest
    worker sends the writer (`analyze_page`), so the one writer only files terms."""

    doc: dict[str, Any]
    positional: tuple[tuple[tuple[str, int], ...], ...]  # per POSITIONAL field: (term, position)
    claims: tuple[str, ...]
    spell: tuple[str, ...]

    def lengths(self) -> dict[str, int]:
        got = {name: len(toks) for name, toks in zip(POSITIONAL, self.positional)}
        return got | {"claims": len(self.claims), "treatment": len(_values(self.doc, "treatment"))}


def analyze(doc: dict[str, Any]) -> PassageTokens:
    ana = analyzer()
    positional = tuple(tuple((tok.text, tok.pos) for tok in ana(doc.get(name) or "", positions=True)) for name in POSITIONAL)
    spell = tuple(tok.text for tok in spell_analyzer()(doc.get("spell") or "") if len(tok.text) <= 64)
    return PassageTokens(doc, positional, tuple(tok.text for tok in ana(doc.get("claims") or "")), spell)


def analyze_page(page: Page) -> tuple[PassageTokens, ...]:
    """Every passage of a page analysed (run by ingest workers: `pipeline.run_job`)."""
    return tuple(analyze(doc) for doc in passage_documents(page))


def to_document(passage: dict[str, Any] | PassageTokens, norms: Norms | None = None) -> Any:
    """A Whoosh document dict (store.passage_documents), or its tokens, as a Xapian
    document; with `norms`, scored terms carry length-normalised wdfs (see `Norms`)."""
    xapian = load()
    p = passage if isinstance(passage, PassageTokens) else analyze(passage)
    doc = p.doc
    xdoc = xapian.Document()
    for name, toks in zip(POSITIONAL, p.positional):
        prefix = FIELD_PREFIX[name]
        for text, pos in toks:
            xdoc.add_posting(prefix + text, pos + 1, 0 if norms else 1)
        if norms:
            for text, tf in Counter(t for t, _ in toks).items():
                xdoc.add_term(prefix + text, norms.wdf(name, tf, len(toks)))
    for text, tf in Counter(p.claims).items():
        xdoc.add_term(FIELD_PREFIX["claims"] + text, norms.wdf("claims", tf, len(p.claims)) if norms else tf)
    for text in p.spell:
        xdoc.add_boolean_term(FIELD_PREFIX["spell"] + text)
    for field, slot in FACET_SLOTS.items():
        values = _values(doc, field)
        for v in values:
            if field == "treatment":  # scored, as Whoosh's treatment field is
                xdoc.add_term(facet_term(field, v), norms.wdf(field, 1, len(values)) if norms else 1)
            else:
                xdoc.add_boolean_term(facet_term(field, v))
        if values:
            xdoc.add_value(slot, "\t".join(sorted(values)))
    xdoc.add_boolean_term(key_term("page_id", doc["page_id"]))
    xdoc.add_boolean_term(key_term("passage_id", doc["passage_id"]))
    xdoc.add_value(PAGE_SLOT, doc["page_id"])
    xdoc.add_value(PASSAGE_SLOT, doc["passage_id"])
    for field, slot in NUMERIC_SLOTS.items():
        if isinstance(doc.get(field), (int, float)):
            xdoc.add_value(slot, xapian.sortable_serialise(doc[field]))
    xdoc.set_data(json.dumps({k: doc[k] for k in STORED_FIELDS if k in doc}, ensure_ascii=False))
    return xdoc


def page_documents(page: Page, norms: Norms | None = None, tokens: Sequence[PassageTokens] | None = None) -> Iterator[Any]:
    """One Xapian document per passage of a page (from its tokens when a worker sent them)."""
    for passage in tokens if tokens is not None else passage_documents(page):
        yield to_document(passage, norms)
