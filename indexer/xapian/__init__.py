"""The Xapian backend: the index as shards behind `xapian-tcpsrv`, searched as one.

Optional (Xapian is GPL; Whoosh stays the embedded default). Xapian's remote backend
runs a query over every shard itself, with the collection's global term statistics, so a
sharded index ranks exactly like one database. Modules, each depending only on those above:

    shards      endpoints from the settings, `shard_of(page id)`, opening shards as one
                database (`ShardUnavailable` when a server does not answer)
    documents   one Xapian document per passage: term prefixes, value slots, stored data
    writer      `ShardWriters`: one writer per shard, the manifest in each shard's metadata
    translate   our query nodes, and the query language's parse trees, as Xapian queries
    engine      `XapianEngine`, the engine interface of `indexer.search.engine`
    generation  `XapianGeneration`: one opened state of the shards and its caches
    index       `XapianIndex`: the `Index` facade over the shards

`xapian` (Debian's python3-xapian, linked into the virtualenv by scripts/link_xapian.sh)
is imported by `load()`, so nothing here fails to import where it is absent.
"""

from __future__ import annotations

from typing import Any

__all__ = ["XapianMissing", "available", "load"]


class XapianMissing(ImportError):
    """The xapian backend was asked for where the xapian module is not installed."""


def load() -> Any:
    try:
        import xapian
    except ImportError as exc:
        raise XapianMissing(
            "the xapian backend needs Debian's python3-xapian and xapian-tools "
            "(apt-get install python3-xapian xapian-tools, then scripts/link_xapian.sh)"
        ) from exc
    return xapian


def available() -> bool:
    try:
        load()
    except XapianMissing:
        return False
    return True
