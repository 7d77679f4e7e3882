"""The ingest spread over Dask workers: `relief ingest PATHS --dask tcp://SCHEDULER:PORT`.

The pipeline is unchanged: `pipeline.ingest_stream` reads the sources here, skips pages
whose hash the index already holds, and hands each site batch to an executor; with Dask
that executor is the cluster's (`Client.get_executor`), so `pipeline.run_job` (pure,
picklable) runs on the workers while this process keeps the one writer (one per shard on
the xapian backend, pages routed by id) and its checkpoints. A worker that dies takes its
batch with it; the scheduler runs the batch again on another worker, and the results are
written only here, once each, so no page is lost or doubled. A batch whose workers keep
dying, or a cluster without workers, ends the run with `DaskUnavailable`: what the last
checkpoint committed stays, and a re-run continues from the manifest.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import CancelledError
from typing import Any, Sequence

from .config import Settings
from .model import IngestReport
from .pipeline import Progress, ingest_stream
from .sources import read_sources
from .store import StoreError

__all__ = ["DaskUnavailable", "ingest_dask"]

CONNECT_SECONDS = 10
WORKERS_SECONDS = 30


class DaskUnavailable(StoreError):
    """The Dask cluster cannot take the work: no scheduler, no worker, or workers dying."""


def _client(address: str) -> Any:
    try:
        from distributed import Client
    except ImportError as exc:
        raise DaskUnavailable("the distributed ingest needs Dask: pip install -e '.[scale]'") from exc
    try:
        return Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise DaskUnavailable(f"no Dask scheduler answers at {address} ({exc}); start one with `dask scheduler`") from exc


def _watch(client: Any, stop: threading.Event, lost: list[str]) -> None:
    """Close the client when the cluster has had no worker for WORKERS_SECONDS: the batches
    waiting on it are cancelled, and the ingest ends with a clear error instead of waiting."""
    idle_since: float | None = None
    while not stop.wait(0.5):
        try:
            workers = len(client.nthreads())
        except Exception:  # the scheduler itself is gone: as good as no worker
            workers = 0
        if workers:
            idle_since = None
            continue
        idle_since = idle_since or time.monotonic()
        if time.monotonic() - idle_since >= WORKERS_SECONDS:
            lost.append(f"no Dask worker was connected to the scheduler for {WORKERS_SECONDS} s")
            client.close()
            return


def ingest_dask(
    paths: Sequence[str],
    settings: Settings,
    *,
    address: str | None = None,
    rebuild: bool = False,
    prune: bool = False,
    progress: Progress | None = None,
) -> IngestReport:
    """`pipeline.ingest` with the cleaning on the Dask cluster at `address` (else the setting)."""
    from distributed import KilledWorker

    address = address or settings.dask
    if not address:
        raise DaskUnavailable("no Dask scheduler given: --dask tcp://HOST:PORT or RELIEF_DASK")
    client = _client(address)
    stop, lost = threading.Event(), list[str]()
    watcher = threading.Thread(target=_watch, args=(client, stop, lost), name="relief-dask-watch", daemon=True)
    try:
        try:
            client.wait_for_workers(1, timeout=WORKERS_SECONDS)
        except TimeoutError as exc:
            raise DaskUnavailable(f"no Dask worker joined {address} within {WORKERS_SECONDS} s; start some with `dask worker {address}`") from exc
        threads = max(1, sum(client.nthreads().values()))
        executor = client.get_executor(pure=False)
        watcher.start()
        try:
            return ingest_stream(
                read_sources(paths, settings.max_page_bytes), settings,
                rebuild=rebuild, prune=prune, workers=threads, progress=progress, executor=executor,
            )
        except (KilledWorker, CancelledError) as exc:
            why = lost[0] if lost else f"workers kept dying on one batch ({exc})"
            raise DaskUnavailable(f"the ingest on {address} stopped: {why}; the pages committed at the last checkpoint stay, run the ingest again") from exc
    finally:
        stop.set()
        if watcher.is_alive():
            watcher.join(5)
        client.close()
