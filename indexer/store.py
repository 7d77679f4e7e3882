"""The index on disk: Whoosh schema, one writer at a time, atomic commits, rebuild-and-swap.

Layout of an index folder::

    INDEX/
      CURRENT              name of the live generation folder ("gen-20250101T120000-1a2b")
      writer.lock          held (flock) by the one process that writes; holds its pid
      gen-…/               a Whoosh index + relief-meta.json (manifest, site templates)

Incremental ingests write into the live generation; Whoosh writes new segment files and
then renames its table of contents into place, so readers keep answering from the last
commit and a killed ingest leaves that commit intact. A full rebuild writes a new
generation beside the live one and swaps CURRENT with one atomic rename.

`relief-meta.json` records the manifest (page id → content hash) for the Whoosh
generation it was written after; if the two disagree (an ingest killed between the two
writes) the manifest is recomputed from the index's stored fields, so it never lies.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from whoosh import index as whoosh_index
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.analysis import LowercaseFilter, RegexTokenizer

from .analysis import TOKEN_PATTERN, analyzer
from .memory import release_memory
from .merging import merge_group, tiered_merge
from .model import Page, Validators

SCHEMA_VERSION = 1
CURRENT = "CURRENT"
PREVIOUS = "PREVIOUS"  # the generation swapped out last; kept for readers still on it
LOCK_NAME = "writer.lock"
META_NAME = "relief-meta.json"
GEN_PREFIX = "gen-"
INCOMING_PREFIX = "incoming-"  # workers' segments not yet moved into a generation
MERGE_FACTOR = 8  # segments of one size class merged at once (indexer/merging.py)
MERGE_MAX_DOCS = 200_000  # passages: a segment this large is not merged again

# Knowledge fields: index field name → attribute collected from a passage.
FACET_FIELDS = ("treatment", "condition", "claim_type", "evidence")


class StoreError(Exception):
    """A problem with the index on disk; the message says what to do about it."""


class StoreLocked(StoreError):
    """Another live process is writing to the index."""


class IndexMissing(StoreError):
    """No index at the given folder."""


class StoreCorrupt(StoreError):
    """The index folder exists but cannot be read."""


def spell_analyzer() -> Any:
    """Surface words, lowercased, unstemmed: the vocabulary "did you mean" draws from."""
    return RegexTokenizer(TOKEN_PATTERN) | LowercaseFilter()


def make_schema() -> Schema:
    ana = analyzer()
    return Schema(
        passage_id=ID(unique=True, stored=True),
        page_id=ID(stored=True, sortable=True),
        content_sha=ID(stored=True),
        url=STORED(),
        position=NUMERIC(int, stored=True, sortable=True),
        title=TEXT(analyzer=ana, stored=True, phrase=True),
        heading=TEXT(analyzer=ana, stored=True, phrase=True),
        text=TEXT(analyzer=ana, stored=True, phrase=True),
        claims=TEXT(analyzer=ana, phrase=False),
        spell=TEXT(analyzer=spell_analyzer(), phrase=False),
        treatment=KEYWORD(commas=True, lowercase=True, stored=True, scorable=True),
        condition=KEYWORD(commas=True, lowercase=True, stored=True),
        claim_type=KEYWORD(commas=True, lowercase=True, stored=True),
        evidence=KEYWORD(commas=True, lowercase=True, stored=True),
        claims_json=STORED(),
        page_meta=STORED(),  # on position 0 only: byline, published, site, source
    )


# ---------------------------------------------------------------- folder layout


def _read_current(root: Path) -> Path | None:
    try:
        name = (root / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreCorrupt(f"cannot read {root / CURRENT}: {exc}") from exc
    if not name.startswith(GEN_PREFIX) or "/" in name or "\\" in name:
        raise StoreCorrupt(f"{root / CURRENT} names {name!r}, not an index generation; rebuild with `relief ingest --rebuild`")
    return root / name


def live_dir(root: str | os.PathLike[str]) -> Path | None:
    """The live generation folder, or None when there is no committed index."""
    root = Path(root)
    gen = _read_current(root)
    if gen is None or not gen.is_dir() or not any(gen.glob("_MAIN_*.toc")):
        return None
    return gen


def index_exists(root: str | os.PathLike[str]) -> bool:
    try:
        return live_dir(root) is not None
    except StoreError:
        return False


def discard_empty(root: str | os.PathLike[str], *, remove_root: bool = False) -> bool:
    """Remove an index that holds no page, so a run that reached nothing leaves no trace.

    A crawl of a mistyped or dead host would otherwise leave an empty index behind, which
    the search side then serves as "no results" instead of "no index here". Only the
    index's own files go (the folder too when `remove_root` and nothing else is in it);
    an index holding pages, or one a writer holds, is left as it is.
    """
    root = Path(root)
    try:
        gen = live_dir(root)
    except StoreError:
        return False
    if gen is None:
        return False
    lock = _WriterLock(root)
    try:
        lock.acquire()
    except StoreLocked:
        return False
    try:
        ix = whoosh_index.open_dir(str(gen))
        try:
            if ix.doc_count_all():
                return False
        finally:
            ix.close()
        (root / CURRENT).unlink(missing_ok=True)
        (root / PREVIOUS).unlink(missing_ok=True)
        _remove_stale_generations(root, keep="")
    finally:
        lock.release()
    (root / LOCK_NAME).unlink(missing_ok=True)
    if remove_root:
        with contextlib.suppress(OSError):
            root.rmdir()  # only when nothing else is in it
    return True


def _new_gen_name() -> str:
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    return f"{GEN_PREFIX}{stamp}-{uuid.uuid4().hex[:6]}"


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def read_meta(gen: Path) -> dict[str, Any]:
    try:
        data = json.loads((gen / META_NAME).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


# ---------------------------------------------------------------- the writer lock


class _WriterLock:
    """An exclusive OS lock on INDEX/writer.lock.

    The OS drops the lock when its process dies, so a lock left by a killed ingest is
    stale by construction and the next run simply takes it; a live writer's lock is
    respected and reported with its pid.
    """

    def __init__(self, root: Path):
        self.path = root / LOCK_NAME
        self.fh: Any = None

    def acquire(self) -> None:
        fh = open(self.path, "a+", encoding="utf-8")
        try:
            _lock_file(fh)
        except OSError:
            fh.seek(0)
            holder = fh.read().strip() or "unknown"
            fh.close()
            raise StoreLocked(
                f"another ingest (pid {holder}) is writing to {self.path.parent}; "
                "wait for it to finish, or stop that process (its lock is freed when it exits)"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self.fh = fh

    def release(self) -> None:
        if self.fh is not None:
            with contextlib.suppress(OSError):
                self.fh.seek(0)
                self.fh.truncate()
                self.fh.flush()
                _unlock_file(self.fh)
            self.fh.close()
            self.fh = None


if os.name == "posix":
    import fcntl

    def _lock_file(fh: Any) -> None:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock_file(fh: Any) -> None:
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

else:  # pragma: no cover - Windows
    import msvcrt

    def _lock_file(fh: Any) -> None:
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]

    def _unlock_file(fh: Any) -> None:
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- documents


def _uniq(values: Any) -> list[str]:
    seen: dict[str, None] = {}
    for v in values:
        v = str(v).strip().lower().replace(",", " ")
        if v:
            seen.setdefault(v, None)
    return list(seen)


def passage_documents(page: Page) -> Iterator[dict[str, Any]]:
    """One Whoosh document per passage of a page."""
    for passage in page.passages:
        claims = passage.claims
        claim_types = _uniq(t for c in claims for t in (c.types or (c.type,)))
        evidence = _uniq(c.evidence for c in claims)
        treatments = _uniq([*passage.treatments, *(t for c in claims for t in c.treatments)])
        conditions = _uniq([*passage.conditions, *(t for c in claims for t in c.conditions)])
        doc: dict[str, Any] = {
            "passage_id": passage.passage_id,
            "page_id": page.page_id,
            "content_sha": page.sha256,
            "url": page.url,
            "position": passage.position,
            "title": page.title or passage.title,
            "heading": passage.heading,
            "text": passage.text,
            "spell": passage.text,
            "claims_json": json.dumps([c.to_dict() for c in claims], ensure_ascii=False) if claims else "",
        }
        if claims:
            doc["claims"] = "\n".join(c.text for c in claims)
        for name, values in (("treatment", treatments), ("condition", conditions), ("claim_type", claim_types), ("evidence", evidence)):
            if values:
                doc[name] = ",".join(values)
        if passage.position == 0:
            meta: dict[str, Any] = {"byline": page.byline, "published": page.published, "site": page.site, "source": page.source}
            if page.etag:
                meta["etag"] = page.etag
            if page.last_modified:
                meta["last_modified"] = page.last_modified
            if page.verdicts:
                meta["verdicts"] = {v.treatment: v.to_dict() for v in page.verdicts}
            doc["page_meta"] = json.dumps(meta, ensure_ascii=False)
        yield doc


def read_validators(path: str | os.PathLike[str]) -> dict[str, Validators]:
    """Each web page in the live index by URL: its page id and HTTP validators.

    The next crawl sends them back (If-None-Match, If-Modified-Since) so an unchanged
    page answers 304 and is not downloaded again; a page without validators is still
    listed, so the crawl visits it and notices when it is gone.
    """
    gen = live_dir(path)
    if gen is None:
        return {}
    try:
        ix = whoosh_index.open_dir(str(gen))
    except Exception as exc:  # whoosh raises several kinds
        raise StoreCorrupt(f"cannot open index {gen}: {exc}; rebuild with `relief ingest --rebuild`") from exc
    try:
        with ix.reader() as reader:
            return validators_from_stored(reader.all_stored_fields())
    finally:
        ix.close()


def validators_from_stored(documents: Iterable[dict[str, Any]]) -> dict[str, Validators]:
    """read_validators over any backend's stored passage fields (those of passage_documents)."""
    found: dict[str, Validators] = {}
    for fields in documents:
        url = fields.get("url") or ""
        if fields.get("position") != 0 or not url.startswith(("http://", "https://")):
            continue
        try:
            meta = json.loads(fields.get("page_meta") or "{}")
        except ValueError:
            meta = {}
        meta = meta if isinstance(meta, dict) else {}
        found[url] = Validators(fields["page_id"], str(meta.get("etag") or ""), str(meta.get("last_modified") or ""),
                                str(fields.get("content_sha") or ""))
    return found


# one document, analysed: (field name, value, its postings or None, its length)
AnalyzedDoc = tuple[tuple[str, Any, "tuple[Any, ...] | None", int], ...]


@functools.lru_cache(maxsize=1)
def index_schema() -> Schema:
    """The schema, made once per process (workers analyse and write with it)."""
    return make_schema()


def analyze_page(page: Page) -> tuple[AnalyzedDoc, ...]:
    """Whoosh's analysis of a page's passage documents (tokens, stems, positions), done by
    the worker process that cleaned the page, so the one writer only files the postings.

    The same per-field steps as Whoosh's `SegmentWriter.add_document`; `IndexWriter.put_page`
    with these gives the index that `put_page` alone gives (tests/test_store.py checks it).
    """
    schema = index_schema()
    docs = []
    for doc in passage_documents(page):
        fields = []
        for name in sorted(doc):
            value = doc[name]
            if value is None:
                continue
            field = schema[name]
            items, length = None, 0
            if field.indexed:
                items = tuple(field.index(value))
                if field.scorable:
                    length = sum(item[1] for item in items)
            fields.append((name, value, items, length))
        docs.append(tuple(fields))
    return tuple(docs)


def _add_analyzed(w: Any, fields: AnalyzedDoc) -> None:
    """`SegmentWriter.add_document` after its analysis: postings to the pool, fields and columns per document."""
    w._check_state()
    schema, perdoc, docnum, add_post = w.schema, w.perdocwriter, w.docnum, w.pool.add
    perdoc.start_doc(docnum)
    for name, value, items, length in fields:
        field = schema[name]
        if items:
            for tbytes, _freq, weight, vbytes in items:
                add_post((name, tbytes, docnum, weight, vbytes))
        perdoc.add_field(name, field, value if field.stored else None, length)
        column = field.column_type
        if column and value is not None:
            perdoc.add_column_value(name, column, field.to_column_value(value))
    perdoc.finish_doc()
    w._added = True
    w.docnum += 1


# ---------------------------------------------------------------- writing


@dataclass
class WriteStats:
    pages_put: int = 0
    pages_deleted: int = 0
    passages_added: int = 0


class IndexWriter:
    """One ingest's view of the index: manifest, templates, put/delete; commit on exit."""

    def __init__(self, root: Path, gen: Path, ix: Any, meta: dict[str, Any], rebuild: bool, limitmb: int,
                 fresh: bool = False, merge_factor: int = MERGE_FACTOR, merge_max_docs: int = MERGE_MAX_DOCS):
        self.root = root
        self.gen = gen
        self.ix = ix
        self.rebuild = rebuild
        self.fresh = fresh  # the first index in this folder: no live one to keep until the end
        self.live = False  # this (fresh) generation went live at a checkpoint: cancel keeps it
        self._manifest: dict[str, str] = dict(meta.get("manifest", {}))
        self._templates: dict[str, list[str]] = dict(meta.get("templates", {}))
        self._meta = meta
        self._limitmb = limitmb
        self._factor, self._max_docs = merge_factor, merge_max_docs
        self._merge = tiered_merge(merge_factor, merge_max_docs)
        self._writer: Any = None
        self._pending: list[Any] = []  # segments the workers wrote, moved in, listed at the next commit
        self._swaps: list[tuple[dict[str, int], Any]] = []  # merged segment, by its sources' ids → deleted counts
        self._merging: dict[str, int] = {}  # segment id → its deleted count when a worker began merging it
        self._worker_segments = False
        self._moved: set[str] = set()  # segments moved into the generation and not yet committed
        self._put: set[str] = set()
        self.stats = WriteStats()
        self.changed = False

    # reading what the index holds
    def manifest(self) -> dict[str, str]:
        return dict(self._manifest)

    def site_templates(self) -> dict[str, frozenset[str]]:
        return {site: frozenset(keys) for site, keys in self._templates.items()}

    # changes
    def _w(self) -> Any:
        if self._writer is None:
            self._writer = self.ix.writer(limitmb=self._limitmb)
        return self._writer

    def put_page(self, page: Page, analyzed: Sequence[AnalyzedDoc] | None = None) -> None:
        """Add a page, or replace every passage of a page with the same id.

        `analyzed`: the page's documents as `analyze_page` gave them (in a worker process).
        """
        w = self._replace(page)
        if analyzed is not None:
            for fields in analyzed:
                _add_analyzed(w, fields)
                self.stats.passages_added += 1
        else:
            for doc in passage_documents(page):
                w.add_document(**doc)
                self.stats.passages_added += 1
        self._put.add(page.page_id)
        self._manifest[page.page_id] = page.sha256
        self.stats.pages_put += 1
        self.changed = True

    def _replace(self, page: Page) -> Any:
        """The Whoosh writer, with the page's passages of an earlier ingest deleted."""
        if page.page_id in self._put:
            raise ValueError(f"page {page.page_id!r} was already written in this ingest")
        w = self._w()
        if page.page_id in self._manifest and not self.rebuild:
            w.delete_by_term("page_id", page.page_id)
        return w

    def put_segment(self, pages: Sequence[Page], segment: Any) -> None:
        """Pages whose passages a worker wrote as one segment (`segments.write_segment`, a
        `SegmentFile` or None when they have none): earlier versions are deleted, the
        segment's file moves into the index, and the next commit lists it."""
        for page in pages:
            self._replace(page)
            self._put.add(page.page_id)
            self._manifest[page.page_id] = page.sha256
            self.stats.pages_put += 1
        if segment is not None:
            self._pending.append(self._move_in(segment))
            self.stats.passages_added += segment.docs
        self._worker_segments = True
        self.changed = True

    def _move_in(self, segment: Any) -> Any:
        """A worker's segment file into the index folder (a rename: same file system)."""
        folder, seg = Path(segment.folder), segment.segment
        prefix = seg.segment_id() + "."
        self._moved.add(seg.segment_id())
        for name in os.listdir(folder):
            if name.startswith(prefix):
                os.replace(folder / name, self.gen / name)
        shutil.rmtree(folder, ignore_errors=True)
        return seg

    def merge_sources(self) -> tuple[Any, ...]:
        """Committed segments for a worker to merge now (`segments.merge_segments`), chosen
        by the tiered policy among those not being merged already; () when none are due."""
        current = self._writer.segments if self._writer is not None else self.ix._segments()
        free = [s for s in current if s.segid not in self._merging]
        group = merge_group([s.doc_count_all() for s in free], self._factor, self._max_docs)
        chosen = tuple(free[i] for i in sorted(group))
        for seg in chosen:
            self._merging[seg.segid] = seg.deleted_count()
        return chosen

    def merged(self, sources: Sequence[Any], segment: Any) -> None:
        """A worker merged `sources` into `segment` (None: nothing left in them): it replaces
        them at the next commit, unless a source lost documents meanwhile (then the merged
        copy is dropped, and the sources may be merged again later)."""
        ids = {s.segid: self._merging.get(s.segid, s.deleted_count()) for s in sources}
        self._swaps.append((ids, self._move_in(segment) if segment is not None else None))
        self.changed = True

    def delete_page(self, page_id: str) -> None:
        if page_id in self._put:
            raise ValueError(f"page {page_id!r} was written in this ingest; it cannot also be deleted")
        if page_id not in self._manifest:
            return
        self._w().delete_by_term("page_id", page_id)
        del self._manifest[page_id]
        self.stats.pages_deleted += 1
        self.changed = True

    def set_site_template(self, site: str, keys: frozenset[str] | set[str] | list[str]) -> None:
        new = sorted(set(keys))
        if self._templates.get(site) != new:
            self._templates[site] = new
            self.changed = True

    # ending
    def _meta_doc(self, generation: int) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "toc_generation": generation,
            "last_ingest": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "manifest": self._manifest,
            "templates": self._templates,
            "pages": len(self._manifest),
        }

    def checkpoint(self) -> None:
        """Commit what is written so far, with its manifest, and go on writing.

        Searchers see the pages from here on, and a run killed later keeps them: the
        re-run finds them in the manifest. A rebuild beside a live index commits into its
        new generation, which stays unseen until the final commit swaps it in; the very
        first index of a folder has nothing to keep, so it goes live at once.
        """
        if not self.changed:
            return
        self._commit_whoosh()
        if self.rebuild and self.fresh:
            _atomic_write(self.root / CURRENT, self.gen.name + "\n")
            self.live = True
        self.changed = False

    def _commit_whoosh(self) -> None:
        if self._pending or self._swaps:
            self._list_worker_segments(self._w())
        if self._writer is not None:
            # once workers write the segments they merge them too; else this writer merges
            self._writer.commit(mergetype=_keep_segments if self._worker_segments else self._merge)
            self._writer = None
            self._moved.clear()
            release_memory()  # the pool's postings are freed: give their pages back
        generation = self.ix.latest_generation()
        _atomic_write(self.gen / META_NAME, json.dumps(self._meta_doc(generation), ensure_ascii=False))

    def _list_worker_segments(self, w: Any) -> None:
        segments = list(w.segments)
        for ids, merged in self._swaps:
            by_id = {s.segid: s for s in segments}
            if all(i in by_id and by_id[i].deleted_count() == n for i, n in ids.items()):
                segments = [s for s in segments if s.segid not in ids] + ([merged] if merged is not None else [])
            # else Whoosh's commit removes the unlisted merged file
            for i in ids:
                self._merging.pop(i, None)
        w.segments = segments + self._pending
        self._pending, self._swaps = [], []

    def commit(self) -> None:
        if self._writer is None and not self.changed and not self.rebuild:
            return  # nothing to write: an unchanged corpus leaves the index untouched
        self._commit_whoosh()
        if self.rebuild:
            try:
                old = _read_current(self.root)
            except StoreCorrupt:
                old = None
            if old is not None and old.name != self.gen.name:
                _atomic_write(self.root / PREVIOUS, old.name + "\n")
            _atomic_write(self.root / CURRENT, self.gen.name + "\n")
            _remove_stale_generations(self.root, keep=self.gen.name)

    def cancel(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.cancel()
            self._writer = None
        for name in os.listdir(self.gen) if self.gen.is_dir() else ():
            if name.split(".", 1)[0] in self._moved:  # moved in, never committed: room on a full disk
                with contextlib.suppress(OSError):
                    os.remove(self.gen / name)
        if self.rebuild and not self.live:  # a live generation holds searchable checkpoints
            shutil.rmtree(self.gen, ignore_errors=True)


def _keep_segments(writer: Any, segments: list[Any]) -> list[Any]:
    """A Whoosh merge policy that merges nothing (the workers merge)."""
    return segments


def incoming_dir(root: str | os.PathLike[str]) -> Path:
    """Where this process's workers write segments before the writer moves them in."""
    return Path(root) / f"{INCOMING_PREFIX}{os.getpid()}"


def _remove_incoming(root: Path) -> None:
    """Segments written for ingests that ended without moving them in (killed, failed)."""
    for child in root.glob(INCOMING_PREFIX + "*"):
        shutil.rmtree(child, ignore_errors=True)


def _remove_stale_generations(root: Path, keep: str) -> None:
    """Delete generation folders other than the live one and the one it replaced.

    The replaced one stays until the next swap so that readers which have not yet
    refreshed can still read files they open lazily; leftovers of killed rebuilds go.
    """
    try:
        previous = (root / PREVIOUS).read_text(encoding="utf-8").strip()
    except OSError:
        previous = ""
    for child in root.iterdir():
        if child.is_dir() and child.name.startswith(GEN_PREFIX) and child.name not in (keep, previous):
            shutil.rmtree(child, ignore_errors=True)


def _manifest_from_index(ix: Any) -> dict[str, str]:
    manifest: dict[str, str] = {}
    with ix.reader() as reader:
        for fields in reader.all_stored_fields():
            manifest[fields["page_id"]] = fields.get("content_sha", "")
    return manifest


@contextlib.contextmanager
def open_writer(
    path: str | os.PathLike[str], *, rebuild: bool = False, limitmb: int = 256,
    merge_factor: int = MERGE_FACTOR, merge_max_docs: int = MERGE_MAX_DOCS,
) -> Iterator[IndexWriter]:
    """The one writer of an index folder; commits once on a clean exit, else changes nothing.

    `limitmb` bounds Whoosh's in-memory posting pool (it spills sorted runs to disk past
    it); `merge_factor` and `merge_max_docs` shape the segment merges (see tiered_merge).
    """
    root = Path(path)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create index folder {root}: {exc}") from exc
    lock = _WriterLock(root)
    lock.acquire()
    try:
        _remove_incoming(root)
        try:
            live = live_dir(root)
        except StoreCorrupt:
            if not rebuild:
                raise
            live = None  # a damaged pointer: the rebuild replaces it
        fresh = live is None
        if live is None or rebuild:
            # a fresh generation beside whatever is live; leftovers of killed rebuilds go
            _remove_stale_generations(root, keep=live.name if live else "")
            gen = root / _new_gen_name()
            gen.mkdir()
            ix = whoosh_index.create_in(str(gen), make_schema())
            meta: dict[str, Any] = {}
            rebuild = True
        else:
            gen = live
            _remove_stale_generations(root, keep=live.name)
            try:
                ix = whoosh_index.open_dir(str(gen))
            except Exception as exc:  # whoosh raises several kinds
                raise StoreCorrupt(f"cannot open index {gen}: {exc}; rebuild with `relief ingest --rebuild`") from exc
            with contextlib.suppress(OSError):  # segment files a killed ingest moved in and never listed
                whoosh_index.clean_files(ix.storage, ix.indexname, ix.latest_generation(), ix._segments())
            meta = read_meta(gen)
            if meta.get("toc_generation") != ix.latest_generation():
                # killed between Whoosh's commit and ours: trust the index itself
                meta = {**meta, "manifest": _manifest_from_index(ix)}
        writer = IndexWriter(root, gen, ix, meta, rebuild=rebuild, limitmb=limitmb, fresh=fresh,
                             merge_factor=merge_factor, merge_max_docs=merge_max_docs)
        try:
            yield writer
            writer.commit()
        except OSError as exc:  # disk full, file too large, permissions
            writer.cancel()
            raise StoreError(
                f"cannot write the index at {root}: {exc.strerror or exc}; "
                "the last committed index is unchanged (free disk space and run the ingest again)"
            ) from exc
        except BaseException:
            writer.cancel()
            raise
    finally:
        lock.release()
