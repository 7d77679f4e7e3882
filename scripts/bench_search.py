#!/usr/bin/env python3
"""Search latency: median, p95 and p99 of 500 fixed queries, beside SQLite FTS5.

    .venv/bin/python scripts/bench_search.py [--large] [--rounds 3] [--cache /tmp/relief-bench] [--queries 500]

Two collections: the sample corpus (corpus/) and, with --large, an index of ≥ 90,000
passages built from real HTML documentation: Debian's python3.11-doc and linux-doc-6.1
packages (install them with `sudo apt-get install -y python3.11-doc linux-doc-6.1`). The
large index is built once through the real pipeline into the cache folder and reused
(our 40–250-word passages give ~55,000 from the two packages, so a second copy of the same
HTML under other page ids is ingested to pass 90,000).

Each query asks for the top 10 with snippets and facets from one warm `Index` (what the
web app does); FTS5 (porter, bm25, ORDER BY bm25 LIMIT 10, with snippet()) answers the
same OR queries over the same passages right after it, so both meet the same moments of
a shared machine. Each round opens the index afresh (no query has been seen before); the
ratio printed is the median over rounds of p95(relief) / p95(FTS5). Queries are 2–4 words drawn with
a fixed seed from the collection's own vocabulary (words of 4+ letters present in 2 to
5% of passages… and some rarer), so every run times the same work.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, passages_of, percentile, spell_words  # noqa: E402

from indexer.config import load_settings  # noqa: E402
from indexer.pipeline import ingest  # noqa: E402
from indexer.search import Index  # noqa: E402

DOC_FOLDERS = [Path("/usr/share/doc/python3.11/html"), Path("/usr/share/doc/linux-doc-6.1"), Path("/usr/share/doc/linux-doc")]


def ensure_index(sources: list[Path], index: Path) -> None:
    if (index / "CURRENT").exists():
        return
    print(f"# building {index} from {', '.join(map(str, sources))} (once; reused later) …", file=sys.stderr)
    t0 = time.perf_counter()
    report = ingest([str(s) for s in sources], load_settings(env={}, index=index))
    print(f"# {report.added} pages, {report.passages} passages in {time.perf_counter() - t0:.0f}s", file=sys.stderr)


def ensure_large(sources: list[Path], index: Path, cache: Path, target: int = 90_000) -> None:
    """Our passages are 40–250 words, so the two packages give ~55,000; a second copy of
    the same HTML (other page ids) brings the index past 90,000 passages."""
    with Index.open(index, settings=load_settings(env={}, index=index)) as ix:
        n = ix.stats()["passages"]
    if n >= target:
        return
    import shutil

    copy = cache / "second-copy"
    if not copy.exists():
        for src in sources:
            shutil.copytree(src, copy / src.name.replace("html", "python"), symlinks=False)
    print(f"# {n} passages < {target}: adding a second copy of the HTML from {copy}", file=sys.stderr)
    ingest([str(copy)], load_settings(env={}, index=index))


def make_queries(index: Index, n: int, seed: int = 7) -> list[str]:
    total = index.stats()["passages"]
    vocab = [w for w, df in spell_words(index) if w.isalpha() and len(w) >= 4 and 3 <= df <= max(4, total // 20)]
    rng = random.Random(seed)
    return [" ".join(rng.sample(vocab, rng.randint(2, 4))) for _ in range(n)]


def fts5_db(rows: list[tuple[str, str, str]]) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE p USING fts5(pid UNINDEXED, title, body, tokenize='porter unicode61')")
    db.executemany("INSERT INTO p VALUES (?, ?, ?)", rows)
    return db


def search_fts5(db: sqlite3.Connection, q: str) -> None:
    match = " OR ".join(f'"{w}"' for w in q.split())
    db.execute(
        "SELECT pid, snippet(p, 2, '<mark>', '</mark>', '…', 24) FROM p WHERE p MATCH ? ORDER BY bm25(p, 0.5, 1.0) LIMIT 10",
        (match,),
    ).fetchall()
    db.execute("SELECT count(*) FROM p WHERE p MATCH ?", (match,)).fetchone()


def timed_round(index_path: Path, db: sqlite3.Connection, queries: list[str]) -> tuple[list[float], list[float]]:
    """One pass over the queries with a freshly opened Index, each query timed on both
    engines back to back, so a slow moment of the shared machine hits both alike."""
    index = Index.open(index_path, settings=load_settings(env={}, index=index_path))
    for q in queries[:20]:  # warm caches (the second search warms postings and facets)
        index.search(q)
        search_fts5(db, q)
    ours, fts = [], []
    for q in queries:
        t0 = time.perf_counter()
        index.search(q, per_page=10)
        t1 = time.perf_counter()
        search_fts5(db, q)
        t2 = time.perf_counter()
        ours.append((t1 - t0) * 1000)
        fts.append((t2 - t1) * 1000)
    index.close()
    return ours, fts


def line(label: str, t: list[float]) -> str:
    return f"  {label:<34} p50 {statistics.median(t):7.2f} ms   p95 {percentile(t, 95):7.2f} ms   p99 {percentile(t, 99):7.2f} ms"


def run(index_path: Path, name: str, n: int, rounds: int) -> None:
    index = Index.open(index_path, settings=load_settings(env={}, index=index_path))
    rows = passages_of(index)
    queries = make_queries(index, n)
    index.close()
    db = fts5_db(rows)
    print(f"\n{name}: {len(rows):,} passages, {len(queries)} OR queries, top 10, {rounds} round(s)")
    ratios, all_ours, all_fts = [], [], []
    for r in range(rounds):
        ours, fts = timed_round(index_path, db, queries)
        ratios.append(percentile(ours, 95) / percentile(fts, 95))
        all_ours += ours
        all_fts += fts
        print(f"  round {r + 1}: relief p95 {percentile(ours, 95):.2f} ms, fts5 p95 {percentile(fts, 95):.2f} ms, ratio {ratios[-1]:.2f}")
    print(line("relief (snippets + facets + total)", all_ours))
    print(line("sqlite fts5 (snippet + count)", all_fts))
    print(f"  p95 ratio relief / fts5: {statistics.median(ratios):.2f} (median of rounds; {min(ratios):.2f}–{max(ratios):.2f})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/relief-bench"), help="where the built indexes live")
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--large", action="store_true", help="also the ≥ 90,000-passage documentation index")
    ap.add_argument("--rounds", type=int, default=3, help="passes, each with a freshly opened index")
    args = ap.parse_args(argv)

    small = args.cache / "corpus-index"
    ensure_index([ROOT / "corpus"], small)
    run(small, "corpus/", args.queries, args.rounds)
    if args.large:
        sources = [p for p in DOC_FOLDERS if p.is_dir()]
        if not sources:
            print(
                "\nlarge index: the HTML documentation is not installed. Install it with\n"
                "  sudo apt-get install -y python3.11-doc linux-doc-6.1\n"
                "(it lands in /usr/share/doc/python3.11/html and /usr/share/doc/linux-doc-6.1).",
                file=sys.stderr,
            )
            return 2
        large = args.cache / "index"
        ensure_index(sources, large)
        ensure_large(sources, large, args.cache)
        run(large, "documentation (python3.11-doc + linux-doc-6.1)", args.queries, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
