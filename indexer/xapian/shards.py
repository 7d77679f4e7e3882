"""Where the shards are: endpoints from the settings, routing, and opening them as one.

Reading: `shards` lists one read endpoint per shard (HOST:PORT of `xapian-tcpsrv`; `a|b`
names replicas of one shard, tried in order). With none, the shard folders under the
index folder are opened directly (one machine, no server). Writing: `shard_writers` lists
one endpoint per shard in the same order, a folder or HOST:PORT of `xapian-tcpsrv
--writable`; with none, INDEX/shard-0 … INDEX/shard-(N-1). A page lives on shard
`shard_of(page id, N)` for good, so the shard count is fixed once an index is written.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Settings
from ..store import StoreError
from . import load

__all__ = ["GENERATION", "Endpoint", "ShardUnavailable", "ShardsDisagree", "agreed_generation", "open_readers", "open_shards", "read_layout", "shard_of", "write_layout"]

_HOST_PORT = re.compile(r"^\[?([A-Za-z0-9_.:-]+?)\]?:(\d{1,5})$")
CONNECT_MS = 3000  # a server that does not answer within this is reported down
TIMEOUT_MS = 30000  # a query that gets no answer within this is reported failed
GENERATION = "generation"  # each shard's metadata: the rebuild its contents belong to
SWAP_WAIT_S = 10.0  # how long readers wait for every shard to reach one generation


class ShardUnavailable(StoreError):
    """A shard server does not answer (and no replica of it does)."""


class ShardsDisagree(ShardUnavailable):
    """The shards hold different generations (a rebuild did not commit on every shard)."""


@dataclass(frozen=True)
class Endpoint:
    """One way to reach a shard: a folder, or a server."""

    path: Path | None = None
    host: str = ""
    port: int = 0

    def __str__(self) -> str:
        return f"{self.host}:{self.port}" if self.path is None else str(self.path)


def parse_endpoint(text: str) -> Endpoint:
    text = text.strip()
    m = _HOST_PORT.match(text)
    if m and "/" not in text:
        port = int(m.group(2))
        if not 0 < port < 65536:
            raise StoreError(f"bad shard endpoint {text!r}: port out of range")
        return Endpoint(host=m.group(1), port=port)
    if not text:
        raise StoreError("empty shard endpoint in the shard list")
    return Endpoint(path=Path(text))


def _split(spec: str) -> list[str]:
    return [part.strip() for part in spec.split(",") if part.strip()]


def shard_count(settings: Settings) -> int:
    return len(_split(settings.shard_writers)) or len(_split(settings.shards)) or 1


def write_layout(settings: Settings) -> list[Endpoint]:
    """One write endpoint per shard."""
    given = _split(settings.shard_writers)
    if given:
        return [parse_endpoint(s) for s in given]
    return [Endpoint(path=Path(settings.index) / f"shard-{i}") for i in range(shard_count(settings))]


def read_layout(settings: Settings) -> list[tuple[Endpoint, ...]]:
    """Per shard, its read endpoints (replicas in order of preference)."""
    given = _split(settings.shards)
    if given:
        return [tuple(parse_endpoint(r) for r in s.split("|") if r.strip()) for s in given]
    return [(Endpoint(path=Path(settings.index) / f"shard-{i}"),) for i in range(shard_count(settings))]


def shard_of(page_id: str, shards: int) -> int:
    """The shard a page lives on: a stable hash of its id (the same in every process)."""
    digest = hashlib.blake2b(page_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def open_shard(replicas: tuple[Endpoint, ...]) -> Any:
    """One shard for reading, from the first replica that answers."""
    xapian = load()
    problems = []
    for ep in replicas:
        try:
            if ep.path is not None:
                if not ep.path.is_dir():
                    problems.append(f"{ep}: no such folder")
                    continue
                return xapian.Database(str(ep.path))
            return xapian.remote_open(ep.host, ep.port, TIMEOUT_MS, CONNECT_MS)
        except xapian.Error as exc:
            problems.append(f"{ep}: {exc.get_msg() if hasattr(exc, 'get_msg') else exc}")
    raise ShardUnavailable("shard unavailable (" + "; ".join(problems) + "); start its xapian-tcpsrv, or list a replica as HOST:PORT|HOST:PORT in RELIEF_SHARDS")


def open_shards(layout: list[tuple[Endpoint, ...]]) -> tuple[Any, list[Any]]:
    """Every shard as one database, and each shard's own handle (they share the connection,
    so reopening the whole moves the parts too)."""
    xapian = load()
    db = xapian.Database()
    parts = []
    for replicas in layout:
        part = open_shard(replicas)
        parts.append(part)
        db.add_database(part)
    return db, parts


def open_readers(layout: list[tuple[Endpoint, ...]]) -> Any:
    """Every shard as one database: Xapian merges the shards' matches with global statistics."""
    return open_shards(layout)[0]


def agreed_generation(db: Any, parts: list[Any], layout: list[tuple[Endpoint, ...]], wait: float = SWAP_WAIT_S) -> str:
    """The generation every shard holds, reopening `db` until they agree.

    A rebuild commits its shards one after another, so a reader that reopens in between
    would see some shards rebuilt and others not; it reopens again (the writer commits the
    shards back to back) and never searches the mixture. Shards still disagreeing after
    `wait` seconds mean a rebuild stopped between shards: a clear error, not a mixed answer.
    """
    deadline = time.monotonic() + wait
    pause = 0.005
    while True:
        gens = [_text(p.get_metadata(GENERATION)) for p in parts]
        if len(set(gens)) <= 1:
            return gens[0] if gens else ""
        if time.monotonic() >= deadline:
            held = "; ".join(f"{' | '.join(map(str, r))}: {g or 'none'}" for r, g in zip(layout, gens))
            raise ShardsDisagree(f"the shards hold different index generations ({held}): a rebuild did not finish on every shard; run `relief ingest --rebuild` again")
        time.sleep(pause)
        pause = min(pause * 2, 0.1)
        db.reopen()


def _text(b: Any) -> str:
    return b.decode("utf-8") if isinstance(b, bytes) else str(b)
