"""Our query nodes as Whoosh queries, for the Whoosh engine and Whoosh-run phrases."""

from __future__ import annotations

from typing import Any

from whoosh import query as Q

from ..fields import TEXT_FIELDS
from .query import AllOf, AnyOf, Boosted, Constant, Native, Node, Phrase, Term

__all__ = ["describe", "native_terms", "to_whoosh"]


def to_whoosh(q: Node) -> Any:
    if isinstance(q, Term):
        return Q.Term(q.field, q.text, boost=q.boost)
    if isinstance(q, Phrase):
        return Q.Phrase(q.field, list(q.words), boost=q.boost)
    if isinstance(q, AnyOf):
        if not q.children:
            return Q.NullQuery
        return Q.Or([to_whoosh(c) for c in q.children], boost=q.boost)
    if isinstance(q, AllOf):
        return Q.And([to_whoosh(c) for c in q.children], boost=q.boost)
    if isinstance(q, Boosted):
        return Q.AndMaybe(to_whoosh(q.base), to_whoosh(q.extra))
    if isinstance(q, Constant):
        return Q.ConstantScoreQuery(to_whoosh(q.child), score=q.score)
    if isinstance(q, Native):
        return q.query
    raise TypeError(f"not a query node: {type(q).__name__}")


def describe(q: Node) -> str:
    """The query as Whoosh prints it (for --explain and the web's debug note)."""
    return str(to_whoosh(q))


def native_terms(q: Any, reader: Any) -> set[str]:
    """The text terms of a Whoosh tree that the index holds, prefixes and wildcards expanded."""
    terms: set[str] = set()
    try:
        pairs = list(q.existing_terms(reader, phrases=True, expand=True))
        fields: tuple[str, ...] = (*TEXT_FIELDS, "claims")
    except (AttributeError, TypeError, ValueError, KeyError):
        pairs = list(q.iter_all_terms())
        fields = TEXT_FIELDS
    for fieldname, text in pairs:
        if fieldname in fields:
            terms.add(text.decode("utf-8") if isinstance(text, bytes) else text)
    return terms
