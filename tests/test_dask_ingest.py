"""The ingest on a Dask cluster: a scheduler and two workers on 127.0.0.1, started by the
tests and stopped by pid; pages go to two Xapian shards, one writer per shard."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest

from indexer.config import load_settings
from indexer.pipeline import ingest
from xapian_cluster import DaskProcess, needs_xapian, start_scheduler, start_worker, wait_for_workers

pytestmark = needs_xapian


@pytest.fixture(scope="module")
def dask_cluster() -> Iterator[dict[str, Any]]:
    scheduler = start_scheduler()
    workers = [start_worker(scheduler, "w1"), start_worker(scheduler, "w2")]
    try:
        wait_for_workers(scheduler, 2)
        yield {"scheduler": scheduler, "workers": workers}
    finally:
        for p in [*workers, scheduler]:
            p.stop()


def _shards(tmp: Path, **kw: Any) -> Any:
    return load_settings(env={}, index=tmp, backend="xapian", shard_writers=f"{tmp / 's0'},{tmp / 's1'}", **kw)


def _held(settings: Any) -> dict[str, list[str]]:
    """Passage ids per page across the shards, duplicates kept (to see a doubled page)."""
    import json

    import xapian

    out: dict[str, list[str]] = {}
    for folder in settings.shard_writers.split(","):
        db = xapian.Database(folder)
        for item in db.postlist(""):
            f = json.loads(db.get_document(item.docid).get_data())
            out.setdefault(f["page_id"], []).append(f["passage_id"])
    return out


def _many_pages(corpus: Path, folder: Path, copies: int) -> int:
    """The corpus's HTML pages under other names: a bigger site, so an ingest takes a while."""
    folder.mkdir()
    n = 0
    for page in sorted(corpus.glob("*.html")):
        for i in range(copies):
            shutil.copy(page, folder / f"{page.stem}-{i}.html")
            n += 1
    return n


def test_dask_ingest_writes_what_a_local_ingest_writes(dask_cluster: dict[str, Any], corpus_dir: Path, tmp_path: Path) -> None:
    from indexer.dask_ingest import ingest_dask

    remote = _shards(tmp_path / "dask", dask=dask_cluster["scheduler"].address)
    report = ingest_dask([str(corpus_dir)], remote)
    local = _shards(tmp_path / "local")
    want = ingest([str(corpus_dir)], local)
    assert (report.added, report.passages, report.claims, len(report.skipped)) == (want.added, want.passages, want.claims, len(want.skipped))
    assert {p: sorted(v) for p, v in _held(remote).items()} == {p: sorted(v) for p, v in _held(local).items()}
    again = ingest_dask([str(corpus_dir)], remote)  # incremental: the manifest is the shards'
    assert again.unchanged == report.added and again.added == 0


def test_a_worker_killed_mid_ingest_loses_and_doubles_nothing(dask_cluster: dict[str, Any], corpus_dir: Path, tmp_path: Path) -> None:
    from indexer.dask_ingest import ingest_dask

    n = _many_pages(corpus_dir, tmp_path / "site", 8)
    settings = _shards(tmp_path / "x", dask=dask_cluster["scheduler"].address, batch_pages=4)
    victim: DaskProcess = dask_cluster["workers"][1]
    killed: list[int] = []

    def progress(p: Any) -> None:
        if not killed and p.written >= 8:
            victim.stop()  # SIGKILL while the other batches are on the workers
            killed.append(p.written)

    report = ingest_dask([str(tmp_path / "site")], settings, progress=progress)
    assert killed and report.added == n and not report.skipped
    held = _held(settings)
    assert len(held) == n
    assert all(len(v) == len(set(v)) for v in held.values())  # no passage twice
    replacement = start_worker(dask_cluster["scheduler"], "w3")
    dask_cluster["workers"].append(replacement)
    wait_for_workers(dask_cluster["scheduler"], 2)


def test_losing_every_worker_is_a_clear_error_and_a_rerun_completes(corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from indexer import dask_ingest
    from indexer.dask_ingest import DaskUnavailable, ingest_dask

    monkeypatch.setattr(dask_ingest, "WORKERS_SECONDS", 3)
    n = _many_pages(corpus_dir, tmp_path / "site", 6)
    scheduler = start_scheduler(allowed_failures=0)  # a worker dying under a batch fails it
    worker = start_worker(scheduler, "only")
    procs = [scheduler, worker]
    try:
        wait_for_workers(scheduler, 1)
        settings = _shards(tmp_path / "x", dask=scheduler.address, batch_pages=4, commit_pages=4)

        def progress(p: Any) -> None:
            if p.written >= 4:
                worker.stop()

        with pytest.raises(DaskUnavailable, match="run the ingest again"):
            ingest_dask([str(tmp_path / "site")], settings, progress=progress)
        kept = _held(settings) if (tmp_path / "x" / "s0").exists() else {}
        assert len(kept) < n  # what a checkpoint committed stays; the rest is not there
        procs.append(start_worker(scheduler, "back"))
        wait_for_workers(scheduler, 1)
        report = ingest_dask([str(tmp_path / "site")], settings)
        assert report.added + report.unchanged == n and report.unchanged == len(kept)
        held = _held(settings)
        assert len(held) == n and all(len(v) == len(set(v)) for v in held.values())
    finally:
        for p in procs:
            p.stop()


def test_no_scheduler_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from indexer import dask_ingest
    from indexer.dask_ingest import DaskUnavailable, ingest_dask
    from xapian_cluster import free_port

    monkeypatch.setattr(dask_ingest, "CONNECT_SECONDS", 2)
    settings = _shards(tmp_path, dask=f"tcp://127.0.0.1:{free_port()}")
    with pytest.raises(DaskUnavailable, match="no Dask scheduler answers"):
        ingest_dask([str(tmp_path)], settings)


def test_relief_ingest_dask(dask_cluster: dict[str, Any], corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from indexer import dask_ingest
    from indexer.cli import main
    from xapian_cluster import free_port

    monkeypatch.setenv("RELIEF_BACKEND", "xapian")
    monkeypatch.setenv("RELIEF_SHARD_WRITERS", f"{tmp_path / 's0'},{tmp_path / 's1'}")
    assert main(["ingest", str(corpus_dir), "--dask", dask_cluster["scheduler"].address, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["added"] > 10 and report["skipped"] == []
    assert len(_held(load_settings())) == report["added"]
    monkeypatch.setattr(dask_ingest, "CONNECT_SECONDS", 2)
    assert main(["ingest", str(corpus_dir), "--dask", f"tcp://127.0.0.1:{free_port()}"]) == 1
    assert "no Dask scheduler answers" in capsys.readouterr().err
