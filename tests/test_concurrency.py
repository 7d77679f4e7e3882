"""Concurrency, fast version: 8 search threads and 2 search processes during a full rebuild
and a re-index of every page: no errors, no empty answers for queries that had results.

The long run (1,000 pages) is `python scripts/concurrency_check.py`; figures in docs/reliability.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import concurrency_check  # noqa: E402


def test_search_during_reindex(tmp_path: Path) -> None:
    lines: list[str] = []
    figures = concurrency_check.run_check(tmp_path, pages=60, threads=8, procs=2, log=lines.append)
    print("\n".join(lines))
    assert figures["errors"] == 0, figures["first_errors"]
    assert figures["empty"] == 0, figures["first_empty"]
    assert figures["searches_threads"] >= 8 and figures["searches_processes"] >= 2
    assert figures["updated"] == 60
    assert figures["final_pages"] >= 60
