"""A small logistic model over block features: is this segment article text?

The weights and the decision thresholds are data (data/clean_model.json), fitted on the
dev sets by scripts/fit_clean.py. Rules alone dropped real article text (short paragraphs,
link-rich sentences, text outside the guessed container); the model weighs the same
signals together; a second stage reads the first stage's verdicts on the neighbours and on
the segments of the same parent element, and a run of probable segments between confident
ones is kept whole, since article text comes in runs.
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


# Second-stage inputs: the first stage's probabilities of the segment and around it.
CONTEXT = ("p_self", "p_prev", "p_next", "p_window", "p_family")
_WINDOW = 3


@dataclass(frozen=True)
class BlockModel:
    weights: tuple[float, ...]  # first stage: one per name in features.FEATURES
    threshold: float  # keep a segment at or above this probability
    low: float  # ... or at or above this one inside a short gap between kept segments
    gap: int  # longest gap (segments) filled that way
    # second stage: FEATURES then CONTEXT; empty when the model has one stage
    context_weights: tuple[float, ...] = ()


def model_from_dict(data: dict) -> BlockModel:
    names = tuple(data["features"])
    ctx = tuple(data.get("context", ()))
    cw = tuple(float(x) for x in data.get("context_weights", ()))
    if names != FEATURES or (cw and (ctx != CONTEXT or len(cw) != len(FEATURES) + len(CONTEXT))):
        raise ValueError(f"block model features {names} do not match the code's {FEATURES}; refit with scripts/fit_clean.py")
    return BlockModel(tuple(float(x) for x in data["weights"]), float(data["threshold"]),
                      float(data["low"]), int(data["gap"]), cw)


def model_to_dict(m: BlockModel) -> dict:
    out = {"features": list(FEATURES), "weights": [round(w, 6) for w in m.weights],
           "threshold": m.threshold, "low": m.low, "gap": m.gap}
    if m.context_weights:
        out["context"] = list(CONTEXT)
        out["context_weights"] = [round(w, 6) for w in m.context_weights]
    return out


@lru_cache(maxsize=1)
def packaged_model() -> BlockModel:
    return model_from_dict(json.loads(MODEL_FILE.read_text(encoding="utf-8")))


def _logistic(rows: Sequence[Sequence[float]], w: Sequence[float]) -> list[float]:
    out = []
    for row in rows:
        z = sum(a * b for a, b in zip(row, w))
        out.append(1.0 / (1.0 + math.exp(-z)) if z > -30 else 0.0)
    return out


def context_rows(p1: Sequence[float], families: Sequence[int], hard_drop: Sequence[bool],
                 groups: Sequence[int] = ()) -> list[list[float]]:
    """Second-stage inputs from first-stage probabilities (title and byline lines count 0).

    The cells of one data table, the items of one list (``groups``, -1 for none) count with
    the best probability among them, and as one neighbour: a table of short cells is one
    block, not many labels.
    """
    p = [0.0 if h else x for x, h in zip(p1, hard_drop)]
    n = len(p)
    if groups:
        best: dict[int, float] = {}
        for g, x in zip(groups, p):
            if g >= 0 and x > best.get(g, -1.0):
                best[g] = x
        p = [best[g] if g >= 0 else x for g, x in zip(groups, p)]
    fam_sum: dict[int, float] = {}
    fam_n: dict[int, int] = {}
    for f, x in zip(families, p):
        fam_sum[f] = fam_sum.get(f, 0.0) + x
        fam_n[f] = fam_n.get(f, 0) + 1
    # neighbours are units: a run of one table's or list's segments is one neighbour
    unit: list[int] = []
    up: list[float] = []
    for i, x in enumerate(p):
        g = groups[i] if groups else -1
        if not (g >= 0 and i > 0 and groups[i - 1] == g):
            up.append(x)
        unit.append(len(up) - 1)
    nu = len(up)
    prefix = [0.0]
    for x in up:
        prefix.append(prefix[-1] + x)
    rows = []
    for i in range(n):
        u = unit[i]
        lo, hi = max(0, u - _WINDOW), min(nu, u + _WINDOW + 1)
        others = hi - lo - 1
        f = families[i]
        fn = fam_n[f] - 1
        # a missing neighbour reads as the segment itself: a one-paragraph page or a lone
        # cell must not look like chrome for want of company
        rows.append([
            p[i],
            up[u - 1] if u > 0 else p[i],
            up[u + 1] if u + 1 < nu else p[i],
            (prefix[hi] - prefix[lo] - up[u]) / others if others else p[i],
            (fam_sum[f] - p[i]) / fn if fn else p[i],
        ])
    return rows


def probabilities(rows: Sequence[Sequence[float]], m: BlockModel, families: Sequence[int] = (),
                  hard_drop: Sequence[bool] = (), groups: Sequence[int] = ()) -> list[float]:
    """Per segment, the probability that it is article text."""
    p1 = _logistic(rows, m.weights)
    if not m.context_weights:
        return p1
    ctx = context_rows(p1, families or [0] * len(p1), hard_drop or [False] * len(p1), groups)
    return _logistic([list(r) + c for r, c in zip(rows, ctx)], m.context_weights)


def decide(probs: Sequence[float], hard_drop: Sequence[bool], m: BlockModel,
           fallback: Sequence[bool] = (), groups: Sequence[int] = ()) -> list[bool]:
    """Which segments to keep: confident ones, and probable ones in short gaps between them.

    A data table or a list (consecutive segments of one of ``groups``) is one unit, judged
    by the mean of its segments, kept or left out whole (judged by its best one, a list of
    linked headlines each with a prose teaser came in whole for its teasers). When the
    model keeps nothing, ``fallback`` (the rules' choice) decides: a page is not emptied by
    a model that has seen too little of its kind. When the rules found nothing either and the page's best unit
    is at least as probable as a gap filler (``low``), the probabilities are read against
    that best one: the page has a main text, and it is where the model's best guesses are.
    """
    n = len(probs)
    units: list[list[int]] = []
    for i in range(n):
        g = groups[i] if groups else -1
        if g >= 0 and units and groups[units[-1][-1]] == g:
            units[-1].append(i)
        else:
            units.append([i])
    up = [sum(probs[i] for i in u) / len(u) for u in units]
    uhard = [all(hard_drop[i] for i in u) for u in units]
    ukeep = _keep_units(up, uhard, m)
    if not any(ukeep):
        if fallback and any(k and not h for k, h in zip(fallback, hard_drop)):
            return [k and not h for k, h in zip(fallback, hard_drop)]
        best = max((p for p, h in zip(up, uhard) if not h), default=0.0)
        if best >= m.low and best > 0.0:
            ukeep = _keep_units([p / best for p in up], uhard, m)
    keep = [False] * n
    for u, kk in zip(units, ukeep):
        if kk:
            for i in u:
                keep[i] = not hard_drop[i]
    return keep


def _keep_units(up: Sequence[float], uhard: Sequence[bool], m: BlockModel) -> list[bool]:
    ukeep = [p >= m.threshold and not h for p, h in zip(up, uhard)]
    last = -1
    for k in range(len(up)):
        if not ukeep[k]:
            continue
        if last >= 0 and 0 < k - last - 1 <= m.gap:
            between = range(last + 1, k)
            if all(up[j] >= m.low for j in between if not uhard[j]):
                for j in between:
                    ukeep[j] = not uhard[j]
        last = k
    return ukeep
