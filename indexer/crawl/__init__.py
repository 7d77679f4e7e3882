"""Fetching a site: `crawl()` turns start URLs and sitemaps into a stream of pages.

The stream holds `RawPage`s for the pipeline, `IngestError`s for URLs that failed (with
a reason: dns, timeout, connection, status, too-large, not-html, binary, robots,
redirect, ...), `Unchanged` for 304 answers and `Gone` for 404/410 answers. `crawl_into_index` feeds
that stream into the index (`relief crawl`).
"""

from .crawler import CrawlItem, CrawlStats, Gone, Unchanged, Validators, crawl
from .options import CrawlOptions, options_from_settings
from .run import CrawlRun, crawl_into_index
from .urls import normalize_url, page_id_for_url, start_url_problem

__all__ = [
    "CrawlItem", "CrawlOptions", "CrawlRun", "CrawlStats", "Gone", "Unchanged", "Validators",
    "crawl", "crawl_into_index", "normalize_url", "options_from_settings", "page_id_for_url", "start_url_problem",
]
