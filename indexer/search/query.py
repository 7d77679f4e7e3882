"""Our query representation: what the query language builds and every engine runs.

A query is a small tree of frozen values, read the same by each engine:

* `Term(field, text, boost)`: documents with the analyzed term in the field, scored by
  BM25F times the boost (an unscored field, such as a tag, scores its posting weight);
* `Phrase(field, words, boost)`: the words next to each other;
* `AnyOf(children, boost)`: documents any child matches, the sum of those children's
  scores, times the boost; `AllOf`: documents every child matches, likewise summed;
  a compound with a single child is that child alone (its own boost is ignored, as
  Whoosh ignores it); `NOTHING` (an empty `AnyOf`) matches nothing;
* `Boosted(base, extra)`: what `base` matches, plus `extra`'s score where it matches too;
* `Constant(child, score)`: what the child matches, each with the same score;
* `Native(query)`: a tree of the query language's own parser (Whoosh) for operator
  queries (phrases the user typed, fields, NOT, wildcards); only an engine that reads
  that tree runs it, the others decline it (`supports`).

A `Plan` is one search's queries: what ranks, what counts as a match, and what feedback
added. Plain-word queries (the common case) are plans of our own nodes only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Union

from ..fields import TEXT_FIELDS

__all__ = ["AllOf", "AnyOf", "Boosted", "Constant", "NOTHING", "Native", "Node", "Phrase", "Plan", "Term", "is_nothing", "leaves", "own_nodes", "text_terms"]


@dataclass(frozen=True)
class Term:
    field: str
    text: str
    boost: float = 1.0


@dataclass(frozen=True)
class Phrase:
    field: str
    words: tuple[str, ...]
    boost: float = 1.0


@dataclass(frozen=True)
class AnyOf:
    children: tuple["Node", ...]
    boost: float = 1.0


@dataclass(frozen=True)
class AllOf:
    children: tuple["Node", ...]
    boost: float = 1.0


@dataclass(frozen=True)
class Boosted:
    base: "Node"
    extra: "Node"


@dataclass(frozen=True)
class Constant:
    child: "Node"
    score: float


@dataclass(frozen=True, eq=False)
class Native:
    query: Any


Node = Union[Term, Phrase, AnyOf, AllOf, Boosted, Constant, Native]
NOTHING = AnyOf(())


def is_nothing(q: Node) -> bool:
    return isinstance(q, AnyOf) and not q.children


def own_nodes(q: Node) -> bool:
    """True when the tree holds no `Native` part (every engine can read it)."""
    if isinstance(q, (Term, Phrase)):
        return True
    if isinstance(q, (AnyOf, AllOf)):
        return all(own_nodes(c) for c in q.children)
    if isinstance(q, Boosted):
        return own_nodes(q.base) and own_nodes(q.extra)
    if isinstance(q, Constant):
        return own_nodes(q.child)
    return False


def leaves(q: Node) -> Iterator[Term | Phrase]:
    if isinstance(q, (Term, Phrase)):
        yield q
    elif isinstance(q, (AnyOf, AllOf)):
        for c in q.children:
            yield from leaves(c)
    elif isinstance(q, Boosted):
        yield from leaves(q.base)
        yield from leaves(q.extra)
    elif isinstance(q, Constant):
        yield from leaves(q.child)


def text_terms(q: Node) -> set[str]:
    """The terms a query looks for in the text fields (for highlighting); `Native` parts
    are left to the engine that reads them."""
    out: set[str] = set()
    for leaf in leaves(q):
        if leaf.field in TEXT_FIELDS or leaf.field == "claims":
            out.update([leaf.text] if isinstance(leaf, Term) else leaf.words)
    return out


@dataclass(frozen=True)
class Plan:
    query: Node  # what ranks
    match: Node  # what counts as a match (no rank-only clauses)
    notes: tuple[str, ...]
    words: tuple[str, ...]  # surface words of the query, for spelling
    plain: bool  # words only: our own nodes, and feedback applies
    typed: Node | None = None  # with feedback: what the typed words alone match
    related: tuple[str, ...] = ()  # with feedback: the related words' terms
    related_from: tuple[int, ...] = ()  # with feedback: the passages they were read from
