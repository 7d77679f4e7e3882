"""What the scripts share: the project on the import path, one percentile, index reads.

Every script starts with

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import ROOT, ...  # noqa: E402

so each imports the project the same way, from this checkout, installed or not.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Sequence

ROOT = Path(__file__).resolve().parents[1]
for _p in (ROOT, ROOT / "scripts"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

__all__ = ["ROOT", "passages_of", "percentile", "spell_words"]


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0–100) of the values, nearest rank; nan when there are none."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(p / 100 * (len(s) - 1))))
    return s[k]


def passages_of(index: Any) -> list[tuple[str, str, str]]:
    """(passage id, title, text) of every passage of an open `indexer.Index`."""
    with index.lock:
        reader = index.generation.reader
        return [(f["passage_id"], f.get("title", ""), f.get("text", "")) for _, f in reader.iter_docs()]


def spell_words(index: Any) -> list[tuple[str, int]]:
    """(surface word, passages with it) for every word of an open `indexer.Index`, sorted."""
    with index.lock:
        reader = index.generation.reader
        out = []
        for word, info in reader.iter_field("spell"):
            out.append((word.decode() if isinstance(word, bytes) else word, info.doc_frequency()))
    return sorted(out)
