"""The crawler's tuning data, read once from indexer/data/crawl.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache

from ..fields import DATA_DIR

RULES_FILE = DATA_DIR / "crawl.toml"


@dataclass(frozen=True)
class CrawlRules:
    index_pages: frozenset[str]
    tracking_params: frozenset[str]
    skip_suffixes: tuple[str, ...]
    html_types: frozenset[str]
    text_types: frozenset[str]
    sitemap_types: frozenset[str]
    retry_statuses: frozenset[int]
    gone_statuses: frozenset[int]
    max_wait_seconds: float
    max_child_sitemaps: int
    max_sitemap_urls: int
    valued_directives: frozenset[str]


@lru_cache(maxsize=1)
def rules() -> CrawlRules:
    data = tomllib.loads(RULES_FILE.read_text(encoding="utf-8"))
    urls, content, http = data["urls"], data["content"], data["http"]
    return CrawlRules(
        index_pages=frozenset(n.lower() for n in urls["index_pages"]),
        tracking_params=frozenset(p.lower() for p in urls["tracking_params"]),
        skip_suffixes=tuple(s.lower() for s in urls["skip_suffixes"]),
        html_types=frozenset(content["html"]),
        text_types=frozenset(content["text"]),
        sitemap_types=frozenset(content["sitemap"]),
        retry_statuses=frozenset(int(s) for s in http["retry_statuses"]),
        gone_statuses=frozenset(int(s) for s in http["gone_statuses"]),
        max_wait_seconds=float(http["max_wait_seconds"]),
        max_child_sitemaps=int(http["max_child_sitemaps"]),
        max_sitemap_urls=int(http["max_sitemap_urls"]),
        valued_directives=frozenset(d.lower() for d in data["robots"]["valued_directives"]),
    )
