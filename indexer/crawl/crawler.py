"""The crawl: a frontier of URLs, worker threads that fetch, and a stream of results.

`crawl()` is a generator. The calling thread owns the frontier (what was seen, what is
queued, depth and page budget) and yields each result as it arrives; a pool of threads
does the network work (robots.txt, politeness, redirects, the body) and hands back what
it found. Results come in completion order, so callers must not rely on order. Closing
the generator early stops the threads and frees the connections.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Iterable, Iterator, Literal, Mapping

from ..model import IngestError, RawPage, Validators
from .fetch import REDIRECTS, Answer, Fetcher
from .options import CrawlOptions
from .pages import PageSignals, agent_token, build_page, header_directives, read_signals
from .robots import RobotsCache
from .rules import rules
from .sitemaps import Sitemap, parse_sitemap
from .urls import Scope, looks_like_page, looks_like_sitemap, make_scope, normalize_url, origin, page_id_for_url, start_url_problem


@dataclass(frozen=True)
class Unchanged:
    """The server answered 304 Not Modified: the indexed copy stands."""

    url: str
    page_id: str


@dataclass(frozen=True)
class Gone:
    """The page is not to be in the index: it answered 404 or 410, or asks not to be
    indexed (noindex, `error.reason`); with --prune it leaves the index."""

    url: str
    page_id: str
    error: IngestError


CrawlItem = RawPage | IngestError | Unchanged | Gone
TaskKind = Literal["start", "page", "sitemap"]


@dataclass(frozen=True)
class _Task:
    kind: TaskKind
    url: str
    depth: int = 0
    via_canonical: bool = False  # queued because another page named it canonical


@dataclass(frozen=True)
class _Outcome:
    task: _Task
    item: CrawlItem | None = None
    identity: str = ""  # the URL the page is known by (after redirects and rel=canonical)
    fetched_as: str = ""  # the URL finally fetched (after redirects)
    links: tuple[str, ...] = ()
    sitemap: Sitemap | None = None
    canonical: str = ""  # the page says it is a copy of this URL: fetch that one instead
    duplicate: bool = False  # another thread fetched (or is fetching) this URL already
    robots_sitemaps: tuple[str, ...] = ()  # `Sitemap:` lines of a start page's robots.txt


@dataclass
class CrawlStats:
    """Counts of a crawl, filled in as it runs (the report's second half)."""

    requested: int = 0  # page URLs fetched or tried
    pages: int = 0
    unchanged: int = 0
    revalidated: int = 0  # same body under new ETag / Last-Modified: indexed again to store them
    gone: int = 0  # 404/410 answers
    noindex: int = 0  # pages that ask not to be indexed (meta robots, X-Robots-Tag)
    failed: int = 0
    duplicates: int = 0  # pages reached under a second URL (redirect or rel=canonical)
    sitemaps: int = 0  # sitemaps read (given, named in robots.txt, or listed in a sitemap index)
    robots_sitemaps: int = 0  # of those, sitemaps found through robots.txt `Sitemap:` lines
    over_max_pages: int = 0  # URLs found but left out by max_pages
    failures: list[IngestError] = field(default_factory=list)


_PAGE_TYPES = rules().html_types | rules().text_types
_START_TYPES = _PAGE_TYPES | rules().sitemap_types


def crawl(
    start_urls: Iterable[str],
    options: CrawlOptions,
    known: Mapping[str, Validators] | None = None,
    stats: CrawlStats | None = None,
) -> Iterator[CrawlItem]:
    """Every page reachable from the start URLs (pages or sitemaps) within scope and limits.

    `known` maps the normalised URLs already indexed to their validators: those in scope
    are fetched again with If-None-Match / If-Modified-Since, so an unchanged page costs
    a 304 and comes out as `Unchanged`.
    """
    stats = stats if stats is not None else CrawlStats()
    known = known or {}
    starts: list[str] = []
    for given in start_urls:
        url = normalize_url(given)
        if url is None:
            error = IngestError(given, "bad-url", start_url_problem(given) or "not an http(s) URL")
            stats.failed += 1
            stats.failures.append(error)
            yield error
        elif url not in starts:
            starts.append(url)
    if not starts:
        return
    scope = make_scope(starts, options.scope)
    frontier: deque[_Task] = deque(_Task("start", u) for u in starts)
    seen: set[str] = set(starts)
    if options.revisit_known:
        for url in known:
            if url not in seen and scope.contains(url):
                seen.add(url)
                frontier.append(_Task("page", url))
    yield from _run(frontier, seen, scope, options, known, stats)


def _run(
    frontier: deque[_Task], seen: set[str], scope: Scope, options: CrawlOptions,
    known: Mapping[str, Validators], stats: CrawlStats,
) -> Iterator[CrawlItem]:
    fetcher = Fetcher(options)
    worker = _Worker(fetcher, RobotsCache(fetcher), scope, options, known)
    emitted: set[str] = set()
    pool = ThreadPoolExecutor(max_workers=options.concurrency, thread_name_prefix="relief-crawl")
    done: queue.SimpleQueue[_Outcome] = queue.SimpleQueue()  # finished visits, in the order they finish

    def visit(task: _Task) -> None:
        try:
            done.put(worker.visit(task))
        except Exception as exc:  # a bug must not end the crawl; the URL is reported
            done.put(_Outcome(task, IngestError(task.url, "crawl-error", f"{type(exc).__name__}: {exc}")))

    in_flight = 0
    try:
        while True:
            while frontier and in_flight < options.concurrency * 2:
                task = frontier.popleft()
                if task.kind == "page" or (task.kind == "start" and not looks_like_sitemap(task.url)):
                    if stats.requested >= options.max_pages:
                        stats.over_max_pages += 1
                        continue
                    stats.requested += 1
                pool.submit(visit, task)
                in_flight += 1
            if not in_flight:
                break
            outcome = done.get()
            in_flight -= 1
            item = _settle(outcome, frontier, seen, emitted, scope, options, stats)
            if item is not None:
                yield item
    finally:
        fetcher.stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        fetcher.close()


def _settle(
    outcome: _Outcome, frontier: deque[_Task], seen: set[str], emitted: set[str],
    scope: Scope, options: CrawlOptions, stats: CrawlStats,
) -> CrawlItem | None:
    """Queue what a visit found and decide what, if anything, it yields."""
    task = outcome.task
    for named in outcome.robots_sitemaps:
        url = normalize_url(named, task.url)
        if url and url not in seen:
            seen.add(url)
            stats.robots_sitemaps += 1
            frontier.append(_Task("sitemap", url))
    if outcome.sitemap is not None:
        stats.sitemaps += 1
        for child in outcome.sitemap.children:
            url = normalize_url(child, task.url)
            if url and url not in seen and origin(url) == origin(task.url):
                seen.add(url)
                frontier.append(_Task("sitemap", url))
        for page in outcome.sitemap.pages:
            url = normalize_url(page, task.url)
            if url and url not in seen and scope.contains(url):
                seen.add(url)
                frontier.append(_Task("page", url))
    if outcome.fetched_as:
        seen.add(outcome.fetched_as)
    if outcome.identity:
        seen.add(outcome.identity)
    if outcome.duplicate:
        stats.duplicates += 1
    if outcome.canonical:
        stats.duplicates += 1
        if outcome.canonical not in seen:
            seen.add(outcome.canonical)
            frontier.appendleft(_Task("page", outcome.canonical, task.depth, via_canonical=True))
    if task.depth < options.max_depth:
        for url in outcome.links:
            if url not in seen and scope.contains(url) and looks_like_page(url):
                seen.add(url)
                frontier.append(_Task("page", url, task.depth + 1))
    item = outcome.item
    if isinstance(item, (RawPage, Unchanged)):
        key = outcome.identity or task.url
        if key in emitted:
            stats.duplicates += 1
            return None
        emitted.add(key)
        if isinstance(item, RawPage):
            stats.pages += 1
            if item.refresh:
                stats.revalidated += 1
        else:
            stats.unchanged += 1
    elif isinstance(item, Gone):
        if item.error.reason == "noindex":
            stats.noindex += 1
        else:
            stats.gone += 1
    elif isinstance(item, IngestError):
        stats.failed += 1
        stats.failures.append(item)
    return item


class _Worker:
    """What a pool thread does for one URL: robots, redirects, the answer, the page."""

    def __init__(self, fetcher: Fetcher, robots: RobotsCache, scope: Scope, options: CrawlOptions, known: Mapping[str, Validators]):
        self.fetcher = fetcher
        self.robots = robots
        self.scope = scope
        self.options = options
        self.known = known
        self._claimed: set[str] = set()  # URLs fetched or being fetched, redirect targets too
        self._claim_lock = threading.Lock()

    def _claim(self, url: str) -> bool:
        with self._claim_lock:
            if url in self._claimed:
                return False
            self._claimed.add(url)
            return True

    def _allowed(self, url: str) -> IngestError | None:
        robots = self.robots.get(origin(url))
        if robots.failure is not None:
            return IngestError(url, robots.failure.reason, robots.failure.detail)
        if not robots.allowed(url, self.options.user_agent):
            return IngestError(url, "robots", "disallowed by robots.txt")
        return None

    def visit(self, task: _Task) -> _Outcome:
        url = task.url
        accept = _START_TYPES if task.kind != "page" else _PAGE_TYPES
        chain = [url]
        if not self._claim(url):
            return _Outcome(task, duplicate=True)
        outcome = self._follow(task, url, accept, chain)
        if task.kind == "start" and self.options.robots_sitemaps and not looks_like_sitemap(task.url):
            # a site's own list of its pages, as other crawlers read it: only its robots.txt names it
            named = self.robots.get(origin(task.url)).sitemaps
            if named:
                outcome = replace(outcome, robots_sitemaps=named)
        return outcome

    def _follow(self, task: _Task, url: str, accept: frozenset[str], chain: list[str]) -> _Outcome:
        while True:
            refused = self._allowed(url)
            if refused is not None:
                return _Outcome(task, refused)
            known = self.known.get(url)
            answer = self.fetcher.get(
                url, origin(url), accept,
                etag=known.etag if known else "", last_modified=known.last_modified if known else "",
            )
            if isinstance(answer, IngestError):
                return _Outcome(task, answer, fetched_as=url)
            if answer.status not in REDIRECTS:
                break
            target = normalize_url(answer.location, url) if answer.location else None
            if target is None:
                return _Outcome(task, IngestError(task.url, "redirect", f"{answer.status} without a usable Location"))
            if target in chain:
                return _Outcome(task, IngestError(task.url, "redirect", f"redirect loop: {' → '.join([*chain, target])}"))
            if not self.scope.contains(target):
                return _Outcome(task, IngestError(task.url, "redirect", f"redirects out of the crawl's scope, to {target}"))
            if len(chain) > self.options.max_redirects:
                return _Outcome(task, IngestError(task.url, "redirect", f"more than {self.options.max_redirects} redirects"))
            if not self._claim(target):
                return _Outcome(task, duplicate=True)  # reached, or being reached, by its own URL
            chain.append(target)
            url = target
        return self._answered(task, url, answer)

    def _answered(self, task: _Task, url: str, answer: Answer) -> _Outcome:
        known = self.known.get(url)
        page_id = known.page_id if known else page_id_for_url(url)
        if answer.status == 304:
            return _Outcome(task, Unchanged(url, page_id), identity=url, fetched_as=url)
        if answer.status in rules().gone_statuses:
            error = IngestError(url, "status", f"{answer.status} {'Gone' if answer.status == 410 else 'Not Found'}")
            return _Outcome(task, Gone(url, page_id, error), fetched_as=url)
        if not 200 <= answer.status < 300:
            return _Outcome(task, IngestError(url, "status", f"{answer.status} answer"), fetched_as=url)
        if task.kind != "page" and _is_sitemap(answer):
            sitemap = parse_sitemap(answer.body, url, self.options.max_page_bytes)
            if isinstance(sitemap, IngestError):
                return _Outcome(task, sitemap, fetched_as=url)
            return _Outcome(task, sitemap=sitemap, fetched_as=url)
        if task.kind == "sitemap":
            return _Outcome(task, IngestError(url, "bad-sitemap", f"content type {answer.content_type or 'none'}, not a sitemap"), fetched_as=url)
        if answer.content_type in rules().sitemap_types:
            return _Outcome(task, IngestError(url, "not-html", f"content type {answer.content_type}"), fetched_as=url)
        page = build_page(answer, url, page_id)
        if not isinstance(page, RawPage):
            return _Outcome(task, page, fetched_as=url)
        token = agent_token(self.options.user_agent)
        header = header_directives(answer.robots_tags, token)
        signals = read_signals(page.body, url, token) if page.kind == "html" else PageSignals()
        directives = header | signals.directives
        found = () if "nofollow" in directives else signals.links
        if "noindex" in directives:
            # the page asks to stay out of search results; its links are still followed
            where = "its X-Robots-Tag header" if "noindex" in header else "a robots meta tag"
            error = IngestError(url, "noindex", f"asks not to be indexed: noindex in {where}")
            return _Outcome(task, Gone(url, page_id, error), identity=url, fetched_as=url, links=found)
        known = self.known.get(url)
        if known and known.sha256 == page.sha256 and (page.etag or page.last_modified) \
                and (page.etag, page.last_modified) != (known.etag, known.last_modified):
            # the body is what the index holds, but its validators are new: without them
            # stored, every later crawl would download the page again
            page = replace(page, refresh=True)
        canonical = signals.canonical
        if canonical and canonical != url and self.scope.contains(canonical) and not task.via_canonical and url not in self.known:
            # a copy (print view, tracking URL): the page is indexed from its canonical URL;
            # a page already indexed under this URL stays so (a canonical loop cannot flip it)
            return _Outcome(task, fetched_as=url, links=found, canonical=canonical)
        return _Outcome(task, page, identity=url, fetched_as=url, links=found)


def _is_sitemap(answer: Answer) -> bool:
    if answer.content_type in rules().sitemap_types or looks_like_sitemap(answer.url):
        head = answer.body[:512].lstrip()
        return head.startswith((b"<?xml", b"<urlset", b"<sitemapindex", b"\x1f\x8b")) or b"<urlset" in head or b"<sitemapindex" in head
    return False
