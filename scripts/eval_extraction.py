#!/usr/bin/env python
"""Article-body extraction benchmark: our cleaner against trafilatura, readability and bs4.

Usage::

    python scripts/eval_extraction.py DIR [DIR ...] [--limit N]
        [--systems ours,trafilatura,readability,bs4] [--worst K] [--json OUT]
        [--cv K] [--speed-cli N] [--cache FOLDER]

Each DIR holds ``html/<id>.html.gz`` and ``ground-truth.json`` (see its SOURCE.md). Each page is
read with ``gzip.open(path, "rt", encoding="utf8")``, cleaned by ``indexer.clean.clean_page``
and ``Page.text`` is compared with the ground truth's ``articleBody``.

Metric (as SOURCE.md defines it): word tokens are ``re.findall(r"\\w+", text)`` with case
kept; 4-token shingles (a text of fewer than 4 tokens is one shingle); shingles matched as
multisets. Per page, precision = matched / extracted shingles (only when the extracted text
is not empty) and recall = matched / ground-truth shingles; each is averaged over the pages
and F1 is the harmonic mean of the two averages. Accuracy is the share of pages whose token
sequence equals the ground truth exactly. ``F1 std`` is a bootstrap standard deviation
(pages resampled with replacement, 200 resamples, fixed seed).

Speed is pages per second of the extraction call alone (files are read and decompressed
before timing). All systems run in the same process one after the other, so their ratio is
meaningful even on a busy machine; absolute figures are not.

``--cv K`` reports generalisation: the pages of all DIRs are split into K folds (by a hash of
set and page id); for each fold the block model is fitted on the other K-1 folds with
scripts/fit_clean.py's code and the fold's pages are cleaned with it and scored. The
figures per set are over the held-out pages only, beside the peers on the same pages.

``--speed-cli N`` times ``relief extract --json`` on the first N ``.html.gz`` pages of the
DIRs in a child process, minus the same command's time on one page (its start-up), and
compares pages/s with trafilatura's in-process rate on the same N pages, timed just before
in each of 3 rounds; the median ratio is quoted.

``--cache FOLDER`` keeps the peers' outputs and times (keyed by system and page hash), so
repeated runs only re-run our cleaner.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DevPage, dev_pages, html_raw_page, shingles, tokens  # noqa: E402

from indexer.clean import clean_page  # noqa: E402
from indexer.model import Page  # noqa: E402

BOOTSTRAP = 200
SEED = 20240601


# --------------------------------------------------------------------------- metric


@dataclass
class PageScore:
    page_id: str
    precision: float | None  # None when the extracted text is empty
    recall: float
    exact: bool


def score_page(page_id: str, extracted: str, truth: str) -> PageScore:
    ext_toks, gt_toks = tokens(extracted), tokens(truth)
    ext, gt = shingles(ext_toks), shingles(gt_toks)
    matched = sum((ext & gt).values())
    n_ext, n_gt = sum(ext.values()), sum(gt.values())
    precision = None if not extracted.strip() else (matched / n_ext if n_ext else 0.0)
    recall = matched / n_gt if n_gt else (1.0 if not n_ext else 0.0)
    return PageScore(page_id, precision, recall, ext_toks == gt_toks)


def aggregate(scores: list[PageScore]) -> tuple[float, float, float, float]:
    """(precision, recall, f1, accuracy) averaged over pages."""
    precs = [s.precision for s in scores if s.precision is not None]
    p = sum(precs) / len(precs) if precs else 0.0
    r = sum(s.recall for s in scores) / len(scores) if scores else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    acc = sum(s.exact for s in scores) / len(scores) if scores else 0.0
    return p, r, f1, acc


def bootstrap_f1_std(scores: list[PageScore], n: int = BOOTSTRAP, seed: int = SEED) -> float:
    if len(scores) < 2:
        return 0.0
    rng = random.Random(seed)
    f1s = []
    for _ in range(n):
        sample = [scores[rng.randrange(len(scores))] for _ in scores]
        f1s.append(aggregate(sample)[2])
    mean = sum(f1s) / len(f1s)
    return (sum((f - mean) ** 2 for f in f1s) / (len(f1s) - 1)) ** 0.5


# --------------------------------------------------------------------------- systems


Doc = DevPage


@dataclass
class Result:
    name: str
    scores: list[PageScore] = field(default_factory=list)
    seconds: float = 0.0
    errors: int = 0
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def pages_per_second(self) -> float:
        return len(self.scores) / self.seconds if self.seconds else float("inf")


def ours(doc: Doc) -> str:
    page = clean_page(html_raw_page(doc.page_id, doc.path, doc.url, doc.html))
    return page.text if isinstance(page, Page) else ""


def make_readability() -> Callable[[Doc], str] | None:
    try:
        from readability import Document
    except ImportError:
        return None
    from bs4 import BeautifulSoup

    def run(doc: Doc) -> str:
        summary = Document(doc.html).summary(html_partial=True)
        return BeautifulSoup(summary, "lxml").get_text(" ")

    return run


def bs4_get_text(doc: Doc) -> str:
    from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

    with warnings.catch_warnings():  # XHTML read as HTML on purpose, like the other systems
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        return BeautifulSoup(doc.html, "lxml").get_text("\n")


def make_trafilatura() -> Callable[[Doc], str] | None:
    try:
        import trafilatura
    except ImportError:
        return None

    def run(doc: Doc) -> str:
        out = trafilatura.extract(doc.html, include_comments=False, include_tables=True, favor_precision=False)
        return out or ""

    return run


def run_system(name: str, fn: Callable[[Doc], str], docs: list[Doc], cache: Path | None = None) -> Result:
    res = Result(name)
    stored: dict[str, list] = {}
    cache_file = cache / f"{name}.json" if cache and name != "ours" else None
    if cache_file and cache_file.exists():
        stored = json.loads(cache_file.read_text(encoding="utf8"))
    for doc in docs:
        key = hashlib.sha256(doc.html.encode("utf8", "surrogatepass")).hexdigest()
        if key in stored:
            text, seconds = stored[key]
        else:
            t0 = time.perf_counter()
            try:
                text = fn(doc)
            except Exception as exc:  # a crashing system scores an empty extraction
                print(f"  {name}: {doc.page_id[:12]} raised {type(exc).__name__}: {exc}", file=sys.stderr)
                text, res.errors = "", res.errors + 1
            seconds = time.perf_counter() - t0
            stored[key] = [text, seconds]
        res.seconds += seconds
        res.outputs[doc.page_id] = text
        res.scores.append(score_page(doc.page_id, text, doc.truth))
    if cache_file:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        cache_file.write_text(json.dumps(stored), encoding="utf8")
    return res


def load(folder: Path, limit: int | None) -> list[Doc]:
    return list(dev_pages(folder, limit))


SYSTEM_NAMES = {"ours": "ours (indexer.clean)", "trafilatura": "trafilatura", "readability": "readability-lxml",
                "bs4": "bs4 get_text", "ours-cv": "ours, cross-validated"}


def systems_table(systems: tuple[str, ...]) -> dict[str, Callable[[Doc], str] | None]:
    return {
        "ours": ours,
        "trafilatura": make_trafilatura() if "trafilatura" in systems else None,
        "readability": make_readability() if "readability" in systems else None,
        "bs4": bs4_get_text,
    }


def evaluate(folder: Path, limit: int | None = None, systems: tuple[str, ...] = ("ours",)) -> dict[str, Result]:
    """Run the named systems over the folder; the library entry point the quality gate uses."""
    docs = load(folder, limit)
    table = systems_table(systems)
    results = {}
    for name in systems:
        fn = table.get(name)
        if fn is None:
            continue
        results[name] = run_system(name, fn, docs)
    return results


def fold_of(dataset: str, page_id: str, k: int) -> int:
    return int(hashlib.sha256(f"{dataset}/{page_id}".encode()).hexdigest(), 16) % k


def cross_validate(folders: list[Path], k: int, limit: int | None = None) -> dict[str, Result]:
    """Held-out results of ours per folder name: fit on k-1 folds, clean and score the k-th."""
    import fit_clean

    pages = [p for f in folders for p in fit_clean.load_folder(f, limit)]
    results = {f.name: Result("ours-cv") for f in folders}
    by_id: dict[tuple[str, str], tuple[str, PageScore]] = {}
    for fold in range(k):
        train = [p for p in pages if fold_of(p.dataset, p.page_id, k) != fold]
        test = [p for p in pages if fold_of(p.dataset, p.page_id, k) == fold]
        model = fit_clean.fit(train)
        for p in test:
            text = ""
            if p.analysis is not None:
                keep = fit_clean.page_keep(p, model)
                blocks = [s.text for s, kk in zip(p.analysis.segs, keep) if kk]
                text = "\n\n".join(blocks)
            by_id[(p.dataset, p.page_id)] = (text, score_page(p.page_id, text, p.truth))
        print(f"  fold {fold + 1}/{k}: fitted on {len(train)} pages, threshold {model.threshold}, "
              f"low {model.low}, gap {model.gap}", file=sys.stderr)
    for p in pages:  # in load order, so the scores line up with the peers' docs
        text, score = by_id[(p.dataset, p.page_id)]
        results[p.dataset].scores.append(score)
        results[p.dataset].outputs[p.page_id] = text
    return results


# bs4's UnicodeDammit (sources.py) runs chardet over a whole page without a charset
# declaration when chardet is importable; the bench extra brings it in (readability-lxml
# needs it), a plain install of the project does not have it.
_DETECTORS = ("chardet", "cchardet", "charset_normalizer")
_RELIEF_WITHOUT_DETECTORS = (
    "import sys\n"
    f"for m in {_DETECTORS!r}: sys.modules[m] = None\n"
    "from search_web.cli import main\n"
    "sys.exit(main())"
)


def speed_cli(folders: list[Path], n: int, traf: Callable[[Doc], str] | None, rounds: int = 3) -> None:
    """pages/s of `relief extract --json` on n pages (start-up excluded) vs trafilatura in-process.

    Timed two ways: as this environment is (chardet importable), and as a plain install of
    the project runs (no charset detector importable). The machine's load moves from minute
    to minute, so each round times both and trafilatura back to back, and the ratios quoted
    are the medians over the rounds."""
    paths = [p for f in folders for p in sorted((f / "html").glob("*.html.gz"))][:n]
    variants = {
        "this environment": [sys.executable, "-m", "search_web.cli"],
        "no charset detector (a plain install)": [sys.executable, "-c", _RELIEF_WITHOUT_DETECTORS],
    }
    docs = []
    for path in paths:
        with gzip.open(path, "rt", encoding="utf8") as fh:
            docs.append(Doc(path.name.split(".")[0], path, "", fh.read(), ""))
    ratios: dict[str, list[float]] = {label: [] for label in variants}
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, RELIEF_INDEX=str(Path(tmp) / "index"))

        def timed(cmd: list[str], files: list[Path]) -> float:
            t0 = time.perf_counter()
            subprocess.run([*cmd, "extract", "--json", *map(str, files)], env=env, check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            return time.perf_counter() - t0

        for r in range(rounds):
            traf_rate = run_system("trafilatura", traf, docs).pages_per_second if traf else 0.0
            line = [f"round {r + 1}: trafilatura in-process {traf_rate:.1f} pages/s"]
            for label, cmd in variants.items():
                startup = min(timed(cmd, paths[:1]) for _ in range(2))
                rate = (len(paths) - 1) / max(timed(cmd, paths) - startup, 1e-9)
                line.append(f"relief extract, {label}: {rate:.1f} pages/s (start-up {startup:.2f} s)")
                if traf_rate:
                    ratios[label].append(rate / traf_rate)
            print("\n  ".join(line))
    for label, rs in ratios.items():
        if rs:
            print(f"ratio relief extract/trafilatura on {len(paths)} pages, {label}: median {statistics.median(rs):.2f} "
                  f"over {len(rs)} rounds ({', '.join(f'{x:.2f}' for x in rs)})")


def print_table(title: str, results: dict[str, Result]) -> None:
    print(title)
    header = f"{'system':<22} {'F1':>6} {'±std':>6} {'prec':>6} {'recall':>6} {'acc':>6} {'pages/s':>8} {'errors':>6}"
    print(header)
    print("-" * len(header))
    for name, res in results.items():
        p, r, f1, acc = aggregate(res.scores)
        std = bootstrap_f1_std(res.scores)
        speed = f"{res.pages_per_second:8.1f}" if res.seconds else f"{'-':>8}"
        print(f"{SYSTEM_NAMES[name]:<22} {f1:6.3f} {std:6.3f} {p:6.3f} {r:6.3f} {acc:6.3f} {speed} {res.errors:6d}")
    if "ours" in results and "trafilatura" in results:
        ratio = results["ours"].pages_per_second / results["trafilatura"].pages_per_second
        print(f"speed ratio ours/trafilatura: {ratio:.2f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dirs", type=Path, nargs="+", help="folders with html/*.html.gz and ground-truth.json")
    ap.add_argument("--limit", type=int, default=None, help="only the first N pages of each folder (sorted by id)")
    ap.add_argument("--systems", default="ours,trafilatura,readability,bs4", help="comma list of ours,trafilatura,readability,bs4")
    ap.add_argument("--worst", type=int, default=0, help="list our K worst pages by page F1")
    ap.add_argument("--json", type=Path, default=None, help="write our extractions in the benchmark's shape")
    ap.add_argument("--cv", type=int, default=0, metavar="K", help="also report K-fold cross-validated figures of ours")
    ap.add_argument("--speed-cli", type=int, default=0, metavar="N", help="time relief extract --json on N pages")
    ap.add_argument("--cache", type=Path, default=None, help="folder keeping the peers' outputs between runs")
    args = ap.parse_args(argv)

    systems = tuple(s.strip() for s in args.systems.split(",") if s.strip())
    fns = systems_table(systems)
    for peer in ("trafilatura", "readability"):
        if peer in systems and fns[peer] is None:
            print(f"note: {peer} is not installed; skipping the peer")
    cv = cross_validate(args.dirs, args.cv, args.limit) if args.cv else {}
    outputs: dict[str, str] = {}
    for folder in args.dirs:
        docs = load(folder, args.limit)
        if not docs:
            print(f"no pages found under {folder}", file=sys.stderr)
            return 2
        results: dict[str, Result] = {}
        for name in systems:
            fn = fns.get(name)
            if fn is not None:
                results[name] = run_system(name, fn, docs, args.cache)
        if folder.name in cv:
            results["ours-cv"] = cv[folder.name]
        print_table(f"\npages: {len(docs)} from {folder}", results)
        if args.worst and "ours" in results:
            print(f"\nour {args.worst} worst pages (page F1, precision, recall):")

            def page_f1(s: PageScore) -> float:
                p = s.precision or 0.0
                return 2 * p * s.recall / (p + s.recall) if p + s.recall else 0.0

            for s in sorted(results["ours"].scores, key=page_f1)[: args.worst]:
                prec = "  -  " if s.precision is None else f"{s.precision:.3f}"
                print(f"  {s.page_id[:16]}  {page_f1(s):.3f}  {prec}  {s.recall:.3f}")
        if "ours" in results:
            outputs.update(results["ours"].outputs)
    if args.json and outputs:
        out = {pid: {"articleBody": text} for pid, text in outputs.items()}
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf8")
    if args.speed_cli:
        speed_cli(args.dirs, args.speed_cli, fns.get("trafilatura") or make_trafilatura())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
