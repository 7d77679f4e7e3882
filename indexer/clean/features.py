"""Block features: what the block model sees of each segment.

Shallow, layout-independent signals (length, link density, sentence ends, function-word
share, a call to action opening a sentence) beside what the rules decided (inside the main
container, dropped as chrome, kept by the rule pipeline) and the same for the neighbours,
since article text comes in runs.
"""

from __future__ import annotations

import math
import re

from .rules import SENTENCE, Rules
from .walk import Seg

FEATURES = (
    "bias", "rule_kept", "in_container", "chrome", "hinted", "log_len", "link_density",
    "sentence", "teaser", "heading", "list", "table", "quote", "boilerplate",
    "function_words", "capitalised", "digits", "prev_kept", "next_kept", "run_kept",
    "position", "layout_cell", "siblings_kept", "kept_distance", "short", "long",
    "linky", "sentences", "outside_prose", "chrome_prose", "call_to_action",
)
N_FEATURES = len(FEATURES)

_TOKEN = re.compile(r"\w+")
_RUN = 3  # neighbours on each side for the run feature
_CTA_SPAN = 300  # characters of a block searched for a call to action: promo lines are short


def segment_features(segs: list[Seg], parent: list[int], rule_kept: list[bool], in_container: list[bool],
                     chrome: list[bool], hinted: list[bool], layout_cell: list[bool],
                     r: Rules) -> list[list[float]]:
    """One feature row per segment, in FEATURES order."""
    n = len(segs)
    # share of the segments under the same parent element that the rules kept
    fam_all: dict[int, int] = {}
    fam_kept: dict[int, int] = {}
    fams = []
    for s, k in zip(segs, rule_kept):
        f = parent[s.node] if s.node >= 0 else -1
        fams.append(f)
        fam_all[f] = fam_all.get(f, 0) + 1
        if k:
            fam_kept[f] = fam_kept.get(f, 0) + 1
    # distance in segments to the nearest kept one
    dist = [float(n)] * n
    last = -1
    for i in range(n):
        if rule_kept[i]:
            last = i
        if last >= 0:
            dist[i] = float(i - last)
    last = -1
    for i in range(n - 1, -1, -1):
        if rule_kept[i]:
            last = i
        if last >= 0:
            dist[i] = min(dist[i], float(last - i))
    fw = r.function_words
    rows: list[list[float]] = []
    kept_prefix = [0]
    for k in rule_kept:
        kept_prefix.append(kept_prefix[-1] + (1 if k else 0))
    for i, s in enumerate(segs):
        text = s.text
        length = len(text)
        toks = _TOKEN.findall(text)
        nt = len(toks) or 1
        lo, hi = max(0, i - _RUN), min(n, i + _RUN + 1)
        others = hi - lo - 1
        run = (kept_prefix[hi] - kept_prefix[lo] - (1 if rule_kept[i] else 0)) / others if others else 0.0
        kind = s.kind
        # long, link-poor, several sentences: prose wherever it stands
        prose = 1.0 if length >= 150 and s.links < 0.2 * length and len(SENTENCE.findall(text)) >= 2 else 0.0
        rows.append([
            1.0,
            1.0 if rule_kept[i] else 0.0,
            1.0 if in_container[i] else 0.0,
            1.0 if chrome[i] else 0.0,
            1.0 if hinted[i] else 0.0,
            math.log1p(length) / 6.0,
            s.links / length if length else 0.0,
            1.0 if SENTENCE.search(text) else 0.0,
            1.0 if text.endswith(("...", "…", "[…]", "[...]")) else 0.0,
            1.0 if kind == "heading" else 0.0,
            1.0 if kind == "list" else 0.0,
            1.0 if kind == "table" else 0.0,
            1.0 if kind in ("quote", "pre") else 0.0,
            1.0 if length <= 150 and r.boilerplate.match(text) else 0.0,
            sum(1 for t in toks if t.lower() in fw) / nt,
            sum(1 for t in toks if t[:1].isupper()) / nt,
            sum(1 for t in toks if t.isdigit()) / nt,
            1.0 if i > 0 and rule_kept[i - 1] else 0.0,
            1.0 if i + 1 < n and rule_kept[i + 1] else 0.0,
            run,
            i / n,
            1.0 if layout_cell[i] else 0.0,
            fam_kept.get(fams[i], 0) / fam_all[fams[i]],
            math.log1p(dist[i]) / 3.0,
            1.0 if length < 40 else 0.0,
            1.0 if length >= 200 else 0.0,
            1.0 if s.links >= 0.8 * length or (s.links > r.link_density_max * length and length - s.links < 50) else 0.0,
            min(len(SENTENCE.findall(text)), 5) / 5.0,
            0.0 if in_container[i] else prose,
            prose if chrome[i] else 0.0,
            1.0 if r.call_to_action.search(text, 0, _CTA_SPAN) else 0.0,
        ])
    return rows
