#!/usr/bin/env python
"""Claim extraction against hand-labelled gold sentences.

Usage::

    python scripts/eval_claims.py GOLD [--corpus DIR] [--seed-dir DIR] [--errors] [--json]

GOLD is either
  * a ``.jsonl`` file, one labelled sentence a line with its text
    (``page``, ``n``, ``text``, ``claim`` and, for claims, ``type``, ``types``,
    ``polarity``, ``evidence``, ``hedged``, ``treatments``); the pages are read from
    ``--corpus`` (default: the project's ``corpus/``); or
  * a ``.json`` file of labels only (``source`` and ``sentences`` with ``n``, ``sha1``
    of the normalised text and ``first`` words), for a page whose text lives elsewhere;
    the page is read from ``--seed-dir`` (default ``../shared/seed``).

The pages go through the real pipeline (``indexer.pipeline.extract_paths``: clean →
passages → knowledge), and gold sentences are aligned with the pipeline's sentences by
normalised text (for labels-only gold: by hash, then by first words). A gold sentence the
pipeline did not produce is reported as unmatched and counts as a miss when it is a claim;
a pipeline sentence of a gold page with no gold label counts as a false positive when it is
classified as a claim.

Printed: claim detection precision, recall and F1; over sentences that are claims in both
gold and prediction, the accuracy of the primary type, polarity, evidence, hedging and the
treatment tags (exact set), plus micro precision/recall/F1 of treatment tags.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import unicodedata
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT  # noqa: E402

from indexer.config import Settings  # noqa: E402
from indexer.model import Claim, Page  # noqa: E402
from indexer.pipeline import extract_paths  # noqa: E402


def norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    for a, b in (("\u2019", "'"), ("\u2018", "'"), ("\u201c", '"'), ("\u201d", '"'), ("\u00a0", " ")):
        text = text.replace(a, b)
    return re.sub(r"\s+", " ", text).strip().lower()


def sha(text: str) -> str:
    return hashlib.sha1(norm(text).encode("utf-8")).hexdigest()[:12]


def load_gold(path: Path) -> tuple[list[dict[str, Any]], str]:
    if path.suffix == ".jsonl":
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return rows, "text"
    data = json.loads(path.read_text(encoding="utf-8"))
    page = Path(data["source"]).stem
    return [dict(r, page=page) for r in data["sentences"]], "hash"


def pipeline_sentences(pages: list[Page]) -> dict[str, list[tuple[str, Claim | None]]]:
    out: dict[str, list[tuple[str, Claim | None]]] = {}
    for page in pages:
        rows: list[tuple[str, Claim | None]] = []
        for passage in page.passages:
            by_start = {c.start: c for c in passage.claims}
            for s in passage.sentences:
                text = passage.text[s.start : s.end]
                lead = len(text) - len(text.lstrip())
                rows.append((text.strip(), by_start.get(s.start + lead) or by_start.get(s.start)))
        out[page.page_id] = rows
    return out


def align(gold: list[dict[str, Any]], mode: str, sents: dict[str, list[tuple[str, Claim | None]]]):
    """Pairs (gold row or None, predicted claim or None, matched) over the gold pages."""
    pairs: list[tuple[dict[str, Any] | None, Claim | None, bool]] = []
    by_page: dict[str, list[dict[str, Any]]] = {}
    for row in gold:
        by_page.setdefault(row["page"], []).append(row)
    unmatched: list[dict[str, Any]] = []
    for page_id, rows in by_page.items():
        predicted = sents.get(page_id, [])
        used: set[int] = set()
        index: dict[str, list[int]] = {}
        for i, (text, _) in enumerate(predicted):
            index.setdefault(norm(text) if mode == "text" else sha(text), []).append(i)
        for row in rows:
            key = norm(row["text"]) if mode == "text" else row["sha1"]
            hit = next((i for i in index.get(key, []) if i not in used), None)
            if hit is None and mode == "hash":
                first = norm(row.get("first", ""))
                hit = next(
                    (i for i, (t, _) in enumerate(predicted) if i not in used and first and norm(t).startswith(first)),
                    None,
                )
            if hit is None:
                unmatched.append(row)
                pairs.append((row, None, False))
            else:
                used.add(hit)
                pairs.append((row, predicted[hit][1], True))
        for i, (_, claim) in enumerate(predicted):
            if i not in used:
                pairs.append((None, claim, False))
    return pairs, unmatched


def ratio(a: int, b: int) -> float:
    return a / b if b else 0.0


def evaluate(pairs) -> dict[str, Any]:
    tp = fp = fn = 0
    agree = {"type": 0, "polarity": 0, "evidence": 0, "hedged": 0, "treatments": 0}
    tag_tp = tag_fp = tag_fn = 0
    errors: list[dict[str, Any]] = []
    for gold, claim, _ in pairs:
        is_gold = bool(gold and gold.get("claim"))
        if is_gold and claim is not None:
            tp += 1
            pred = {
                "type": claim.type,
                "polarity": claim.polarity,
                "evidence": claim.evidence,
                "hedged": claim.hedged,
                "treatments": sorted(claim.treatments),
            }
            want = {
                "type": gold["type"],
                "polarity": gold["polarity"],
                "evidence": gold["evidence"],
                "hedged": bool(gold.get("hedged")),
                "treatments": sorted(gold.get("treatments", [])),
            }
            for k in agree:
                if pred[k] == want[k]:
                    agree[k] += 1
            gset, pset = set(want["treatments"]), set(pred["treatments"])
            tag_tp += len(gset & pset)
            tag_fp += len(pset - gset)
            tag_fn += len(gset - pset)
            wrong = {k: (want[k], pred[k]) for k in agree if pred[k] != want[k]}
            if wrong:
                errors.append({"kind": "label", "page": gold["page"], "n": gold["n"], "wrong": wrong, "text": gold.get("text", gold.get("first", ""))})
        elif is_gold:
            fn += 1
            errors.append({"kind": "missed", "page": gold["page"], "n": gold["n"], "text": gold.get("text", gold.get("first", ""))})
        elif claim is not None:
            fp += 1
            where = {"page": gold["page"], "n": gold["n"]} if gold else {"page": "?", "n": "?"}
            errors.append({"kind": "false", **where, "type": claim.type, "text": claim.text})
    p, r = ratio(tp, tp + fp), ratio(tp, tp + fn)
    tp_ = max(tp, 1)
    tag_p, tag_r = ratio(tag_tp, tag_tp + tag_fp), ratio(tag_tp, tag_tp + tag_fn)
    return {
        "sentences": sum(1 for g, _, _ in pairs if g),
        "gold_claims": tp + fn,
        "predicted_claims": tp + fp,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": p,
        "recall": r,
        "f1": ratio(2 * p * r, p + r) if p + r else 0.0,
        "accuracy": {k: v / tp_ for k, v in agree.items()},
        "treatment_tags": {"precision": tag_p, "recall": tag_r, "f1": ratio(2 * tag_p * tag_r, tag_p + tag_r) if tag_p + tag_r else 0.0},
        "errors": errors,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("gold", type=Path)
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus", help="folder of the pages a .jsonl gold file labels")
    ap.add_argument("--seed-dir", type=Path, default=ROOT.parent / "shared" / "seed", help="folder of the page a labels-only .json gold file labels")
    ap.add_argument("--errors", action="store_true", help="list every disagreement")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)

    gold, mode = load_gold(args.gold)
    folder = args.corpus if mode == "text" else args.seed_dir
    paths = sorted(str(p) for p in folder.iterdir() if p.suffix in (".html", ".htm", ".txt", ".jsonl", ".gz") and p.name != "README.md")
    pages, errors = extract_paths(paths, Settings())
    wanted = {row["page"] for row in gold}
    pages = [p for p in pages if p.page_id in wanted]
    missing = wanted - {p.page_id for p in pages}
    pairs, unmatched = align(gold, mode, pipeline_sentences(pages))
    result = evaluate(pairs)
    result.update(
        gold=str(args.gold),
        pages=len(wanted),
        unmatched=len(unmatched),

    )
    if args.json:
        if not args.errors:
            result.pop("errors")
        print(json.dumps(result, indent=2))
        return 0
    print(f"gold: {args.gold}  ({len(wanted)} pages, {result['sentences']} labelled sentences, {result['unmatched']} unmatched)")
    if missing:
        print(f"pages not produced by the pipeline: {', '.join(sorted(missing))}")
    for row in unmatched:
        print(f"  unmatched gold sentence {row['page']}#{row['n']}: {row.get('text', row.get('first', ''))[:70]!r}")
    print(f"claims: gold {result['gold_claims']}, predicted {result['predicted_claims']}, TP {result['tp']}, FP {result['fp']}, FN {result['fn']}")
    print(f"claim detection   precision {result['precision']:.3f}  recall {result['recall']:.3f}  F1 {result['f1']:.3f}")
    acc = result["accuracy"]
    print(f"on {result['tp']} claims found in both:")
    print(f"  type (primary)   {acc['type']:.3f}")
    print(f"  polarity         {acc['polarity']:.3f}")
    print(f"  evidence         {acc['evidence']:.3f}")
    print(f"  hedged           {acc['hedged']:.3f}")
    print(f"  treatment tags   {acc['treatments']:.3f}  (exact set)")
    tags = result["treatment_tags"]
    print(f"  treatment tags   precision {tags['precision']:.3f}  recall {tags['recall']:.3f}  F1 {tags['f1']:.3f}  (micro)")
    if args.errors:
        for e in result["errors"]:
            if e["kind"] == "label":
                print(f"  [label]  {e['page']}#{e['n']} {e['wrong']}  {e['text'][:90]!r}")
            else:
                print(f"  [{e['kind']}] {e['page']}#{e['n']}  {e['text'][:110]!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
