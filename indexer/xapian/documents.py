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
  another (ties rank by it, so any sharding of the same passages ranks alike).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Iterator

from ..analysis import analyzer
from ..model import Page
from ..store import passage_documents, spell_analyzer
from . import load

__all__ = ["FACET_SLOTS", "FIELD_PREFIX", "PAGE_SLOT", "PASSAGE_SLOT", "STORED_FIELDS", "facet_term", "key_term", "page_documents", "term"]

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
STORED_FIELDS = ("passage_id", "page_id", "content_sha", "url", "position", "title", "heading", "text", "treatment", "condition", "claim_type", "evidence", "claims_json", "page_meta")
_MAX_KEY_BYTES = 200  # Xapian's terms stop at 245 bytes; longer ids are hashed


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


def to_document(doc: dict[str, Any]) -> Any:
    """A Whoosh document dict (store.passage_documents) as a Xapian document."""
    xapian = load()
    xdoc = xapian.Document()
    ana = analyzer()
    for field in POSITIONAL:
        prefix = FIELD_PREFIX[field]
        for tok in ana(doc.get(field) or "", positions=True):
            xdoc.add_posting(prefix + tok.text, tok.pos + 1)
    for tok in ana(doc.get("claims") or ""):
        xdoc.add_term(FIELD_PREFIX["claims"] + tok.text)
    for tok in spell_analyzer()(doc.get("spell") or ""):
        if len(tok.text) <= 64:
            xdoc.add_boolean_term(FIELD_PREFIX["spell"] + tok.text)
    for field, slot in FACET_SLOTS.items():
        values = _values(doc, field)
        for v in values:
            if field == "treatment":
                xdoc.add_term(facet_term(field, v))  # scored, as Whoosh's treatment field is
            else:
                xdoc.add_boolean_term(facet_term(field, v))
        if values:
            xdoc.add_value(slot, "\t".join(sorted(values)))
    xdoc.add_boolean_term(key_term("page_id", doc["page_id"]))
    xdoc.add_boolean_term(key_term("passage_id", doc["passage_id"]))
    xdoc.add_value(PAGE_SLOT, doc["page_id"])
    xdoc.add_value(PASSAGE_SLOT, doc["passage_id"])
    xdoc.set_data(json.dumps({k: doc[k] for k in STORED_FIELDS if k in doc}, ensure_ascii=False))
    return xdoc


def page_documents(page: Page) -> Iterator[Any]:
    """One Xapian document per passage of a page."""
    for doc in passage_documents(page):
        yield to_document(doc)
