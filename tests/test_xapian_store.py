"""The Xapian shards: routing, the shard writers and their manifest, queries over remote shards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import make_page
from indexer.config import load_settings
from indexer.search.engine import Filter
from indexer.search.query import AnyOf, Phrase, Term
from indexer.store import StoreError, StoreLocked
from xapian_cluster import needs_xapian, start_server

pytestmark = needs_xapian


def _pages() -> list[Any]:
    return [
        make_page(f"p{i}", f"Page {i}", f"Massage therapy eases back pain number {i}. " + ("Walking helps too. " if i % 2 else "Heat packs soothe. ") * 3,
                  treatments=["massage", "heat-cold-therapy"] if i % 3 == 0 else ["massage"], conditions=["sciatica"] if i % 2 else [])
        for i in range(12)
    ]


def _write(settings: Any, pages: list[Any], **kw: Any) -> Any:
    from indexer.xapian.writer import open_shard_writers

    with open_shard_writers(settings, **kw) as w:
        for p in pages:
            w.put_page(p)
    return w


def _search(db: Any, q: Any, limit: int = 100) -> list[tuple[str, float]]:
    import xapian

    from indexer.xapian.documents import PASSAGE_SLOT

    enq = xapian.Enquire(db)
    enq.set_query(q)
    enq.set_sort_by_relevance_then_value(PASSAGE_SLOT, False)
    return [(m.document.get_value(PASSAGE_SLOT).decode(), round(m.weight, 9)) for m in enq.get_mset(0, limit)]


def test_shard_of_is_stable_and_spreads_pages() -> None:
    from indexer.xapian.shards import shard_of

    assert shard_of("massage", 2) == shard_of("massage", 2)
    counts = [0, 0, 0]
    for i in range(3000):
        counts[shard_of(f"page-{i}", 3)] += 1
    assert min(counts) > 900
    assert shard_of("x", 1) == 0


def test_layouts_from_settings(tmp_path: Path) -> None:
    from indexer.xapian.shards import read_layout, write_layout

    s = load_settings(env={}, index=tmp_path, shards="127.0.0.1:8001|127.0.0.1:9001, 127.0.0.1:8002")
    assert [str(e) for e in write_layout(s)] == [str(tmp_path / "shard-0"), str(tmp_path / "shard-1")]
    assert [[str(e) for e in r] for r in read_layout(s)] == [["127.0.0.1:8001", "127.0.0.1:9001"], ["127.0.0.1:8002"]]
    s = load_settings(env={}, index=tmp_path)
    assert [str(e) for e in write_layout(s)] == [str(tmp_path / "shard-0")]
    with pytest.raises(StoreError, match="port"):
        write_layout(load_settings(env={}, shard_writers="127.0.0.1:99999"))
    with pytest.raises(ValueError, match="backend"):
        load_settings(env={"RELIEF_BACKEND": "solr"})


def test_writers_route_pages_and_keep_a_manifest(tmp_path: Path) -> None:
    import xapian

    from indexer.xapian.shards import shard_of
    from indexer.xapian.writer import open_shard_writers

    s = load_settings(env={}, index=tmp_path, shard_writers=f"{tmp_path / 'a'},{tmp_path / 'b'}")
    pages = _pages()
    _write(s, pages)
    for i, name in enumerate("ab"):
        db = xapian.Database(str(tmp_path / name))
        held = {db.get_document(m.docid).get_value(0).decode() for m in db.postlist("")}
        assert held == {p.page_id for p in pages if shard_of(p.page_id, 2) == i}
    with open_shard_writers(s) as w:
        assert w.manifest() == {p.page_id: p.sha256 for p in pages}
        w.put_page(make_page("p1", "Page 1", "Replaced text about yoga only. " * 5))
        w.delete_page("p2")
    with open_shard_writers(s) as w:
        assert set(w.manifest()) == {p.page_id for p in pages} - {"p2"}
    whole = xapian.Database(str(tmp_path / "a"))
    whole.add_database(xapian.Database(str(tmp_path / "b")))
    assert [pid for pid, _ in _search(whole, xapian.Query("Byoga"))] == ["p1#0"]
    assert not _search(whole, xapian.Query("Kp2"))


def test_a_failed_ingest_commits_nothing_and_a_second_writer_is_refused(tmp_path: Path) -> None:
    import xapian

    from indexer.xapian.writer import open_shard_writers

    s = load_settings(env={}, index=tmp_path)
    _write(s, _pages()[:2])
    with pytest.raises(RuntimeError):
        with open_shard_writers(s) as w:
            w.put_page(_pages()[5])
            with pytest.raises(StoreLocked):
                with open_shard_writers(s):
                    pass
            raise RuntimeError("killed")
    db = xapian.Database(str(tmp_path / "shard-0"))
    assert {db.get_document(m.docid).get_value(0).decode() for m in db.postlist("")} == {"p0", "p1"}
    _write(s, _pages()[:1], rebuild=True)
    db = xapian.Database(str(tmp_path / "shard-0"))
    assert db.get_doccount() == len(_pages()[0].passages)


def test_remote_shards_rank_like_one_database(tmp_path: Path) -> None:
    """Xapian's remote backend uses global statistics: same weights as a single database."""
    import xapian

    from indexer.xapian.shards import ShardUnavailable, open_readers, read_layout
    from indexer.xapian.translate import Translator

    pages = _pages()
    single = load_settings(env={}, index=tmp_path / "single")
    _write(single, pages)
    sharded = load_settings(env={}, index=tmp_path / "sharded", shard_writers=f"{tmp_path / 's0'},{tmp_path / 's1'}")
    _write(sharded, pages)
    servers = [start_server([tmp_path / "s0"]), start_server([tmp_path / "s1"])]
    try:
        remote = open_readers(read_layout(load_settings(env={}, shards=",".join(s.endpoint for s in servers))))
        local = open_readers(read_layout(single))
        assert remote.get_doccount() == local.get_doccount() == sum(len(p.passages) for p in pages)
        tr = Translator(lambda prefix: [t.term.decode() for t in local.allterms(prefix)])
        query = AnyOf((Term("text", "walk"), Phrase("text", ("heat", "pack")), Term("title", "page", 0.5)))
        q = tr.node(query)
        q = xapian.Query(xapian.Query.OP_FILTER, q, tr.filter(Filter((("treatment", ("massage",)),))))
        want = _search(local, q)
        assert len(want) == len(pages) and len({w for _, w in want}) > 1
        assert _search(remote, q) == want
        servers[1].stop()
        with pytest.raises(ShardUnavailable, match=servers[1].endpoint):
            open_readers(read_layout(load_settings(env={}, shards=",".join(s.endpoint for s in servers))))
    finally:
        for s in servers:
            s.stop()


def test_pipeline_ingest_into_shards_is_incremental(tmp_path: Path, corpus_dir: Path) -> None:
    import xapian

    from indexer.pipeline import ingest

    s = load_settings(env={}, index=tmp_path, backend="xapian", shard_writers=f"{tmp_path / 's0'},{tmp_path / 's1'}")
    first = ingest([str(corpus_dir)], s)
    assert first.added > 10 and not first.updated
    again = ingest([str(corpus_dir)], s)
    assert again.unchanged == first.added and again.added == again.updated == 0
    db = xapian.Database(str(tmp_path / "s0"))
    db.add_database(xapian.Database(str(tmp_path / "s1")))
    assert db.get_doccount() == first.passages
    assert all(db.get_doccount() > 0 for db in (xapian.Database(str(tmp_path / "s0")), xapian.Database(str(tmp_path / "s1"))))
    one = sorted(p for p in corpus_dir.iterdir() if p.suffix == ".html")[0]
    pruned = ingest([str(one)], s, prune=True)
    assert pruned.removed == first.added - 1
    db = xapian.Database(str(tmp_path / "s0"))
    db.add_database(xapian.Database(str(tmp_path / "s1")))
    assert len({db.get_document(m.docid).get_value(0) for m in db.postlist("")}) == 1


def test_checkpoints_commit_but_a_rebuild_shows_nothing_before_its_end(tmp_path: Path) -> None:
    import xapian

    from indexer.xapian.writer import open_shard_writers

    s = load_settings(env={}, index=tmp_path)
    pages = _pages()
    _write(s, pages[:3])
    with open_shard_writers(s) as w:
        w.put_page(pages[3])
        w.checkpoint()
        assert xapian.Database(str(tmp_path / "shard-0")).term_exists("Kp3")  # readers see it now
        w.put_page(pages[4])
    with open_shard_writers(s, rebuild=True) as w:
        w.put_page(pages[5])
        w.checkpoint()
        db = xapian.Database(str(tmp_path / "shard-0"))
        assert db.term_exists("Kp0") and not db.term_exists("Kp5")
    db = xapian.Database(str(tmp_path / "shard-0"))
    assert db.term_exists("Kp5") and not db.term_exists("Kp0")


def test_read_validators_over_local_shards(tmp_path: Path) -> None:
    from dataclasses import replace

    from indexer import backend
    from indexer.model import Validators

    settings = load_settings(env={}, index=tmp_path / "ix", backend="xapian", shards="", shard_writers="")
    assert backend.read_validators(settings) == {}
    crawled = [replace(make_page(f"example.org/p{i}", f"Page {i}", f"Massage eased back pain for reader {i}.", url=f"https://example.org/p{i}"),
                       etag=f'"e{i}"') for i in range(4)]
    _write(settings, [*crawled, make_page("notes/ice", "Ice", "Ice packs after a strain.", url="file:///notes/ice.html")])
    assert backend.read_validators(settings) == {f"https://example.org/p{i}": Validators(f"example.org/p{i}", f'"e{i}"', sha256=crawled[i].sha256) for i in range(4)}


def _rebuild(settings: Any, pages: list[Any]) -> None:
    _write(settings, pages, rebuild=True)


def _kinds(index: Any) -> tuple[set[str], int]:
    """Which generation's pages one search saw ("old"/"new" prefixes), and how many."""
    r = index.search("walking", per_page=100)
    return {h.page_id.split("-")[0] for h in r.results}, r.total


def _generation_pages(kind: str, n: int) -> list[Any]:
    return [make_page(f"{kind}-{i}", f"{kind} page {i}", f"Walking eases back pain, note {kind} {i}. " * 3) for i in range(n)]


def test_a_rebuild_shows_on_every_shard_at_once(tmp_path: Path) -> None:
    """Readers on two xapian-tcpsrv shards search while rebuilds alternate two page sets:
    every search sees only the old set or only the new one, never a mixture."""
    import threading
    import time

    from indexer.xapian.index import XapianIndex

    old, new = _generation_pages("old", 16), _generation_pages("new", 10)
    folders = [tmp_path / "s0", tmp_path / "s1"]
    writing = load_settings(env={}, backend="xapian", shard_writers=",".join(map(str, folders)))
    _rebuild(writing, old)
    servers = [start_server([f]) for f in folders]
    seen: list[tuple[frozenset[str], int]] = []
    errors: list[BaseException] = []
    stop = threading.Event()
    try:
        index = XapianIndex.open(settings=load_settings(env={}, backend="xapian", shards=",".join(s.endpoint for s in servers)))
        index.REFRESH_SECONDS = 0.0

        def search() -> None:
            try:
                while not stop.is_set():
                    index.refresh()
                    kinds, total = _kinds(index)
                    seen.append((frozenset(kinds), total))
            except BaseException as exc:  # reported below
                errors.append(exc)

        reader = threading.Thread(target=search)
        reader.start()
        for round_ in range(8):
            pages = new if round_ % 2 == 0 else old
            _rebuild(writing, pages)
            # the second search to end after the rebuild began after it: it must see this set
            done = len(seen)
            deadline = time.monotonic() + 30
            while len(seen) < done + 2 and not errors and time.monotonic() < deadline:
                time.sleep(0.005)
            assert errors or seen[-1] == (frozenset({pages[0].page_id.split("-")[0]}), len(pages)), seen[-3:]
        stop.set()
        reader.join(timeout=60)
        assert not errors, errors
        assert {kinds for kinds, _ in seen} == {frozenset({"old"}), frozenset({"new"})}
        assert all((kinds, total) in {(frozenset({"old"}), len(old)), (frozenset({"new"}), len(new))} for kinds, total in seen)
        index.close()
    finally:
        stop.set()
        for s in servers:
            s.stop()


def test_a_rebuild_stopped_between_shards_is_never_searched_mixed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rebuild whose second shard's writer dies before it commits leaves shard 0 rebuilt
    and shard 1 old: readers say so clearly (never a mixed answer); a re-run heals it."""
    from indexer.xapian.index import XapianIndex
    from indexer.xapian.shards import ShardsDisagree, ShardUnavailable
    from indexer.xapian.writer import open_shard_writers

    old, new = _generation_pages("old", 16), _generation_pages("new", 10)
    folders = [tmp_path / "s0", tmp_path / "s1"]
    _rebuild(load_settings(env={}, backend="xapian", shard_writers=",".join(map(str, folders))), old)
    readers = [start_server([f]) for f in folders]
    writers = [start_server([f], writable=True) for f in folders]
    try:
        index = XapianIndex.open(settings=load_settings(env={}, backend="xapian", shards=",".join(s.endpoint for s in readers)))
        index.REFRESH_SECONDS = 0.0
        monkeypatch.setattr(XapianIndex, "SWAP_WAIT", 0.5)
        assert _kinds(index) == ({"old"}, len(old))
        remote = load_settings(env={}, backend="xapian", shard_writers=",".join(s.endpoint for s in writers))
        with pytest.raises(ShardUnavailable, match="run the ingest again"):
            with open_shard_writers(remote, rebuild=True) as w:
                for p in new:
                    w.put_page(p)
                w.checkpoint()  # every page sent to its shard's writer, none committed
                writers[1].stop()  # shard 0 commits, shard 1 cannot
        for _ in range(3):
            with pytest.raises(ShardsDisagree, match="different index generations"):
                index.refresh()
                _kinds(index)
        fresh = load_settings(env={}, backend="xapian", shards=",".join(s.endpoint for s in readers))
        with pytest.raises(ShardsDisagree, match=readers[1].endpoint):
            XapianIndex.open(settings=fresh)
        writers[1] = start_server([folders[1]], writable=True)
        remote = load_settings(env={}, backend="xapian", shard_writers=",".join(s.endpoint for s in writers))
        with pytest.raises(StoreError, match="--rebuild"):
            _write(remote, new[:1])  # an incremental ingest refuses the split shards
        _rebuild(remote, new)
        index.refresh()
        assert _kinds(index) == ({"new"}, len(new))
        gen = index.stats()["generation"]
        _write(remote, [make_page("new-x", "x", "Walking helps.")])
        index.refresh()
        assert index.stats()["generation"] == gen  # an incremental ingest keeps the generation
        index.close()
    finally:
        for s in [*readers, *writers]:
            s.stop()


def test_field_length_norms_are_measured_once_and_kept(tmp_path: Path) -> None:
    """Empty shards get their average field lengths measured on the first pages written;
    incremental ingests keep them (every passage normalised alike), a rebuild measures
    again, and shards written without norms stay plain until a rebuild."""
    import xapian

    from indexer.store import passage_documents
    from indexer.xapian.documents import NORMS_KEY, Norms, to_document

    def norms(path: Path) -> Norms | None:
        return Norms.from_json(xapian.Database(str(path)).get_metadata(NORMS_KEY))

    s = load_settings(env={}, index=tmp_path / "a")
    pages = _pages()
    _write(s, pages[:6])
    first = norms(tmp_path / "a" / "shard-0")
    assert first is not None and first.avg["text"] > 10 and 1 < first.avg["title"] < 4
    long_page = make_page("long", "Long", "Walking helps the back every single day. " * 60)
    _write(s, [*pages[6:], long_page])
    assert norms(tmp_path / "a" / "shard-0") == first
    db = xapian.Database(str(tmp_path / "a" / "shard-0"))
    wdf = {t.term: t.wdf for t in db.termlist(next(iter(db.postlist("Klong"))).docid)}
    assert wdf[b"Bwalk"] < 60 * first.scale / 2  # 60 occurrences, weighed down by the length
    _write(s, [long_page, *pages[:2]], rebuild=True)
    again = norms(tmp_path / "a" / "shard-0")
    assert again is not None and again.avg["text"] > first.avg["text"]
    legacy = tmp_path / "b" / "shard-0"
    legacy.parent.mkdir()
    w = xapian.WritableDatabase(str(legacy), xapian.DB_CREATE_OR_OPEN)
    for doc in passage_documents(pages[0]):
        w.add_document(to_document(doc))
    w.commit()
    w.close()
    _write(load_settings(env={}, index=tmp_path / "b"), pages[1:3])
    assert norms(legacy) is None


def _contents(folders: list[Path]) -> dict[str, Any]:
    """Every passage of the shards: terms with wdf and positions, values, data; and norms."""
    import xapian

    from indexer.xapian.documents import NORMS_KEY, PASSAGE_SLOT

    out: dict[str, Any] = {}
    for folder in folders:
        db = xapian.Database(str(folder))
        out[f"norms-{folder.name}"] = db.get_metadata(NORMS_KEY)
        for item in db.postlist(""):
            doc = db.get_document(item.docid)
            terms = [(t.term, t.wdf, tuple(db.positionlist(item.docid, t.term))) for t in doc.termlist()]
            values = [(v.num, v.value) for v in doc.values()]
            out[doc.get_value(PASSAGE_SLOT).decode()] = (terms, values, doc.get_data())
    return out


def test_worker_analysis_writes_what_the_writer_would(tmp_path: Path, corpus_dir: Path) -> None:
    """With worker processes, the passages are analysed there (`documents.analyze_page`) and
    the writer only files the terms: the shards hold exactly what a one-process ingest writes."""
    from indexer.pipeline import ingest

    shards = {}
    for name, workers in (("one", 1), ("two", 2)):
        folders = [tmp_path / name / "s0", tmp_path / name / "s1"]
        s = load_settings(env={}, index=tmp_path / name, backend="xapian", shard_writers=",".join(map(str, folders)))
        report = ingest([str(corpus_dir)], s, workers=workers)
        assert report.added > 10 and not report.skipped
        shards[name] = _contents(folders)
    assert len(shards["one"]) > 20 and shards["two"] == shards["one"]
