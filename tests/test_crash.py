"""Crash safety, fast version: 3 SIGKILLs during `relief ingest`, and a disk that fills up.

The long run (≥ 20 kills over ≥ 1,000 pages, plus a real tmpfs disk-full) is
`python scripts/crash_ingest.py`; its figures are in docs/reliability.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import crash_ingest  # noqa: E402


def test_three_kills_lose_nothing(tmp_path: Path) -> None:
    lines: list[str] = []
    figures = crash_ingest.crash_run(tmp_path, pages=160, kills=3, seed=11, sample=5, log=lines.append)
    print("\n".join(lines))
    assert figures["kills"] == 3
    assert figures["final_pages"] == 160


def test_killed_first_ingest_keeps_its_checkpoints_and_the_rerun_adds_each_page_once(tmp_path: Path) -> None:
    lines: list[str] = []
    # first_ingest_kill itself asserts the kept pages are searchable, none is stored twice,
    # and the re-run skips exactly the kept pages
    figures = crash_ingest.first_ingest_kill(tmp_path, pages=240, commit_pages=20, log=lines.append)
    print("\n".join(lines))
    assert 0 < figures["kept"] < 240
    assert figures["final_pages"] == 240 and figures["duplicates"] == 0
    assert figures["rerun_unchanged"] == figures["kept"]
    assert figures["workers_ended"] >= 2  # a forkserver and its workers were there, and ended with the ingest


@pytest.fixture(scope="module")
def disk_full(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    lines: list[str] = []
    figures = crash_ingest.disk_full_fsize(tmp_path_factory.mktemp("disk-full"), log=lines.append)
    print("\n".join(lines))
    return figures


def test_write_error_fails_the_run_and_keeps_last_commit(disk_full: dict[str, Any]) -> None:
    # disk_full_fsize itself asserts the last commit is unchanged, searchable, and that
    # the next ingest completes once writes succeed again
    assert disk_full["returncode"] != 0


def test_write_error_message_is_for_people(disk_full: dict[str, Any]) -> None:
    assert not disk_full["problems"], f"{disk_full['problems']}; message was: {disk_full['message']!r}"


@pytest.mark.skipif(not crash_ingest.can_mount(), reason="mounting a tmpfs needs root")
def test_real_disk_full_on_tmpfs(tmp_path: Path) -> None:
    figures = crash_ingest.disk_full_tmpfs(tmp_path, log=print)
    assert figures["returncode"] != 0
    assert not figures["problems"], f"{figures['problems']}; message was: {figures['message']!r}"


# ---------------------------------------------------------------- messages for people


def _relief(*args: str, timeout: float = 120) -> "subprocess.CompletedProcess[str]":
    return subprocess.run([sys.executable, "-m", "indexer.cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout)


def _one_clear_line(result: Any, *must_name: str) -> str:
    err = result.stderr.strip()
    assert result.returncode != 0
    assert "Traceback" not in err, err[-2000:]
    assert len(err.splitlines()) <= 2, err
    for name in must_name:
        assert name in err, f"{name!r} not named in: {err}"
    return err


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("small")
    corpus = crash_ingest.Corpus(work / "pages", 2)
    for pid in range(12):
        corpus.write(pid)
    assert crash_ingest.ingest(work / "index", corpus.folder).returncode == 0
    return work


def test_missing_index_message(tmp_path: Path) -> None:
    missing = tmp_path / "no-index-here"
    err = _one_clear_line(_relief("search", "pain", "--index", str(missing)), str(missing))
    assert "relief ingest" in err


def test_missing_source_is_reported_by_name(tmp_path: Path) -> None:
    result = _relief("ingest", str(tmp_path / "nope.html"), "--index", str(tmp_path / "i"), "--json", "--strict")
    assert "Traceback" not in result.stderr
    skipped = json.loads(result.stdout)["skipped"] if result.stdout.strip() else []
    assert any("nope.html" in s["source"] and s["detail"] for s in skipped) or "nope.html" in result.stderr


@pytest.mark.parametrize("damage", ["current-garbage", "current-missing-gen", "toc-truncated", "segment-deleted"])
def test_damaged_index_gives_a_clear_message_and_rebuild_recovers(small_index: Path, tmp_path: Path, damage: str) -> None:
    import shutil

    from indexer import store

    index = tmp_path / "index"
    shutil.copytree(small_index / "index", index)
    gen = store.live_dir(index)
    assert gen is not None
    if damage == "current-garbage":
        (index / "CURRENT").write_text("../../etc\n")
    elif damage == "current-missing-gen":
        (index / "CURRENT").write_text("gen-19990101T000000-abcdef\n")
    elif damage == "toc-truncated":
        for toc in gen.glob("_MAIN_*.toc"):
            toc.write_bytes(toc.read_bytes()[:10])
    elif damage == "segment-deleted":
        for seg in list(gen.glob("*.seg")) + list(gen.glob("*.trm")) + list(gen.glob("*.pst")):
            seg.unlink()
    result = _relief("search", "pain", "--index", str(index))
    err = _one_clear_line(result, str(index))
    assert "rebuild" in err or "relief ingest" in err, err
    again = _relief("ingest", str(small_index / "pages"), "--index", str(index), "--rebuild", "--json")
    assert again.returncode == 0, again.stderr[-2000:]
    assert crash_ingest.stats(index)["pages"] == 12
