#!/usr/bin/env python3
"""Concurrency: search from 8 threads and 2 processes while the whole corpus is re-indexed.

    python scripts/concurrency_check.py [--pages 1000] [--threads 8] [--procs 2] [--work DIR]

1. writes --pages synthetic pages (scripts/crash_ingest.py's generator) beside a copy of
   corpus/, ingests them, and keeps the queries that find something (vocabulary words and
   pairs, one marker word per synthetic page, words of the sample corpus);
2. starts --threads search threads sharing one `Index` in this process and --procs worker
   processes with their own `Index`; each loops: refresh, search a random kept query;
3. meanwhile runs two re-indexes of everything: `relief ingest --rebuild` (build beside
   and swap), then an incremental ingest after every synthetic page was rewritten;
4. stops the searchers when both are done and reports searches, errors (any exception)
   and empty answers for queries that had results before (marker words are only held to
   that while their page is unchanged, i.e. during the rebuild).

Exit 1 if any error or empty answer was seen.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, percentile  # noqa: E402

import crash_ingest  # noqa: E402

CORPUS_WORDS = ["massage", "sciatica", "ibuprofen", "acupuncture", "stretching", "heat", "posture", "chiropractic",
                "back pain", "lower back pain", "exercise", "surgery", "yoga", "disc", "nerve"]


class Searcher:
    """Loop over queries until told to stop; count searches, errors and empty answers."""

    def __init__(self, index: Any, stable: list[str], markers: list[str], markers_until: Callable[[], bool], seed: int):
        self.index = index
        self.stable = stable
        self.markers = markers
        self.markers_valid = markers_until
        self.rng = random.Random(seed)
        self.searches = 0
        self.errors: list[str] = []
        self.empty: list[str] = []
        self.latencies: list[float] = []

    def one(self) -> None:
        use_marker = self.markers and self.rng.random() < 0.4
        q = self.rng.choice(self.markers if use_marker else self.stable)
        valid_before = self.markers_valid() if use_marker else True
        t0 = time.perf_counter()
        try:
            self.index.refresh()
            resp = self.index.search(q)
        except Exception:  # noqa: BLE001 - counted and reported
            self.errors.append(f"{q!r}: {traceback.format_exc(limit=6)}")
            return
        finally:
            self.searches += 1
        self.latencies.append((time.perf_counter() - t0) * 1000)
        if resp.total == 0 and valid_before and (not use_marker or self.markers_valid()):
            self.empty.append(q)

    def run(self, stop: threading.Event | Callable[[], bool]) -> None:
        stopped = stop.is_set if isinstance(stop, threading.Event) else stop
        while not stopped():
            self.one()


def open_index(path: Path) -> Any:
    from indexer import Index
    from indexer.config import load_settings

    return Index.open(path, settings=load_settings(env={}, index=path))


def kept_queries(index_path: Path, candidates: list[str]) -> list[str]:
    ix = open_index(index_path)
    try:
        return [q for q in candidates if ix.search(q, facets=False, snippets=False, spell=False).total > 0]
    finally:
        ix.close()


def worker_main(args: argparse.Namespace) -> int:
    """A search process: loop until the stop file appears, then write its counts."""
    spec = json.loads(Path(args.worker).read_text(encoding="utf-8"))
    stop_file = Path(spec["stop"])
    marker_file = Path(spec["markers_valid"])
    index = open_index(Path(spec["index"]))
    s = Searcher(index, spec["stable"], spec["markers"], marker_file.exists, seed=os.getpid())
    Path(spec["ready"]).write_text("ready")
    s.run(stop_file.exists)
    Path(spec["out"]).write_text(json.dumps({"searches": s.searches, "errors": s.errors[:20], "n_errors": len(s.errors),
                                             "empty": s.empty[:20], "n_empty": len(s.empty), "latencies": s.latencies}))
    return 0


def run_check(work: Path, pages: int, threads: int, procs: int, seed: int = 5, log: Callable[[str], None] = print) -> dict[str, Any]:
    rng = random.Random(seed)
    src = work / "sources"
    corpus = crash_ingest.Corpus(src / "synthetic", seed)
    for pid in range(pages):
        corpus.write(pid)
    shutil.copytree(ROOT / "corpus", src / "sample", dirs_exist_ok=True)
    index_path = work / "index"
    t0 = time.monotonic()
    first = crash_ingest.ingest(index_path, src)
    if first.returncode != 0:
        raise AssertionError(f"initial ingest failed: {first.stderr.strip()[-2000:]}")
    log(f"initial ingest of {pages} synthetic pages + corpus/: {time.monotonic() - t0:.1f}s")

    vocab = crash_ingest.VOCAB
    candidates = vocab + [f"{rng.choice(vocab)} {rng.choice(vocab)}" for _ in range(60)] + CORPUS_WORDS
    stable = kept_queries(index_path, candidates)
    markers = kept_queries(index_path, rng.sample(sorted(corpus.markers().values()), min(200, pages)))
    log(f"{len(stable)} stable queries and {len(markers)} marker queries have results before the re-index")
    if len(stable) < 20 or len(markers) < min(50, pages // 2):
        raise AssertionError("too few queries with results before the re-index")

    markers_valid = work / "markers-valid"
    markers_valid.write_text("1")
    stop = work / "stop"
    stop.unlink(missing_ok=True)
    # worker processes
    workers = []
    for i in range(procs):
        spec = {"index": str(index_path), "stable": stable, "markers": markers, "stop": str(stop),
                "markers_valid": str(markers_valid), "out": str(work / f"worker-{i}.json"), "ready": str(work / f"ready-{i}")}
        spec_path = work / f"worker-{i}-spec.json"
        spec_path.write_text(json.dumps(spec))
        workers.append(subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker", str(spec_path)], cwd=ROOT))
    deadline = time.monotonic() + 60
    while not all((work / f"ready-{i}").exists() for i in range(procs)):
        if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
            raise AssertionError("search worker processes did not start")
        time.sleep(0.05)
    # threads sharing one Index
    shared = open_index(index_path)
    event = threading.Event()
    searchers = [Searcher(shared, stable, markers, markers_valid.exists, seed=i) for i in range(threads)]
    ts = [threading.Thread(target=s.run, args=(event,), daemon=True) for s in searchers]
    for t in ts:
        t.start()
    figures: dict[str, Any] = {"pages": pages, "threads": threads, "procs": procs}
    try:
        time.sleep(0.5)
        t0 = time.monotonic()
        rebuild = crash_ingest.ingest(index_path, src, "--rebuild")
        figures["rebuild_seconds"] = round(time.monotonic() - t0, 2)
        if rebuild.returncode != 0:
            raise AssertionError(f"rebuild failed: {rebuild.stderr.strip()[-2000:]}")
        log(f"rebuild (build beside, swap) done in {figures['rebuild_seconds']}s while searching")
        # now rewrite every synthetic page: its marker words change, so they stop counting
        markers_valid.unlink()
        for pid in range(pages):
            corpus.write(pid)
        t0 = time.monotonic()
        update = crash_ingest.ingest(index_path, src)
        figures["update_seconds"] = round(time.monotonic() - t0, 2)
        if update.returncode != 0:
            raise AssertionError(f"incremental re-index failed: {update.stderr.strip()[-2000:]}")
        report = json.loads(update.stdout)
        figures["updated"] = report["updated"]
        log(f"incremental re-index of {report['updated']} changed pages done in {figures['update_seconds']}s while searching")
        time.sleep(0.5)
    finally:
        event.set()
        stop.write_text("stop")
        for t in ts:
            t.join(timeout=60)
        for w in workers:
            try:
                w.wait(timeout=60)
            except subprocess.TimeoutExpired:
                w.kill()
                w.wait()
        shared.close()
    results = [{"searches": s.searches, "errors": s.errors, "n_errors": len(s.errors), "empty": s.empty,
                "n_empty": len(s.empty), "latencies": s.latencies} for s in searchers]
    for i in range(procs):
        out = work / f"worker-{i}.json"
        if not out.exists():
            raise AssertionError(f"search process {i} wrote no results")
        results.append(json.loads(out.read_text()))
    lat = sorted(x for r in results for x in r["latencies"])
    figures.update(
        searches_threads=sum(r["searches"] for r in results[:threads]),
        searches_processes=sum(r["searches"] for r in results[threads:]),
        errors=sum(r["n_errors"] for r in results),
        empty=sum(r["n_empty"] for r in results),
        p50_ms=round(statistics.median(lat), 1) if lat else None,
        p99_ms=round(percentile(lat, 99), 1) if lat else None,
        first_errors=[e for r in results for e in r["errors"]][:3],
        first_empty=[e for r in results for e in r["empty"]][:10],
    )
    final = crash_ingest.stats(index_path)
    figures["final_pages"] = final["pages"]
    log(f"searches: {figures['searches_threads']} from {threads} threads, {figures['searches_processes']} from {procs} processes; "
        f"errors {figures['errors']}, empty answers {figures['empty']}; latency p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms")
    return figures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--work")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker_main(args)
    tmp = None
    work = Path(args.work) if args.work else Path(tmp := tempfile.mkdtemp(prefix="relief-conc-"))
    try:
        figures = run_check(work, args.pages, args.threads, args.procs)
        print(json.dumps(figures, indent=1))
        return 1 if figures["errors"] or figures["empty"] else 0
    except AssertionError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
