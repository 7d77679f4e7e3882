#!/usr/bin/env python3
"""The xapian backend beside Whoosh on this machine: ingest pages/s, search latency.

    .venv/bin/python scripts/bench_xapian.py [--docs FILE.tsv] [--queries FILE.tsv] [--n 300] [--rounds 3] [--dask | --analysis]

One run builds the same collection three ways through the real pipeline (Whoosh; Xapian
with 1 shard; Xapian with 2 shards, all local folders), timing each ingest (pages/s; the
cleaning is the same work for all three, so the runs are noisy on a shared machine), then
times the writing alone: the pages are cleaned once, and each round writes them all into a
fresh index of each system, one after the other (pages/s, median over rounds). It then
serves the shards with `xapian-tcpsrv` on 127.0.0.1 (started here, stopped by pid) and
times every query on each system back to back, so all meet the same moments of a shared
machine: Whoosh (`Index`), Xapian 1 shard opened directly, 1 shard over the network, and
2 shards over the network. Each search asks for the top 10 with snippets, facets and the
total (what the web app does). Rounds open every index afresh; the printed ratios are the
median over rounds of p50 and p95 against Whoosh. Default collection: NFCorpus dev
(../shared/data/nfcorpus-dev) with its title queries; else corpus/ with its own words.
With --analysis it only compares ingests with 2 worker processes where the passages are
analysed: on the workers (the default) or by the shard writer.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, percentile  # noqa: E402

import eval_relevance  # noqa: E402

from indexer.backend import open_index  # noqa: E402
from indexer.config import Settings, load_settings  # noqa: E402
from indexer.pipeline import ingest  # noqa: E402

NFCORPUS = ROOT.parent / "shared" / "data" / "nfcorpus-dev"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(path: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _port()
    proc = subprocess.Popen(["xapian-tcpsrv", "--interface", "127.0.0.1", "--port", str(port), str(path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, f"127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    raise SystemExit("xapian-tcpsrv did not start")


def dask_ingest_rate(jsonl: Path, base: Path, procs: list[subprocess.Popen[bytes]]) -> float:
    """pages/s of `relief ingest --dask` into 2 shards, with a local scheduler and 2 workers."""
    from distributed import Client

    from indexer.dask_ingest import ingest_dask

    dask = str(Path(sys.executable).with_name("dask"))
    port = _port()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "start_new_session": True}
    procs.append(subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], **quiet))  # type: ignore[call-overload]
    address = f"tcp://127.0.0.1:{port}"
    for _ in range(600):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.1)
    for name in ("w1", "w2"):
        procs.append(subprocess.Popen([dask, "worker", address, "--name", name, "--nthreads", "1", "--no-nanny", "--no-dashboard"], **quiet))  # type: ignore[call-overload]
    with Client(address, timeout=30, set_as_default=False) as client:
        client.wait_for_workers(2, timeout=120)
    settings = load_settings(env={}, index=base, backend="xapian", shard_writers=f"{base / 'shard-0'},{base / 'shard-1'}", dask=address)
    t0 = time.perf_counter()
    report = ingest_dask([str(jsonl)], settings)
    return report.added / (time.perf_counter() - t0)


def systems(base: Path) -> dict[str, Settings]:
    return {
        "whoosh": load_settings(env={}, index=base / "whoosh"),
        "xapian-1": load_settings(env={}, index=base / "x1", backend="xapian"),
        "xapian-2": load_settings(env={}, index=base / "x2", backend="xapian", shard_writers=f"{base / 'x2' / 'shard-0'},{base / 'x2' / 'shard-1'}"),
    }


def analysis_rates(jsonl: Path, base: Path, rounds: int) -> dict[str, list[float]]:
    """pages/s of whole ingests with 2 worker processes into 2 shards, the passages analysed
    on the workers (the default) or by the shard writer (ShardWriters.worker_analysis off),
    Whoosh (analysis on the workers) beside them; interleaved rounds, fresh indexes."""
    from indexer.xapian.writer import ShardWriters

    rates: dict[str, list[float]] = {}
    for rnd in range(rounds):
        for i, name in enumerate(("whoosh", "xapian-2 writer", "xapian-2 workers")):
            settings = systems(base / f"a{rnd}-{i}")["whoosh" if name == "whoosh" else "xapian-2"]
            ShardWriters.worker_analysis = "" if name == "xapian-2 writer" else "xapian"
            try:
                t0 = time.perf_counter()
                report = ingest([str(jsonl)], settings, workers=2)
                rates.setdefault(name, []).append(report.added / (time.perf_counter() - t0))
            finally:
                ShardWriters.worker_analysis = "xapian"
            shutil.rmtree(base / f"a{rnd}-{i}", ignore_errors=True)
    return rates


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=Path, help="TSV id<TAB>text (default: NFCorpus dev docs)")
    ap.add_argument("--queries", type=Path, help="TSV id<TAB>query (default: NFCorpus dev titles)")
    ap.add_argument("--n", type=int, default=300, help="queries timed per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dask", action="store_true", help="also ingest into 2 shards through a local Dask scheduler and 2 workers")
    ap.add_argument("--analysis", action="store_true", help="only: ingest with 2 workers, passages analysed on the workers vs by the writer")
    args = ap.parse_args(argv)
    docs = args.docs or NFCORPUS / "dev.docs"
    queries_file = args.queries or NFCORPUS / "dev.titles.queries"
    if shutil.which("xapian-tcpsrv") is None:
        raise SystemExit("needs xapian-tools (apt-get install xapian-tools python3-xapian)")
    queries = [q for _, q in eval_relevance.read_tsv(queries_file)][: args.n]
    base = Path(tempfile.mkdtemp(prefix="relief-bench-xapian-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        jsonl = base / "docs.jsonl"
        import json

        with open(jsonl, "w", encoding="utf-8") as fh:
            for rec in eval_relevance.to_records(eval_relevance.read_tsv(docs)):
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        print(f"collection: {docs} ({sum(1 for _ in open(jsonl))} records); {len(queries)} queries from {queries_file.name}; {args.rounds} rounds")
        if args.analysis:
            rates = analysis_rates(jsonl, base, args.rounds)
            print("\ningest with 2 worker processes (median pages/s over rounds, ratio to the writer analysing)")
            for name, got in rates.items():
                ratio = statistics.median(a / b for a, b in zip(got, rates["xapian-2 writer"]))
                print(f"  {name:<17} {statistics.median(got):8.1f} pages/s ({ratio:.2f}x)  rounds: {', '.join(f'{r:.0f}' for r in got)}")
            return 0
        print("\ningest (one process, the same pages each time)")
        for name, settings in systems(base).items():
            t0 = time.perf_counter()
            report = ingest([str(jsonl)], settings)
            took = time.perf_counter() - t0
            print(f"  {name:<10} {report.added:>6} pages {report.passages:>6} passages {took:>7.1f} s {report.added / took:>7.1f} pages/s")
        if args.dask:
            t0 = time.perf_counter()
            rate = dask_ingest_rate(jsonl, base / "xd", procs)
            print(f"  {'xapian-2 dask':<10} {rate:>7.1f} pages/s (scheduler + 2 workers on this machine, {time.perf_counter() - t0:.1f} s with their start)")
        from indexer.backend import open_writer
        from indexer.pipeline import extract_paths

        pages, _ = extract_paths([str(jsonl)], load_settings(env={}))
        write_rates: dict[str, list[float]] = {}
        for rnd in range(args.rounds):
            for name, settings in systems(base / f"w{rnd}").items():
                t0 = time.perf_counter()
                with open_writer(settings, rebuild=True) as writer:
                    for page in pages:
                        writer.put_page(page)
                write_rates.setdefault(name, []).append(len(pages) / (time.perf_counter() - t0))
            shutil.rmtree(base / f"w{rnd}", ignore_errors=True)
        print(f"\nwriting {len(pages)} cleaned pages, {args.rounds} rounds (median pages/s, ratio to whoosh)")
        for name, rates in write_rates.items():
            ratio = statistics.median(a / b for a, b in zip(rates, write_rates["whoosh"]))
            print(f"  {name:<10} {statistics.median(rates):8.1f} pages/s ({ratio:.2f}x)  rounds: {', '.join(f'{r:.0f}' for r in rates)}")
        s = systems(base)
        p1, e1 = start_server(base / "x1" / "shard-0")
        p2a, e2a = start_server(base / "x2" / "shard-0")
        p2b, e2b = start_server(base / "x2" / "shard-1")
        procs += [p1, p2a, p2b]
        openers: dict[str, Settings] = {
            "whoosh": s["whoosh"],
            "xapian-1 local": s["xapian-1"],
            "xapian-1 tcp": s["xapian-1"].with_overrides(shards=e1),
            "xapian-2 tcp": s["xapian-2"].with_overrides(shards=f"{e2a},{e2b}"),
        }
        p50s: dict[str, list[float]] = {k: [] for k in openers}
        p95s: dict[str, list[float]] = {k: [] for k in openers}
        for rnd in range(args.rounds):
            indexes: dict[str, Any] = {k: open_index(v) for k, v in openers.items()}
            times: dict[str, list[float]] = {k: [] for k in openers}
            for q in queries:
                for name, index in indexes.items():
                    t0 = time.perf_counter()
                    index.search(q, per_page=10)
                    times[name].append((time.perf_counter() - t0) * 1000)
            for index in indexes.values():
                index.close()
            print(f"\nround {rnd + 1}: ms per search (top 10, snippets, facets, total)")
            for name, t in times.items():
                p50s[name].append(percentile(t, 50))
                p95s[name].append(percentile(t, 95))
                print(f"  {name:<16} p50 {percentile(t, 50):7.2f}  p95 {percentile(t, 95):7.2f}  p99 {percentile(t, 99):7.2f}")
        print("\nmedian over rounds, ratio to whoosh (p50, p95)")
        for name in openers:
            r50 = statistics.median(a / b for a, b in zip(p50s[name], p50s["whoosh"]))
            r95 = statistics.median(a / b for a, b in zip(p95s[name], p95s["whoosh"]))
            print(f"  {name:<16} p50 {statistics.median(p50s[name]):7.2f} ms ({r50:.2f}x)  p95 {statistics.median(p95s[name]):7.2f} ms ({r95:.2f}x)")
    finally:
        for proc in procs:
            if proc.poll() is None:
                import os

                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
