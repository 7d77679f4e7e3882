"""The pipeline: a stream of pages → clean → site template → passages → knowledge → store.

Pages flow through in batches, so memory is bounded by a batch and never by the corpus:
the parent process reads the sources lazily, skips pages whose hash the manifest already
holds, groups the rest into per-site jobs (`sites.SiteRouter`) and hands them to worker
processes; `run_job` is the whole of a worker's work, a function with picklable
arguments and result, so any executor (a local process pool, Dask) can run it.
One writer in the parent puts the results into the index and commits every
`commit_pages` pages or `commit_seconds` seconds, so a killed run keeps what it committed
and a re-run continues from the manifest.

What runs where: with one worker, everything in this process. With N ≥ 2 of our own
worker processes, they clean, and write each batch's passages as a Whoosh segment
(indexer/segments.py) and merge segments when the writer asks; the parent reads, routes,
moves segments in and commits. With another executor (Dask), and with the Xapian backend,
the workers clean and run the backend's analysis, and the parent files the postings.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable, Iterator, Sequence

from . import clean, knowledge, passages, verdicts
from .config import Settings
from .memory import limit_arenas
from .model import IngestError, IngestReport, Page, RawPage
from .sites import Job, SiteRouter, learn_template
from .sources import read_sources

__all__ = ["BatchResult", "IngestProgress", "extract_paths", "ingest", "ingest_stream", "process_batch"]


@dataclass(frozen=True)
class BatchResult:
    """What a worker sends back for one batch: indexable pages, pages it could not use,
    and the site template it cleaned with (learned from this batch when asked to)."""

    pages: tuple[Page, ...]
    errors: tuple[IngestError, ...]
    template: frozenset[str]
    documents: tuple[tuple[Any, ...], ...] = ()  # per page, its analysed index documents (Job.analyze)
    segment: Any = None  # segments.SegmentFile: the pages' passages as a segment (Job.segment_dir), or a merge's


@dataclass(frozen=True)
class IngestProgress:
    """Where a running ingest stands, given to the progress callback after every step."""

    done: int  # pages handled: written, unchanged or skipped
    written: int
    unchanged: int
    skipped: int
    seconds: float
    source: str = ""  # the page handled last

    @property
    def pages_per_second(self) -> float:
        return self.done / self.seconds if self.seconds > 0 else 0.0


Progress = Callable[[IngestProgress], None]


def clean_batch(raws: Sequence[RawPage]) -> tuple[list[Page], list[IngestError]]:
    """Each page cleaned on its own: main text, title, byline, date."""
    cleaned: list[Page] = []
    errors: list[IngestError] = []
    for raw in raws:
        result = clean.clean_page(raw)
        if isinstance(result, IngestError):
            errors.append(result)
        else:
            cleaned.append(result)
    return cleaned, errors


def finish_batch(cleaned: Sequence[Page], template: frozenset[str]) -> BatchResult:
    """Cleaned pages of one site without its template, split into passages, annotated."""
    pages: list[Page] = []
    errors: list[IngestError] = []
    for page in cleaned:
        page = passages.split_passages(clean.strip_template(page, template) if template else page)
        if not page.passages:
            errors.append(IngestError(page.source, "empty", "no body text to index (only headings or template text)"))
            continue
        pages.append(verdicts.attach(knowledge.annotate(page)))
    return BatchResult(tuple(pages), tuple(errors), template)


def process_batch(
    raws: Sequence[RawPage], template: frozenset[str] = frozenset(), learn: bool = False
) -> BatchResult:
    """Clean a batch of one site's pages, strip its template, split passages, annotate.

    With `learn`, the batch is the site's first pages: text repeated across them joins
    `template` (what earlier runs knew of the site) before it is stripped, so a re-index
    of one changed page still loses the site's menus and footers.
    """
    cleaned, errors = clean_batch(raws)
    if learn:
        template = learn_template(cleaned, template)
    result = finish_batch(cleaned, template)
    return BatchResult(result.pages, (*errors, *result.errors), template)


def run_job(job: Job) -> BatchResult:
    """A worker's whole task for one job (see sites.Job); what an executor runs."""
    if job.kind == "merge":
        from .segments import merge_segments

        return BatchResult((), (), frozenset(), segment=merge_segments(job.index_dir, job.merge, job.segment_dir))
    if job.kind == "clean":
        cleaned, errors = clean_batch(job.raws)
        return BatchResult(tuple(cleaned), tuple(errors), frozenset())
    result = finish_batch(job.pages, job.template) if job.kind == "finish" else process_batch(job.raws, job.template)
    if job.segment_dir:
        from .segments import write_segment

        return replace(result, segment=write_segment(result.pages, job.segment_dir))
    if not job.analyze:
        return result
    if job.analyze == "xapian":
        from .xapian.documents import analyze_page as analyze_for_xapian

        return replace(result, documents=tuple(analyze_for_xapian(p) for p in result.pages))
    from .store import analyze_page

    return replace(result, documents=tuple(analyze_page(p) for p in result.pages))


def _sources_of(job: Job) -> dict[str, str]:
    """source → page id of a job's pages, to find the page an error speaks of."""
    return {r.source: r.page_id for r in job.raws} | {p.source: p.page_id for p in job.pages}


# ---------------------------------------------------------------- running jobs


class _Inline:
    """Runs a job in this process when it is asked for: no pool for a handful of pages."""

    def __init__(self, job: Job):
        self.job = job

    def result(self) -> BatchResult:
        return run_job(self.job)


def _gone(pid: int) -> bool:
    """Whether a process has ended (a zombie that nobody reaped counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True
    except OSError:  # pragma: no cover - no /proc: ask the OS
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass
        return False


def _orphan_watch(ingest: int) -> None:
    """Pool initializer: a worker ends when the ingest that started it is gone.

    A SIGKILLed ingest cannot tell its workers to stop, and they would wait for work for
    ever (the forkserver between them stays too, as long as they hold its pipe). Ctrl-C
    is the ingest's to handle: a worker ignores it instead of dying with a traceback.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while not _gone(ingest):
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()


def _pool(workers: int) -> Executor:
    """A process pool; forkserver where there is one: no threads are copied into workers,
    and each worker starts from a process that has imported the pipeline already."""
    limit_arenas()  # results are unpickled on the pool's thread and freed on this one
    if "forkserver" not in multiprocessing.get_all_start_methods():  # pragma: no cover - Windows
        ctx: Any = multiprocessing.get_context("spawn")
    else:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["indexer.pipeline"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_orphan_watch, initargs=(os.getpid(),))


class _Jobs:
    """Jobs in flight, at most two per worker, so memory stays bounded.

    The first job runs in this process; a pool starts only when a second one comes, so a
    small ingest (a few pages, a test) pays no process start-up.
    """

    def __init__(self, workers: int, executor: Executor | None = None):
        self.workers = max(1, workers)
        self.executor = executor
        self._own = False
        self.started = 0
        self.queue: deque[tuple[Job, Future[BatchResult] | _Inline]] = deque()

    def submit(self, job: Job) -> None:
        self.started += 1
        if self.executor is None and self.workers > 1 and self.started > 1:
            self.executor, self._own = _pool(self.workers), True
        if self.executor is None:
            self.queue.append((job, _Inline(job)))
        else:
            self.queue.append((job, self.executor.submit(run_job, job)))

    def full(self) -> bool:
        return len(self.queue) >= 2 * self.workers

    def ready(self) -> bool:
        """A job has finished on a worker: its result can be written without waiting."""
        return any(isinstance(pending, Future) and pending.done() for _, pending in self.queue)

    def next(self) -> tuple[Job, BatchResult]:
        """The first job to finish, whichever it is: a long segment merge on one worker must
        not keep the other's results waiting (and it idle); a job run here goes in turn."""
        if self.queue and isinstance(self.queue[0][1], Future):
            wait([pending for _, pending in self.queue if isinstance(pending, Future)], return_when=FIRST_COMPLETED)
            for i, (job, pending) in enumerate(self.queue):
                if isinstance(pending, Future) and pending.done():
                    del self.queue[i]
                    return job, pending.result()
        job, pending = self.queue.popleft()
        return job, pending.result()

    def close(self) -> None:
        if self._own and self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
        self.executor = None


# ---------------------------------------------------------------- extract (no index)


def _unique(items: Iterable[RawPage | IngestError], errors: list[IngestError]) -> Iterator[RawPage]:
    """Pages with an id not seen before; a repeated id is reported, not silently overwritten."""
    seen: dict[str, str] = {}
    for item in items:
        if isinstance(item, IngestError):
            errors.append(item)
        elif item.page_id in seen:
            errors.append(IngestError(item.source, "duplicate-id", f"page id {item.page_id!r} already read from {seen[item.page_id]}"))
        else:
            seen[item.page_id] = item.source
            yield item


def extract_paths(
    paths: Sequence[str], settings: Settings, about: str | None = None
) -> tuple[list[Page], list[IngestError]]:
    """Run the pipeline without an index, in this process, the way an ingest would.

    `about` names a treatment in free words: each page gets its position on it (`Page.about`).
    """
    errors: list[IngestError] = []
    pages: list[Page] = []
    router = SiteRouter({}, template_pages=settings.template_pages, batch_pages=settings.batch_pages)

    def run(jobs: list[Job]) -> None:
        for job in jobs:
            result = run_job(job)
            errors.extend(result.errors)
            if job.kind == "clean":
                run(router.cleaned(job, result.pages))
            else:
                pages.extend(verdicts.with_about(p, about) if about else p for p in result.pages)

    for raw in _unique(read_sources(paths, settings.max_page_bytes), errors):
        run(router.feed(raw))
    while jobs := router.finish():
        run(jobs)
    return pages, errors


# ---------------------------------------------------------------- ingest


def ingest(
    paths: Sequence[str],
    settings: Settings,
    *,
    rebuild: bool = False,
    prune: bool = False,
    workers: int | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Bring the index up to date with the files and folders given (see ingest_stream)."""
    return ingest_stream(
        read_sources(paths, settings.max_page_bytes), settings,
        rebuild=rebuild, prune=prune, workers=workers, progress=progress,
    )


def ingest_stream(
    items: Iterable[RawPage | IngestError | Any],
    settings: Settings,
    *,
    rebuild: bool = False,
    prune: bool = False,
    workers: int | None = None,
    progress: Progress | None = None,
    executor: Executor | None = None,
) -> IngestReport:
    """Bring the index up to date with a stream of pages (files, a crawl), in checkpoints.

    Unchanged pages (same content hash as in the manifest) are skipped before cleaning, so
    a second run over the same corpus only reads and hashes. A crawl's stream may also hold
    `crawl.Unchanged` (304: kept) and `crawl.Gone` (404/410: reported; removed with prune). `workers` (default: the
    setting, 0 = one per core) is the number of cleaning processes; `executor` runs the
    batches elsewhere instead (anything with concurrent.futures' submit, e.g. Dask's).
    With `prune`, pages the index holds that the stream did not bring are removed.
    """
    from .backend import open_writer

    started = time.perf_counter()
    report = IngestReport(index=str(settings.index))
    count = workers if workers is not None else settings.worker_count
    if count < 1:
        raise ValueError(f"workers must be 1 or more, not {count}")

    def tick(source: str) -> None:
        if progress:
            done = report.added + report.updated + report.unchanged + len(report.skipped)
            progress(IngestProgress(done, report.added + report.updated, report.unchanged,
                                    len(report.skipped), time.perf_counter() - started, source))

    with open_writer(settings, rebuild=rebuild) as writer:
        manifest = {} if rebuild else writer.manifest()
        # with worker processes, the backend's analysis runs there too: the one writer only
        # files postings (Xapian's; Whoosh's on another executor's workers, e.g. Dask's on
        # other machines); with Whoosh and worker processes of our own, they write whole
        # segments and merge them (indexer/segments.py), and the one writer only lists them
        from .backend import worker_analysis
        from .store import IndexWriter, incoming_dir

        whoosh = isinstance(writer, IndexWriter)
        segment_dir = str(incoming_dir(settings.index)) if whoosh and executor is None and count > 1 else ""
        analyze = (count > 1 or executor is not None) and not segment_dir and worker_analysis(writer)
        router = SiteRouter({} if rebuild else writer.site_templates(), template_pages=settings.template_pages,
                            batch_pages=settings.batch_pages, analyze=analyze, segment_dir=segment_dir)
        jobs = _Jobs(count, executor)
        seen: set[str] = set()
        last_commit, since_commit = time.monotonic(), 0

        def skip(job: Job, errors: Sequence[IngestError]) -> None:
            by_source = _sources_of(job) if errors else {}
            for error in errors:
                report.skipped.append(error)
                # a page that turned bad keeps no stale passages in the index
                stale = by_source.get(error.source)
                if stale and stale in manifest:
                    writer.delete_page(stale)
                tick(error.source)

        def write(job: Job, result: BatchResult) -> None:
            nonlocal last_commit, since_commit
            if job.segment_dir:
                writer.put_segment(result.pages, result.segment)
            for n, page in enumerate(result.pages):
                if page.page_id in manifest:
                    report.updated += 1
                else:
                    report.added += 1
                report.passages += len(page.passages)
                report.claims += sum(len(p.claims) for p in page.passages)
                if not job.segment_dir:  # a segment's pages were put above, whole
                    writer.put_page(page, result.documents[n] if result.documents else None)
                tick(page.source)
            since_commit += len(result.pages) + len(result.errors)
            if since_commit >= settings.commit_pages or time.monotonic() - last_commit >= settings.commit_seconds:
                writer.checkpoint()
                last_commit, since_commit = time.monotonic(), 0
                if segment_dir:
                    while sources := writer.merge_sources():
                        send(Job((), "merge", merge=sources, index_dir=str(writer.gen), segment_dir=segment_dir))

        def settle_one() -> None:
            job, result = jobs.next()
            if job.kind == "merge":
                writer.merged(job.merge, result.segment)
                return
            skip(job, result.errors)
            if job.kind == "clean":
                for then in router.cleaned(job, result.pages):
                    send(then)
            else:
                write(job, result)
            keep_templates()

        def keep_templates() -> None:
            for keys, template in router.templates:
                for key in keys:
                    writer.set_site_template(key, template)
            router.templates.clear()

        def send(job: Job) -> None:
            while jobs.full():
                settle_one()
            jobs.submit(job)

        try:
            for item in items:
                if isinstance(item, IngestError):
                    report.skipped.append(item)
                    tick(item.source)
                    continue
                if not isinstance(item, RawPage):
                    # a crawl's answers without a body: 304 (the indexed copy stands), 404/410
                    from .crawl import Gone, Unchanged

                    if isinstance(item, Unchanged):
                        seen.add(item.page_id)
                        report.unchanged += 1
                        tick(item.url)
                    elif isinstance(item, Gone):
                        report.skipped.append(item.error)  # with prune, unseen: it leaves the index
                        tick(item.url)
                    continue
                if item.page_id in seen:
                    report.skipped.append(IngestError(item.source, "duplicate-id", f"page id {item.page_id!r} was already read in this run"))
                    tick(item.source)
                    continue
                seen.add(item.page_id)
                report.pages_read += 1
                if manifest.get(item.page_id) == item.sha256 and not item.refresh:
                    report.unchanged += 1
                    tick(item.source)
                    continue
                for job in router.feed(item):
                    send(job)
                while jobs.ready():  # write what the workers have done meanwhile
                    settle_one()
            while True:
                while jobs.queue:
                    settle_one()
                flushed = router.finish()
                if not flushed:
                    break
                for job in flushed:
                    send(job)
            keep_templates()
        finally:
            jobs.close()
            if segment_dir:
                shutil.rmtree(segment_dir, ignore_errors=True)
        if prune:
            for page_id in set(manifest) - seen:
                writer.delete_page(page_id)
                report.removed += 1
    report.seconds = round(time.perf_counter() - started, 3)
    return report

