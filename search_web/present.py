"""Small presentation helpers: labels, safe snippets and links, claim highlighting.

Nothing here touches the index; each helper turns values from `indexer` into what a
template shows, escaping on the way so page text can never become markup.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Any, Iterable
from urllib.parse import urlsplit

from markupsafe import Markup, escape

FACET_TITLES = {"treatment": "Treatment", "condition": "Condition", "claim": "Claim type", "evidence": "Evidence"}
CLAIM_LABELS = {
    "efficacy": "Efficacy",
    "comparison": "Comparison",
    "statistic": "Statistic",
    "mechanism": "Mechanism",
    "caution": "Caution",
}
EVIDENCE_LABELS = {"study": "Cites a study", "expert": "Expert opinion", "none": "No evidence cited"}
POLARITY_LABELS = {"positive": "In favour", "negative": "Against"}
EXAMPLE_QUERIES = (
    "massage for lower back pain",
    "is heat or ice better",
    "sciatica exercises",
    "ibuprofen side effects",
    "acupuncture evidence",
)

_MARK = re.compile(r"(<mark>|</mark>)", re.IGNORECASE)


@lru_cache(maxsize=1)
def _vocabulary() -> Any:
    try:
        from indexer.vocabulary import load_vocabulary

        return load_vocabulary()
    except Exception:  # not written yet, or a broken data file: fall back to ids
        return None


def vocab_label(value: str) -> str:
    vocab = _vocabulary()
    if vocab is not None:
        try:
            label = vocab.label(value)
            if label and label != value:
                return str(label)
        except Exception:
            pass
    text = value.replace("-", " ").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def facet_label(name: str, value: str) -> str:
    if name == "claim":
        return CLAIM_LABELS.get(value, vocab_label(value))
    if name == "evidence":
        return EVIDENCE_LABELS.get(value, vocab_label(value))
    return vocab_label(value)


def stance(claim: dict[str, Any]) -> str:
    """'In favour of Massage therapy' / 'Against NSAIDs': a claim's polarity in words."""
    negative = claim.get("polarity") == "negative"
    names = [vocab_label(str(t)) for t in claim.get("treatments") or []]
    word = "Against" if negative else "In favour"
    if not names:
        return word
    return f"{word}{'' if negative else ' of'} {', '.join(names)}"


def safe_snippet(snippet: str) -> Markup:
    """Only <mark> survives; everything else, including stray tags, becomes text.

    The index promises escaped text with <mark>; unescaping then escaping each text part
    keeps that text as it was and makes anything unexpected inert.
    """
    out: list[str] = []
    open_mark = False
    for part in _MARK.split(snippet or ""):
        low = part.lower()
        if low == "<mark>":
            if not open_mark:
                out.append("<mark>")
                open_mark = True
        elif low == "</mark>":
            if open_mark:
                out.append("</mark>")
                open_mark = False
        elif part:
            out.append(str(escape(html.unescape(part))))
    if open_mark:
        out.append("</mark>")
    return Markup("".join(out))


def http_url(url: str | None) -> str | None:
    """The URL when it is safe to link (http or https with a host), else None."""
    if not url or any(c in url for c in "\x00\r\n\t"):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url.strip()
    return None


def display_url(url: str | None) -> str:
    """A short form of a source URL for display: host and path, no scheme."""
    if not url:
        return ""
    safe = http_url(url)
    if not safe:
        return url
    parts = urlsplit(safe)
    path = parts.path if parts.path not in ("", "/") else ""
    return f"{parts.netloc}{path}"


def segments(text: str, claims: Iterable[dict[str, Any]]) -> list[tuple[str, dict[str, Any] | None, int]]:
    """Cut a passage's text into plain parts and claim parts by the claims' spans.

    Returns (text, claim or None, claim number). Overlapping or out-of-range spans are skipped,
    so a bad span can only lose a highlight, never text.
    """
    spans: list[tuple[int, int, dict[str, Any], int]] = []
    for n, claim in enumerate(claims, start=1):
        try:
            start, end = int(claim.get("start", -1)), int(claim.get("end", -1))
        except (TypeError, ValueError):
            continue
        if 0 <= start < end <= len(text):
            spans.append((start, end, claim, n))
    spans.sort(key=lambda s: s[0])
    out: list[tuple[str, dict[str, Any] | None, int]] = []
    pos = 0
    for start, end, claim, n in spans:
        if start < pos:
            continue
        if start > pos:
            out.append((text[pos:start], None, 0))
        out.append((text[start:end], claim, n))
        pos = end
    if pos < len(text):
        out.append((text[pos:], None, 0))
    return out


def as_dict(value: Any) -> Any:
    """Plain data from whatever the index returns (dataclasses with to_dict, dicts, lists)."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, dict):
        return value
    if isinstance(value, (list, tuple)):
        return [as_dict(v) for v in value]
    return value


def claim_of(item: dict[str, Any]) -> dict[str, Any]:
    """A claim record, whether the report nests it under 'claim' or keeps it flat."""
    inner = item.get("claim")
    if isinstance(inner, dict):
        merged = {**item, **inner}
        merged.pop("claim", None)
        return merged
    return item


def group_claims(claims: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Claims grouped by type (in the usual order), then by polarity."""
    by_type: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for item in claims:
        claim = claim_of(item)
        kind = str(claim.get("type") or "other")
        polarity = str(claim.get("polarity") or "positive")
        by_type.setdefault(kind, {}).setdefault(polarity, []).append(claim)
    order = [k for k in CLAIM_LABELS if k in by_type] + sorted(k for k in by_type if k not in CLAIM_LABELS)
    groups = []
    for kind in order:
        polarities = by_type[kind]
        groups.append(
            {
                "type": kind,
                "label": CLAIM_LABELS.get(kind, vocab_label(kind)),
                "count": sum(len(v) for v in polarities.values()),
                "polarities": [
                    {"polarity": p, "label": POLARITY_LABELS.get(p, p.title()), "claims": polarities[p]}
                    for p in ("positive", "negative", *sorted(set(polarities) - {"positive", "negative"}))
                    if p in polarities
                ],
            }
        )
    return groups


def contradiction_pair(pair: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The two claims of a contradiction, from a list/tuple pair or a dict with a/b keys."""
    pair = as_dict(pair)
    if isinstance(pair, (list, tuple)) and len(pair) == 2:
        a, b = pair
    elif isinstance(pair, dict):
        keys = [k for k in ("a", "b") if k in pair] or [k for k in ("left", "right") if k in pair]
        if len(keys) == 2:
            a, b = pair[keys[0]], pair[keys[1]]
        elif isinstance(pair.get("claims"), list) and len(pair["claims"]) == 2:
            a, b = pair["claims"]
        else:
            return None
    else:
        return None
    if isinstance(a, dict) and isinstance(b, dict):
        return claim_of(a), claim_of(b)
    return None


CONTRADICTION_KINDS = {
    "efficacy": "One says it helps, the other says it doesn’t",
    "comparison": "They disagree about which works better",
}


def contradiction_reason(pair: Any) -> str:
    """A sentence for people about why two claims disagree (the raw reason stays in the JSON)."""
    pair = as_dict(pair)
    if not isinstance(pair, dict):
        return ""
    kind = str(pair.get("kind") or "")
    return CONTRADICTION_KINDS.get(kind, "These claims disagree" if kind or pair.get("reason") else "")
