"""Queries for Xapian: our query nodes, and the query language's parse trees (`Native`).

Both the plain-word plans (`query.py` nodes) and the operator queries (Whoosh's parse
tree, kept as `Native`) become one `xapian.Query` over the prefixed terms of
`documents.py`; the terms are already analyzed by the one analyzer chain. Scores: OR and
AND sum their parts as Whoosh's do, a boost scales (`OP_SCALE_WEIGHT`), a constant score is
a fixed-weight posting source filtered by its child. Prefixes and wildcards are expanded
here, from the shards' merged lexicon, into an OR of terms.
What has no Xapian counterpart (fuzzy terms, ranges, span queries) raises `Unsupported`,
and the facade answers from the query's words, with a note.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any, Callable, Iterable

from whoosh import query as Q

from ..search.engine import Filter, Unsupported
from ..search.query import AllOf, AnyOf, Boosted, Constant, Native, Node, Phrase, Term
from . import load
from .documents import FIELD_PREFIX, facet_term, key_term

__all__ = ["MAX_EXPANSION", "Translator"]

MAX_EXPANSION = 1000  # terms one wildcard may stand for
_KEY_FIELDS = ("page_id", "passage_id", "treatment", "condition", "claim_type", "evidence")


class Translator:
    """Turns queries into `xapian.Query` for one database (wildcards read its lexicon)."""

    def __init__(self, all_terms: Callable[[str], Iterable[str]]):
        self.xapian = load()
        self.all_terms = all_terms

    # ------------------------------------------------------------ leaves
    def _term(self, field: str, text: str) -> str:
        if field in _KEY_FIELDS:
            return key_term(field, text)
        prefix = FIELD_PREFIX.get(field)
        if prefix is None:
            raise Unsupported(f"field {field!r}")
        return prefix + text

    def _scaled(self, q: Any, boost: float) -> Any:
        if boost == 1.0:
            return q
        return self.xapian.Query(self.xapian.Query.OP_SCALE_WEIGHT, q, float(boost))

    def _phrase(self, field: str, words: Iterable[str], slop: int = 1) -> Any:
        terms = [self._term(field, w) for w in words]
        if not terms:
            return self.xapian.Query.MatchNothing
        if len(terms) == 1:
            return self.xapian.Query(terms[0])
        return self.xapian.Query(self.xapian.Query.OP_PHRASE, terms, len(terms) + max(0, slop - 1))

    def _combine(self, op: int, parts: list[Any]) -> Any:
        if not parts:
            return self.xapian.Query.MatchNothing
        if len(parts) == 1:
            return parts[0]
        return self.xapian.Query(op, parts)

    def constant(self, child: Any, score: float) -> Any:
        x = self.xapian
        source = x.Query(x.FixedWeightPostingSource(float(score)))
        return x.Query(x.Query.OP_FILTER, source, child)

    # ------------------------------------------------------------ our nodes
    def node(self, q: Node) -> Any:
        x = self.xapian
        if isinstance(q, Term):
            return self._scaled(x.Query(self._term(q.field, q.text)), q.boost)
        if isinstance(q, Phrase):
            return self._scaled(self._phrase(q.field, q.words), q.boost)
        if isinstance(q, AnyOf):
            if len(q.children) == 1:
                return self.node(q.children[0])  # a lone child stands alone, as in Whoosh
            return self._scaled(self._combine(x.Query.OP_OR, [self.node(c) for c in q.children]), q.boost)
        if isinstance(q, AllOf):
            if len(q.children) == 1:
                return self.node(q.children[0])
            return self._scaled(self._combine(x.Query.OP_AND, [self.node(c) for c in q.children]), q.boost)
        if isinstance(q, Boosted):
            return x.Query(x.Query.OP_AND_MAYBE, self.node(q.base), self.node(q.extra))
        if isinstance(q, Constant):
            return self.constant(self.node(q.child), q.score)
        if isinstance(q, Native):
            return self.native(q.query)
        raise Unsupported(f"query node {type(q).__name__}")

    # ------------------------------------------------------------ the parser's trees
    def native(self, q: Any) -> Any:
        x = self.xapian
        if q is Q.NullQuery or isinstance(q, type(Q.NullQuery)):
            return x.Query.MatchNothing
        boost = float(getattr(q, "boost", 1.0) or 1.0)
        if isinstance(q, Q.Term):
            return self._scaled(x.Query(self._term(q.fieldname, _text(q.text))), boost)
        if isinstance(q, Q.Phrase):
            return self._scaled(self._phrase(q.fieldname, [_text(w) for w in q.words], q.slop), boost)
        if isinstance(q, Q.Prefix):
            return self._scaled(self._wildcard(q.fieldname, _text(q.text) + "*"), boost)
        if isinstance(q, Q.Wildcard):
            return self._scaled(self._wildcard(q.fieldname, _text(q.text)), boost)
        if isinstance(q, Q.Every):
            return x.Query.MatchAll
        if isinstance(q, Q.Not):
            return x.Query(x.Query.OP_AND_NOT, x.Query.MatchAll, self.native(q.query))
        if isinstance(q, Q.AndNot):
            return self._scaled(x.Query(x.Query.OP_AND_NOT, self.native(q.a), self.native(q.b)), boost)
        if isinstance(q, Q.AndMaybe):
            return self._scaled(x.Query(x.Query.OP_AND_MAYBE, self.native(q.a), self.native(q.b)), boost)
        if isinstance(q, Q.Require):
            return self._scaled(x.Query(x.Query.OP_FILTER, self.native(q.a), self.native(q.b)), boost)
        if isinstance(q, Q.ConstantScoreQuery):
            return self.constant(self.native(q.child), q.score)
        if isinstance(q, (Q.And, Q.Or, Q.DisjunctionMax)) and type(q) in (Q.And, Q.Or, Q.DefaultOr, Q.DisjunctionMax):
            subs = list(q.subqueries)
            if len(subs) == 1 and not isinstance(subs[0], Q.Not):
                return self.native(subs[0])
            pos = [self.native(s) for s in subs if not isinstance(s, Q.Not)]
            negs = [self.native(s.query) for s in subs if isinstance(s, Q.Not)]
            op = x.Query.OP_AND if isinstance(q, Q.And) else (x.Query.OP_MAX if isinstance(q, Q.DisjunctionMax) else x.Query.OP_OR)
            if isinstance(q, Q.And) or not pos:
                keep = self._combine(op, pos) if pos else x.Query.MatchAll
                out = x.Query(x.Query.OP_AND_NOT, keep, self._combine(x.Query.OP_OR, negs)) if negs else keep
            else:
                # "a OR NOT b": a, or anything without b
                alts = pos + [x.Query(x.Query.OP_AND_NOT, x.Query.MatchAll, n) for n in negs]
                out = self._combine(op, alts)
            return self._scaled(out, boost)
        raise Unsupported(f"query {type(q).__name__}")

    def _wildcard(self, field: str, pattern: str) -> Any:
        """A wildcard over one field's terms, expanded here from the shards' merged lexicon:
        every shard then scores the same terms (as Whoosh does, an OR of them), so a
        sharded index ranks as one database would."""
        if field in _KEY_FIELDS or field not in FIELD_PREFIX:
            raise Unsupported(f"wildcard on {field!r}")
        prefix = FIELD_PREFIX[field]
        literal = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
        matched = []
        for t in self.all_terms(prefix + literal):
            if fnmatch.fnmatchcase(t[len(prefix) :], pattern):
                matched.append(self.xapian.Query(t))
                if len(matched) >= MAX_EXPANSION:
                    break
        return self._combine(self.xapian.Query.OP_OR, matched)

    # ------------------------------------------------------------ filters
    def filter(self, within: Filter) -> Any:
        """AND across fields, OR within one: boolean terms only, so no score changes."""
        x = self.xapian
        per_field = [self._combine(x.Query.OP_OR, [x.Query(facet_term(f, v)) for v in values]) for f, values in within.fields]
        return self._combine(x.Query.OP_AND, per_field)


def _text(t: Any) -> str:
    return t.decode("utf-8") if isinstance(t, bytes) else str(t)
