"""The index backend the settings name (`backend`): Whoosh folders or Xapian shards.

The one place that picks: the ingest asks `open_writer`, the CLI and the web app ask
`open_index`, and both backends answer with the same methods. The Xapian modules are
imported only when asked for (they need Debian's python3-xapian).
"""

from __future__ import annotations

from typing import Any, ContextManager

from .config import Settings

__all__ = ["open_writer"]


def open_writer(settings: Settings, *, rebuild: bool = False) -> ContextManager[Any]:
    """The index's one writer (`store.IndexWriter` or `xapian.writer.ShardWriters`)."""
    if settings.backend == "xapian":
        from .xapian.writer import open_shard_writers

        return open_shard_writers(settings, rebuild=rebuild)
    from . import store

    return store.open_writer(settings.index, rebuild=rebuild)

