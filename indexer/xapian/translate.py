"""Queries for Xapian: our query nodes, and the query language's parse trees (`Native`).

Both the plain-word plans (`query.py` nodes) and the operator queries (Whoosh's parse
tree, kept as `Native`) become one `xapian.Query` over the prefixed terms of
`documents.py`; the terms are already analyzed by the one analyzer chain. Scores: OR and
AND sum their parts as Whoosh's do, a boost scales (`OP_SCALE_WEIGHT`), a constant score is
a fixed-weight posting source filtered by its child. Prefixes and wildcards are expanded
here, from the shards' merged lexicon, into an OR of terms. Ranges score a constant, as
Whoosh's do: a term range is expanded from the merged lexicon, a numeric range
(`position:[0 TO 2]`) reads the field's value slot, and `field:*` is every passage with a
term in that field (Xapian's own wildcard: with a constant score, per-shard expansion
cannot change the ranking). What has no Xapian counterpart (span queries, which the query
language does not produce, or a range wider than `MAX_RANGE` terms) raises `Unsupported`,
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
from .documents import FIELD_PREFIX, NUMERIC_SLOTS, facet_term, key_term

__all__ = ["MAX_EXPANSION", "MAX_RANGE", "Translator"]

MAX_EXPANSION = 1000  # terms one wildcard may stand for
MAX_RANGE = 20000  # terms one term range may stand for (all match with one score)
_KEY_FIELDS = ("page_id", "passage_id", "treatment", "condition", "claim_type", "evidence")


class Translator:
    """Turns queries into `xapian.Query` for one database (wildcards read its lexicon)."""

    def __init__(
        self,
        all_terms: Callable[[str], Iterable[str]],
        terms_from: Callable[[str, str], Iterable[str]] | None = None,
        scale: Callable[[str], float] | None = None,
    ):
        self.xapian = load()
        self.all_terms = all_terms
        # a scored term's weight factor (Whoosh's idf over Xapian's, see documents.Norms)
        self.scale = scale or (lambda term: 1.0)
        # the terms under a prefix from a given term on, in order (the lexicon can skip there)
        self.terms_from = terms_from or (lambda prefix, first: (t for t in all_terms(prefix) if t >= first))

    # ------------------------------------------------------------ leaves
    def _term(self, field: str, text: str) -> str:
        if field in _KEY_FIELDS:
            return key_term(field, text)
        prefix = FIELD_PREFIX.get(field)
        if prefix is None:
            raise Unsupported(f"field {field!r}")
        return prefix + text

    def _leaf(self, field: str, text: str) -> Any:
        t = self._term(field, text)
        if field in _KEY_FIELDS and field != "treatment":
            return self.constant(self.xapian.Query(t), 1.0)  # an unscored field: 1 per match, as on Whoosh
        return self._scaled(self.xapian.Query(t), self.scale(t))

    def _scaled(self, q: Any, boost: float) -> Any:
        if boost == 1.0:
            return q
        return self.xapian.Query(self.xapian.Query.OP_SCALE_WEIGHT, q, float(boost))

    def _phrase(self, field: str, words: Iterable[str], slop: int = 1) -> Any:
        terms = [self._term(field, w) for w in words]
        if not terms:
            return self.xapian.Query.MatchNothing
        if len(terms) == 1:
            return self._scaled(self.xapian.Query(terms[0]), self.scale(terms[0]))
        phrase = self.xapian.Query(self.xapian.Query.OP_PHRASE, terms, len(terms) + max(0, slop - 1))
        return self._scaled(phrase, sum(self.scale(t) for t in terms) / len(terms))

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
            return self._scaled(self._leaf(q.field, q.text), q.boost)
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
            return self._scaled(self._leaf(q.fieldname, _text(q.text)), boost)
        if isinstance(q, Q.Phrase):
            return self._scaled(self._phrase(q.fieldname, [_text(w) for w in q.words], q.slop), boost)
        if isinstance(q, Q.Prefix):
            return self._scaled(self._wildcard(q.fieldname, _text(q.text) + "*"), boost)
        if isinstance(q, Q.Wildcard):
            return self._scaled(self._wildcard(q.fieldname, _text(q.text)), boost)
        if isinstance(q, Q.Every):
            return self._every(q.fieldname, boost)
        if isinstance(q, Q.NumericRange):
            return self._numeric_range(q, boost)
        if isinstance(q, Q.TermRange):
            return self._term_range(q, boost)
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
        if field not in FIELD_PREFIX:
            raise Unsupported(f"wildcard on {field!r}")
        prefix = FIELD_PREFIX[field]
        if field in _KEY_FIELDS and field != "treatment":
            ids = [self.xapian.Query(t) for t in self.all_terms(prefix + re.split(r"[*?\[]", pattern, maxsplit=1)[0]) if fnmatch.fnmatchcase(t[len(prefix) :], pattern)]
            return self.constant(self._combine(self.xapian.Query.OP_OR, ids), 1.0) if ids else self.xapian.Query.MatchNothing
        literal = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
        matched = []
        for t in self.all_terms(prefix + literal):
            if fnmatch.fnmatchcase(t[len(prefix) :], pattern):
                matched.append(self._scaled(self.xapian.Query(t), self.scale(t)))
                if len(matched) >= MAX_EXPANSION:
                    break
        return self._combine(self.xapian.Query.OP_OR, matched)

    def _every(self, field: str | None, boost: float) -> Any:
        x = self.xapian
        if not field or field == "*":
            return x.Query.MatchAll
        if field in NUMERIC_SLOTS:
            return self.constant(x.Query(x.Query.OP_VALUE_GE, NUMERIC_SLOTS[field], x.sortable_serialise(-1e308)), boost)
        if field in _KEY_FIELDS or field in FIELD_PREFIX:
            prefix = self._term(field, "")
            return self.constant(x.Query(x.Query.OP_WILDCARD, prefix, 0, x.Query.WILDCARD_LIMIT_ERROR, x.Query.OP_OR), boost)
        raise Unsupported(f"field {field!r}")

    def _term_range(self, q: Any, boost: float) -> Any:
        """The lexicon's terms between the bounds (Whoosh compares the analyzed texts as
        strings, and so does this), one constant score for any of them."""
        prefix = self._term(q.fieldname, "")
        start, end = _text(q.start) if q.start is not None else "", _text(q.end) if q.end is not None else None
        matched = []
        for t in self.terms_from(prefix, prefix + start):
            word = t[len(prefix) :]
            if end is not None and (word > end or (q.endexcl and word == end)):
                break
            if q.startexcl and word == start:
                continue
            matched.append(self.xapian.Query(t))
            if len(matched) > MAX_RANGE:
                raise Unsupported(f"a range over more than {MAX_RANGE} terms")
        return self.constant(self._combine(self.xapian.Query.OP_OR, matched), boost)

    def _numeric_range(self, q: Any, boost: float) -> Any:
        x = self.xapian
        slot = NUMERIC_SLOTS.get(q.fieldname)
        if slot is None:
            raise Unsupported(f"a numeric range on {q.fieldname!r}")
        lo, hi = q.start, q.end
        # the schema's numbers are integers: an excluded bound is the next one in
        if lo is not None and q.startexcl:
            lo += 1
        if hi is not None and q.endexcl:
            hi -= 1
        if lo is not None and hi is not None:
            if lo > hi:
                return x.Query.MatchNothing
            vq = x.Query(x.Query.OP_VALUE_RANGE, slot, x.sortable_serialise(lo), x.sortable_serialise(hi))
        elif lo is not None:
            vq = x.Query(x.Query.OP_VALUE_GE, slot, x.sortable_serialise(lo))
        elif hi is not None:
            vq = x.Query(x.Query.OP_VALUE_LE, slot, x.sortable_serialise(hi))
        else:
            return self._every(q.fieldname, boost)
        return self.constant(vq, boost)

    # ------------------------------------------------------------ filters
    def filter(self, within: Filter) -> Any:
        """AND across fields, OR within one: boolean terms only, so no score changes."""
        x = self.xapian
        per_field = [self._combine(x.Query.OP_OR, [x.Query(facet_term(f, v)) for v in values]) for f, values in within.fields]
        return self._combine(x.Query.OP_AND, per_field)


def _text(t: Any) -> str:
    return t.decode("utf-8") if isinstance(t, bytes) else str(t)
