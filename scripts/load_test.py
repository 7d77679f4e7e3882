#!/usr/bin/env python3
"""Load: 32 keep-alive connections against `relief serve` for 30 s, idle and during re-indexing.

    python scripts/load_test.py [--pages 1000] [--connections 32] [--seconds 30] [--work DIR] [--wrk]

Builds an index of --pages synthetic pages plus corpus/ in a temporary folder, starts
`relief serve` on a free port of 127.0.0.1 (the only address it ever talks to), then runs
two phases with a Python load generator (one thread and one HTTP/1.1 keep-alive
connection per simulated client; every request is timed):

1. idle: only the load;
2. re-index: the same load while `relief ingest --rebuild` and a full incremental
   re-index (every synthetic page rewritten) run one after another until the phase ends.

The request mix is /api/search (60%), /search (25%), /page/<id> (10%) and /healthz (5%)
over queries known to have results. For each phase it reports requests, requests/s,
p50/p90/p99/max latency, status counts, 5xx and dropped connections (a request that got
no complete answer: reset, closed early, or no answer within 30 s).

--wrk also runs Debian's `wrk` (if installed) with the same connection count on
/api/search for a cross-check of the latency figures.

Exit 1 if any phase saw a 5xx or a dropped connection.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, percentile  # noqa: E402

import crash_ingest  # noqa: E402

HOST = "127.0.0.1"  # loopback only, always
QUERIES = ["back pain", "massage", "sciatica", "heat", "stretching exercises", "lower back pain", "ibuprofen",
           "posture", "yoga", "walking", "disc", "nerve pain", "sleep mattress", "core strength", "acupuncture",
           "chiropractic", "muscle strain", "cold", "physiotherapy", "rest"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def start_server(index: Path, port: int, threads: int | None = None) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "search_web.cli", "serve", "--index", str(index), "--host", HOST, "--port", str(port)]
    env = None
    if threads:
        import os

        env = {**os.environ, "RELIEF_THREADS": str(threads)}
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return proc
            conn.close()
        except OSError:
            pass
        if proc.poll() is not None:
            raise AssertionError(f"relief serve exited with {proc.returncode}")
        time.sleep(0.2)
    proc.kill()
    raise AssertionError("relief serve did not answer /healthz within 60 s")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Client(threading.Thread):
    """One connection, requests back to back until the deadline."""

    def __init__(self, port: int, urls: list[str], deadline: float, seed: int, timeout: float = 30.0):
        super().__init__(daemon=True)
        self.port, self.urls, self.deadline, self.timeout = port, urls, deadline, timeout
        self.rng = random.Random(seed)
        self.latencies: list[float] = []
        self.status: Counter[int] = Counter()
        self.dropped: list[str] = []
        self.reconnects = 0

    def run(self) -> None:
        conn: http.client.HTTPConnection | None = None
        while time.monotonic() < self.deadline:
            url = self.rng.choice(self.urls)
            if conn is None:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
            t0 = time.perf_counter()
            try:
                conn.request("GET", url, headers={"Connection": "keep-alive"})
                resp = conn.getresponse()
                resp.read()
                self.latencies.append((time.perf_counter() - t0) * 1000)
                self.status[resp.status] += 1
                if resp.getheader("Connection", "").lower() == "close" or resp.will_close:
                    conn.close()
                    conn = None
                    self.reconnects += 1
            except (OSError, http.client.HTTPException) as exc:
                self.dropped.append(f"{url}: {type(exc).__name__}: {exc}")
                conn.close()
                conn = None
        if conn is not None:
            conn.close()


def run_phase(port: int, urls: list[str], connections: int, seconds: float) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    clients = [Client(port, urls, deadline, seed=i) for i in range(connections)]
    started = time.monotonic()
    for c in clients:
        c.start()
    for c in clients:
        c.join(timeout=seconds + 60)
    elapsed = time.monotonic() - started
    lat = sorted(x for c in clients for x in c.latencies)
    status: Counter[int] = Counter()
    for c in clients:
        status.update(c.status)
    dropped = [d for c in clients for d in c.dropped]

    def pct(p: float) -> float:
        return round(percentile(lat, p * 100), 1)

    return {
        "connections": connections,
        "seconds": round(elapsed, 1),
        "requests": len(lat),
        "rps": round(len(lat) / elapsed, 1),
        "p50_ms": pct(0.50),
        "p90_ms": pct(0.90),
        "p99_ms": pct(0.99),
        "max_ms": round(lat[-1], 1) if lat else None,
        "mean_ms": round(statistics.fmean(lat), 1) if lat else None,
        "status": {str(k): v for k, v in sorted(status.items())},
        "5xx": sum(v for k, v in status.items() if k >= 500),
        "dropped": len(dropped),
        "first_dropped": dropped[:5],
        "reconnects": sum(c.reconnects for c in clients),
    }


def reindex_loop(index: Path, src: Path, corpus: crash_ingest.Corpus, stop: threading.Event, log: list[str]) -> None:
    n = 0
    while not stop.is_set():
        if n % 2 == 0:
            result = crash_ingest.ingest(index, src, "--rebuild")
            what = "rebuild"
        else:
            for pid in list(corpus.version):
                corpus.write(pid)
            result = crash_ingest.ingest(index, src)
            what = "full re-index"
        log.append(f"{what}: exit {result.returncode}")
        if result.returncode != 0:
            log.append(result.stderr.strip()[-1000:])
        n += 1


def wrk_phase(port: int, connections: int, seconds: int) -> dict[str, Any] | None:
    wrk = shutil.which("wrk")
    if not wrk:
        return None
    out = subprocess.run([wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "30s",
                          f"http://{HOST}:{port}/api/search?q=back+pain"], capture_output=True, text=True, timeout=seconds + 60)
    text = out.stdout
    fig: dict[str, Any] = {"raw": text}
    for key, pat in (("p50", r"^\s+50%\s+(\S+)"), ("p90", r"^\s+90%\s+(\S+)"), ("p99", r"^\s+99%\s+(\S+)"),
                     ("rps", r"^Requests/sec:\s+(\S+)")):
        m = re.search(pat, text, re.MULTILINE)
        fig[key] = m.group(1) if m else None
    m = re.search(r"Socket errors: (.*)", text)
    fig["socket_errors"] = m.group(1) if m else "none"
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    fig["non_2xx_3xx"] = int(m.group(1)) if m else 0
    return fig


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--work")
    ap.add_argument("--wrk", action="store_true", help="also run Debian's wrk, when installed")
    args = ap.parse_args(argv)
    tmp = None
    work = Path(args.work) if args.work else Path(tmp := tempfile.mkdtemp(prefix="relief-load-"))
    server = None
    try:
        src = work / "sources"
        corpus = crash_ingest.Corpus(src / "synthetic", 9)
        for pid in range(args.pages):
            corpus.write(pid)
        shutil.copytree(ROOT / "corpus", src / "sample", dirs_exist_ok=True)
        index = work / "index"
        first = crash_ingest.ingest(index, src)
        if first.returncode != 0:
            raise AssertionError(f"ingest failed: {first.stderr[-2000:]}")
        rng = random.Random(3)
        page_ids = rng.sample(sorted(crash_ingest.index_state(index)), 40)
        urls = (
            [f"/api/search?q={quote(q)}" for q in QUERIES] * 3
            + [f"/search?q={quote(q)}" for q in QUERIES[:10]] * 2 + [f"/search?q={quote(q)}&group=page" for q in QUERIES[10:]] * 1
            + ["/page/" + quote(pid, safe="/") for pid in page_ids[:8]] * 1
            + ["/healthz"] * 5
        )
        port = free_port()
        server = start_server(index, port)
        print(f"relief serve on {HOST}:{port}, {args.pages} synthetic pages + corpus/; {len(urls)} URLs in the mix", file=sys.stderr)
        # warm up
        run_phase(port, urls, 4, 2)
        out: dict[str, Any] = {}
        out["idle"] = run_phase(port, urls, args.connections, args.seconds)
        print(f"idle: {json.dumps(out['idle'])}", file=sys.stderr)
        if args.wrk:
            out["wrk_idle"] = wrk_phase(port, args.connections, int(args.seconds))
        stop = threading.Event()
        log: list[str] = []
        reindexer = threading.Thread(target=reindex_loop, args=(index, src, corpus, stop, log), daemon=True)
        reindexer.start()
        time.sleep(1.0)
        out["reindex"] = run_phase(port, urls, args.connections, args.seconds)
        if args.wrk:
            out["wrk_reindex"] = wrk_phase(port, args.connections, int(args.seconds))
        stop.set()
        reindexer.join(timeout=600)
        out["reindex"]["reindex_runs"] = log
        print(f"during re-index: {json.dumps(out['reindex'])}", file=sys.stderr)
        print(json.dumps(out, indent=1))
        bad = any(out[k]["5xx"] or out[k]["dropped"] for k in ("idle", "reindex"))
        bad = bad or any("exit 0" not in line for line in log if line.startswith(("rebuild", "full")))
        return 1 if bad else 0
    except AssertionError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        if server is not None:
            stop_server(server)
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
