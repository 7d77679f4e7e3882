"""Crawl speed against the local test site: pages/s with no added latency and with 50 ms.

    .venv/bin/python scripts/bench_crawl.py [--pages 400] [--rounds 3] [--latency 0.05]

tests/crawl_site.py serves the sample corpus repeated to `--pages` pages on 127.0.0.1,
listed in a gzipped sitemap, from a process of its own. Each configuration crawls the sitemap `--rounds` times
(one fresh site each round, no conditional GETs) and the median pages/s is printed,
all in one run:

- `relief`: our crawler with 16 requests in flight (per-host limits raised to 16 and no
  delay: a local server allows it; a real site gets crawl_host_concurrency and
  crawl_delay, which cap pages/s at host_concurrency / max(delay, response time));
- `relief, polite`: the default per-host concurrency (2), still without the delay;
- `sequential`: the loop a user would write instead: httpx.get for each sitemap URL in
  turn, on one kept-alive connection.

The ratio line says how much of the added latency concurrency hides.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT  # noqa: E402

import httpx  # noqa: E402

from indexer.crawl import CrawlOptions, CrawlStats, crawl  # noqa: E402
from indexer.crawl.sitemaps import Sitemap, parse_sitemap  # noqa: E402
from indexer.model import RawPage  # noqa: E402

FAST = CrawlOptions(delay=0.0, concurrency=16, host_concurrency=16, max_depth=0, max_pages=10**6)


class Site:
    """tests/crawl_site.py in a process of its own, so the server does not share our GIL."""

    def __init__(self, pages: int, latency: float):
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "crawl_site.py"), "--pages", str(pages), "--latency", str(latency)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        assert self.proc.stdout is not None
        base, count = self.proc.stdout.readline().split()
        self.base, self.pages = base, int(count)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def ours(options: CrawlOptions) -> Callable[[str], int]:
    def run(base: str) -> int:
        stats = CrawlStats()
        pages = sum(isinstance(i, RawPage) for i in crawl([base + "/sitemap.xml"], options, stats=stats))
        if stats.failed:
            raise SystemExit(f"the crawl failed on {stats.failed} URLs: {stats.failures[:3]}")
        return pages

    return run


def sequential(base: str) -> int:
    with httpx.Client(timeout=10) as client:
        index = parse_sitemap(client.get(base + "/sitemap.xml").content, "index", 10**8)
        assert isinstance(index, Sitemap)
        urls: list[str] = []
        for child in index.children:
            listed = parse_sitemap(client.get(child).content, child, 10**8)
            assert isinstance(listed, Sitemap)
            urls.extend(listed.pages)
        pages = 0
        for url in urls:
            r = client.get(url)
            pages += r.status_code == 200 and len(r.text) > 0
        return pages


def measure(run: Callable[[str], int], latency: float, pages: int, rounds: int) -> tuple[float, list[float]]:
    rates = []
    for _ in range(rounds):
        site = Site(pages, latency)
        try:
            started = time.perf_counter()
            got = run(site.base)
            seconds = time.perf_counter() - started
        finally:
            site.close()
        if got != site.pages:
            raise SystemExit(f"fetched {got} pages of {site.pages}")
        rates.append(got / seconds)
    return statistics.median(rates), rates


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--latency", type=float, default=0.05, help="seconds added to each response (default 0.05)")
    args = ap.parse_args()
    ways: list[tuple[str, Callable[[str], int]]] = [
        ("relief, 16 in flight", ours(FAST)),
        ("relief, polite (2 per host)", ours(replace(FAST, host_concurrency=CrawlOptions().host_concurrency))),
        ("sequential httpx loop", sequential),
    ]
    print(f"{args.pages} pages, median of {args.rounds} rounds; pages/s")
    print(f"{'':<30}{'no latency':>12}{f'+{args.latency * 1000:.0f} ms':>12}{'ratio':>8}")
    measure(ways[0][1], 0.0, 50, 1)  # imports and first connections, outside the timings
    results: dict[str, tuple[float, float]] = {}
    for name, run in ways:
        fast, _ = measure(run, 0.0, args.pages, args.rounds)
        slow, _ = measure(run, args.latency, args.pages, args.rounds)
        results[name] = (fast, slow)
        print(f"{name:<30}{fast:>12.1f}{slow:>12.1f}{slow / fast:>8.2f}")
    ours_fast, ours_slow = results[ways[0][0]]
    seq_fast, seq_slow = results[ways[2][0]]
    print(f"relief (16 in flight) vs sequential: {ours_fast / seq_fast:.2f}x with no latency, {ours_slow / seq_slow:.2f}x with +{args.latency * 1000:.0f} ms")


if __name__ == "__main__":
    main()
