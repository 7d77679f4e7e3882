"""Sites in a stream of pages: which pages belong together, and when their template is known.

Template removal needs several pages of one site (text repeated on many of them is the
site's menus and footers). A streaming ingest never holds the whole site, so a site's
template is learned from its first `template_pages` pages (plus what the index already
knows of it), and the pages after them are cleaned with that template. `SiteRouter` turns
a stream of RawPages into `Job`s for the worker processes and holds back the pages of a
site whose template is still being learned.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Iterator, Mapping
from urllib.parse import urlsplit

from .model import RawPage


def site_keys(raw: RawPage) -> tuple[str, ...]:
    """Names a page's site goes by: its folder, and the host of its URL when it has one."""
    host = urlsplit(raw.url).netloc.lower() if raw.url.startswith(("http://", "https://")) else ""
    return (raw.site, host) if host else (raw.site,)


@dataclass(frozen=True)
class Job:
    """One batch of pages of one site for a worker; picklable, so it can cross processes.

    `learn`: the batch is the site's first pages, and the worker learns the template from
    them (joined with `template`, what was known before) before cleaning them.
    """

    site: tuple[str, ...]
    raws: tuple[RawPage, ...]
    template: frozenset[str] = frozenset()
    learn: bool = False


@dataclass
class _Site:
    keys: set[str]
    known: frozenset[str]
    template: frozenset[str] | None = None  # None while it is being learned
    first: list[RawPage] = field(default_factory=list)
    learning: bool = False
    waiting: list[RawPage] = field(default_factory=list)
    batch: list[RawPage] = field(default_factory=list)


class SiteRouter:
    """Groups a stream of pages into per-site jobs.

    feed() a page and take the jobs that are ready; when a learning job comes back,
    learned() releases the pages of that site that waited for its template; finish()
    flushes whatever is left at the end of the stream. Pages of one site arrive at a
    worker in the order they were fed.
    """

    def __init__(self, known: Mapping[str, frozenset[str]], *, template_pages: int, batch_pages: int):
        self._known = known
        self.template_pages = max(1, template_pages)
        self.batch_pages = max(1, batch_pages)
        self._by_key: dict[str, _Site] = {}
        self._ready: deque[Job] = deque()
        self._held = 0

    def _site(self, raw: RawPage) -> _Site:
        keys = site_keys(raw)
        site = next((self._by_key[k] for k in keys if k in self._by_key), None)
        if site is None:
            known = frozenset().union(*(self._known.get(k, frozenset()) for k in keys))
            site = _Site(keys=set(keys), known=known)
        for k in keys:
            if k not in site.keys:
                site.keys.add(k)
                site.known |= self._known.get(k, frozenset())
            self._by_key.setdefault(k, site)
        return site

    def _emit(self, site: _Site, raws: list[RawPage], learn: bool) -> None:
        template = site.known if learn or site.template is None else site.template
        self._ready.append(Job(tuple(sorted(site.keys)), tuple(raws), template, learn))

    def _take(self) -> Iterator[Job]:
        while self._ready:
            yield self._ready.popleft()

    def feed(self, raw: RawPage) -> Iterator[Job]:
        site = self._site(raw)
        if site.template is not None:
            site.batch.append(raw)
            if len(site.batch) >= self.batch_pages:
                self._emit(site, site.batch, learn=False)
                site.batch = []
        elif site.learning:
            site.waiting.append(raw)
            self._held += 1
        else:
            site.first.append(raw)
            if len(site.first) >= self.template_pages:
                site.learning = True
                self._emit(site, site.first, learn=True)
                site.first = []
        return self._take()

    def learned(self, site_keys: tuple[str, ...], template: frozenset[str]) -> Iterator[Job]:
        """A learning job came back with the site's template: release the pages that waited."""
        site = next((self._by_key[k] for k in site_keys if k in self._by_key), None)
        if site is not None and site.template is None:
            site.template = template
            site.learning = False
            waiting, site.waiting = site.waiting, []
            self._held -= len(waiting)
            for raw in waiting:
                site.batch.append(raw)
                if len(site.batch) >= self.batch_pages:
                    self._emit(site, site.batch, learn=False)
                    site.batch = []
        return self._take()

    def held(self) -> int:
        """Pages held back until their site's template comes back."""
        return self._held

    def pending(self) -> bool:
        """Whether some site still waits for its template (finish() would then be early)."""
        return any(s.learning for s in self._by_key.values())

    def finish(self) -> Iterator[Job]:
        """The end of the stream: small sites learn from what they have, batches are flushed.

        Call it only when no learning job is out (pending() is False).
        """
        for site in {id(s): s for s in self._by_key.values()}.values():
            if site.first:
                site.learning = True
                self._emit(site, site.first, learn=True)
                site.first = []
            if site.batch:
                self._emit(site, site.batch, learn=False)
                site.batch = []
        return self._take()
