#!/usr/bin/env python
"""Claim detection and the hedged flag on scientific prose, against labelled PubMed conclusions.

Usage::

    python scripts/eval_causal.py [FILE] [--json] [--folds K]

FILE (default ``../shared/data/causal-pubmed-dev/sentences.jsonl``) holds one
``{"id", "text", "label"}`` a line; label 0 = no relation stated, 1 = correlational,
2 = conditional causal ("may reduce"), 3 = direct causal ("reduces"). Each sentence goes
through ``knowledge.classify_sentence`` alone (no page context).

Printed per label: the share of sentences classified as claims, and of those claims the
share flagged hedged; then the claim rate on labels 1–3 over the rate on label 0.
``--folds K`` also prints those figures on each of K folds of the sentences (fold = line
number mod K): the cue patterns were written by reading a few dozen of them, so the spread
over folds shows whether the figures hold on sentences taken apart, not on the whole set.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT  # noqa: E402

from indexer.knowledge import classify_sentence  # noqa: E402

LABELS = {0: "no relation", 1: "correlational", 2: "conditional causal", 3: "direct causal"}


def evaluate(path: Path, folds: int = 1, fold: int = 0) -> dict[str, Any]:
    counts = {k: {"sentences": 0, "claims": 0, "hedged": 0} for k in LABELS}
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for n, line in enumerate(lines):
        if n % folds != fold:
            continue
        row = json.loads(line)
        label = int(row["label"])
        claim = classify_sentence(row["text"])
        c = counts[label]
        c["sentences"] += 1
        if claim is not None:
            c["claims"] += 1
            c["hedged"] += claim.hedged
    out: dict[str, Any] = {}
    for k, c in counts.items():
        out[str(k)] = {
            **c,
            "claim_rate": round(c["claims"] / c["sentences"], 3) if c["sentences"] else 0.0,
            "hedged_rate": round(c["hedged"] / c["claims"], 3) if c["claims"] else 0.0,
        }
    finding = sum(counts[k]["claims"] for k in (1, 2, 3)) / max(1, sum(counts[k]["sentences"] for k in (1, 2, 3)))
    none = out["0"]["claim_rate"]
    out["finding_claim_rate"] = round(finding, 3)
    out["ratio"] = round(finding / none, 2) if none else float("inf")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file", type=Path, nargs="?", default=ROOT.parent / "shared" / "data" / "causal-pubmed-dev" / "sentences.jsonl")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--folds", type=int, default=0, help="also print the figures on each of K folds")
    args = ap.parse_args(argv)
    out = evaluate(args.file)
    if args.folds > 1:
        out["folds"] = [evaluate(args.file, args.folds, k) for k in range(args.folds)]
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    for k, name in LABELS.items():
        r = out[str(k)]
        print(f"label {k} {name:<19} {r['sentences']:>5} sentences  claim rate {r['claim_rate']:.3f}  hedged {r['hedged_rate']:.3f} of claims")
    print(f"claim rate on labels 1-3 {out['finding_claim_rate']:.3f}, {out['ratio']:.2f}x the rate on label 0")
    for k, f in enumerate(out.get("folds", ())):
        print(
            f"fold {k}: ratio {f['ratio']:.2f}x ({f['finding_claim_rate']:.3f} vs {f['0']['claim_rate']:.3f}); "
            f"hedged {f['2']['hedged_rate']:.3f} of label-2 claims, {f['3']['hedged_rate']:.3f} of label-3"
        )
    if out.get("folds"):
        ratios = sorted(f["ratio"] for f in out["folds"])
        print(f"over {len(ratios)} folds: ratio min {ratios[0]:.2f}x, median {ratios[len(ratios) // 2]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
