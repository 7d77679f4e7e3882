"""The crawler against a real local web site (tests/crawl_site.py) on 127.0.0.1."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from crawl_site import ORPHAN, TRAPS, WRONG_CHARSET_TEXT, CrawlSite
from indexer.config import load_settings
from indexer.crawl import CrawlOptions, CrawlStats, Gone, Unchanged, Validators, crawl, options_from_settings
from indexer.crawl.fetch import error_reason
from indexer.model import IngestError, RawPage

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
FAST = CrawlOptions(delay=0.0, timeout=0.5, backoff=0.01, concurrency=8, host_concurrency=4)


def run(start: list[str], options: CrawlOptions = FAST, known: dict[str, Validators] | None = None) -> tuple[list, CrawlStats]:
    stats = CrawlStats()
    return list(crawl(start, options, known, stats)), stats


@pytest.fixture(scope="module")
def site():
    with CrawlSite(CORPUS, slow_seconds=1.5) as s:
        yield s


@pytest.fixture(scope="module")
def full_crawl(site):
    items, stats = run([site.url("/")])
    return items, stats, dict(site.hits)


def pages_of(items: list) -> dict[str, RawPage]:
    pages = [i for i in items if isinstance(i, RawPage)]
    by_url = {p.url: p for p in pages}
    assert len(by_url) == len(pages), "a page was yielded twice"
    return by_url


def test_every_corpus_page_is_fetched_once_from_the_home_page(site, full_crawl):
    items, stats, hits = full_crawl
    pages = pages_of(items)
    assert site.page_urls() <= set(pages)
    assert len({p.page_id for p in pages.values()}) == len(pages)
    assert hits["/robots.txt"] == 1
    assert stats.pages == len(pages)
    odd = [(u, p.site, p.etag) for u, p in pages.items() if "/pages/" in u and not (p.site == site.base and p.etag)]
    assert not odd
    text_page = pages[site.url("/pages/heat-and-cold-therapy-for-back-pain.txt")]
    assert text_page.kind == "text"
    acupuncture = "/pages/acupuncture-for-back-pain.html"
    assert site.gzipped[acupuncture] == 1 and pages[site.url(acupuncture)].body.encode() == site.pages[acupuncture]  # sent compressed


def test_every_trap_ends_as_expected(site, full_crawl):
    items, stats, hits = full_crawl
    pages = pages_of(items)
    failures = {e.source: e for e in items if isinstance(e, IngestError)}
    gone = {g.url: g for g in items if isinstance(g, Gone)}
    for path, expected in TRAPS.items():
        url = site.url(path)
        if expected == "page":
            assert url in pages, path
        elif expected == "gone":
            assert url in gone and gone[url].error.reason == "status", path
        elif expected == "duplicate":
            assert url not in pages and url not in failures, path
        elif expected == "noindex":
            assert url in gone and gone[url].error.reason == "noindex" and url not in pages, path
        else:
            assert url in failures, path
            assert failures[url].reason == expected, (path, failures[url])
    assert stats.duplicates >= 3
    assert site.url("/canon/b") in pages  # a canonical loop loses no page
    assert hits["/pages/back-pain.html"] == 1  # also reached by a redirect from /moved, fetched once
    assert "410" in gone[site.url("/removed")].error.detail
    assert stats.noindex == 3 and stats.gone == len(gone) - 3


def test_noindex_pages_stay_out_but_their_links_are_followed_unless_nofollow(site, full_crawl):
    items, _, hits = full_crawl
    pages = pages_of(items)
    gone = {g.url: g for g in items if isinstance(g, Gone)}
    assert site.url("/noindex/linked") in pages  # linked only from a noindex page
    assert hits.get("/noindex/unfollowed", 0) == 0  # linked only from a "none" (noindex, nofollow) page
    assert "X-Robots-Tag" in gone[site.url("/noindex/header")].error.detail
    assert "meta" in gone[site.url("/noindex/meta")].error.detail


def test_robots_disallowed_page_is_never_requested(full_crawl):
    _, _, hits = full_crawl
    assert hits.get("/private/secret.html", 0) == 0


def test_retries_are_bounded_and_a_503_is_retried(full_crawl):
    items, _, hits = full_crawl
    assert hits["/broken"] == FAST.retries + 1
    assert hits["/flaky"] == 2
    broken = next(e for e in items if isinstance(e, IngestError) and e.source.endswith("/broken"))
    assert "500" in broken.detail


def test_redirects_stay_in_scope_and_loops_end(site, full_crawl):
    items, _, hits = full_crawl
    failures = {e.source: e for e in items if isinstance(e, IngestError)}
    assert "loop" in failures[site.url("/loop/a")].detail
    assert "offsite.invalid" in failures[site.url("/offsite")].detail
    assert hits["/loop/a"] == 1 and hits["/loop/b"] == 1


def test_urls_are_normalised_so_one_page_is_one_url(site, full_crawl):
    items, _, hits = full_crawl
    pages = pages_of(items)
    assert hits["/guide/"] == 1 and hits.get("/guide/index.html", 0) == 0
    assert hits.get("/image.png", 0) == 0
    massage = site.url("/pages/massage-therapy-for-back-pain.html")
    assert pages[massage].source == massage  # the canonical page, not its print view
    assert not any("#" in u for u in pages)


def test_wrong_charset_header_still_reads_right(site, full_crawl):
    pages = pages_of(full_crawl[0])
    page = pages[site.url("/wrong-charset")]
    assert WRONG_CHARSET_TEXT in page.body
    assert page.encoding == "utf-8"


def test_a_sitemap_index_and_gzipped_sitemap_give_the_pages(site):
    items, stats = run([site.url("/sitemap.xml")], replace(FAST, max_depth=0))
    assert set(pages_of(items)) == site.page_urls()
    assert stats.sitemaps == 2
    assert not [i for i in items if not isinstance(i, RawPage)]


def test_sitemaps_named_in_robots_txt_are_read_when_starting_from_a_page():
    with CrawlSite(CORPUS, orphan=True) as site:
        items, stats = run([site.url("/")], replace(FAST, max_depth=0))
        hits = dict(site.hits)
        assert set(pages_of(items)) == site.page_urls() | {site.url("/"), site.url(ORPHAN)}
        assert stats.robots_sitemaps == 1 and stats.sitemaps == 2
        assert hits["/robots.txt"] == 1 and hits["/sitemap.xml"] == 1 and hits[ORPHAN] == 1

        # under a --scope prefix, the sitemap's other pages stay out
        items, _ = run([site.url("/pages/back-pain.html")], replace(FAST, max_depth=0, scope=(site.url("/pages/"),)))
        assert set(pages_of(items)) == site.page_urls()

        # switched off, or when the start URL is a sitemap itself, robots.txt adds nothing
        site.hits.clear()
        items, stats = run([site.url("/")], replace(FAST, max_depth=1, robots_sitemaps=False))
        assert site.url(ORPHAN) not in pages_of(items) and stats.sitemaps == 0 and "/sitemap.xml" not in site.hits
        items, stats = run([site.url("/sitemaps/pages.xml.gz")], replace(FAST, max_depth=0))
        assert stats.robots_sitemaps == 0 and stats.sitemaps == 1 and site.url(ORPHAN) in pages_of(items)


def test_recrawl_sends_validators_and_unchanged_pages_are_not_downloaded(site, full_crawl):
    pages = pages_of(full_crawl[0])
    known = {u: Validators(p.page_id, p.etag, p.last_modified) for u, p in pages.items() if p.etag}
    before = dict(site.not_modified)
    items, stats = run([site.url("/sitemap.xml")], replace(FAST, max_depth=0), known)
    unchanged = {i.url: i for i in items if isinstance(i, Unchanged)}
    assert set(unchanged) == site.page_urls()
    assert all(unchanged[u].page_id == known[u].page_id for u in unchanged)
    assert not [i for i in items if isinstance(i, RawPage)]
    for path in site.pages:
        assert site.not_modified[path] == before.get(path, 0) + 1


def test_known_urls_are_revisited_and_a_changed_page_comes_back(tmp_path):
    with CrawlSite(CORPUS) as site:
        first, _ = run([site.url("/sitemap.xml")], replace(FAST, max_depth=0))
        known = {p.url: Validators(p.page_id, p.etag, p.last_modified) for p in pages_of(first).values()}
        changed, removed = "/pages/back-pain.html", "/pages/back-pain-relief.html"
        site.pages[changed] = site.pages[changed].replace(b"</body>", b"<p>Updated advice on sitting.</p></body>")
        del site.pages[removed]
        # start from a page with no links: every other page is reached as a known URL
        items, _ = run([site.url("/pages/heat-and-cold-therapy-for-back-pain.txt")], replace(FAST, max_depth=0), known)
    pages = pages_of(items)
    assert site.url(changed) in pages and b"sitting" in pages[site.url(changed)].body.encode()
    gone = [i for i in items if isinstance(i, Gone)]
    assert [g.url for g in gone] == [site.url(removed)] and gone[0].page_id == known[site.url(removed)].page_id
    unchanged = {i.url for i in items if isinstance(i, Unchanged)}
    assert len(unchanged) == len(known) - 2  # all but the changed and the removed page (the start page too)


def test_same_body_under_a_new_etag_is_marked_for_its_validators(site, full_crawl):
    pages = pages_of(full_crawl[0])
    known = {u: Validators(p.page_id, p.etag, p.last_modified, p.sha256) for u, p in pages.items() if p.etag}
    path = "/pages/back-pain.html"
    site.etag_salt[path] = "server moved"
    try:
        items, stats = run([site.url("/sitemap.xml")], replace(FAST, max_depth=0), known)
    finally:
        del site.etag_salt[path]
    fresh = pages_of(items)
    assert set(fresh) == {site.url(path)} and fresh[site.url(path)].refresh
    assert fresh[site.url(path)].etag != known[site.url(path)].etag and fresh[site.url(path)].sha256 == known[site.url(path)].sha256
    assert stats.revalidated == 1 and stats.unchanged == len(site.pages) - 1

    # a changed body is a changed page, not a mere change of validators
    changed = {**known, site.url(path): replace(known[site.url(path)], etag='"old"', sha256="0" * 64)}
    items, stats = run([site.url("/sitemap.xml")], replace(FAST, max_depth=0), changed)
    assert [p.refresh for p in pages_of(items).values()] == [False] and stats.revalidated == 0


def test_scope_prefix_max_depth_and_max_pages(site):
    items, _ = run([site.url("/")], replace(FAST, scope=(site.url("/pages/"),)))
    urls = set(pages_of(items))
    assert urls <= site.page_urls() | {site.url("/")}
    assert not any(isinstance(i, IngestError) and "/loop/" in i.source for i in items)

    items, _ = run([site.url("/")], replace(FAST, max_depth=0, robots_sitemaps=False))
    assert set(pages_of(items)) == {site.url("/")}

    items, stats = run([site.url("/")], replace(FAST, max_pages=5))
    assert stats.requested == 5 and len(items) <= 5 and stats.over_max_pages > 0


def test_per_host_delay_from_robots_crawl_delay(tmp_path):
    with CrawlSite(CORPUS, crawl_delay=0.15) as site:
        items, _ = run([site.url("/sitemap.xml")], replace(FAST, max_depth=0, max_pages=5))
        starts = [t for t, path in site.times if path.startswith("/pages/")]
    assert len(starts) == 5
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert min(gaps) >= 0.1 and starts[-1] - starts[0] >= 0.55, gaps  # 0.15 s apart, less timing jitter


def test_user_agent_is_sent_and_settings_reach_the_options(site):
    settings = load_settings(env={"RELIEF_CRAWL_USER_AGENT": "relief-test/1.0", "RELIEF_CRAWL_DELAY": "0", "RELIEF_CRAWL_TIMEOUT": "2.5"})
    options = options_from_settings(settings, max_pages=1)
    assert options.timeout == 2.5 and options.delay == 0.0 and options.max_pages == 1
    site.agents.clear()
    run([site.url("/guide/")], options)
    assert site.agents == {"relief-test/1.0"}


def test_bad_options_and_bad_start_urls_are_clear_errors():
    with pytest.raises(ValueError, match="RELIEF_CRAWL_TIMEOUT"):
        options_from_settings(load_settings(env={"RELIEF_CRAWL_TIMEOUT": "0"}))
    items, stats = run(["ftp://example.org/", "not a url"])
    assert [i.reason for i in items] == ["bad-url", "bad-url"] and stats.failed == 2


def test_connection_refused_and_dns_failures_are_reasons(site):
    with CrawlSite(CORPUS) as closed:
        url = closed.url("/")
    items, _ = run([url], replace(FAST, retries=1))
    assert [(type(i), i.reason) for i in items] == [(IngestError, "connection")]
    import httpx

    assert error_reason(httpx.ConnectError("[Errno -2] Name or service not known"))[0] == "dns"
    assert error_reason(httpx.ReadTimeout("timed out"))[0] == "timeout"


def test_closing_the_stream_early_stops_the_threads(site):
    before = threading.active_count()
    stream = crawl([site.url("/")], FAST)
    next(stream)
    stream.close()
    deadline = time.monotonic() + 5
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() <= before


def test_per_host_concurrency_is_bounded_and_used():
    with CrawlSite(CORPUS, latency=0.05) as site:
        items, _ = run([site.url("/sitemap.xml")], replace(FAST, max_depth=0, concurrency=8, host_concurrency=3))
    assert len(pages_of(items)) == len(site.pages)
    assert site.most_in_flight == 3
