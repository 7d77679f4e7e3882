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


def _check(options: CrawlOptions) -> None:
    if options.timeout <= 0:
        raise ValueError("crawl_timeout must be above 0 seconds")
    if options.delay < 0 or options.backoff < 0:
        raise ValueError("crawl_delay must be 0 seconds or more")
    for name in ("host_concurrency", "concurrency", "max_pages"):
        if getattr(options, name) < 1:
            raise ValueError(f"{name} must be 1 or more")
    for name in ("retries", "max_depth", "max_redirects"):
        if getattr(options, name) < 0:
            raise ValueError(f"{name} must be 0 or more")
