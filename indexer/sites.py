"""Sites in a stream of pages: which pages belong together, and when their template is known.

Template removal needs several pages of one site (text repeated on many of them is the
site's menus and footers). A streaming ingest never holds the whole site, so a site's
template is learned from its first `template_pages` pages (plus what the index already
knows of it), and the pages after them are cleaned with that template.

`SiteRouter` turns the stream into `Job`s for the worker processes without making any of
them wait: until a site's template is known its pages go out to be cleaned only ("clean"
jobs); the cleaned pages come back and wait here, small, until the site has enough of them
to learn the template, and then go out again to be finished ("finish": template, passages,
knowledge). Once the template is known, pages go out whole ("full" jobs). Pages buffered
here are bounded: the site fed least recently is closed (it learns from what it has) when
too many wait.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from . import clean
from .model import Page, RawPage

JobKind = Literal["clean", "finish", "full", "merge"]


def site_keys(raw: RawPage) -> tuple[str, ...]:
    """Names a page's site goes by: its folder, and the host of its URL when it has one."""
    host = urlsplit(raw.url).netloc.lower() if raw.url.startswith(("http://", "https://")) else ""
    return (raw.site, host) if host else (raw.site,)


@dataclass(frozen=True)
class Job:
    """One batch of one site's pages for a worker; picklable, so it can cross processes.

    kind "clean": clean `raws` only; "finish": strip `template` from the cleaned `pages`,
    split passages, annotate; "full": both, for `raws`; "merge": merge the segments
    `merge` of the index folder `index_dir` into one (segments.merge_segments).
    With `segment_dir`, finished pages come back written as a Whoosh segment there.
    """

    site: tuple[str, ...]
    kind: JobKind
    raws: tuple[RawPage, ...] = ()
    pages: tuple[Page, ...] = ()
    template: frozenset[str] = frozenset()
    analyze: bool | str = False  # finished pages come back analysed: True Whoosh's (store.analyze_page), "xapian" the shards
    segment_dir: str = ""  # finished pages come back written as a segment there (segments.write_segment)
    merge: tuple[Any, ...] = ()  # "merge": Whoosh segments of the index to merge
    index_dir: str = ""  # "merge": the index generation folder they are in


@dataclass(eq=False)
class _Site:
    keys: set[str]
    known: frozenset[str]
    template: frozenset[str] | None = None  # None until learned
    batch: list[RawPage] = field(default_factory=list)  # raws not yet sent
    cleaned: list[Page] = field(default_factory=list)  # cleaned pages waiting for the template
    sent: int = 0  # raws sent to be cleaned while the template was unknown
    in_flight: int = 0  # clean jobs not back yet
    closing: bool = False  # learn from what there is once the clean jobs are back


def learn_template(cleaned: list[Page], known: frozenset[str]) -> frozenset[str]:
    """What the index knew of a site, plus text repeated on its first pages."""
    return known | clean.learn_site_template(cleaned) if len(cleaned) > 1 else known


class SiteRouter:
    """Groups a stream of pages into per-site jobs.

    feed() a page and send the jobs it returns; hand the pages of each finished "clean"
    job to cleaned(), and send what it returns; at the end of the stream call finish()
    until it returns nothing (with every job sent in between settled).
    """

    def __init__(self, known: dict[str, frozenset[str]], *, template_pages: int, batch_pages: int,
                 max_waiting: int | None = None, analyze: bool | str = False, segment_dir: str = ""):
        self._known = known
        self.analyze = analyze
        self.segment_dir = segment_dir
        self.template_pages = max(1, template_pages)
        self.batch_pages = max(1, batch_pages)
        self.max_waiting = max_waiting or 4 * max(self.template_pages, self.batch_pages)
        self._by_key: dict[str, _Site] = {}
        self._recent: OrderedDict[int, _Site] = OrderedDict()  # sites holding pages, least recent first
        self._waiting = 0
        self.templates: list[tuple[tuple[str, ...], frozenset[str]]] = []  # learned, for the index to keep

    def waiting(self) -> int:
        """Pages held here (raws not yet sent, cleaned pages waiting for their template)."""
        return self._waiting

    def _site(self, raw: RawPage) -> _Site:
        keys = site_keys(raw)
        site = next((self._by_key[k] for k in keys if k in self._by_key), None)
        if site is None:
            site = _Site(keys=set(), known=frozenset())
        for k in keys:
            if k not in site.keys:
                site.keys.add(k)
                site.known |= self._known.get(k, frozenset())
            self._by_key.setdefault(k, site)
        return site

    @staticmethod
    def _name(site: _Site) -> tuple[str, ...]:
        return tuple(sorted(site.keys))

    def _flush(self, site: _Site, jobs: list[Job]) -> None:
        if not site.batch:
            return
        raws, site.batch = tuple(site.batch), []
        self._waiting -= len(raws)
        if site.template is None:
            site.sent += len(raws)
            site.in_flight += 1
            jobs.append(Job(self._name(site), "clean", raws=raws))
        else:
            jobs.append(Job(self._name(site), "full", raws=raws, template=site.template, analyze=self.analyze,
                            segment_dir=self.segment_dir))

    def _learn(self, site: _Site, jobs: list[Job]) -> None:
        site.template = learn_template(site.cleaned, site.known)
        self.templates.append((self._name(site), site.template))
        pages, site.cleaned = site.cleaned, []
        self._waiting -= len(pages)
        self._finish_pages(site, pages, jobs)
        self._flush(site, jobs)  # raws that were waiting for a clean batch go out whole

    def _finish_pages(self, site: _Site, pages: list[Page], jobs: list[Job]) -> None:
        assert site.template is not None
        for i in range(0, len(pages), self.batch_pages):
            jobs.append(Job(self._name(site), "finish", pages=tuple(pages[i : i + self.batch_pages]),
                            template=site.template, analyze=self.analyze, segment_dir=self.segment_dir))

    def _touch(self, site: _Site) -> None:
        self._recent.pop(id(site), None)
        if site.batch or site.cleaned:
            self._recent[id(site)] = site

    def _evict(self, jobs: list[Job], spare: _Site) -> None:
        """Too many pages held: the sites fed least recently send theirs (and learn, if they must)."""
        for key in list(self._recent):
            if self._waiting <= self.max_waiting:
                return
            site = self._recent[key]
            if site is spare:
                continue
            self._close(site, jobs)

    def _close(self, site: _Site, jobs: list[Job]) -> None:
        self._flush(site, jobs)
        if site.template is None:
            site.closing = True
            if site.in_flight == 0:
                self._learn(site, jobs)
        self._touch(site)

    def feed(self, raw: RawPage) -> list[Job]:
        site = self._site(raw)
        jobs: list[Job] = []
        site.batch.append(raw)
        self._waiting += 1
        if len(site.batch) >= self.batch_pages or (
            site.template is None and site.sent + len(site.batch) >= self.template_pages
            and site.sent < self.template_pages
        ):
            self._flush(site, jobs)
        self._touch(site)
        if self._waiting > self.max_waiting:
            self._evict(jobs, spare=site)
        return jobs

    def cleaned(self, job: Job, pages: tuple[Page, ...]) -> list[Job]:
        """A clean job came back: its pages wait for the site's template, or go to be finished."""
        site = next((self._by_key[k] for k in job.site if k in self._by_key), None)
        if site is None:  # pragma: no cover - a job always names a site the router made
            return [Job(job.site, "finish", pages=pages)]
        jobs: list[Job] = []
        site.in_flight -= 1
        if site.template is not None:
            self._finish_pages(site, list(pages), jobs)
        else:
            site.cleaned.extend(pages)
            self._waiting += len(pages)
            if len(site.cleaned) >= self.template_pages or (site.closing and site.in_flight == 0):
                self._learn(site, jobs)
        self._touch(site)
        if self._waiting > self.max_waiting:
            self._evict(jobs, spare=site)
        return jobs

    def finish(self) -> list[Job]:
        """The end of the stream: every site sends what it holds; small sites learn from theirs."""
        jobs: list[Job] = []
        for site in list(self._recent.values()):
            self._close(site, jobs)
        return jobs
