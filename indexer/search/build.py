"""Building a search's `Plan` from the query text.

Plain words (the common case) become our own nodes directly: each word over text, title
and heading with boosts, synonyms at a lower weight, a tag clause for a treatment word,
and a constant bonus for passages with every word. Anything else (phrases, fields,
operators, wildcards) goes through the query language's parser, Whoosh's `QueryParser`
with the index's analyzer, and its tree is rewritten the same way and kept as `Native`.
Nothing here raises on bad input: a query that cannot be parsed is searched as its
words, with a note.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Protocol

from whoosh import query as Q
from whoosh.matching import AndNotMatcher
from whoosh.qparser import FieldAliasPlugin, OrGroup, PlusMinusPlugin, QueryParser, syntax

from ..analysis import analyzer
from .query import NOTHING, AllOf, AnyOf, Constant, Native, Node, Phrase, Plan, Term
from .querylang import Synonyms, repair_query
from .ranking import Ranking

__all__ = ["QueryBuilder", "VocabularyLike"]

# text the query parser would read as words only: no quotes, parentheses, fields, wildcards,
# boosts, ranges or leading +/-; hyphens and apostrophes only inside words
_PLAIN_TEXT = re.compile(r"(?:[^\W_]|[ .,;!&]|(?<=[^\W_])[-'’](?=[^\W_]))*")
_OPERATOR_WORD = re.compile(r"\b(?:AND|OR|NOT|ANDNOT|ANDMAYBE)\b")
FREE_WORD = re.compile(r"[^\W_]+(?!\w*:)", re.UNICODE)  # not a field name
_TAG_FIELDS = ("treatment", "condition")


class VocabularyLike(Protocol):
    """What search reads of the treatment/condition vocabulary (indexer.vocabulary)."""

    @property
    def treatments(self) -> Iterable[Any]: ...

    def resolve(self, name: str, kind: str) -> str | None: ...

    def descendants(self, ident: str) -> Iterable[str]: ...

    def ancestors(self, ident: str) -> Iterable[str]: ...

    def label(self, ident: str) -> str: ...


class _PlusMinus(PlusMinusPlugin):
    """`+word` and `-word`, also inside parentheses; the pattern keeps them to the start
    of a word, so "coca-cola" searches coca and cola instead of coca NOT cola."""

    # each level of +/- nesting doubles Whoosh's later work on the query; deeper ones are
    # left to the parse fallback (the words are searched, with a note)
    MAX_DEPTH = 4

    def do_plusminus(self, parser: Any, group: Any, depth: int = 0) -> Any:
        if depth < self.MAX_DEPTH:
            for i, node in enumerate(group):
                if isinstance(node, syntax.GroupNode):
                    group[i] = self.do_plusminus(parser, node, depth + 1)
        return super().do_plusminus(parser, group)


class QueryBuilder:
    """Query text → `Plan`, for one schema, ranking, synonym table and vocabulary."""

    def __init__(self, schema: Any, ranking: Ranking, synonyms: Synonyms, vocabulary: VocabularyLike | None):
        self.schema = schema
        self.ranking = ranking
        self.synonyms = synonyms
        self.vocabulary = vocabulary
        self.analyzer = analyzer()
        parser = QueryParser("text", schema, group=OrGroup)
        parser.add_plugin(_PlusMinus(plusexpr=r"(?<![^\s(])\+", minusexpr=r"(?<![^\s(])-"))
        parser.add_plugin(
            FieldAliasPlugin({"claim_type": ["claim", "claims_type", "type"], "treatment": ["treatments"], "condition": ["conditions"]})
        )
        self.parser = parser

    def resolve(self, value: str, kind: str) -> list[str]:
        """A filter value and the ids below it in the vocabulary (medication ⊃ nsaids ⊃ ibuprofen)."""
        value = value.strip().lower()
        vocab = self.vocabulary
        if vocab is None or kind not in _TAG_FIELDS:
            return [value]
        ident = vocab.resolve(value, kind) or value
        ids = [ident]
        ids.extend(d for d in vocab.descendants(ident) if d not in ids)
        return [str(i).lower() for i in ids]

    # our nodes -------------------------------------------------------
    def _multi(self, leaf: Term | Phrase) -> AnyOf:
        """One free-text leaf over text, title and heading."""
        r = self.ranking
        alts: list[Node] = [leaf]
        for name, boost in (("title", r.title_boost), ("heading", r.heading_boost), ("claims", r.claims_boost)):
            if boost > 0:
                if isinstance(leaf, Term):
                    alts.append(Term(name, leaf.text, leaf.boost * boost))
                else:
                    alts.append(Phrase(name, leaf.words, leaf.boost * boost))
        return AnyOf(tuple(alts))

    @staticmethod
    def _leaf_for(terms: tuple[str, ...], boost: float = 1.0) -> Term | Phrase:
        if len(terms) == 1:
            return Term("text", terms[0], boost)
        return Phrase("text", terms, boost)

    def words_query(self, text: str) -> Node:
        """The query's words, any of them: the answer when the query cannot be parsed or run."""
        terms = [t.text for t in self.analyzer(text)]
        return AnyOf(tuple(Term("text", t) for t in terms)) if terms else NOTHING

    def build(self, text: str) -> Plan:
        words = tuple(FREE_WORD.findall(text))
        q, notes = self._parse(text)
        terms = _plain_terms(q)
        if terms is None:
            tree = self._rewrite(q) if q is not Q.NullQuery else q
            rewritten: Node = NOTHING if tree is Q.NullQuery else Native(tree)
            return Plan(rewritten, rewritten, tuple(notes), words, plain=False)
        return self._plain(terms, tuple(notes), words)

    def _parse(self, text: str) -> tuple[Any, list[str]]:
        repaired, notes = repair_query(text)
        try:
            if _PLAIN_TEXT.fullmatch(repaired) and not _OPERATOR_WORD.search(repaired):
                # words only: what the parser would give, without its tagging pass
                terms = [t.text for t in self.analyzer(repaired)]
                q = Q.Or([Q.Term("text", t) for t in terms]) if terms else Q.NullQuery
            else:
                q = self.parser.parse(repaired)
            q = q.normalize()
        except Exception:  # Whoosh's parser raises bare Exception too (`url:x`: "field has no format")
            notes.append("the query could not be parsed; its words were searched instead")
            terms = [t.text for t in self.analyzer(text)]
            q = Q.Or([Q.Term("text", t) for t in terms]) if terms else Q.NullQuery
        return q, notes

    def _plain(self, terms: list[str], notes: tuple[str, ...], words: tuple[str, ...]) -> Plan:
        r = self.ranking
        table, longest = self.synonyms.table, self.synonyms.longest
        units: list[Node] = []  # one per concept, for "matches every word"
        clauses: list[Node] = [self._multi(Term("text", t)) for t in terms]
        i = 0
        while i < len(terms):
            span = 1
            alts: list[tuple[str, ...]] = []
            for n in range(min(longest, len(terms) - i), 0, -1):
                cand = tuple(terms[i : i + n])
                if cand in table:
                    span, alts = n, table[cand]
                    break
            own = tuple(terms[i : i + span])
            own_q: Node = self._multi(Term("text", own[0])) if span == 1 else AllOf(tuple(self._multi(Term("text", t)) for t in own))
            unit_alts: list[Node] = [own_q]
            if alts:
                syn = tuple(self._multi(self._leaf_for(a)) for a in alts)
                clauses.append(AnyOf(syn, r.synonym_weight))
                unit_alts.extend(syn)
            tag = self._tag_clause(" ".join(own)) if self.vocabulary is not None and r.tag_weight > 0 else None
            if tag is not None:
                clauses.append(tag)
            units.append(AnyOf(tuple(unit_alts)) if len(unit_alts) > 1 else own_q)
            i += span
        match: Node = AnyOf(tuple(clauses)) if len(clauses) > 1 else clauses[0]
        query = match
        if len(units) > 1 and r.all_words_bonus > 0:
            query = AnyOf((match, Constant(AllOf(tuple(units)), r.all_words_bonus)))
        return Plan(query, match, notes, words, plain=True)

    def _tag_clause(self, phrase: str) -> Node | None:
        assert self.vocabulary is not None
        ident = self.vocabulary.resolve(phrase, "treatment")
        if not ident:
            return None
        ids = self.resolve(str(ident), "treatment")
        return AnyOf(tuple(Term("treatment", i) for i in ids), self.ranking.tag_weight)

    # the parser's trees ----------------------------------------------
    def _multi_native(self, leaf: Any) -> Any:
        r = self.ranking
        alts = [leaf]
        for name, boost in (("title", r.title_boost), ("heading", r.heading_boost), ("claims", r.claims_boost)):
            if boost > 0:
                if type(leaf) is Q.Term:  # the common case, without copy()'s deepcopy
                    c = Q.Term(name, leaf.text, boost=leaf.boost * boost)
                else:
                    c = leaf.copy()
                    c.fieldname = name
                    c.boost = leaf.boost * boost
                alts.append(c)
        return Q.Or(alts)

    def _positional(self, fieldname: str) -> bool:
        if fieldname not in self.schema:
            return False
        fmt = self.schema[fieldname].format
        return bool(fmt is not None and fmt.supports("positions"))

    def _rewrite(self, q: Any) -> Any:
        if isinstance(q, (Q.Term, Q.Phrase, Q.Prefix, Q.Wildcard, Q.FuzzyTerm, Q.Variations)) and getattr(q, "fieldname", None) == "text":
            if isinstance(q, Q.Term):
                alts = self.synonyms.table.get((q.text,), [])
                if alts:
                    extra = []
                    for a in alts:
                        leaf = Q.Term("text", a[0], boost=self.ranking.synonym_weight) if len(a) == 1 else Q.Phrase("text", list(a), boost=self.ranking.synonym_weight)
                        extra.append(self._multi_native(leaf))
                    return Q.Or([self._multi_native(q), *extra])
            return self._multi_native(q)
        if isinstance(q, Q.Phrase) and not self._positional(q.fieldname):
            words = [Q.Term(q.fieldname, w) for w in q.words]
            return Q.And(words, boost=q.boost) if words else Q.NullQuery
        if isinstance(q, Q.Term) and q.fieldname in _TAG_FIELDS:
            ids = self.resolve(str(q.text), q.fieldname)
            if len(ids) > 1 or ids[0] != q.text:
                return Q.Or([Q.Term(q.fieldname, i) for i in ids], boost=q.boost)
            return q
        if q.is_leaf():
            return q
        if isinstance(q, Q.Or):
            # "a b NOT c" means a or b, but never c (NOT excludes; it does not add)
            nots = [c for c in q.subqueries if isinstance(c, Q.Not)]
            pos = [c for c in q.subqueries if not isinstance(c, Q.Not)]
            if nots and pos:
                keep = self._rewrite(Q.Or(pos) if len(pos) > 1 else pos[0])
                drop = [self._rewrite(n.query) for n in nots]
                return AndNot(keep, Q.Or(drop) if len(drop) > 1 else drop[0])
        if isinstance(q, Q.AndNot):  # `-word`, `a ANDNOT b`
            return AndNot(self._rewrite(q.a), self._rewrite(q.b))
        return q.apply(self._rewrite)


class _AndNotMatcher(AndNotMatcher):
    """Whoosh 2.7.4's AndNotMatcher checks its first match against the excluded side only
    when both start on the same document, so `walking -time` returned a passage with
    "time" whenever a "time" passage came earlier; here the first match is checked as
    every later one is."""

    def _find_first(self) -> None:
        if self.a.is_active():
            self._find_next()


class AndNot(Q.AndNot):
    """`a` without `b` (`-word`, `NOT`, `ANDNOT`), on the matcher above; scores are a's."""

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        return _AndNotMatcher(self.a.matcher(searcher, context), self.b.matcher(searcher, searcher.boolean_context()))


def _plain_terms(q: Any) -> list[str] | None:
    """The terms of a parsed query made only of free-text words, in order; else None."""
    if isinstance(q, Q.Term) and q.fieldname == "text":
        return [q.text]
    if isinstance(q, Q.Or) and q.subqueries and all(isinstance(s, Q.Term) and s.fieldname == "text" and s.boost == 1 for s in q.subqueries):
        return [s.text for s in q.subqueries]
    return None
