#!/usr/bin/env python
"""Fit the cleaner's block model (indexer/data/clean_model.json) on the extraction dev sets.

Usage::

    python scripts/fit_clean.py DIR [DIR ...] [--out indexer/data/clean_model.json]

Each DIR is laid out like ``../shared/data/extraction-dev`` (``html/*.html.gz`` and
``ground-truth.json``). Every page goes through the cleaner up to the block model
(``indexer.clean.page.analyse_html``); a segment's label is the share of its tokens covered by word 4-shingles
found in the page's gold text (shingles taken over the page's whole token stream, so that
short segments are judged with their neighbours). The weights come from an L2-regularised logistic regression
(Newton steps) with each page weighing the same in total; the decision thresholds (keep,
gap-fill, gap length) are then chosen on the same pages: the best mean F1 of the sets among
the settings whose recall on every set reaches RECALL_FLOOR. scripts/eval_extraction.py --cv K uses these functions to report held-out figures.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHINGLE, dev_pages, html_raw_page, shingles, tokens  # noqa: E402

from indexer.clean import blockmodel  # noqa: E402
from indexer.clean.features import N_FEATURES  # noqa: E402
from indexer.clean.page import Analysis, analyse_html, rule_kept  # noqa: E402
from indexer.model import RawPage  # noqa: E402

L2 = 1.0
LABEL_SHARE = 0.5
SOFT_LABELS = False
# a second stage over the first stage's verdicts on the neighbours (blockmodel.CONTEXT)
STACKED = True
THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65)
# Thresholds are chosen for the best F1 among those that keep at least this recall on
# every training set (the project wants recall first: lost article text is lost for search).
RECALL_FLOOR = 0.975
LOWS = (0.05, 0.1, 0.2, 0.3)
GAPS = (0, 1, 2, 3, 5)


@dataclass
class PageData:
    """One dev page as the fitter sees it."""

    dataset: str
    page_id: str
    analysis: Analysis | None  # None: the cleaner found no text at all
    truth: str
    x: np.ndarray  # (segments, features)
    label: np.ndarray  # share of each segment's shingles in the gold text
    ext: np.ndarray  # shingles per segment
    matched: np.ndarray  # of them, in the gold text
    gold_total: int


def page_data(dataset: str, page_id: str, raw: RawPage, truth: str) -> PageData:
    a = analyse_html(raw)
    gold = shingles(tokens(truth))
    gold_total = sum(gold.values())
    if not isinstance(a, Analysis):
        z = np.zeros(0)
        return PageData(dataset, page_id, None, truth, np.zeros((0, N_FEATURES)), z, z, z, gold_total)
    # shingles over the page's whole token stream, so a short segment is judged with its
    # neighbours (alone it has no 4-shingle to match)
    toks: list[str] = []
    owner: list[int] = []
    for k, s in enumerate(a.segs):
        t = tokens(s.text)
        toks.extend(t)
        owner.extend([k] * len(t))
    n = len(a.segs)
    ext, matched = np.zeros(n), np.zeros(n)
    covered = np.zeros(len(toks), bool)
    left = Counter(gold)
    for i in range(max(0, len(toks) - SHINGLE + 1)):
        sh = tuple(toks[i:i + SHINGLE])
        ext[owner[i]] += 1
        if left[sh] > 0:
            left[sh] -= 1
            matched[owner[i]] += 1
            covered[i:i + SHINGLE] = True
    ntok = np.bincount(np.array(owner, int), minlength=n) if owner else np.zeros(n)
    cov = np.bincount(np.array(owner, int), weights=covered.astype(float), minlength=n) if owner else np.zeros(n)
    label = np.where(ntok > 0, cov / np.maximum(ntok, 1), 0.0)
    e, m = ext, matched
    return PageData(dataset, page_id, a, truth, np.array(a.features, float), label, e, m, gold_total)


def load_folder(folder: Path, limit: int | None = None) -> list[PageData]:
    return [page_data(folder.name, d.page_id, html_raw_page(d.page_id, d.path, d.url, d.html), d.truth)
            for d in dev_pages(folder, limit)]


def fit_weights(pages: list[PageData], matrices: list[np.ndarray], l2: float = L2) -> np.ndarray:
    """Logistic regression by Newton steps over the pages' design matrices; each set weighs
    the same, each of its pages too, a page's weight split over its segments by length."""
    xs, ys, ws = [], [], []
    per_set = Counter(p.dataset for p in pages)
    for p, mat in zip(pages, matrices):
        if p.analysis is None or not len(p.x):
            continue
        keep = ~np.array(p.analysis.hard_drop)
        if not keep.any():
            continue
        e = p.ext[keep] + 1.0
        xs.append(mat[keep])
        ys.append(p.label[keep] if SOFT_LABELS else (p.label[keep] >= LABEL_SHARE).astype(float))
        ws.append(e / e.sum() / per_set[p.dataset])
    x, y, sw = np.vstack(xs), np.concatenate(ys), np.concatenate(ws)
    sw = sw * (len(y) / sw.sum())
    beta = np.zeros(x.shape[1])
    reg = l2 * np.eye(x.shape[1])
    reg[0, 0] = 0.0  # no penalty on the bias
    for _ in range(50):
        z = np.clip(x @ beta, -30, 30)
        prob = 1.0 / (1.0 + np.exp(-z))
        grad = x.T @ (sw * (prob - y)) + reg @ beta
        hess = (x * (sw * prob * (1 - prob))[:, None]).T @ x + reg
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-7:
            break
    return beta


def approx_f1(pages: list[PageData], keeps: list[list[bool]]) -> float:
    return approx_scores(pages, keeps)[0]


def approx_scores(pages: list[PageData], keeps: list[list[bool]]) -> tuple[float, float]:
    """(mean over the sets of the benchmark F1, lowest recall of a set), from per-segment
    shingle counts (fast; shingles are not matched across the kept segments as a whole)."""
    by_set: dict[str, tuple[list[float], list[float]]] = {}
    for p, keep in zip(pages, keeps):
        precs, recs = by_set.setdefault(p.dataset, ([], []))
        k = np.array(keep, bool) if len(keep) else np.zeros(0, bool)
        e, m = float(p.ext[k].sum()), float(p.matched[k].sum())
        if e > 0:
            precs.append(m / e)
        recs.append(min(1.0, m / p.gold_total) if p.gold_total else (1.0 if e == 0 else 0.0))
    f1s, rcs = [], []
    for precs, recs in by_set.values():
        pr = sum(precs) / len(precs) if precs else 0.0
        rc = sum(recs) / len(recs) if recs else 0.0
        f1s.append(2 * pr * rc / (pr + rc) if pr + rc else 0.0)
        rcs.append(rc)
    return (sum(f1s) / len(f1s) if f1s else 0.0), (min(rcs) if rcs else 0.0)


def page_probs(p: PageData, m: blockmodel.BlockModel) -> list[float]:
    a = p.analysis
    if a is None:
        return []
    return blockmodel.probabilities(a.features, m, a.families, a.hard_drop, a.groups)


def page_keep(p: PageData, m: blockmodel.BlockModel) -> list[bool]:
    if p.analysis is None:
        return []
    return blockmodel.decide(page_probs(p, m), p.analysis.hard_drop, m, rule_kept(p.analysis), p.analysis.groups)


def fit(pages: list[PageData], l2: float = L2, stacked: bool = STACKED) -> blockmodel.BlockModel:
    """Weights of both stages, then the thresholds with the best (approximate) F1 on the
    same pages. The second stage learns from the first stage's in-sample probabilities."""
    beta = fit_weights(pages, [p.x for p in pages], l2)
    weights = tuple(float(b) for b in beta)
    context_weights: tuple[float, ...] = ()
    if stacked:
        first = blockmodel.BlockModel(weights, 0.5, 0.5, 0)
        mats = []
        for p in pages:
            a = p.analysis
            if a is None or not len(p.x):
                mats.append(p.x)
                continue
            ctx = blockmodel.context_rows(page_probs(p, first), a.families, a.hard_drop, a.groups)
            mats.append(np.hstack([p.x, np.array(ctx, float)]))
        context_weights = tuple(float(b) for b in fit_weights(pages, mats, l2))
    scored = blockmodel.BlockModel(weights, 0.5, 0.5, 0, context_weights)
    probs = [page_probs(p, scored) for p in pages]
    best, best_key = scored, (False, -1.0)
    for t in THRESHOLDS:
        for low in LOWS:
            if low > t:
                continue
            for gap in GAPS:
                if gap == 0 and low != LOWS[0]:
                    continue
                m = blockmodel.BlockModel(weights, t, low, gap, context_weights)
                keeps = [blockmodel.decide(pr, p.analysis.hard_drop, m, rule_kept(p.analysis), p.analysis.groups) if p.analysis else []
                         for p, pr in zip(pages, probs)]
                f1, recall = approx_scores(pages, keeps)
                key = (recall >= RECALL_FLOOR, f1)
                if key > best_key:
                    best, best_key = m, key
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dirs", type=Path, nargs="+", help="dev folders with html/*.html.gz and ground-truth.json")
    ap.add_argument("--out", type=Path, default=blockmodel.MODEL_FILE, help="where to write the model")
    ap.add_argument("--l2", type=float, default=L2, help="L2 penalty of the logistic regression")
    args = ap.parse_args(argv)
    pages = [p for d in args.dirs for p in load_folder(d)]
    if not pages:
        print("no pages found", file=sys.stderr)
        return 2
    m = fit(pages, args.l2)
    keeps = [page_keep(p, m) for p in pages]
    print(f"pages: {len(pages)}; threshold {m.threshold}, low {m.low}, gap {m.gap}; "
          f"fitted (approximate) F1 {approx_f1(pages, keeps):.4f}")
    args.out.write_text(json.dumps(blockmodel.model_to_dict(m), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
