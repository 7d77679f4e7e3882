"""The index backend the settings name (`backend`): Whoosh folders or Xapian shards.

The one place that picks: the ingest asks `open_writer`, the CLI and the web app ask
`open_index`, and both backends answer with the same methods. The Xapian modules are
imported only when asked for (they need Debian's python3-xapian).
"""

from __future__ import annotations

from typing import Any, ContextManager

from .config import Settings
from .model import Validators

__all__ = ["index_present", "open_index", "open_writer", "read_validators", "worker_analysis"]


def open_writer(settings: Settings, *, rebuild: bool = False) -> ContextManager[Any]:
    """The index's one writer (`store.IndexWriter` or `xapian.writer.ShardWriters`)."""
    if settings.backend == "xapian":
        from .xapian.writer import open_shard_writers

        return open_shard_writers(settings, rebuild=rebuild)
    from . import store

    return store.open_writer(settings.index, rebuild=rebuild, limitmb=settings.writer_mb)


def worker_analysis(writer: Any) -> bool | str:
    """What ingest workers analyse for this writer (`sites.Job.analyze`): True for Whoosh's
    (`store.analyze_page`), "xapian" for the shards' (`xapian.documents.analyze_page`)."""
    from .store import IndexWriter

    if isinstance(writer, IndexWriter):
        return True
    return str(getattr(writer, "worker_analysis", "")) or False


def open_index(settings: Settings, **options: Any) -> Any:
    """The `Index` facade over the configured backend (`IndexMissing` when there is none)."""
    if settings.backend == "xapian":
        from .xapian.index import XapianIndex

        return XapianIndex.open(settings=settings, **options)
    from .search import Index

    return Index.open(settings.index, settings=settings, **options)


def index_present(settings: Settings) -> bool:
    """Whether there is an index to open: a committed Whoosh folder, local shard folders, or
    shard servers (whose presence only a search can tell)."""
    if settings.backend == "xapian":
        from .xapian.shards import read_layout

        return all(r[0].path is None or r[0].path.is_dir() for r in read_layout(settings))
    from .store import index_exists

    return index_exists(settings.index)


def read_validators(settings: Settings) -> dict[str, Validators]:
    """Crawled pages the index holds, by URL, with their HTTP validators (for `relief crawl`)."""
    from .store import read_validators as read_whoosh
    from .store import validators_from_stored

    if settings.backend != "xapian":
        return read_whoosh(settings.index)
    if not index_present(settings):
        return {}
    import json

    from .xapian.shards import open_readers, read_layout

    db = open_readers(read_layout(settings))
    try:
        return validators_from_stored(json.loads(db.get_document(item.docid).get_data() or b"{}") for item in db.postlist(""))
    finally:
        db.close()
