"""Writing the shards: one writer per shard, changes committed per shard in one transaction.

Xapian lets one writer hold a database; `ShardWriters` holds every shard's and routes each
page to its shard by id. Each shard keeps its own part of the manifest in its metadata
(`page:ID` → content hash), written in the same transaction as the passages, so a shard's
manifest never disagrees with its documents: an ingest killed before a shard committed
leaves that shard as it was, and the next run redoes exactly its pages. Site templates
live in shard 0's metadata (`site:KEY`). `checkpoint()` commits what is written so far.

Every shard also records its generation (`generation` metadata): a rebuild gives all shards
a new one in the transaction that replaces their contents, an incremental ingest keeps the
one they share. Readers search only when every shard holds the same generation, so a
rebuild becomes visible across the shards at once (`shards.agreed_generation`).

Scored terms carry wdfs normalised by their field's length (`documents.Norms`, Whoosh's
per-field BM25): into empty shards (and in a rebuild) the first `SAMPLE_PASSAGES`
passages are held back until the average field lengths are measured on them; the
averages go into every shard's metadata and later ingests reuse them. Shards written
before this (documents but no norms) keep plain wdfs until a rebuild.

It has the methods of `store.IndexWriter` that the ingest calls (manifest, site_templates,
put_page, delete_page, set_site_template), so the pipeline writes to either backend.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import secrets
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from ..config import Settings
from ..model import Page
from ..search.ranking import Ranking
from ..store import StoreError, StoreLocked
from . import load
from .documents import NORMS_KEY, Norms, PassageTokens, analyze_page, key_term, measure_norms, page_documents
from .shards import GENERATION, Endpoint, ShardUnavailable, shard_of, write_layout

__all__ = ["ShardWriters", "WriteStats", "open_shard_writers"]

PAGE_KEY = "page:"
LAST_INGEST = "last_ingest"
SITE_KEY = "site:"
SAMPLE_PASSAGES = 2000  # passages measured for the average field lengths


@dataclass
class WriteStats:
    pages_put: int = 0
    pages_deleted: int = 0
    passages_added: int = 0


def _open_writable(ep: Endpoint) -> Any:
    xapian = load()
    try:
        if ep.path is not None:
            ep.path.mkdir(parents=True, exist_ok=True)
            return xapian.WritableDatabase(str(ep.path), xapian.DB_CREATE_OR_OPEN)
        return xapian.remote_open_writable(ep.host, ep.port, 30000, 3000)
    except xapian.DatabaseLockError as exc:
        raise StoreLocked(f"another ingest is writing to shard {ep}; wait for it to finish, or stop that process") from exc
    except xapian.NetworkError as exc:
        raise ShardUnavailable(f"shard writer {ep} does not answer ({exc.get_msg()}); start `xapian-tcpsrv --writable` there") from exc
    except (xapian.Error, OSError) as exc:
        raise StoreError(f"cannot open shard {ep} for writing: {exc}") from exc


class ShardWriters:
    """One ingest's writers, one per shard; nothing is visible to readers before `commit`."""

    def __init__(self, dbs: Sequence[Any], endpoints: Sequence[Endpoint], rebuild: bool, b: float = Ranking.b):
        self.dbs = list(dbs)
        self.b = b
        self.endpoints = list(endpoints)
        self.rebuild = rebuild
        self.stats = WriteStats()
        self._put: set[str] = set()
        self._manifest: dict[str, str] = {}
        self._templates: dict[str, list[str]] = {}
        self._begin()
        held = {db.get_metadata(GENERATION).decode("utf-8") for db in self.dbs} - {""}
        if rebuild:
            self.generation = _new_generation()
            for db in self.dbs:
                _clear(db)
        else:
            if len(held) > 1:
                self.cancel()
                raise StoreError(f"the shards hold different generations ({', '.join(sorted(held))}): a rebuild did not finish on every shard; run `relief ingest --rebuild`")
            self.generation = held.pop() if held else _new_generation()
            for db in self.dbs:
                for key in db.metadata_keys(PAGE_KEY):
                    self._manifest[key.decode("utf-8")[len(PAGE_KEY) :]] = db.get_metadata(key).decode("utf-8")
            for key in self.dbs[0].metadata_keys(SITE_KEY):
                self._templates[key.decode("utf-8")[len(SITE_KEY) :]] = json.loads(self.dbs[0].get_metadata(key))
        for db in self.dbs:
            db.set_metadata(GENERATION, self.generation)
        self.norms: Norms | None = None
        self._held: list[tuple[Page, Sequence[PassageTokens]]] = []  # pages waiting for the norms
        self._measuring = rebuild
        if not rebuild:
            self.norms = Norms.from_json(self.dbs[0].get_metadata(NORMS_KEY))
            self._measuring = self.norms is None and not any(db.get_doccount() for db in self.dbs)

    @property
    def shards(self) -> int:
        return len(self.dbs)

    def _begin(self) -> None:
        for db in self.dbs:
            db.begin_transaction(True)

    def manifest(self) -> dict[str, str]:
        return dict(self._manifest)

    def site_templates(self) -> dict[str, frozenset[str]]:
        return {site: frozenset(keys) for site, keys in self._templates.items()}

    def _db(self, page_id: str) -> Any:
        return self.dbs[shard_of(page_id, len(self.dbs))]

    # the analysis ingest workers run for this writer (pipeline.run_job), sent to put_page
    worker_analysis = "xapian"

    def put_page(self, page: Page, tokens: Sequence[PassageTokens] | None = None) -> None:
        """Add a page, or replace every passage of a page with the same id (`tokens`: its
        passages as a worker analysed them, `documents.analyze_page`)."""
        if page.page_id in self._put:
            raise ValueError(f"page {page.page_id!r} was already written in this ingest")
        self._put.add(page.page_id)
        self._manifest[page.page_id] = page.sha256
        self.stats.pages_put += 1
        if self._measuring:
            self._held.append((page, tokens if tokens is not None else analyze_page(page)))
            if sum(len(t) for _, t in self._held) >= SAMPLE_PASSAGES:
                self._measured()
            return
        self._write(page, tokens)

    def _write(self, page: Page, tokens: Sequence[PassageTokens] | None) -> None:
        db = self._db(page.page_id)
        db.delete_document(key_term("page_id", page.page_id))
        for doc in page_documents(page, self.norms, tokens):
            db.add_document(doc)
            self.stats.passages_added += 1
        db.set_metadata(PAGE_KEY + page.page_id, page.sha256)

    def _measured(self) -> None:
        """Measure the field lengths on the pages held back, record them, write the pages."""
        if not self._measuring:
            return
        self._measuring = False
        if not self._held:
            return
        self.norms = measure_norms((t for _, tokens in self._held for t in tokens), self.b)
        for db in self.dbs:
            db.set_metadata(NORMS_KEY, self.norms.to_json())
        held, self._held = self._held, []
        for page, tokens in held:
            self._write(page, tokens)

    def delete_page(self, page_id: str) -> None:
        if page_id in self._put:
            raise ValueError(f"page {page_id!r} was written in this ingest; it cannot also be deleted")
        if page_id not in self._manifest:
            return
        db = self._db(page_id)
        db.delete_document(key_term("page_id", page_id))
        db.set_metadata(PAGE_KEY + page_id, "")
        del self._manifest[page_id]
        self.stats.pages_deleted += 1

    def set_site_template(self, site: str, keys: frozenset[str] | set[str] | list[str]) -> None:
        new = sorted(set(keys))
        if self._templates.get(site) != new:
            self._templates[site] = new
            self.dbs[0].set_metadata(SITE_KEY + site, json.dumps(new))

    def checkpoint(self) -> None:
        """Commit every shard's changes so far and go on writing; a rebuild commits only at
        the end, so readers keep the old contents until the new ones are whole."""
        self._measured()  # held pages go to the shards (a rebuild still commits only at its end)
        if self.rebuild:
            return
        for db in self.dbs:
            db.commit_transaction()
        self._begin()

    def commit(self) -> None:
        self._measured()
        stamp = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        for db in self.dbs:
            db.set_metadata(LAST_INGEST, stamp)
            db.commit_transaction()

    def cancel(self) -> None:
        for db in self.dbs:
            with contextlib.suppress(Exception):
                db.cancel_transaction()

    def close(self) -> None:
        for db in self.dbs:
            with contextlib.suppress(Exception):
                db.close()


def _new_generation() -> str:
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    return f"{stamp}-{secrets.token_hex(4)}"


def _clear(db: Any) -> None:
    """Every document and manifest entry of a shard, removed inside the open transaction."""
    for item in list(db.postlist("")):
        db.delete_document(item.docid)
    for key in list(db.metadata_keys()):
        db.set_metadata(key, "")


@contextlib.contextmanager
def open_shard_writers(settings: Settings, *, rebuild: bool = False) -> Iterator[ShardWriters]:
    """The shards' one writer; commits every shard on a clean exit, else changes nothing."""
    xapian = load()
    endpoints = write_layout(settings)
    dbs: list[Any] = []
    try:
        for ep in endpoints:
            dbs.append(_open_writable(ep))
        writers = ShardWriters(dbs, endpoints, rebuild)
        try:
            yield writers
            writers.commit()
        except xapian.NetworkError as exc:
            writers.cancel()
            raise ShardUnavailable(f"a shard writer stopped answering ({exc.get_msg()}); nothing more was committed; run the ingest again") from exc
        except BaseException:
            writers.cancel()
            raise
    finally:
        for db in dbs:
            with contextlib.suppress(Exception):
                db.close()
