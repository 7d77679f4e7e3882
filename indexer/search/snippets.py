"""Snippets: the best windows of a passage with the query's terms in <mark>.

`Analyzed` gives what `analyzer()` gives for a text, with character spans, several times
faster: every filter of the chain works on one token at a time, so the term of a surface
word never depends on its neighbours and can be remembered. Feedback reads the top
passages and the snippets are mostly of the same ones, so whole passages are remembered
too. One `Analyzed` belongs to one commit (`Generation`).
"""

from __future__ import annotations

import html

from ..analysis import TOKEN_PATTERN, analyzer
from .cache import Bounded

__all__ = ["Analyzed", "Spans", "make_snippet"]

Spans = list[tuple[str, int, int]]  # (term, start, end); callers only read it

TERM_BUDGET = 500_000  # surface words remembered
SPANS_BUDGET = 4096  # passages remembered
_UNSEEN: str | None = "\x00unseen"  # no analyzed word is this


class Analyzed:
    """Surface word → term, and passage → spans, remembered for one commit."""

    def __init__(self) -> None:
        self._analyzer = analyzer()
        self.terms: Bounded[str, str | None] = Bounded(TERM_BUDGET)
        self._spans: Bounded[str, Spans] = Bounded(SPANS_BUDGET)

    def term(self, word: str) -> str | None:
        """The analyzer's term for one lowercased word (None for a stop word)."""
        if word in self.terms:
            return self.terms.get(word)
        got = [t.text for t in self._analyzer(word)]
        return self.terms.put(word, got[0] if len(got) == 1 else None)

    def spans(self, text: str) -> Spans:
        memo = self._spans.get(text)
        if memo is not None:
            return memo
        out: Spans = []
        low = text.lower()
        each = len(low) != len(text)  # a few letters lower to two characters: keep spans right
        known = self.terms.data
        for m in TOKEN_PATTERN.finditer(text if each else low):
            word = m.group(0).lower() if each else m.group(0)
            term = known.get(word, _UNSEEN)
            if term is _UNSEEN:
                term = self.term(word)
            if term is not None:
                out.append((term, m.start(), m.end()))
        return self._spans.put(text, out)


def make_snippet(text: str, terms: set[str], width: int = 36, fragments: int = 2, analyzed: Analyzed | None = None) -> str:
    """The best windows of the passage with matched terms in <mark>; escaped text only."""
    if not text:
        return ""
    toks = (analyzed or Analyzed()).spans(text)
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
