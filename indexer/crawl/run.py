"""A crawl into the index: the crawl's pages go through the same streaming ingest as files.

`crawl_into_index` is what `relief crawl` calls. The ingest counts 304 answers as
unchanged (their index entries stand) and lists 404/410 answers with their status and
noindex pages with the reason `noindex`. With `prune`, exactly those pages leave the
index afterwards: not the pages this crawl did not reach (a time-out, --max-pages,
another site in the same index), which `ingest_stream(prune=True)` would remove.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from ..config import Settings
from ..model import IngestReport
from .crawler import CrawlItem, CrawlStats, Gone, crawl
from .options import CrawlOptions


@dataclass(frozen=True)
class CrawlRun:
    """A crawl's report: the ingest's counts and skipped URLs, plus the crawl's own counts."""

    report: IngestReport
    stats: CrawlStats
    prunable: int = 0  # indexed pages that answered 404/410 or noindex and stay (no --prune)

    def to_dict(self) -> dict[str, Any]:
        counts = {k: v for k, v in vars(self.stats).items() if k != "failures"}
        return {**self.report.to_dict(), "crawl": {**counts, "prunable": self.prunable}}


def crawl_into_index(
    start_urls: Iterable[str],
    settings: Settings,
    options: CrawlOptions,
    *,
    rebuild: bool = False,
    prune: bool = False,
    workers: int | None = None,
    progress: Any = None,
    on_answer: Callable[[CrawlStats], None] | None = None,
) -> CrawlRun:
    """Crawl from the start URLs (pages or sitemaps) and bring the index up to date.

    `progress` sees the ingest's progress; `on_answer` sees the crawl's counts after each
    URL it settles, which moves long before the first cleaned page is written (a site's
    first pages wait until its template is learned).
    """
    from .. import backend
    from ..pipeline import ingest_stream

    known = {} if rebuild else backend.read_validators(settings)
    stats = CrawlStats()
    gone: list[str] = []
    indexed_gone = 0

    def noting_gone(items: Iterator[CrawlItem]) -> Iterator[CrawlItem]:
        nonlocal indexed_gone
        for item in items:
            if isinstance(item, Gone):
                gone.append(item.page_id)
                if item.url in known:
                    indexed_gone += 1
            if on_answer is not None:
                on_answer(stats)
            yield item

    report = ingest_stream(noting_gone(crawl(start_urls, options, known, stats)), settings,
                           rebuild=rebuild, prune=False, workers=workers, progress=progress)
    if prune and gone:
        with backend.open_writer(settings) as writer:
            present = writer.manifest()
            for page_id in gone:
                if page_id in present:
                    writer.delete_page(page_id)
                    report.removed += 1
    return CrawlRun(report, stats, prunable=0 if prune else indexed_gone)
