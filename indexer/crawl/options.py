"""One options object for a crawl, built from the settings table and CLI flags."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..config import Settings


@dataclass(frozen=True)
class CrawlOptions:
    user_agent: str = "relief-index/0.1 (health page indexer)"
    timeout: float = 10.0  # seconds for connecting and for each read
    retries: int = 2  # further tries after a 5xx answer, a time-out or a dropped connection
    backoff: float = 0.5  # first pause before a retry, doubled each time
    delay: float = 0.5  # least time between two requests to one host (robots.txt may ask more)
    host_concurrency: int = 2  # requests in flight to one host at once
    concurrency: int = 16  # requests in flight in all
    max_pages: int = 10_000
    max_depth: int = 20  # links followed from a start page or sitemap entry
    max_redirects: int = 5
    max_page_bytes: int = 20 * 1024 * 1024
    scope: tuple[str, ...] = ()  # URL prefixes; empty: the hosts of the start URLs
    revisit_known: bool = True  # fetch every known URL in scope again (conditionally)
    robots_sitemaps: bool = True  # read the sitemaps a start page's robots.txt names


def options_from_settings(settings: Settings, **overrides: object) -> CrawlOptions:
    """The crawl_* settings (defaults, RELIEF_CRAWL_* variables, flags) as CrawlOptions."""
    base = CrawlOptions(
        user_agent=settings.crawl_user_agent,
        timeout=settings.crawl_timeout,
        retries=settings.crawl_retries,
        delay=settings.crawl_delay,
        host_concurrency=settings.crawl_host_concurrency,
        max_pages=settings.crawl_max_pages,
        max_depth=settings.crawl_max_depth,
        max_redirects=settings.crawl_max_redirects,
        max_page_bytes=settings.max_page_bytes,
    )
    clean = {k: v for k, v in overrides.items() if v is not None}
    if "scope" in clean:
        clean["scope"] = tuple(clean["scope"])  # type: ignore[arg-type]
    options = replace(base, **clean)  # type: ignore[arg-type]
    _check(options)
    return options


# where a user sets each option, for the error message
_WHERE = {
    "timeout": "RELIEF_CRAWL_TIMEOUT", "delay": "RELIEF_CRAWL_DELAY", "backoff": "backoff",
    "host_concurrency": "RELIEF_CRAWL_HOST_CONCURRENCY", "concurrency": "concurrency",
    "max_pages": "--max-pages or RELIEF_CRAWL_MAX_PAGES", "retries": "RELIEF_CRAWL_RETRIES",
    "max_depth": "--max-depth or RELIEF_CRAWL_MAX_DEPTH", "max_redirects": "RELIEF_CRAWL_MAX_REDIRECTS",
}


def _check(options: CrawlOptions) -> None:
    least = {"timeout": None, "delay": 0, "backoff": 0, "host_concurrency": 1, "concurrency": 1, "max_pages": 1,
             "retries": 0, "max_depth": 0, "max_redirects": 0}
    for name, floor in least.items():
        value = getattr(options, name)
        if (value <= 0) if floor is None else (value < floor):
            need = "above 0" if floor is None else f"{floor} or more"
            raise ValueError(f"crawl {name.replace('_', ' ')} must be {need}, not {value} ({_WHERE[name]})")
