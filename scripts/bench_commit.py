"""Search latency right after a commit: warm-up inside a search vs beside the searches.

    .venv/bin/python scripts/bench_commit.py [--index /tmp/relief-bench/index] [--seconds 30]

A server opened on a large index (`scripts/bench_search.py --large` builds one into
/tmp/relief-bench/index) is warmed, then an editor commits one new page. The server
picks the commit up and keeps searching (bench_search.py's query mix) for `--seconds`; the run prints the slowest
search, p99 and p50, and when the warm-up finished. Both ways run in one process on
copies of the same index, one after the other: `inline` (the second search of a commit
warms the caches, as a batch run wants) and `background` (what `relief serve` does:
slices of ~20 ms under the lock, beside the searches).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import percentile  # noqa: E402

from bench_search import make_queries  # noqa: E402  (the same query mix as the latency benchmark)
from indexer.config import load_settings  # noqa: E402
from indexer.search import Index  # noqa: E402

PAGE = """<html><head><title>{word} stretches</title></head><body><main><h1>{word} stretches</h1>
<p>A {word} stretching routine for a stiff lower back, done slowly each morning.</p></main></body></html>"""


def one_way(source: Path, background: bool, seconds: float, work: Path) -> str:
    index_dir = work / ("bg" if background else "inline")
    shutil.copytree(source, index_dir)
    pages = work / f"pages-{index_dir.name}"
    pages.mkdir()
    (pages / "new.html").write_text(PAGE.format(word=f"zq{index_dir.name}"), encoding="utf-8")
    index = Index.open(index_dir, settings=load_settings(env={}, index=index_dir), background_warm=background)
    index.warm()
    queries = make_queries(index, 2000)
    index.search(queries[-1])
    done = subprocess.run([sys.executable, "-m", "indexer.cli", "ingest", str(pages), "--index", str(index_dir)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"ingest failed: {done.stderr.strip()}")
    t0 = time.perf_counter()
    index.refresh()
    refresh_ms = (time.perf_counter() - t0) * 1000
    times: list[float] = []
    warmed_at = None
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        t = time.perf_counter()
        index.search(queries[len(times) % len(queries)])
        times.append((time.perf_counter() - t) * 1000)
        gen = index.generation
        if warmed_at is None and gen.has_arrays and gen.arrays().warmed:
            warmed_at = time.perf_counter() - start
    index.close()
    times.sort()
    warm = f"{warmed_at:.1f} s" if warmed_at is not None else "not within the run"
    return (f"  {'background' if background else 'inline':<10}  refresh {refresh_ms:5.0f} ms   {len(times):5d} searches   "
            f"slowest {times[-1]:7.0f} ms   p99 {percentile(times, 99):5.0f} ms   p50 {statistics.median(times):5.1f} ms   warmed after {warm}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", default="/tmp/relief-bench/index", help="a built index to copy (not modified)")
    ap.add_argument("--seconds", type=float, default=30.0)
    args = ap.parse_args(argv)
    source = Path(args.index)
    if not source.exists():
        print(f"no index at {source}: build one with scripts/bench_search.py --large", file=sys.stderr)
        return 2
    with Index.open(source, settings=load_settings(env={}, index=source)) as ix:
        passages = ix.stats()["passages"]
    print(f"searches during the {args.seconds:.0f} s after a one-page commit to {passages:,} passages")
    with tempfile.TemporaryDirectory(prefix="relief-commit-") as tmp:
        for background in (False, True):
            print(one_way(source, background, args.seconds, Path(tmp)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
