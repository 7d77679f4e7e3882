"""Searching the index: query language, synonyms, spelling, BM25F, facets, snippets.

`Index.open(path)` keeps one Whoosh searcher open and answers every search from it under
a lock (Whoosh searchers are not safe for concurrent use); `refresh()` picks up a newly
committed index with two `stat` calls when nothing changed.

Query handling, in order: clean the text (control characters, length), repair what a
parser would choke on (unbalanced quotes and parentheses, a lone `field:`), parse with
Whoosh's parser using the index's analyzer, then rewrite the tree: each free-text leaf
searches text, title and heading with boosts; field filters on treatments and conditions
take in their sub-types; plain-word queries get synonyms and rank documents that match
every word first. Nothing here raises on bad input: a query that still cannot be parsed
is answered from its words alone, with a note.
"""

from __future__ import annotations

import html
import logging
import json
import math
import os
import re
import struct
import threading
import time
import tomllib
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Sequence

from whoosh import index as whoosh_index
from whoosh import query as Q
from whoosh.query.qcore import QueryError
from whoosh.qparser import FieldAliasPlugin, OrGroup, PlusMinusPlugin, QueryParser, syntax
from whoosh.scoring import BM25F

from . import store
from .analysis import TOKEN_PATTERN, analyzer, stop_words
from .config import Settings, load_settings
from .feedback import FeedbackTerms
from .model import Claim, FacetValue, SearchResponse, SearchResult
from .store import IndexMissing, StoreError, index_exists

__all__ = ["Index", "IndexMissing", "StoreError", "index_exists", "Ranking"]

DATA_DIR = Path(__file__).parent / "data"
SYNONYMS_FILE = DATA_DIR / "synonyms.toml"

# facet name in responses / filter keyword → index field
FACETS = {"treatment": "treatment", "condition": "condition", "claim": "claim_type", "evidence": "evidence"}
TEXT_FIELDS = ("text", "title", "heading")
log = logging.getLogger(__name__)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff\ud800-\udfff]")
_LONE_FIELD = re.compile(r"(?<![\w\"])(\w+):(?=\s|$|\)|\()")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SENTENCE_WILDCARD = re.compile(r"(?<!\?)\?+(?=[^\w*?]|$)")  # from a run's start: linear
# text the query parser would read as words only: no quotes, parentheses, fields, wildcards,
# boosts, ranges or leading +/-; hyphens and apostrophes only inside words
_PLAIN_TEXT = re.compile(r"(?:[^\W_]|[ .,;!&]|(?<=[^\W_])[-'’](?=[^\W_]))*")
_OPERATOR_WORD = re.compile(r"\b(?:AND|OR|NOT|ANDNOT|ANDMAYBE)\b")
_FREE_WORD = re.compile(r"[^\W_]+(?!\w*:)", re.UNICODE)  # not a field name


@dataclass(frozen=True)
class Ranking:
    """The ranking knobs, tuned on NFCorpus dev (see scripts/eval_relevance.py)."""

    k1: float = 1.2
    b: float = 0.85  # NFCorpus dev: .75→.85 +0.006 nDCG@10 on long queries, titles flat
    title_boost: float = 0.5
    heading_boost: float = 1.5
    claims_boost: float = 0.0
    synonym_weight: float = 0.5
    tag_weight: float = 0.3
    all_words_bonus: float = 1000.0  # documents matching every word rank first
    feedback_docs: int = 10  # pseudo-relevance feedback: top passages read for related words
    feedback_terms: int = 10
    feedback_weight: float = 0.5
    feedback_sharpness: float = 3.0  # a top passage counts by (its score / the best score) ** this
    feedback_max_matches: int = 5000  # above this many matching passages, no feedback
    # when the typed words match fewer passages than this, related words add passages too,
    # listed after every passage with a typed word (0: related words only re-rank)
    feedback_expands_below: int = 20
    lucene_idf: bool = True
    # plain-word queries scored with numpy (indexer/fastscore.py): Whoosh's scores, ranked
    # exhaustively; the Whoosh path answers every other query, and all of them when False
    fast_path: bool = True


class ReliefBM25(BM25F):
    """Whoosh's BM25F with Lucene's idf, log(1 + (N - df + .5) / (df + .5)).

    Whoosh's own idf, log(N / (df + 1)) + 1, gives common words a floor of 1, which on
    long queries lets frequent words outweigh the rare ones that carry the meaning.
    """

    def __init__(self, lucene_idf: bool = True, **kwargs: Any):
        super().__init__(**kwargs)
        self.lucene_idf = lucene_idf

    def idf(self, searcher: Any, fieldname: str, text: Any) -> float:
        if not self.lucene_idf:
            return super().idf(searcher, fieldname, text)
        parent = searcher.get_parent()
        n = parent.doc_count_all()
        df = parent.doc_frequency(fieldname, text)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))


# ---------------------------------------------------------------- synonyms


@dataclass
class Synonyms:
    """Analyzed phrase → alternatives (each a tuple of terms)."""

    table: dict[tuple[str, ...], list[tuple[str, ...]]] = field(default_factory=dict)
    longest: int = 1

    @classmethod
    def load(cls, path: Path | None = None) -> "Synonyms":
        path = path or SYNONYMS_FILE
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError):
            return cls()
        ana = analyzer()

        def key(phrase: str) -> tuple[str, ...]:
            return tuple(t.text for t in ana(str(phrase)))

        table: dict[tuple[str, ...], list[tuple[str, ...]]] = {}

        def add(src: tuple[str, ...], dst: tuple[str, ...]) -> None:
            if src and dst and src != dst and dst not in table.setdefault(src, []):
                table[src].append(dst)

        for group in data.get("group", []):
            keys = [k for k in (key(t) for t in group.get("terms", [])) if k]
            for a in keys:
                for b in keys:
                    add(a, b)
        for rule in data.get("narrower", []):
            src = key(rule.get("term", ""))
            for t in rule.get("expands", []):
                add(src, key(t))
        longest = max((len(k) for k in table), default=1)
        return cls(table, longest)


def _vocabulary() -> Any:
    """The treatment/condition vocabulary, or None while the knowledge module is absent."""
    try:
        from .vocabulary import load_vocabulary
    except ImportError:
        return None
    try:
        return load_vocabulary()
    except Exception:  # a broken vocabulary file must not break search
        return None


# ---------------------------------------------------------------- query building


@dataclass
class Built:
    query: Any  # what ranks
    match: Any  # what counts as a match (no rank-only clauses)
    notes: list[str]
    words: list[str]  # surface words of the query, for spelling
    plain: bool
    typed: Any = None  # with feedback: what the typed words alone match
    related: tuple[str, ...] = ()  # with feedback: the related words' terms
    related_from: tuple[int, ...] = ()  # with feedback: the passages they were read from


def clean_query(raw: str, max_chars: int) -> tuple[str, list[str]]:
    notes: list[str] = []
    if not isinstance(raw, str):
        raw = str(raw or "")
    text = unicodedata.normalize("NFC", raw)
    if _CONTROL.search(text):
        text = _CONTROL.sub(" ", text)
        notes.append("control characters were removed from the query")
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > max_chars:
        text = text[:max_chars].rsplit(" ", 1)[0] if " " in text[:max_chars] else text[:max_chars]
        notes.append(f"the query was cut to its first {max_chars} characters")
    return text, notes


_FILTER_FIELDS = ("treatment", "condition", "claim", "evidence")
_QUERY_TOKEN = re.compile(r'"[^"]*"|[()]|[^\s()"]+(?:"[^"]*")?')
_FILTER_TOKEN = re.compile(r'^(%s):(?:"([^"]+)"|([^\s"]+))$' % "|".join(_FILTER_FIELDS), re.I)
_OPERATORS = frozenset(("AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"))


def lift_filters(text: str) -> tuple[str, dict[str, list[str]]]:
    """Move top-level `treatment:` `condition:` `claim:` `evidence:` terms into filters.

    They narrow the search like the facet checkboxes do (AND across fields, OR within
    one), so `evidence:study massage` means massage passages that cite a study. Terms
    next to an explicit operator, negated, or inside parentheses keep their meaning.
    """
    tokens = [(m.group(0), m.start(), m.end()) for m in _QUERY_TOKEN.finditer(text)]
    lifted: dict[str, list[str]] = {}
    cut: list[tuple[int, int]] = []
    depth = 0
    for i, (tok, start, end) in enumerate(tokens):
        if tok == "(":
            depth += 1
            continue
        if tok == ")":
            depth = max(0, depth - 1)
            continue
        m = _FILTER_TOKEN.match(tok)
        if depth or not m:
            continue
        before = tokens[i - 1][0] if i else ""
        after = tokens[i + 1][0] if i + 1 < len(tokens) else ""
        if before in _OPERATORS or after in _OPERATORS:
            continue
        field, value = m.group(1).lower(), (m.group(2) or m.group(3)).strip()
        values = lifted.setdefault(field, [])
        if value and value not in values:
            values.append(value)
        cut.append((start, end))
    if not cut:
        return text, {}
    pieces, last = [], 0
    for start, end in cut:
        pieces.append(text[last:start])
        last = end
    pieces.append(text[last:])
    return re.sub(r"\s+", " ", "".join(pieces)).strip(), lifted


def repair_query(text: str) -> tuple[str, list[str]]:
    """Make unbalanced quotes and parentheses, lone `field:` and sentence `?` harmless."""
    notes: list[str] = []
    # "does massage help?" is a question, not the wildcard help? (help plus any one
    # letter), and a lone ? would match every one-letter word; wom?n stays a wildcard
    text = _SENTENCE_WILDCARD.sub("", text)
    if text.count('"') % 2:
        i = text.rfind('"')
        text = text[:i] + " " + text[i + 1 :]
        notes.append("an unmatched quote was ignored")
    depth, out, dropped = 0, [], False
    in_quote = False
    for ch in text:
        if ch == '"':
            in_quote = not in_quote
        elif not in_quote and ch == "(":
            depth += 1
        elif not in_quote and ch == ")":
            if depth == 0:
                dropped = True
                out.append(" ")
                continue
            depth -= 1
        out.append(ch)
    text = "".join(out)
    if depth:
        text += ")" * depth
        dropped = True
    if dropped:
        notes.append("unbalanced parentheses were ignored")
    if _LONE_FIELD.search(text):
        text = _LONE_FIELD.sub(lambda m: m.group(1), text)
        notes.append("a field name without a value was searched as a word")
    return text.strip(), notes


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
    def __init__(self, schema: Any, ranking: Ranking, synonyms: Synonyms, vocabulary: Any):
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

    # leaves -------------------------------------------------------
    def _multi(self, leaf: Any) -> Any:
        """One free-text leaf over text, title and heading."""
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

    def _leaf_for(self, terms: tuple[str, ...], boost: float = 1.0) -> Any:
        if len(terms) == 1:
            return Q.Term("text", terms[0], boost=boost)
        return Q.Phrase("text", list(terms), boost=boost)

    def resolve(self, value: str, kind: str) -> list[str]:
        """A filter value and the ids below it in the vocabulary (medication ⊃ nsaids ⊃ ibuprofen)."""
        value = value.strip().lower()
        vocab = self.vocabulary
        if vocab is None or kind not in ("treatment", "condition"):
            return [value]
        try:
            ident = vocab.resolve(value, kind) or value
        except Exception:
            ident = value
        ids = [ident]
        try:
            ids.extend(d for d in vocab.descendants(ident) if d not in ids)
        except Exception:
            pass
        return [str(i).lower() for i in ids]

    def _positional(self, fieldname: str) -> bool:
        try:
            return bool(self.schema[fieldname].format.supports("positions"))
        except Exception:
            return False

    def _rewrite(self, q: Any) -> Any:
        if isinstance(q, (Q.Term, Q.Phrase, Q.Prefix, Q.Wildcard, Q.FuzzyTerm, Q.Variations)) and getattr(q, "fieldname", None) == "text":
            if isinstance(q, Q.Term):
                alts = self.synonyms.table.get((q.text,), [])
                if alts:
                    extra = [self._multi(self._leaf_for(a, self.ranking.synonym_weight)) for a in alts]
                    return Q.Or([self._multi(q), *extra])
            return self._multi(q)
        if isinstance(q, Q.Phrase) and not self._positional(q.fieldname):
            words = [Q.Term(q.fieldname, w) for w in q.words]
            return Q.And(words, boost=q.boost) if words else Q.NullQuery
        if isinstance(q, Q.Term) and q.fieldname in ("treatment", "condition"):
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
                return Q.AndNot(keep, Q.Or(drop) if len(drop) > 1 else drop[0])
        return q.apply(self._rewrite)

    # whole queries --------------------------------------------------
    def parse(self, text: str) -> tuple[Any, list[str]]:
        repaired, notes = repair_query(text)
        try:
            if _PLAIN_TEXT.fullmatch(repaired) and not _OPERATOR_WORD.search(repaired):
                # words only: what the parser would give, without its tagging pass
                q = self.words_query(repaired)
            else:
                q = self.parser.parse(repaired)
            q = q.normalize()
        except Exception:
            notes.append("the query could not be parsed; its words were searched instead")
            q = self.words_query(text)
        return q, notes

    def words_query(self, text: str) -> Any:
        terms = [t.text for t in self.analyzer(text)]
        return Q.Or([Q.Term("text", t) for t in terms]) if terms else Q.NullQuery

    @staticmethod
    def plain_terms(q: Any) -> list[str] | None:
        """The terms of a query made only of free-text words, in order; else None."""
        if isinstance(q, Q.Term) and q.fieldname == "text":
            return [q.text]
        if isinstance(q, Q.Or) and q.subqueries and all(isinstance(s, Q.Term) and s.fieldname == "text" and s.boost == 1 for s in q.subqueries):
            return [s.text for s in q.subqueries]
        return None

    def build(self, text: str) -> Built:
        words = _FREE_WORD.findall(text)
        q, notes = self.parse(text)
        terms = self.plain_terms(q)
        if terms is None:
            rewritten = self._rewrite(q) if q is not Q.NullQuery else q
            return Built(rewritten, rewritten, notes, words, plain=False)
        return self._plain(terms, notes, words)

    def _plain(self, terms: list[str], notes: list[str], words: list[str]) -> Built:
        r = self.ranking
        table, longest = self.synonyms.table, self.synonyms.longest
        units: list[Any] = []  # one per concept, for "matches every word"
        clauses: list[Any] = [self._multi(Q.Term("text", t)) for t in terms]
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
            own_q = self._multi(Q.Term("text", own[0])) if span == 1 else Q.And([self._multi(Q.Term("text", t)) for t in own])
            unit_alts = [own_q]
            if alts:
                syn = [self._multi(self._leaf_for(a)) for a in alts]
                clauses.append(Q.Or(syn, boost=r.synonym_weight))
                unit_alts.extend(syn)
            tag = self._tag_clause(" ".join(own)) if self.vocabulary is not None and r.tag_weight > 0 else None
            if tag is not None:
                clauses.append(tag)
            units.append(Q.Or(unit_alts) if len(unit_alts) > 1 else own_q)
            i += span
        match = Q.Or(clauses) if len(clauses) > 1 else clauses[0]
        query = match
        if len(units) > 1 and r.all_words_bonus > 0:
            query = Q.Or([match, Q.ConstantScoreQuery(Q.And(units), score=r.all_words_bonus)])
        return Built(query, match, notes, words, plain=True)

    def _tag_clause(self, phrase: str) -> Any:
        vocab = self.vocabulary
        try:
            ident = vocab.resolve(phrase, "treatment")
        except Exception:
            return None
        if not ident:
            return None
        ids = self.resolve(str(ident), "treatment")
        return Q.Or([Q.Term("treatment", i) for i in ids], boost=self.ranking.tag_weight)


# ---------------------------------------------------------------- snippets


_TERM_OF: dict[str, str | None] = {}
TERM_CACHE_MAX = 500_000  # words; then _TERM_OF starts over
_UNSEEN = object()
_SPANS_OF: dict[str, list[tuple[str, int, int]]] = {}


def analyzed_term(word: str) -> str | None:
    """The analyzer's term for one lowercased word (None for a stop word), remembered."""
    try:
        return _TERM_OF[word]
    except KeyError:
        got = [t.text for t in analyzer()(word)]
        term = got[0] if len(got) == 1 else None
        if len(_TERM_OF) >= TERM_CACHE_MAX:
            _TERM_OF.clear()
        _TERM_OF[word] = term
        return term


def analyzed_spans(text: str) -> list[tuple[str, int, int]]:
    """What `analyzer()` gives for a text, with character spans, several times faster.

    Every filter of the chain works on one token at a time, so the term of a surface
    word never depends on its neighbours and can be remembered.
    """
    # feedback reads the top passages and the snippets are mostly of the same ones:
    # remember the last few thousand (callers only read the list)
    memo = _SPANS_OF.get(text)
    if memo is not None:
        return memo
    cache = _TERM_OF
    out: list[tuple[str, int, int]] = []
    low = text.lower()
    each = len(low) != len(text)  # a few letters lower to two characters: keep spans right
    for m in TOKEN_PATTERN.finditer(text if each else low):
        word = m.group(0).lower() if each else m.group(0)
        term = cache.get(word, _UNSEEN)
        if term is _UNSEEN:
            term = analyzed_term(word)
        if term is not None:
            out.append((term, m.start(), m.end()))
    if len(_SPANS_OF) > 4096:
        _SPANS_OF.clear()
    _SPANS_OF[text] = out
    return out


def make_snippet(text: str, terms: set[str], width: int = 36, fragments: int = 2, ana: Any = None) -> str:
    """The best windows of the passage with matched terms in <mark>; escaped text only."""
    toks = analyzed_spans(text)
    if not text:
        return ""
    hits = [i for i, (w, _, _) in enumerate(toks) if w in terms]
    if not toks:
        return html.escape(text[:300])
    if len(toks) <= width * fragments:
        windows = [(0, len(toks))]
    else:
        windows = []
        covered: set[str] = set()
        for _ in range(fragments):
            best, best_key = None, (-1, -1)
            for h in hits:
                start = max(0, min(h - width // 3, len(toks) - width))
                end = start + width
                if any(not (end <= a or start >= b) for a, b in windows):
                    continue
                inside = [toks[j][0] for j in hits if start <= j < end]
                key = (len(set(inside) - covered), len(inside))
                if key > best_key:
                    best, best_key = (start, end), key
            if best is None or (windows and best_key[0] == 0):
                break
            windows.append(best)
            covered |= {toks[j][0] for j in hits if best[0] <= j < best[1]}
        if not windows:
            windows = [(0, width)]
        windows.sort()
    hitset = set(hits)
    parts: list[str] = []
    for start, end in windows:
        a = 0 if start == 0 else toks[start][1]
        b = len(text) if end >= len(toks) else toks[end - 1][2]
        out = ["…" if a > 0 else ""]
        pos = a
        for j in range(start, min(end, len(toks))):
            if j in hitset:
                _, s, e = toks[j]
                out.append(html.escape(text[pos:s]))
                out.append("<mark>" + html.escape(text[s:e]) + "</mark>")
                pos = e
        out.append(html.escape(text[pos:b]))
        if b < len(text):
            out.append("…")
        parts.append("".join(out))
    return " ".join(p.strip() for p in parts)


# ---------------------------------------------------------------- spelling


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein (optimal string alignment), giving up past `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        best = cur[0]
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
            best = min(best, v)
        if best > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


class Speller:
    """Corrections from the index's own words (the unstemmed `spell` field)."""

    def __init__(self, reader: Any):
        self.reader = reader
        self._buckets: dict[tuple[str, int], list[str]] | None = None

    def _load(self) -> dict[tuple[str, int], list[str]]:
        if self._buckets is None:
            buckets: dict[tuple[str, int], list[str]] = {}
            for btext in self.reader.lexicon("spell"):
                w = btext.decode("utf-8") if isinstance(btext, bytes) else btext
                if w.isalpha() and len(w) >= 3:
                    buckets.setdefault((w[0], len(w)), []).append(w)
            self._buckets = buckets
        return self._buckets

    def known(self, word: str) -> bool:
        return self.reader.doc_frequency("spell", word) > 0

    def correct(self, word: str) -> str | None:
        word = word.lower()
        if len(word) < 4 or not word.isalpha() or word in stop_words() or self.known(word):
            return None
        limit = 1 if len(word) <= 5 else 2
        buckets = self._load()
        best: tuple[int, int, str] | None = None
        firsts = {word[0]}
        for first in firsts:
            for n in range(len(word) - limit, len(word) + limit + 1):
                for cand in buckets.get((first, n), ()):
                    d = _edit_distance(word, cand, limit)
                    if d <= limit:
                        key = (d, -self.reader.doc_frequency("spell", cand), cand)
                        if best is None or key < best:
                            best = key
        return best[2] if best else None


# ---------------------------------------------------------------- the index


class _State:
    """What one opened generation of the index gives: searcher and caches."""

    def __init__(self, gen: Path):
        self.gen = gen
        try:
            self.ix = whoosh_index.open_dir(str(gen))
        except Exception as exc:
            raise store.StoreCorrupt(f"cannot open index {gen}: {exc}; rebuild it with `relief ingest --rebuild`") from exc
        try:
            self.searcher: Any = self.ix.searcher()
        except Exception as exc:
            raise store.StoreCorrupt(f"cannot read index {gen}: {exc}; rebuild it with `relief ingest --rebuild`") from exc
        self.meta = store.read_meta(gen)
        self.reset_caches()

    def close(self) -> None:
        """Release this generation's files now, not at the next garbage collection.

        Whoosh maps segment files into memory; a cache that still points into them keeps
        the map (and the file) open, so a replaced generation's disk space would not come
        back and its folder could not be unmounted.
        """
        if self.searcher is not None:
            self.searcher.close()
        self.reset_caches()

    def reset_caches(self) -> None:
        self.postings: dict[tuple[str, str], frozenset[int]] = {}
        self.filters: dict[Any, frozenset[int]] = {}
        self.facet_values: dict[str, list[str]] = {}
        self.page_of: list[str] | None = None
        self.feedback: FeedbackTerms | None = None
        self.stored: dict[int, dict[str, Any]] = {}
        self.df: dict[str, int] = {}
        self.speller: Speller | None = None
        self.stats: dict[str, Any] | None = None  # counted once per commit
        self.fast: Any = None  # fastscore.FastIndex over this searcher, built on first use


def _as_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    out: list[str] = []
    for v in value:
        out.extend(p for p in (s.strip() for s in str(v).split(",")) if p)
    return out


class Index:
    """A searchable index; one per process, safe to share between threads."""

    def __init__(self, root: Path, settings: Settings, ranking: Ranking | None = None, *, background_warm: bool = False):
        self.root = Path(root)
        self.settings = settings
        self.ranking = ranking or Ranking()
        # a server warms each new commit in slices beside its searches (see fastscore.warm_steps)
        self.background_warm = background_warm
        self._warming: tuple[Any, Any, Any] | None = None  # (state, fast index, warm_steps)
        self._lock = threading.RLock()
        self._stamp: tuple[Any, ...] | None = None
        self._syn_stamp: float | None = None
        self._synonyms = Synonyms()
        self._vocabulary: Any = None
        self._vocab_loaded = False
        self._state: _State | None = None
        self._builder: QueryBuilder | None = None
        self._snippet_analyzer = analyzer()
        self.refresh()

    # opening and refreshing ------------------------------------------
    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None, settings: Settings | None = None, ranking: Ranking | None = None, *, background_warm: bool = False) -> "Index":
        settings = settings or load_settings()
        root = Path(path) if path is not None else settings.index
        if not index_exists(root):
            raise IndexMissing(f"no index at {root}; build one with `relief ingest PATH --index {root}`")
        return cls(root, settings, ranking, background_warm=background_warm)

    def _disk_stamp(self) -> tuple[Any, ...]:
        try:
            cur = os.stat(self.root / store.CURRENT)
        except FileNotFoundError:
            return ("missing",)
        gen = self._state.gen if self._state else None
        gst = os.stat(gen) if gen is not None and gen.exists() else None
        return (cur.st_mtime_ns, cur.st_ino, cur.st_size, gst.st_mtime_ns if gst else None)

    def warm(self) -> None:
        """Read ahead what the fast path caches for this commit (seconds on a large index).

        Searches otherwise do it on the second search of a commit, which then waits;
        a server calls this before it listens.
        """
        from . import fastscore

        with self._lock:
            self.refresh()
            try:
                fx = fastscore.fast_index(self)
            except fastscore.Unsupported:
                return
            if fx.uses < 2:
                fx.uses = 2
                fastscore.warm(self, fx)

    def warm_in_background(self, fx: Any) -> threading.Thread:
        """Warm this commit's caches a slice at a time: in a thread, and after each search.

        Searches meanwhile run cold (tens of ms more) instead of waiting seconds for the
        whole warm-up. A busy searcher re-takes the lock before a waiting thread wakes, so
        each search also runs one slice: the warm-up advances under load too. It stops
        early when a newer commit replaces this one.
        """
        from . import fastscore

        self._warming = (self._state, fx, fastscore.warm_steps(self, fx))

        def work() -> None:
            while True:
                with self._lock:
                    if not self._warm_slice():
                        return
                time.sleep(0.001)  # a waiting search takes the lock now

        thread = threading.Thread(target=work, name="relief-warm", daemon=True)
        thread.start()
        return thread

    def _warm_slice(self) -> bool:
        """One slice of a background warm-up (under the lock); False once there is none."""
        if self._warming is None:
            return False
        st, fx, steps = self._warming
        if st is None or self._state is not st or st.fast is not fx:
            self._warming = None
            return False
        try:
            next(steps)
        except StopIteration:
            self._warming = None
            return False
        except Exception:  # a cache left cold only costs speed
            log.warning("background warm-up of %s stopped", self.root, exc_info=True)
            self._warming = None
            return False
        return True

    def refresh(self) -> bool:
        """Pick up a newer commit or a swapped rebuild; cheap when nothing changed.

        A writer committing at the same moment can remove the table of contents we are
        about to read; then we try again, and at worst keep answering from what we have.
        """
        for attempt in range(5):
            try:
                return self._refresh()
            except (OSError, whoosh_index.EmptyIndexError, store.StoreCorrupt):
                if attempt == 4:
                    if self._state is None:
                        raise
                    return False
                time.sleep(0.02 * (attempt + 1))
        return False

    def _refresh(self) -> bool:
        with self._lock:
            changed = False
            try:
                syn_m = SYNONYMS_FILE.stat().st_mtime
            except OSError:
                syn_m = None
            if syn_m != self._syn_stamp:
                self._synonyms = Synonyms.load()
                self._syn_stamp = syn_m
                self._builder = None
            if not self._vocab_loaded:
                self._vocabulary = _vocabulary()
                self._vocab_loaded = self._vocabulary is not None
                self._builder = None
            stamp = self._disk_stamp()
            if stamp == self._stamp and self._state is not None:
                return changed
            gen = store.live_dir(self.root)
            if gen is None:
                if self._state is None:
                    raise IndexMissing(f"no index at {self.root}; build one with `relief ingest PATH --index {self.root}`")
                return changed
            if self._state is None or gen != self._state.gen:
                old = self._state
                state = _State(gen)
                state.searcher.close()
                state.searcher = state.ix.searcher(weighting=self._weighting())
                self._state = state
                self._page_of()
                self._builder = None
                if old is not None:
                    old.close()
                changed = True
            else:
                st = self._state
                if not st.searcher.up_to_date():
                    st.searcher = st.searcher.refresh()
                    st.meta = store.read_meta(st.gen)
                    st.reset_caches()
                    self._page_of()
                    changed = True
            self._stamp = self._disk_stamp()
            return changed

    def _weighting(self) -> BM25F:
        r = self.ranking
        return ReliefBM25(lucene_idf=r.lucene_idf, B=r.b, K1=r.k1)

    def close(self) -> None:
        with self._lock:
            if self._state is not None:
                self._state.close()
            self._state = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def builder(self) -> QueryBuilder:
        if self._builder is None:
            assert self._state is not None
            self._builder = QueryBuilder(self._state.searcher.schema, self.ranking, self._synonyms, self._vocabulary)
        return self._builder

    @property
    def _s(self) -> Any:
        assert self._state is not None
        return self._state.searcher

    # caches over one generation ----------------------------------------
    def _postings(self, fieldname: str, value: str) -> frozenset[int]:
        st = self._state
        assert st is not None
        key = (fieldname, value)
        got = st.postings.get(key)
        if got is None:
            got = frozenset(self._s.docs_for_query(Q.Term(fieldname, value)))
            st.postings[key] = got
        return got

    def _values(self, fieldname: str) -> list[str]:
        st = self._state
        assert st is not None
        if fieldname not in st.facet_values:
            vals = []
            for b in self._s.reader().lexicon(fieldname):
                v = b.decode("utf-8") if isinstance(b, bytes) else b
                if self._postings(fieldname, v):
                    vals.append(v)
            st.facet_values[fieldname] = vals
        return st.facet_values[fieldname]

    def _page_of(self) -> list[str]:
        st = self._state
        assert st is not None
        if st.page_of is None:
            col = self._s.reader().column_reader("page_id")
            st.page_of = list(col)
        return st.page_of

    def _filter_set(self, filters: dict[str, list[str]]) -> frozenset[int] | None:
        if not filters:
            return None
        st = self._state
        assert st is not None
        key = tuple(sorted((k, tuple(sorted(v))) for k, v in filters.items()))
        got = st.filters.get(key)
        if got is None:
            result: frozenset[int] | None = None
            for facet, values in filters.items():
                fieldname = FACETS[facet]
                ids: set[str] = set()
                for v in values:
                    ids.update(self.builder.resolve(v, facet) if facet in ("treatment", "condition") else [v.strip().lower()])
                docs: set[int] = set()
                for i in ids:
                    docs |= self._postings(fieldname, i)
                result = frozenset(docs) if result is None else result & docs
            got = set(result) if result else set()  # whoosh takes a plain set as a filter
            st.filters[key] = got
        return got

    # searching ---------------------------------------------------------
    def parse(self, q: str) -> str:
        """The parsed query as Whoosh prints it (for --explain and the web's debug view)."""
        with self._lock:
            text, _ = clean_query(q, self.settings.max_query_chars)
            return str(self.builder.build(text).query)

    def search(
        self,
        q: str,
        *,
        page: int = 1,
        per_page: int | None = None,
        group: str | None = None,
        treatment: str | Sequence[str] | None = None,
        condition: str | Sequence[str] | None = None,
        claim: str | Sequence[str] | None = None,
        evidence: str | Sequence[str] | None = None,
        facets: bool = True,
        snippets: bool = True,
        spell: bool = True,
        debug: bool = False,
    ) -> SearchResponse:
        started = time.perf_counter()
        with self._lock:
            try:
                response = self._search(q, page, per_page, group, treatment, condition, claim, evidence, facets, snippets, spell, debug, started)
                self._warm_slice()
                return response
            except (OSError, EOFError, struct.error) as exc:
                raise store.StoreCorrupt(f"cannot read the index at {self.root}: {exc}; rebuild it with `relief ingest --rebuild`") from exc

    def _search(self, q: str, page: int, per_page: int | None, group: str | None, treatment: Any, condition: Any, claim: Any, evidence: Any, want_facets: bool, snippets: bool, spell: bool, debug: bool, started: float) -> SearchResponse:
        s = self.settings
        notes: list[str] = []
        per_page = s.per_page if per_page is None else per_page
        try:
            per_page = max(1, min(int(per_page), s.max_per_page))
            page = max(1, int(page))
        except (TypeError, ValueError):
            per_page, page = s.per_page, 1
            notes.append("bad page or per_page; defaults used")
        group = "page" if group == "page" else None
        filters = {k: _as_list(v) for k, v in (("treatment", treatment), ("condition", condition), ("claim", claim), ("evidence", evidence))}
        filters = {k: v for k, v in filters.items() if v}
        text, clean_notes = clean_query(q, s.max_query_chars)
        notes.extend(clean_notes)
        text, lifted = lift_filters(text)
        for field, values in lifted.items():
            filters[field] = list(dict.fromkeys([*filters.get(field, []), *values]))

        built = self.builder.build(text) if text else None
        if built is not None:
            notes.extend(built.notes)
        suggestion: str | None = None
        if built is not None and spell:
            suggestion = self._suggest(text, built.words)
        result = self._safe_run(built, text, notes, filters, page, per_page, group, want_facets, snippets)
        if result[0] == 0 and suggestion:
            corrected = self.builder.build(suggestion)
            alt = self._safe_run(corrected, suggestion, [], filters, page, per_page, group, want_facets, snippets)
            if alt[0] > 0:
                notes.append(f"no results for {text!r}; showing results for {suggestion!r}")
                result = alt
        if debug and built is not None:
            notes.append(f"parsed: {built.query}")
        total, results, facet_counts = result
        return SearchResponse(
            query=text,
            total=total,
            results=tuple(results),
            facets=facet_counts,
            suggestion=suggestion,
            notes=tuple(notes),
            took_ms=(time.perf_counter() - started) * 1000,
            page=page,
            per_page=per_page,
            group=group,
            filters={k: tuple(v) for k, v in filters.items()},
        )

    def _feedback(self, built: Built, matches: int) -> Built:
        """Pseudo-relevance feedback (RM3-like): add the words the top passages share."""
        r = self.ranking
        searcher = self._s
        res = searcher.search(built.match, limit=r.feedback_docs)
        top = [(docnum, score) for score, docnum in res.top_n]
        return self._feedback_from(built, top, matches)

    def _feedback_from(self, built: Built, top: list[tuple[int, float]], matches: int) -> Built:
        """Feedback from the query's best (docnum, score) passages (also used by fastscore)."""
        r = self.ranking
        searcher = self._s
        if len(top) < 2:
            return built  # too little evidence: feedback would only echo a handful of pages
        own = {t for _, t in built.match.iter_all_terms()}
        st = self._state
        assert st is not None
        if st.feedback is None:
            reader = searcher.reader()
            seen = st.df  # not st itself: st holds the feedback, and a cycle outlives close()

            def df(term: str) -> int:
                got = seen.get(term)
                if got is None:
                    got = seen[term] = reader.doc_frequency("text", term)
                return got

            st.feedback = FeedbackTerms(reader.doc_count_all(), df)

        def terms_of(docnum: int) -> list[str]:
            # through analyzed_spans' memo: the results shown are often these passages
            return [t for t, _, _ in analyzed_spans(self._stored(docnum).get("text", ""))]

        picked = st.feedback.related(top, terms_of, own, r.feedback_sharpness, r.feedback_terms)
        if not picked:
            return built
        top_w = picked[0][0]
        extra = [Q.Term("text", t, boost=r.feedback_weight * w / top_w) for w, t in picked]
        related = tuple(t for _, t in picked)
        sources = tuple(d for d, _ in top)
        if matches < r.feedback_expands_below:
            # the related words bring in passages that lack the typed ones; a constant tier
            # keeps every passage with a typed word (or its synonym) above all of those
            typed_first = Q.ConstantScoreQuery(built.match, score=r.all_words_bonus / 2)
            query = Q.Or([built.query, typed_first, *extra])
            return Built(query, Q.Or([built.match, *extra]), built.notes, built.words, built.plain, built.match, related, sources)
        # the related words only re-rank what the typed ones matched
        return Built(Q.AndMaybe(built.query, Q.Or(extra)), built.match, built.notes, built.words, built.plain, built.match, related, sources)

    def _related_note(self, built: Built, typed: int, matched: int) -> str | None:
        """Say how many passages only related words found, and which words, as people read them."""
        added = matched - typed
        if added <= 0 or not built.related:
            return None
        want, surface = set(built.related[:5]), {}
        for docnum in built.related_from:
            text = self._stored(docnum).get("text", "")
            for term, start, end in analyzed_spans(text):
                if term in want and term not in surface:
                    surface[term] = text[start:end].lower()
            if len(surface) == len(want):
                break
        words = ", ".join(surface.get(t, t) for t in built.related[:5])
        have = f"{typed} passage{'s' if typed != 1 else ''} match{'es' if typed == 1 else ''} your words"
        return f"{have}; {added} more {'is' if added == 1 else 'are'} listed after them for related words: {words}"

    def _safe_run(self, built: Built | None, text: str, notes: list[str], *args: Any) -> Any:
        try:
            return self._run(built, *args, notes=notes)
        except (QueryError, ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError) as exc:
            # a parse Whoosh accepted but cannot run: answer from the words alone, and say so
            notes.append(f"the query could not be run as written ({type(exc).__name__}); its words were searched instead")
            words_q = self.builder.words_query(text)
            fallback = Built(words_q, words_q, [], built.words if built else [], plain=False)
            return self._run(fallback, *args, notes=notes)

    def _suggest(self, text: str, words: list[str]) -> str | None:
        st = self._state
        assert st is not None
        if st.speller is None:
            st.speller = Speller(self._s.reader())
        fixes: dict[str, str] = {}
        for w in words:
            lw = w.lower()
            if lw in fixes or lw in ("and", "or", "not"):
                continue
            c = st.speller.correct(lw)
            if c:
                fixes[lw] = c
        if not fixes:
            return None
        return _FREE_WORD.sub(lambda m: fixes.get(m.group(0).lower(), m.group(0)), text)

    def _run(self, built: Built | None, filters: dict[str, list[str]], page: int, per_page: int, group: str | None, want_facets: bool, snippets: bool, notes: list[str]) -> tuple[int, list[SearchResult], dict[str, tuple[FacetValue, ...]]]:
        # ---- fast path: plain-word queries scored with numpy (indexer/fastscore.py) ----
        if self.ranking.fast_path and built is not None and built.plain and built.match is not Q.NullQuery:
            from . import fastscore

            fast = fastscore.run(self, built, filters, page, per_page, group, want_facets, snippets, notes)
            if fast is not None:
                return fast
        # ---- Whoosh path ----
        searcher = self._s
        fset = self._filter_set(filters)
        if built is None or built.match is Q.NullQuery:
            # an empty query lists what the filters select (or nothing)
            if fset is None:
                return 0, [], self._facets(frozenset(), want_facets)
            matched = fset
            ranked_q: Any = None
        else:
            docs = set(searcher.docs_for_query(built.match))
            matched = docs & fset if fset is not None else docs
            r = self.ranking
            if built.plain and r.feedback_docs > 0 and len(docs) <= r.feedback_max_matches:
                # feedback costs grow with the matches; a broad query has evidence enough
                fed = self._feedback(built, len(docs))
                expanded = fed.match is not built.match
                built = fed
                if expanded:
                    typed = len(matched)
                    docs = set(searcher.docs_for_query(built.match))
                    matched = docs & fset if fset is not None else docs
                    note = self._related_note(built, typed, len(matched))
                    if note:
                        notes.append(note)
            ranked_q = built.query
        offset = (page - 1) * per_page
        page_of = self._page_of() if group else None
        if group:
            counts = Counter(page_of[d] for d in matched)  # type: ignore[index]
            total = len(counts)
        else:
            counts = Counter()
            total = len(matched)
        hits: list[tuple[int, float]] = []
        if offset < total:
            if ranked_q is None:
                ordered = sorted(matched)
                if group:
                    seen: set[str] = set()
                    firsts = []
                    for d in ordered:
                        p = page_of[d]  # type: ignore[index]
                        if p not in seen:
                            seen.add(p)
                            firsts.append(d)
                    ordered = firsts
                hits = [(d, 0.0) for d in ordered[offset : offset + per_page]]
            else:
                # the ranking query matches exactly what `match` matched (feedback only re-ranks)
                hits = self._ranked(ranked_q, fset, offset, per_page, page_of)
        results = [self._result(d, score, built, counts, page_of, snippets) for d, score in hits]
        return total, results, self._facets(matched, want_facets)

    def _ranked(self, q: Any, fset: set[int] | frozenset[int] | None, offset: int, per_page: int, page_of: list[str] | None) -> list[tuple[int, float]]:
        searcher = self._s
        need = offset + per_page
        limit = need if page_of is None else need * 3
        while True:
            res = searcher.search(q, limit=limit, filter=fset if isinstance(fset, set) or fset is None else set(fset))
            scored = [(docnum, score) for score, docnum in res.top_n]
            if page_of is None:
                picked = scored
                exhausted = True
            else:
                seen: set[str] = set()
                picked = []
                for d, sc in scored:
                    p = page_of[d]
                    if p not in seen:
                        seen.add(p)
                        picked.append((d, sc))
                exhausted = len(scored) < limit or len(picked) >= need
            if exhausted:
                break
            limit *= 4
        # scores stay as ranked (the all-words bonus included), so they fall with the rank
        # and tools that sort a run by score (trec_eval) see our order
        return picked[offset:need]

    def _query_terms(self, q: Any) -> set[str]:
        terms: set[str] = set()
        try:
            for fieldname, text in q.existing_terms(self._s.reader(), phrases=True, expand=True):
                if fieldname in TEXT_FIELDS or fieldname == "claims":
                    terms.add(text.decode("utf-8") if isinstance(text, bytes) else text)
        except Exception:
            for fieldname, text in q.iter_all_terms():
                if fieldname in TEXT_FIELDS:
                    terms.add(text.decode("utf-8") if isinstance(text, bytes) else text)
        return terms

    def _stored(self, docnum: int) -> dict[str, Any]:
        """A passage's stored fields; feedback reads the top passages, and the results
        are mostly the same ones (callers only read the dict)."""
        st = self._state
        assert st is not None
        got = st.stored.get(docnum)
        if got is None:
            if len(st.stored) >= 2048:
                st.stored.clear()
            got = st.stored[docnum] = self._s.stored_fields(docnum)
        return got

    def _result(self, docnum: int, score: float, built: Built | None, counts: Counter, page_of: list[str] | None, snippets: bool) -> SearchResult:
        f = self._stored(docnum)
        text = f.get("text", "")
        snippet = ""
        if snippets:
            terms = self._terms_cache(built)
            snippet = make_snippet(text, terms, ana=self._snippet_analyzer)
            if built is not None and built.related and "<mark>" not in snippet:
                # found through related words only: show and mark those
                snippet = make_snippet(text, set(built.related), ana=self._snippet_analyzer)
        claims_json = f.get("claims_json") or ""
        claims = tuple(json.loads(claims_json)) if claims_json else ()
        more = counts[f["page_id"]] - 1 if page_of is not None else 0
        return SearchResult(
            page_id=f["page_id"],
            passage_id=f["passage_id"],
            url=f.get("url", ""),
            title=f.get("title", ""),
            heading=f.get("heading", ""),
            score=round(float(score), 4),
            snippet=snippet,
            text=text,
            treatments=tuple(_as_list(f.get("treatment"))),
            conditions=tuple(_as_list(f.get("condition"))),
            claims=claims,
            more_on_page=max(0, more),
        )

    def _terms_cache(self, built: Built | None) -> set[str]:
        if built is None:
            return set()
        cached = getattr(built, "_terms", None)
        if cached is None:
            # highlight the typed words (and synonyms), not the related words feedback added
            cached = self._query_terms(built.typed if built.typed is not None else built.match)
            built._terms = cached  # type: ignore[attr-defined]
        return cached

    def _facets(self, matched: frozenset[int], want: bool) -> dict[str, tuple[FacetValue, ...]]:
        out: dict[str, tuple[FacetValue, ...]] = {}
        if not want:
            return out
        for facet, fieldname in FACETS.items():
            values = []
            if matched:
                for v in self._values(fieldname):
                    n = len(matched & self._postings(fieldname, v))
                    if n:
                        values.append(FacetValue(v, n))
            values.sort(key=lambda fv: (-fv.count, fv.value))
            out[facet] = tuple(values)
        return out

    # browsing ----------------------------------------------------------
    def page(self, page_id: str) -> dict[str, Any] | None:
        """A page's passages (with claims), url and title; None for an unknown id."""
        if not isinstance(page_id, str) or not page_id:
            return None
        with self._lock:
            docs = sorted(self._postings("page_id", page_id))
            if not docs:
                return None
            fields = sorted((self._s.stored_fields(d) for d in docs), key=lambda f: f.get("position", 0))
        first = fields[0]
        meta = json.loads(first.get("page_meta") or "{}")
        return {
            "page_id": page_id,
            "url": first.get("url", ""),
            "title": first.get("title", ""),
            "byline": meta.get("byline", ""),
            "published": meta.get("published", ""),
            "passages": [
                {
                    "passage_id": f["passage_id"],
                    "position": f.get("position", 0),
                    "heading": f.get("heading", ""),
                    "text": f.get("text", ""),
                    "treatments": _as_list(f.get("treatment")),
                    "conditions": _as_list(f.get("condition")),
                    "claims": json.loads(f["claims_json"]) if f.get("claims_json") else [],
                }
                for f in fields
            ],
        }

    def treatments(self) -> list[dict[str, Any]]:
        """Every treatment in the vocabulary or the index: id, label, parent, passage count."""
        with self._lock:
            counts = {v: len(self._postings("treatment", v)) for v in self._values("treatment")}
            vocab = self._vocabulary
        ids: list[str] = list(counts)
        if vocab is not None:
            try:
                vocab_ids = [str(getattr(t, "id", t)) for t in vocab.treatments]
                ids = vocab_ids + [i for i in ids if i not in vocab_ids]
            except Exception:
                pass
        out = []
        for i in ids:
            label, parent = i, None
            if vocab is not None:
                try:
                    label = vocab.label(i) or i
                    anc = list(vocab.ancestors(i))
                    parent = anc[0] if anc else None
                except Exception:
                    pass
            out.append({"id": i, "label": label, "parent": parent, "passages": counts.get(i.lower(), 0)})
        return out

    def claims(self, treatment: str | None = None, type: str | None = None) -> Any:
        """Stored claims as ClaimRecords, summarised by indexer.claims.build_report."""
        from .claims import ClaimRecord, build_report

        records = []
        with self._lock:
            reader = self._s.reader()
            for docnum, f in reader.iter_docs():
                raw = f.get("claims_json")
                if not raw:
                    continue
                for d in json.loads(raw):
                    records.append(
                        ClaimRecord(claim=claim_from_dict(d), page_id=f["page_id"], passage_id=f["passage_id"], url=f.get("url", ""), title=f.get("title", ""))
                    )
        return build_report(records, treatment=treatment, type=type)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            self.refresh()
            st = self._state
            assert st is not None
            if st.stats is None:
                st.stats = self._count()
            return dict(st.stats)

    def _count(self) -> dict[str, Any]:
        """Counting claims reads every stored passage: done once per commit, not per call."""
        st = self._state
        assert st is not None
        reader = self._s.reader()
        passages = reader.doc_count()
        pages = len(set(self._page_of()[d] for d in range(reader.doc_count_all()) if not reader.is_deleted(d)))
        claims = 0
        for _, f in reader.iter_docs():
            raw = f.get("claims_json")
            if raw:
                claims += len(json.loads(raw))
        size = sum(p.stat().st_size for p in st.gen.iterdir() if p.is_file())
        return {
            "index": str(self.root),
            "generation": st.gen.name,
            "pages": pages,
            "passages": passages,
            "claims": claims,
            "treatments": len(self._values("treatment")),
            "conditions": len(self._values("condition")),
            "size_bytes": size,
            "size_mb": round(size / 1e6, 2),
            "last_ingest": st.meta.get("last_ingest"),
            "segments": len(reader.leaf_readers()) if hasattr(reader, "leaf_readers") else 1,
        }


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
