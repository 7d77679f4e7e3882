"""The pipeline: sources → clean → site template → passages → knowledge → store.

Plain functions that wire the stages together. `extract_paths` stops before the
index (for `relief extract` and evaluation); `ingest` writes to it incrementally.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Callable, Iterable, Sequence
from urllib.parse import urlsplit

from . import clean, knowledge, passages, verdicts
from .config import Settings
from .model import IngestError, IngestReport, Page, RawPage
from .sources import read_sources

Progress = Callable[[int, str], None]


def process_site(
    raws: Sequence[RawPage], known_template: frozenset[str] = frozenset()
) -> tuple[list[Page], list[IngestError], frozenset[str]]:
    """Clean one site's pages together, so text repeated across them is dropped.

    `known_template` carries what earlier runs learned about the site, so a re-index
    of one changed page still loses the site's menus and footers.
    """
    cleaned: list[Page] = []
    errors: list[IngestError] = []
    for raw in raws:
        result = clean.clean_page(raw)
        if isinstance(result, IngestError):
            errors.append(result)
        else:
            cleaned.append(result)
    learned = clean.learn_site_template(cleaned) if len(cleaned) > 1 else frozenset()
    template = known_template | learned
    pages: list[Page] = []
    for page in cleaned:
        page = passages.split_passages(clean.strip_template(page, template) if template else page)
        if not page.passages:
            errors.append(IngestError(page.source, "empty", "no body text to index (only headings or template text)"))
            continue
        pages.append(verdicts.attach(knowledge.annotate(page)))
    return pages, errors, template


def read_all(paths: Iterable[str], settings: Settings) -> tuple[list[RawPage], list[IngestError]]:
    """Read every page; a repeated page id is reported rather than silently overwritten."""
    raws: list[RawPage] = []
    errors: list[IngestError] = []
    seen: dict[str, str] = {}
    for item in read_sources(paths, settings.max_page_bytes):
        if isinstance(item, IngestError):
            errors.append(item)
        elif item.page_id in seen:
            errors.append(IngestError(item.source, "duplicate-id", f"page id {item.page_id!r} already read from {seen[item.page_id]}"))
        else:
            seen[item.page_id] = item.source
            raws.append(item)
    return raws, errors


def site_keys(raw: RawPage) -> tuple[str, ...]:
    host = urlsplit(raw.url).netloc.lower() if raw.url.startswith(("http://", "https://")) else ""
    return (raw.site, host) if host else (raw.site,)


def by_site(raws: Iterable[RawPage]) -> dict[tuple[str, ...], list[RawPage]]:
    """Group pages into sites: pages from one folder, or from one host, are one site."""
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    raws = list(raws)
    for raw in raws:
        first, *rest = site_keys(raw)
        for key in rest:
            parent[find(key)] = find(first)
    groups: dict[str, list[RawPage]] = defaultdict(list)
    for raw in raws:
        groups[find(site_keys(raw)[0])].append(raw)
    return {tuple(sorted({k for r in members for k in site_keys(r)})): members for members in groups.values()}


def extract_paths(
    paths: Sequence[str], settings: Settings, about: str | None = None
) -> tuple[list[Page], list[IngestError]]:
    """Run the pipeline without an index; files given together are one site per folder/host.

    `about` names a treatment in free words: each page gets its position on it (`Page.about`).
    """
    raws, errors = read_all(paths, settings)
    pages: list[Page] = []
    for site_raws in by_site(raws).values():
        site_pages, site_errors, _ = process_site(site_raws)
        pages.extend(verdicts.with_about(p, about) if about else p for p in site_pages)
        errors.extend(site_errors)
    return pages, errors


def ingest(
    paths: Sequence[str],
    settings: Settings,
    *,
    rebuild: bool = False,
    prune: bool = False,
    progress: Progress | None = None,
) -> IngestReport:
    """Bring the index up to date with the given sources, in one commit.

    Unchanged pages (same content hash) are skipped before cleaning, so a second run
    over the same corpus only reads and hashes files.
    """
    from .backend import open_writer

    started = time.perf_counter()
    report = IngestReport(index=str(settings.index))
    raws, errors = read_all(paths, settings)
    report.skipped.extend(errors)
    report.pages_read = len(raws)

    with open_writer(settings, rebuild=rebuild) as writer:
        manifest = {} if rebuild else writer.manifest()
        templates = {} if rebuild else writer.site_templates()
        changed = [r for r in raws if manifest.get(r.page_id) != r.sha256]
        report.unchanged = len(raws) - len(changed)
        done = report.unchanged
        for keys, site_raws in by_site(changed).items():
            known = frozenset().union(*(templates.get(k, frozenset()) for k in keys))
            pages, site_errors, template = process_site(site_raws, known)
            report.skipped.extend(site_errors)
            for page in pages:
                if page.page_id in manifest:
                    report.updated += 1
                else:
                    report.added += 1
                report.passages += len(page.passages)
                report.claims += sum(len(p.claims) for p in page.passages)
                writer.put_page(page)
                done += 1
                if progress:
                    progress(done, page.source)
            for error in site_errors:
                # a page that turned bad keeps no stale passages in the index
                stale = next((r.page_id for r in site_raws if r.source == error.source), None)
                if stale and stale in manifest:
                    writer.delete_page(stale)
            if template:
                for key in keys:
                    writer.set_site_template(key, template)
        if prune:
            present = {r.page_id for r in raws}
            for page_id in set(manifest) - present:
                writer.delete_page(page_id)
                report.removed += 1
    report.seconds = round(time.perf_counter() - started, 3)
    return report

