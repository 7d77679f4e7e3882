"""The query language's text handling: cleaning, lifting filters, repairs, synonyms.

Plain functions over strings, run before any parser sees the text: control characters
and length, top-level `treatment:` `condition:` `claim:` `evidence:` terms moved into
filters, and repairs of what a parser would choke on (unbalanced quotes and parentheses,
a lone `field:`, a sentence's question mark).
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ..analysis import analyzer
from ..fields import DATA_DIR, FACET_NAMES

__all__ = ["SYNONYMS_FILE", "Synonyms", "as_list", "clean_query", "lift_filters", "repair_query"]

SYNONYMS_FILE = DATA_DIR / "synonyms.toml"

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff\ud800-\udfff]")
_LONE_FIELD = re.compile(r"(?<![\w\"])(\w+):(?=\s|$|\)|\()")
_SENTENCE_WILDCARD = re.compile(r"(?<!\?)\?+(?=[^\w*?]|$)")  # from a run's start: linear
_QUERY_TOKEN = re.compile(r'"[^"]*"|[()]|[^\s()"]+(?:"[^"]*")?')
_FILTER_TOKEN = re.compile(r'^(%s):(?:"([^"]+)"|([^\s"]+))$' % "|".join(FACET_NAMES), re.I)
_OPERATORS = frozenset(("AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"))


def as_list(value: str | Sequence[str] | None) -> list[str]:
    """Filter values as given: one string, a list, or comma-separated."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    out: list[str] = []
    for v in value:
        out.extend(p for p in (s.strip() for s in str(v).split(",")) if p)
    return out


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
        name, value = m.group(1).lower(), (m.group(2) or m.group(3)).strip()
        values = lifted.setdefault(name, [])
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


@dataclass(frozen=True)
class Synonyms:
    """Analyzed phrase → alternatives (each a tuple of terms)."""

    table: dict[tuple[str, ...], list[tuple[str, ...]]] = field(default_factory=dict)
    longest: int = 1

    @classmethod
    def load(cls, path: Path | None = None) -> "Synonyms":
        """The table of a synonyms file; an unreadable file gives no synonyms, not an error."""
        path = path or SYNONYMS_FILE
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
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
