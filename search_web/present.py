"""Small presentation helpers: labels, safe snippets and links, claim highlighting.

Nothing here touches the index; each helper turns values from `indexer` into what a
template shows, escaping on the way so page text can never become markup.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Any, Iterable, Sequence
from urllib.parse import urlsplit

from markupsafe import Markup, escape

from indexer.fields import CLAIM_TYPES, EVIDENCE_VALUES, FACET_NAMES, POLARITIES
from indexer.model import Claim
from indexer.search import ClaimRecord, Contradiction, Topics
from indexer.vocabulary import Vocabulary, VocabularyError, load_vocabulary

FACET_TITLES = dict(zip(FACET_NAMES, ("Treatment", "Condition", "Claim type", "Evidence")))
CLAIM_LABELS = dict(zip(CLAIM_TYPES, ("Efficacy", "Comparison", "Statistic", "Mechanism", "Caution")))
EVIDENCE_LABELS = dict(zip(EVIDENCE_VALUES, ("Cites a study", "Expert opinion", "No evidence cited")))
POLARITY_LABELS = dict(zip(POLARITIES, ("In favour", "Against")))
VERDICT_LABELS = {"helps": "Says it helps", "does-not-help": "Says it does not help", "mixed": "Mixed", "unclear": "Unclear"}

GENERIC_SUBJECT = "Search what these health pages say"


def _lower(label: str) -> str:
    """'Sciatica' → 'sciatica', as words inside a sentence; 'COPD' stays."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def _and(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def home_text(topics: Topics, subject: str = "", count: int = 5) -> tuple[str, list[str]]:
    """The home page's subject line and example searches, from what the index is about.

    `subject` (the setting) wins over the derived line. Examples pair the most frequent
    treatments with the most frequent conditions ("massage for sciatica"), then name
    conditions alone; an index without either gets the generic line and no examples.
    """
    conditions = [_lower(t.label) for t in topics.conditions]
    treatments = [_lower(t.label) for t in topics.treatments]
    named = [t.id for t in topics.conditions]
    # the subject names broad conditions: "lower back pain" adds nothing after "back pain"
    broad = [_lower(t.label) for t in topics.conditions if not set(t.ancestors) & set(named)]
    line = subject.strip() or (f"Search what health pages say about {_and(broad[:3])}" if broad else GENERIC_SUBJECT)
    examples: list[str] = []
    for i, treatment in enumerate(treatments[:3]):
        examples.append(f"{treatment} for {conditions[i % len(conditions)]}" if conditions else treatment)
    examples += conditions[: count - len(examples)]
    return line, list(dict.fromkeys(examples))[:count]


_MARK = re.compile(r"(<mark>|</mark>)", re.IGNORECASE)


@lru_cache(maxsize=1)
def _vocabulary() -> Vocabulary | None:
    try:
        return load_vocabulary()
    except (VocabularyError, OSError, UnicodeDecodeError):  # a broken data file: fall back to ids
        return None


def vocab_label(value: str) -> str:
    vocab = _vocabulary()
    if vocab is not None:
        label = vocab.label(value)
        if label and label != value:
            return str(label)
    text = value.replace("-", " ").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def facet_label(name: str, value: str) -> str:
    if name == "claim":
        return CLAIM_LABELS.get(value, vocab_label(value))
    if name == "evidence":
        return EVIDENCE_LABELS.get(value, vocab_label(value))
    return vocab_label(value)


def stance(claim: Claim) -> str:
    """'In favour of Massage therapy' / 'Against NSAIDs': a claim's polarity in words."""
    negative = claim.polarity == "negative"
    names = [vocab_label(str(t)) for t in claim.treatments]
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


def segments(text: str, claims: Sequence[Claim]) -> list[tuple[str, Claim | None, int]]:
    """Cut a passage's text into plain parts and claim parts by the claims' spans.

    Returns (text, claim or None, claim number). Overlapping or out-of-range spans are skipped,
    so a bad span can only lose a highlight, never text.
    """
    spans: list[tuple[int, int, Claim, int]] = []
    for n, claim in enumerate(claims, start=1):
        if 0 <= claim.start < claim.end <= len(text):
            spans.append((claim.start, claim.end, claim, n))
    spans.sort(key=lambda s: s[0])
    out: list[tuple[str, Claim | None, int]] = []
    pos = 0
    for start, end, c, n in spans:
        if start < pos:
            continue
        if start > pos:
            out.append((text[pos:start], None, 0))
        out.append((text[start:end], c, n))
        pos = end
    if pos < len(text):
        out.append((text[pos:], None, 0))
    return out


def group_claims(records: Iterable[ClaimRecord]) -> list[dict[str, Any]]:
    """Claim records grouped by type (in the usual order), then by polarity."""
    by_type: dict[str, dict[str, list[ClaimRecord]]] = {}
    for r in records:
        kind = r.claim.type or "other"
        by_type.setdefault(kind, {}).setdefault(r.claim.polarity or "positive", []).append(r)
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
                    for p in (*POLARITIES, *sorted(set(polarities) - set(POLARITIES)))
                    if p in polarities
                ],
            }
        )
    return groups


CONTRADICTION_KINDS = {
    "efficacy": "One says it helps, the other says it doesn’t",
    "comparison": "They disagree about which works better",
}


def contradiction_reason(pair: Contradiction) -> str:
    """A sentence for people about why two claims disagree (the raw reason stays in the JSON)."""
    return CONTRADICTION_KINDS.get(pair.kind, "These claims disagree" if pair.kind or pair.reason else "")
