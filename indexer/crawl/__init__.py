"""Fetching a site: `crawl()` turns start URLs and sitemaps into a stream of pages.

The stream holds `RawPage`s for the pipeline, `IngestError`s for URLs that failed (with
a reason: dns, timeout, connection, status, too-large, not-html, binary, robots,
redirect, ...), `Unchanged` for 304 answers and `Gone` for 404/410 answers.
"""

from .crawler import CrawlItem, CrawlStats, Gone, Unchanged, Validators, crawl
from .options import CrawlOptions, options_from_settings
from .urls import normalize_url, page_id_for_url

__all__ = [
    "CrawlItem", "CrawlOptions", "CrawlStats", "Gone", "Unchanged", "Validators",
    "crawl", "normalize_url", "options_from_settings", "page_id_for_url",
]
