"""A small logistic model over block features: is this segment article text?

The weights and the decision thresholds are data (data/clean_model.json), fitted on the
dev sets by scripts/fit_clean.py. Rules alone dropped real article text (short paragraphs,
link-rich sentences, text outside the guessed container); the model weighs the same
signals together, and a run of probable segments between confident ones is kept whole,
since article text comes in runs.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from .features import FEATURES

MODEL_FILE = Path(__file__).resolve().parent.parent / "data" / "clean_model.json"


@dataclass(frozen=True)
class BlockModel:
    weights: tuple[float, ...]  # one per name in features.FEATURES
    threshold: float  # keep a segment at or above this probability
    low: float  # ... or at or above this one inside a short gap between kept segments
    gap: int  # longest gap (segments) filled that way


def model_from_dict(data: dict) -> BlockModel:
    names = tuple(data["features"])
    if names != FEATURES:
        raise ValueError(f"block model features {names} do not match the code's {FEATURES}; refit with scripts/fit_clean.py")
    return BlockModel(tuple(float(x) for x in data["weights"]), float(data["threshold"]),
                      float(data["low"]), int(data["gap"]))


def model_to_dict(m: BlockModel) -> dict:
    return {"features": list(FEATURES), "weights": [round(w, 6) for w in m.weights],
            "threshold": m.threshold, "low": m.low, "gap": m.gap}


@lru_cache(maxsize=1)
def packaged_model() -> BlockModel:
    return model_from_dict(json.loads(MODEL_FILE.read_text(encoding="utf-8")))


def probabilities(rows: Sequence[Sequence[float]], m: BlockModel) -> list[float]:
    w = m.weights
    out = []
    for row in rows:
        z = sum(a * b for a, b in zip(row, w))
        out.append(1.0 / (1.0 + math.exp(-z)) if z > -30 else 0.0)
    return out


def decide(probs: Sequence[float], hard_drop: Sequence[bool], m: BlockModel) -> list[bool]:
    """Which segments to keep: confident ones, and probable ones in short gaps between them."""
    keep = [p >= m.threshold and not h for p, h in zip(probs, hard_drop)]
    n = len(keep)
    last = -1
    for i in range(n):
        if not keep[i]:
            continue
        if last >= 0 and 0 < i - last - 1 <= m.gap:
            gap = range(last + 1, i)
            if all(probs[j] >= m.low for j in gap if not hard_drop[j]):
                for j in gap:
                    keep[j] = not hard_drop[j]
        last = i
    return keep
