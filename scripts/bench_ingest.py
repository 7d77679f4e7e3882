#!/usr/bin/env python3
"""End-to-end ingest: pages/s and peak memory, ours on 1 and 2 workers, against the pipeline a
user would write instead (trafilatura extraction + SQLite FTS5 inserts, one core).

    python scripts/bench_ingest.py [--sizes 1000,10000,50000] [--workers 1,2] [--rounds 1]
                                   [--no-baseline] [--work DIR] [--json]

The pages are real HTML from Debian's documentation packages (python3.11-doc,
linux-doc-6.1: `apt-get install python3.11-doc linux-doc-6.1`), repeated under other
folders (other page ids) to reach each size; repeats are hard links of one copy. Each
configuration runs as its own process on a fresh index (`pipeline.ingest` with
`--workers N`, as `relief ingest` runs it); its time is wall clock (and the CPU seconds of its process tree, which a loaded machine
changes less), its memory the peak
resident size of the whole process tree (the ingest and its worker processes, sampled from
/proc every 0.2 s) and of the ingest process alone (the kernel's high-water mark).
Memory is also recorded along each run: the peaks reached before 1k, 2k, 5k, 10k, 20k, 50k
… pages were done (`--marks`), so one large run gives the whole curve.
With --rounds R every size runs R times, configurations interleaved, and medians are
reported. The figures that matter are ratios within one run: 2 workers / 1 worker,
ours / the baseline, and peak memory at each size / at the smallest.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT  # noqa: E402

DOCS = (Path("/usr/share/doc/python3.11/html"), Path("/usr/share/doc/linux-doc-6.1"))


def source_files() -> list[tuple[Path, Path]]:
    """(file, the documentation root it is under) for every HTML page of the packages."""
    found = []
    for root in DOCS:
        if root.is_dir():
            found += [(p, root) for p in sorted(root.rglob("*")) if p.is_file() and p.name.endswith((".html", ".html.gz"))]
    if not found:
        raise SystemExit("no Debian documentation HTML found: apt-get install python3.11-doc linux-doc-6.1")
    return found


def make_corpus(work: Path, files: list[tuple[Path, Path]], size: int) -> Path:
    """A folder of `size` pages: the packages' pages once, then hard-linked repeats."""
    first = work / "pages" / "r0"
    if not first.exists():
        for src, root in files:
            dest = first / root.name / src.relative_to(root)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
    originals = sorted(p for p in first.rglob("*") if p.is_file())
    corpus = work / f"corpus-{size}"
    if corpus.exists():
        return corpus
    for i in range(size):
        rep, k = divmod(i, len(originals))
        src = originals[k]
        dest = corpus / f"r{rep}" / src.relative_to(first)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.link(src, dest)
    return corpus


def _tree(pid: int) -> tuple[int, float]:
    """Resident bytes of a process and all its descendants, and the CPU seconds they used
    (their own and their ended children's: pool workers are reaped by the forkserver)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    cpu: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        cpu[int(entry)] = sum(int(x) for x in fields[11:15]) / tick
    total, seconds, todo = 0, 0.0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        seconds += cpu.get(p, 0.0)
        todo += children.get(p, [])
    return total, seconds


def _status_bytes(pid: int, key: str) -> int:
    """A size line of /proc/PID/status (VmRSS, VmHWM) in bytes; 0 once the process is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def measure(cmd: list[str], marks: tuple[int, ...] = ()) -> dict[str, Any]:
    """Run a child to its end: wall seconds, its own peak RSS, and the tree's sampled peak.

    A child that prints `done N` lines on stderr (pages done so far) also gets a curve:
    for each mark, the peaks reached before N passed it, and when it passed.
    """
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    done, err_lines = [0], []

    def read_progress() -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace")
            if line.startswith("done "):
                done[0] = int(line.split()[1])
            else:
                err_lines.append(line)

    reader = threading.Thread(target=read_progress, daemon=True)
    reader.start()
    peak = peak_self = 0
    cpu = 0.0
    curve: list[dict[str, Any]] = []
    todo = list(marks)
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        now = done[0]
        while todo and now >= todo[0]:  # passed a mark: the peaks so far are its figures
            curve.append({"pages": todo.pop(0), "seconds": round(time.monotonic() - started, 1),
                          "rss_tree": peak, "rss_self": peak_self, "cpu": round(cpu, 1)})
            print(f"{'':>6}   by {curve[-1]['pages']:>6} pages ({curve[-1]['seconds']:7.1f} s, CPU {cpu:7.1f} s): "
                  f"peak RSS tree {peak / 2**20:6.0f} MiB, ingest process {peak_self / 2**20:6.0f} MiB", flush=True)
        rss, seconds = _tree(proc.pid)
        peak, cpu = max(peak, rss), max(cpu, seconds)
        peak_self = max(peak_self, _status_bytes(proc.pid, "VmHWM"))
        time.sleep(0.2)
    seconds = time.monotonic() - started
    assert proc.stdout is not None
    out = proc.stdout.read()
    reader.join(timeout=5)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({code}): {''.join(err_lines)[-2000:]}")
    rss_self = usage.ru_maxrss * 1024
    cpu = max(cpu, usage.ru_utime + usage.ru_stime)
    return {"seconds": seconds, "cpu": cpu, "rss_self": rss_self, "rss_tree": max(peak, rss_self), "curve": curve,
            "stdout": out.decode("utf-8", "replace")}


def run_ours(corpus: Path, work: Path, workers: int, marks: tuple[int, ...] = ()) -> dict[str, Any]:
    index = work / f"index-{workers}w"
    shutil.rmtree(index, ignore_errors=True)
    m = measure([sys.executable, str(Path(__file__).resolve()), "--ours-run", str(corpus), str(index), str(workers)],
                marks)
    report = json.loads(m.pop("stdout"))
    m.update(pages=report["added"], passages=report["passages"], skipped=len(report["skipped"]))
    shutil.rmtree(index, ignore_errors=True)
    return m


def ours_run(corpus: Path, index: Path, workers: int) -> None:
    """`relief ingest CORPUS --index INDEX --workers N --json`, telling the bench how far it is."""
    from indexer.config import load_settings
    from indexer.pipeline import IngestProgress, ingest

    last = [0]

    def progress(p: IngestProgress) -> None:
        if p.done - last[0] >= 50:
            last[0] = p.done
            print(f"done {p.done}", file=sys.stderr, flush=True)

    report = ingest([str(corpus)], load_settings(index=index), workers=workers, progress=progress)
    print(json.dumps(report.to_dict()))


def run_baseline(corpus: Path, work: Path) -> dict[str, Any]:
    db = work / "baseline.sqlite"
    db.unlink(missing_ok=True)
    m = measure([sys.executable, str(Path(__file__).resolve()), "--baseline-run", str(corpus), str(db)])
    m.update(json.loads(m.pop("stdout")))
    db.unlink(missing_ok=True)
    return m


def baseline_run(corpus: Path, db: Path) -> None:
    """What a user would write: walk the files, trafilatura for the text, FTS5 for the search."""
    import trafilatura

    con = sqlite3.connect(db)
    con.execute("CREATE VIRTUAL TABLE pages USING fts5(path UNINDEXED, title, body)")
    pages = skipped = 0
    for dirpath, _dirs, names in os.walk(corpus):
        for name in sorted(names):
            path = Path(dirpath) / name
            data = path.read_bytes()
            if name.endswith(".gz"):
                data = gzip.decompress(data)
            doc = trafilatura.bare_extraction(data.decode("utf-8", "replace"), with_metadata=True)
            body = getattr(doc, "text", None) if doc is not None and not isinstance(doc, dict) else (doc or {}).get("text")
            title = getattr(doc, "title", None) if doc is not None and not isinstance(doc, dict) else (doc or {}).get("title")
            if not body:
                skipped += 1
                continue
            con.execute("INSERT INTO pages VALUES (?, ?, ?)", (str(path), title or "", body))
            pages += 1
            if pages % 500 == 0:
                con.commit()
    con.commit()
    con.close()
    print(json.dumps({"pages": pages, "skipped": skipped}))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000,50000")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--work", help="work folder (default: a temporary one, removed afterwards)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON at the end")
    ap.add_argument("--marks", default="1000,2000,5000,10000,20000,50000",
                    help="page counts at which each run's memory so far is recorded")
    ap.add_argument("--baseline-run", nargs=2, metavar=("CORPUS", "DB"), help=argparse.SUPPRESS)
    ap.add_argument("--ours-run", nargs=3, metavar=("CORPUS", "INDEX", "WORKERS"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.baseline_run:
        baseline_run(Path(args.baseline_run[0]), Path(args.baseline_run[1]))
        return 0
    if args.ours_run:
        ours_run(Path(args.ours_run[0]), Path(args.ours_run[1]), int(args.ours_run[2]))
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    workers = [int(w) for w in args.workers.split(",")]
    marks = [int(n) for n in args.marks.split(",") if n]
    tmp = None
    work = Path(args.work) if args.work else Path(tmp := tempfile.mkdtemp(prefix="relief-bench-ingest-"))
    work.mkdir(parents=True, exist_ok=True)
    files = source_files()
    print(f"{len(files)} documentation pages; sizes {sizes}; workers {workers}; rounds {args.rounds}", flush=True)
    results: dict[int, dict[str, list[dict[str, Any]]]] = {}
    try:
        for size in sizes:
            corpus = make_corpus(work, files, size)
            runs: dict[str, list[dict[str, Any]]] = {}
            for r in range(args.rounds):
                for w in workers:
                    m = run_ours(corpus, work, w, tuple(n for n in marks if n < size))
                    runs.setdefault(f"{w}w", []).append(m)
                    _line(size, f"relief {w}w", r, m)
                    _curve(size, m)
                if not args.no_baseline:
                    m = run_baseline(corpus, work)
                    runs.setdefault("baseline", []).append(m)
                    _line(size, "trafilatura+fts5", r, m)
            results[size] = runs
            if not args.work:
                shutil.rmtree(corpus, ignore_errors=True)
        summary = _summary(results, sizes, workers)
        for line in summary["lines"]:
            print(line)
        if args.json:
            print(json.dumps({"results": {str(k): v for k, v in results.items()}, "ratios": summary["ratios"]}, indent=1))
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _line(size: int, label: str, r: int, m: dict[str, Any]) -> None:
    print(f"{size:>6} pages  {label:<17} round {r + 1}: {m['seconds']:8.1f} s  {size / m['seconds']:7.1f} pages/s  "
          f"CPU {m['cpu']:7.1f} s  "
          f"peak RSS tree {m['rss_tree'] / 2**20:6.0f} MiB, ingest process {m['rss_self'] / 2**20:6.0f} MiB", flush=True)


def _curve(size: int, m: dict[str, Any]) -> None:
    """Memory along one run, and each point over the first (e.g. the peak by 50k over the peak by 1k)."""
    points = [*m["curve"], {"pages": size, "seconds": round(m["seconds"], 1), "rss_tree": m["rss_tree"],
                            "rss_self": m["rss_self"]}]
    first = points[0]
    for p in points:
        print(f"{'':>6}   by {p['pages']:>6} pages ({p['seconds']:7.1f} s): peak RSS tree {p['rss_tree'] / 2**20:6.0f} MiB "
              f"(×{p['rss_tree'] / max(first['rss_tree'], 1):.2f}), ingest process {p['rss_self'] / 2**20:6.0f} MiB "
              f"(×{p['rss_self'] / max(first['rss_self'], 1):.2f})", flush=True)


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def _summary(results: dict[int, dict[str, list[dict[str, Any]]]], sizes: list[int], workers: list[int]) -> dict[str, Any]:
    lines, ratios = ["", "medians and ratios"], {}
    smallest = sizes[0]
    for size in sizes:
        runs = results[size]
        speed = {k: size / _median(v, "seconds") for k, v in runs.items()}
        row: dict[str, float] = {f"pages_per_s_{k}": round(s, 2) for k, s in speed.items()}
        if "1w" in speed and "2w" in speed:
            row["2w_over_1w"] = round(speed["2w"] / speed["1w"], 2)
        if "baseline" in speed and "2w" in speed:
            row["2w_over_baseline"] = round(speed["2w"] / speed["baseline"], 2)
        for k, v in runs.items():
            row[f"cpu_s_{k}"] = round(_median(v, "cpu"), 1)
            row[f"rss_tree_mib_{k}"] = round(_median(v, "rss_tree") / 2**20, 1)
            if size != smallest and k in results[smallest]:
                row[f"rss_tree_{k}_over_{smallest}"] = round(_median(v, "rss_tree") / _median(results[smallest][k], "rss_tree"), 2)
                row[f"rss_self_{k}_over_{smallest}"] = round(_median(v, "rss_self") / _median(results[smallest][k], "rss_self"), 2)
        ratios[size] = row
        lines.append(f"{size:>6} pages: " + ", ".join(f"{k} {v}" for k, v in row.items()))
    return {"lines": lines, "ratios": ratios}


if __name__ == "__main__":
    sys.exit(main())
