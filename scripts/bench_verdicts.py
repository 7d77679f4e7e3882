#!/usr/bin/env python
"""What verdicts cost the pipeline: pages per CPU-second with and without them.

Usage::

    python scripts/bench_verdicts.py [DIR] [--rounds N]

Runs `extract_paths` over DIR's HTML pages (default: the project's corpus/) in rounds,
alternating with `verdicts.attach` on and off in the same process, and prints the medians
and their ratio. CPU time, not wall time, so a busy shared machine moves both alike.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT  # noqa: E402

from indexer import pipeline, verdicts  # noqa: E402
from indexer.config import Settings  # noqa: E402
from indexer.model import Page  # noqa: E402


def _rate(files: list[str], on: bool) -> float:
    original = verdicts.attach

    def off(page: Page) -> Page:
        return page

    pipeline.verdicts.attach = original if on else off  # type: ignore[assignment]
    try:
        started = time.process_time()
        pages, _ = pipeline.extract_paths(files, Settings())
        return len(pages) / max(1e-9, time.process_time() - started)
    finally:
        pipeline.verdicts.attach = original  # type: ignore[assignment]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path, nargs="?", default=ROOT / "corpus")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    files = sorted(str(p) for p in args.folder.glob("*.htm*"))
    _rate(files, True), _rate(files, False)  # warm caches
    with_v, without = [], []
    for _ in range(args.rounds):
        with_v.append(_rate(files, True))
        without.append(_rate(files, False))
    a, b = statistics.median(with_v), statistics.median(without)
    print(f"{len(files)} pages, {args.rounds} rounds: {a:.1f} pages/CPU-s with verdicts, {b:.1f} without (ratio {a / b:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
