"""Hostile and malformed pages: ingest finishes, accounts for every input, stays small and quick.

The inputs are generated at test time by scripts/make_hostile.py (--fast sizes): deep
nesting, unclosed tags, 1 MB attributes, binary junk, gzip bombs, lying encodings, files
over the size limit, empty files, JSONL with broken lines, XSS payloads, odd file names.
`relief ingest` runs in a child process so its peak memory (max RSS) can be measured.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import make_hostile  # noqa: E402

LIMIT_CPU_SECONDS = 120
HANG_SECONDS = 900
LIMIT_RSS_BYTES = 1024**3
MIN_INPUTS = 200


def run_measured(cmd: list[str], timeout: float, cwd: Path = ROOT, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a child and return its exit code, output, CPU time and peak RSS (bytes).

    CPU seconds (the child's and its reaped workers') stand for "finishes quickly": wall
    time on a shared machine measures the neighbours; the wall timeout only catches a hang.
    """
    out_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"relief-hostile-{os.getpid()}-{time.monotonic_ns()}"
    with open(f"{out_path}.out", "wb") as out, open(f"{out_path}.err", "wb") as err:
        started = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=cwd, env=env)
        status, usage = 0, None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - started > timeout:
                os.kill(proc.pid, signal.SIGKILL)
                _, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
    stdout = Path(f"{out_path}.out").read_bytes().decode("utf-8", "replace")
    stderr = Path(f"{out_path}.err").read_bytes().decode("utf-8", "replace")
    for suffix in (".out", ".err"):
        Path(f"{out_path}{suffix}").unlink(missing_ok=True)
    return {
        "returncode": proc.returncode,
        "stdout": stdout,
        "stderr": stderr,
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime if usage else 0.0,
        "max_rss": usage.ru_maxrss * 1024 if usage else 0,  # Linux reports KiB
    }


def relief(*args: str) -> list[str]:
    return [sys.executable, "-m", "indexer.cli", *args]


def indexed_sources(index_dir: Path) -> set[str]:
    """The source of every page in the index (from the stored page metadata)."""
    from whoosh import index as whoosh_index

    from indexer import store

    gen = store.live_dir(index_dir)
    assert gen is not None, f"no committed index in {index_dir}"
    sources: set[str] = set()
    ix = whoosh_index.open_dir(str(gen))
    with ix.reader() as reader:
        for fields in reader.all_stored_fields():
            meta = fields.get("page_meta")
            if meta:
                sources.add(json.loads(meta)["source"])
    return sources


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("hostile") / "in"
    entries = make_hostile.build(folder, fast=True)
    index = tmp_path_factory.mktemp("hostile-index") / "idx"
    run = run_measured(relief("ingest", str(folder), "--index", str(index), "--json"), timeout=HANG_SECONDS)
    run.update(folder=folder, entries=entries, index=index)
    return run


def test_generator_makes_enough_inputs(hostile_run: dict[str, Any]) -> None:
    inputs = [e for e in hostile_run["entries"] if e["expect"] != "ignored"]
    assert len(inputs) >= MIN_INPUTS
    kinds = {e["kind"] for e in inputs}
    for kind in ("nested", "broken", "big-attr", "binary", "gzip-bomb", "encoding", "huge", "empty", "jsonl", "xss"):
        assert kind in kinds


def test_ingest_finishes_quickly_and_small(hostile_run: dict[str, Any]) -> None:
    print(f"hostile ingest: {hostile_run['seconds']:.1f} s wall, {hostile_run['cpu_seconds']:.1f} s CPU, peak RSS {hostile_run['max_rss'] / 2**20:.0f} MiB")
    assert hostile_run["returncode"] == 0, hostile_run["stderr"][-3000:]
    assert hostile_run["seconds"] < HANG_SECONDS
    assert hostile_run["cpu_seconds"] < LIMIT_CPU_SECONDS
    assert hostile_run["max_rss"] < LIMIT_RSS_BYTES
    assert "Traceback" not in hostile_run["stderr"], hostile_run["stderr"][-3000:]


def _report(hostile_run: dict[str, Any]) -> dict[str, Any]:
    assert hostile_run["returncode"] == 0, hostile_run["stderr"][-3000:]
    return json.loads(hostile_run["stdout"])


def test_every_failure_has_a_reason_for_people(hostile_run: dict[str, Any]) -> None:
    report = _report(hostile_run)
    assert report["skipped"], "hostile inputs must produce skips"
    for item in report["skipped"]:
        assert re.fullmatch(r"[a-z][a-z-]*", item["reason"]), item
        assert item["detail"].strip(), f"{item['source']}: reason {item['reason']} has no detail for people"
        assert item["source"].startswith(str(hostile_run["folder"])), item


def _jsonl_lines(path: Path) -> list[int] | None:
    data = path.read_bytes()
    if path.suffix == ".gz":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError):
            return None
    return [n for n, line in enumerate(data.splitlines(), start=1) if line.strip()]


def test_every_input_is_indexed_or_reported(hostile_run: dict[str, Any]) -> None:
    report = _report(hostile_run)
    folder: Path = hostile_run["folder"]
    skipped = {item["source"]: item["reason"] for item in report["skipped"]}
    indexed = indexed_sources(hostile_run["index"])
    missing: list[str] = []
    wrong: list[str] = []
    for entry in hostile_run["entries"]:
        if entry["expect"] == "ignored":
            continue
        path = folder / entry["file"]
        source = str(path)
        if entry["expect"] == "page":
            if source not in indexed:
                wrong.append(f"{entry['file']}: expected a page, got {skipped.get(source, 'nothing')}")
            continue
        if entry["expect"] not in ("any", "page"):
            if skipped.get(source) != entry["expect"]:
                wrong.append(f"{entry['file']}: expected {entry['expect']}, got {skipped.get(source, 'indexed' if source in indexed else 'nothing')}")
            continue
        if source in indexed or source in skipped:
            continue
        if ".jsonl" in path.name:
            lines = _jsonl_lines(path)
            if lines is not None:
                for n in lines:
                    where = f"{source}:{n}"
                    if where not in indexed and where not in skipped:
                        missing.append(where)
                continue
        missing.append(source)
    assert not wrong, "\n".join(wrong)
    assert not missing, "inputs neither indexed nor reported:\n" + "\n".join(missing)


def test_index_answers_after_hostile_ingest(hostile_run: dict[str, Any]) -> None:
    report = _report(hostile_run)
    stats = subprocess.run(relief("stats", "--index", str(hostile_run["index"]), "--json"), capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["pages"] == report["added"]
    found = subprocess.run(relief("search", "back pain relief", "--index", str(hostile_run["index"]), "--json"), capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["total"] > 0


def test_second_run_changes_nothing(hostile_run: dict[str, Any]) -> None:
    """Re-ingesting the same hostile folder finds every indexed page unchanged."""
    report = _report(hostile_run)
    again = run_measured(relief("ingest", str(hostile_run["folder"]), "--index", str(hostile_run["index"]), "--json"), timeout=HANG_SECONDS)
    assert again["returncode"] == 0, again["stderr"][-3000:]
    second = json.loads(again["stdout"])
    assert second["added"] == 0 and second["updated"] == 0
    assert second["unchanged"] >= report["added"]


def test_no_library_noise_on_stderr(hostile_run: dict[str, Any]) -> None:
    """Messages are for people: no Python warnings or library log lines leak from a run."""
    noise = [line for line in hostile_run["stderr"].splitlines()
             if "Warning" in line or "could not be decoded" in line or "Traceback" in line]
    assert not noise, "\n".join(sorted(set(noise))[:10])
