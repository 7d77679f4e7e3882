"""Crash safety, fast version: 3 SIGKILLs during `relief ingest`, and a disk that fills up.

The long run (≥ 20 kills over ≥ 1,000 pages, plus a real tmpfs disk-full) is
`python scripts/crash_ingest.py`; its figures are in docs/reliability.md.
"""

from __future__ import annotations

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
