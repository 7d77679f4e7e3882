"""The index on disk: incremental re-index, locking, killed ingests, rebuild-and-swap."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from conftest import ROOT, build_index, index_content, make_page
from indexer import Index, merging, store
from indexer.config import load_settings
from indexer.pipeline import ingest

WORDS = "Gentle movement and regular walking help most people with back pain recover within weeks. "


def _page_file(folder: Path, name: str, title: str, body: str) -> Path:
    path = folder / f"{name}.html"
    path.write_text(
        f"<html><head><title>{title}</title></head><body><main><h1>{title}</h1>"
        f"<p>{body} {WORDS}</p><p>{(body + ' ') * 4}</p></main></body></html>",
        encoding="utf-8",
    )
    return path


def _settings(index: Path):  # type: ignore[no-untyped-def]
    return load_settings(env={}, index=index)


def test_put_search_delete(index_dir: Path) -> None:
    index = build_index(index_dir, [make_page("a", "Massage", "Massage relaxes tight muscles. " * 10), make_page("b", "Yoga", "Yoga builds flexibility and core strength. " * 10)])
    assert index.search("massage").total >= 1
    with store.open_writer(index_dir) as w:
        assert set(w.manifest()) == {"a", "b"}
        w.delete_page("a")
    index.refresh()
    assert index.search("massage").total == 0
    assert index.search("yoga").total >= 1
    assert index.page("a") is None and index.page("b").title == "Yoga"


def test_incremental_add_change_delete_unchanged(tmp_path: Path) -> None:
    src = tmp_path / "site"
    src.mkdir()
    _page_file(src, "one", "Heat therapy", "Heat packs loosen stiff muscles.")
    _page_file(src, "two", "Cold therapy", "Ice packs numb acute pain.")
    idx = tmp_path / "index"
    first = ingest([str(src)], _settings(idx))
    assert (first.added, first.updated, first.unchanged) == (2, 0, 0)
    index = Index.open(idx, settings=_settings(idx))
    assert index.search("heat").total >= 1

    # unchanged: nothing is written, not even the meta file
    gen = store.live_dir(idx)
    before = sorted((p.name, p.stat().st_mtime_ns) for p in gen.iterdir())
    again = ingest([str(src)], _settings(idx))
    assert (again.added, again.updated, again.unchanged, again.passages) == (0, 0, 2, 0)
    assert sorted((p.name, p.stat().st_mtime_ns) for p in gen.iterdir()) == before

    # change one, add one, delete one (pruned)
    _page_file(src, "one", "Heat therapy", "Warm baths loosen stiff muscles.")
    _page_file(src, "three", "Traction", "Spinal traction stretches the spine.")
    (src / "two.html").unlink()
    third = ingest([str(src)], _settings(idx), prune=True)
    assert (third.added, third.updated, third.unchanged, third.removed) == (1, 1, 0, 1)
    assert index.refresh() is True
    assert index.search("baths").total >= 1
    assert index.search('"heat packs"').total == 0
    assert index.search("ice").total == 0
    assert index.search("traction").total >= 1
    assert index.stats()["pages"] == 2

    # without --prune a vanished page stays
    (src / "three.html").unlink()
    fourth = ingest([str(src)], _settings(idx))
    assert fourth.removed == 0
    index.refresh()
    assert index.search("traction").total >= 1


def test_rebuild_swaps_and_old_readers_keep_answering(tmp_path: Path) -> None:
    idx = tmp_path / "index"
    index = build_index(idx, [make_page("a", "Massage", "Massage relaxes tight muscles. " * 10)])
    old_gen = store.live_dir(idx)
    with store.open_writer(idx, rebuild=True) as w:
        w.put_page(make_page("b", "Yoga", "Yoga builds flexibility and core strength. " * 10))
        # before the swap readers see the old index
        assert store.live_dir(idx) == old_gen
    new_gen = store.live_dir(idx)
    assert new_gen != old_gen and old_gen.exists()  # kept for readers not yet refreshed
    # an Index opened before the swap still answers from its open files until refresh
    assert index.search("massage").total >= 1
    assert index.refresh() is True
    assert index.search("massage").total == 0 and index.search("yoga").total >= 1
    with store.open_writer(idx, rebuild=True) as w:
        w.put_page(make_page("c", "Pilates", "Pilates strengthens the core. " * 10))
    assert not old_gen.exists() and new_gen.exists()  # one previous generation is kept


def test_failed_ingest_changes_nothing(index_dir: Path) -> None:
    index = build_index(index_dir, [make_page("a", "Massage", "Massage relaxes tight muscles. " * 10)])
    with pytest.raises(RuntimeError):
        with store.open_writer(index_dir) as w:
            w.delete_page("a")
            w.put_page(make_page("b", "Yoga", "Yoga builds flexibility. " * 10))
            raise RuntimeError("boom")
    index.refresh()
    assert index.search("massage").total >= 1 and index.search("yoga").total == 0
    with pytest.raises(RuntimeError):
        with store.open_writer(index_dir, rebuild=True) as w:
            w.put_page(make_page("b", "Yoga", "Yoga builds flexibility. " * 10))
            raise RuntimeError("boom")
    assert [p.name for p in index_dir.iterdir() if p.name.startswith("gen-")] == [store.live_dir(index_dir).name]



def test_live_lock_is_respected(index_dir: Path) -> None:
    build_index(index_dir, [make_page("a", "Massage", "Massage relaxes tight muscles. " * 10)])
    with store.open_writer(index_dir):
        with pytest.raises(store.StoreLocked, match="another ingest .*pid %d" % os.getpid()):
            with store.open_writer(index_dir):
                pass
    with store.open_writer(index_dir):  # released afterwards
        pass


def test_lock_of_a_dead_process_is_cleared(index_dir: Path) -> None:
    build_index(index_dir, [make_page("a", "Massage", "Massage relaxes tight muscles. " * 10)])
    code = textwrap.dedent(
        f"""
        import sys, time
        from indexer import store
        with store.open_writer({str(index_dir)!r}) as w:
            print("locked", flush=True)
            time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(store.StoreLocked):
            with store.open_writer(index_dir):
                pass
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    assert (index_dir / store.LOCK_NAME).read_text().strip() == str(proc.pid)  # left behind…
    with store.open_writer(index_dir) as w:  # …and taken over safely
        w.put_page(make_page("b", "Yoga", "Yoga builds flexibility. " * 10))
    assert Index.open(index_dir).search("yoga").total >= 1


KILL_SCRIPT = """
import sys, time
from whoosh import index as wi
from indexer import store
sys.path.insert(0, {tests!r})
from conftest import make_page

stage = {stage!r}
if stage == "toc":
    original = wi.TOC.write
    def slow_write(self, storage, indexname):
        # write half a table of contents, then hang: the parent kills us here
        f = storage.create_file("_MAIN_999.toc.partial")
        f.write(b"garbage")
        f.close()
        print("committing", flush=True)
        time.sleep(60)
    wi.TOC.write = slow_write
else:
    original = store._atomic_write
    def slow_meta(path, text):
        print("committing", flush=True)
        time.sleep(60)
    store._atomic_write = slow_meta

with store.open_writer({index!r}) as w:
    for i in range(30):
        w.put_page(make_page(f"new{{i}}", "Pilates", "Pilates strengthens the deep core muscles. " * 12))
    w.delete_page("a")
"""


@pytest.mark.parametrize("stage", ["toc", "meta"])
def test_killed_ingest_leaves_last_commit_and_recovers(index_dir: Path, stage: str) -> None:
    index = build_index(index_dir, [make_page("a", "Massage", "Massage relaxes tight muscles. " * 10)])
    script = KILL_SCRIPT.format(tests=str(ROOT / "tests"), stage=stage, index=str(index_dir))
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "committing"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    fresh = Index.open(index_dir)
    if stage == "toc":
        # the Whoosh commit never finished: the old index answers, unchanged
        assert fresh.search("massage").total >= 1 and fresh.search("pilates").total == 0
    else:
        # Whoosh committed, our manifest did not: the manifest is rebuilt from the index
        assert fresh.search("pilates").total == 30
    index.refresh()
    with store.open_writer(index_dir) as w:
        manifest = w.manifest()
        assert ("new0" in manifest) == (stage == "meta")
        assert ("a" in manifest) == (stage == "toc")
        w.put_page(make_page("b", "Yoga", "Yoga builds flexibility. " * 10))
    index.refresh()
    assert index.search("yoga").total >= 1


def test_search_while_reindexing(index_dir: Path) -> None:
    pages = [make_page(f"p{i}", f"Page {i}", f"Walking and stretching ease stiffness, page {i}. " * 8) for i in range(20)]
    index = build_index(index_dir, pages)
    baseline = index.search("stretching").total
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer() -> None:
        try:
            for round_ in range(3):
                with store.open_writer(index_dir) as w:
                    for i in range(20):
                        w.put_page(make_page(f"p{i}", f"Page {i}", f"Walking and stretching ease stiffness, page {i} round {round_}. " * 8))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            stop.set()

    t = threading.Thread(target=writer)
    t.start()
    seen = 0
    while not stop.is_set() or seen == 0:
        index.refresh()
        response = index.search("stretching")
        assert response.total == baseline, response.total
        seen += 1
    t.join()
    assert not errors
    index.refresh()
    assert index.search("stretching").total == baseline
    assert index.search("round").total == baseline


def test_stats_and_missing(index_dir: Path, tmp_path: Path) -> None:
    from indexer.search import IndexMissing

    with pytest.raises(IndexMissing, match="relief ingest"):
        Index.open(tmp_path / "nothing")
    index = build_index(index_dir, [make_page("a", "Massage", "Massage relaxes tight muscles. " * 10, treatments=["massage"])])
    stats = index.stats()
    assert stats["pages"] == 1 and stats["passages"] >= 1 and stats["treatments"] == 1
    assert stats["size_bytes"] > 0 and stats["last_ingest"]


def test_unchanged_reingest_is_fast(tmp_path: Path) -> None:
    """A second ingest of an unchanged corpus skips cleaning: far faster than the first."""
    src = tmp_path / "site"
    src.mkdir()
    for i in range(60):
        _page_file(src, f"p{i}", f"Page {i}", f"Topic {i} text about posture and lifting. " * 20)
    idx = tmp_path / "index"
    t0 = time.perf_counter()
    ingest([str(src)], _settings(idx))
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = ingest([str(src)], _settings(idx))
    second = time.perf_counter() - t0
    assert report.unchanged == 60 and report.passages == 0
    assert second * 5 < first, (first, second)


def test_read_validators_gives_crawled_pages_by_url(tmp_path: Path) -> None:
    from dataclasses import replace

    from indexer.model import Validators

    root = tmp_path / "index"
    assert store.read_validators(root) == {}
    crawled = replace(make_page("example.org/massage", "Massage", "Massage eased back pain in a trial of adults.", url="https://example.org/massage"),
                      etag='"abc"', last_modified="Mon, 02 Nov 2026 10:00:00 GMT")
    bare = make_page("example.org/heat", "Heat", "Heat wraps eased back pain for a week.", url="https://example.org/heat")
    local = make_page("notes/ice", "Ice", "Ice packs after a strain.", url="file:///notes/ice.html")
    with store.open_writer(root) as writer:
        for page in (crawled, bare, local):
            writer.put_page(page)
    assert store.read_validators(root) == {
        "https://example.org/massage": Validators("example.org/massage", '"abc"', "Mon, 02 Nov 2026 10:00:00 GMT", crawled.sha256),
        "https://example.org/heat": Validators("example.org/heat", sha256=bare.sha256),
    }


def test_pages_analysed_in_a_worker_give_the_same_index(tmp_path: Path, make_page) -> None:  # type: ignore[no-untyped-def]
    from indexer.model import Claim

    text = "Massage eased lower back pain in a 2019 trial; ice and heat helped some readers. " * 6
    claim = Claim(text="Massage eased lower back pain", start=0, end=29, type="efficacy", evidence="study", treatments=("massage-therapy",))
    pages = [
        make_page(f"p{i}", f"Page {i} on massage", text, f"Second paragraph {i} about stretching. " * 20,
                  treatments=("massage-therapy", "heat-therapy"), conditions=("lower-back-pain",), claims=[claim], headings=["Evidence"])
        for i in range(3)
    ]

    def content(index: Path) -> tuple[list, dict, list, list]:  # type: ignore[type-arg]
        gen = store.live_dir(index)
        assert gen is not None
        return index_content(gen)

    with store.open_writer(tmp_path / "plain") as w:
        for page in pages:
            w.put_page(page)
    with store.open_writer(tmp_path / "analysed") as w:
        for page in pages:
            w.put_page(page, store.analyze_page(page))
    plain, analysed = content(tmp_path / "plain"), content(tmp_path / "analysed")
    assert plain[1] and plain == analysed
    index = Index.open(tmp_path / "analysed", settings=_settings(tmp_path / "analysed"))
    assert index.search("massage", treatment=["massage-therapy"]).total == Index.open(tmp_path / "plain", settings=_settings(tmp_path / "plain")).search("massage", treatment=["massage-therapy"]).total > 0


def test_an_interrupted_first_ingest_keeps_its_checkpoints(tmp_path: Path) -> None:
    """The first index of a folder goes live at its first checkpoint; Ctrl-C after that
    must not delete it (cancel used to remove the generation as if it were unseen)."""
    root = tmp_path / "index"
    kept = make_page("example.org/kept", "Kept", "Walking eased back pain for most readers in a month.")
    with pytest.raises(KeyboardInterrupt):
        with store.open_writer(root) as writer:
            writer.put_page(kept)
            writer.checkpoint()
            writer.put_page(make_page("example.org/lost", "Lost", "Swimming eased back pain for some readers."))
            raise KeyboardInterrupt
    index = Index.open(root)
    try:
        assert {r.page_id for r in index.search("back pain").results} == {"example.org/kept"}
    finally:
        index.close()


def test_merge_group_takes_one_size_class_and_stays_under_the_cap() -> None:
    assert merging.merge_group([3000] * 7, 8, 200_000) == set()  # too few of a class yet
    assert merging.merge_group([3000] * 8 + [50_000], 8, 200_000) == set(range(8))
    # the smallest class goes first; the big segment waits for seven more of its size
    assert merging.merge_group([50_000, *[900] * 8], 8, 200_000) == set(range(1, 9))
    # a class whose eight would pass the cap merges the ones that fit
    assert merging.merge_group([30_000] * 8, 8, 100_000) == {0, 1, 2}
    # segments at the cap are never merged again
    assert merging.merge_group([200_000] * 9, 8, 200_000) == set()


def test_tiered_merge_bounds_segments_and_keeps_every_document(tmp_path: Path) -> None:
    from whoosh import index as whoosh_index
    from whoosh.fields import ID, TEXT, Schema

    ix = whoosh_index.create_in(str(tmp_path), Schema(key=ID(stored=True), body=TEXT))
    policy = merging.tiered_merge(3, 40, base=4)
    largest = []
    for commit in range(30):  # a checkpoint of 5 documents, 30 times
        w = ix.writer()
        for n in range(5):
            w.add_document(key=f"{commit}-{n}", body=f"walking helps back pain number {commit} {n}")
        w.commit(mergetype=policy)
        sizes = [s.doc_count_all() for s in ix._segments()]
        largest.append(max(sizes))
        assert len(sizes) <= 2 * 3 + 150 // 40  # a few per size class, plus the full ones
    assert max(largest) <= 40 + 5  # a merge never grows past the cap (plus the checkpoint's own)
    assert largest[-1] > 5  # and merges did happen
    with ix.searcher() as s:
        assert s.doc_count() == 150
        assert sorted(d["key"] for d in s.all_stored_fields()) == sorted(f"{c}-{n}" for c in range(30) for n in range(5))


def test_segment_files_never_committed_do_not_stay(tmp_path: Path) -> None:
    from indexer.segments import write_segment

    root = tmp_path / "index"
    with store.open_writer(root) as w:
        w.put_page(make_page("a", "Massage", "Massage relaxes tight muscles. " * 10))
    gen = store.live_dir(root)
    assert gen is not None
    committed = sorted(p.name for p in gen.glob("*.seg"))
    # a failed ingest: the worker's segment was moved in, the commit never came
    with pytest.raises(RuntimeError):
        with store.open_writer(root) as w:
            w.put_segment([make_page("b", "Yoga", "Yoga builds flexibility. " * 10)],
                          write_segment([make_page("b", "Yoga", "Yoga builds flexibility. " * 10)], str(store.incoming_dir(root))))
            assert len(list(gen.glob("*.seg"))) == len(committed) + 1
            raise RuntimeError("stopped")
    assert sorted(p.name for p in gen.glob("*.seg")) == committed
    # a killed one left a file behind: the next writer removes it
    (gen / "MAIN_leftover0000000.seg").write_bytes((gen / committed[0]).read_bytes())
    with store.open_writer(root):
        pass
    assert sorted(p.name for p in gen.glob("*.seg")) == committed
    assert Index.open(root, settings=_settings(root)).search("massage").total >= 1
