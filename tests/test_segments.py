from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import index_content, make_page
from indexer import segments, store


def _whoosh_merge(index_dir: str, sources: list[Any], folder: Path) -> str:
    """The same sources merged by Whoosh's own route (add_reader through the posting pool)."""
    from whoosh import index as whoosh_index
    from whoosh.filedb.filestore import FileStorage
    from whoosh.reading import SegmentReader

    folder.mkdir()
    w = whoosh_index.create_in(str(folder), store.index_schema()).writer()
    for seg in sources:
        reader = SegmentReader(FileStorage(index_dir), store.index_schema(), seg)
        w.add_reader(reader)
        reader.close()
    w.commit(merge=False)
    return str(folder)


def _pages(count: int, offset: int = 0) -> list[Any]:
    words = ["massage", "heat", "stretching", "yoga", "ice", "walking"]
    return [make_page(f"p{k}", f"Page {k} on {words[k % 6]}",
                      f"{words[k % 6].title()} eased back pain for reader {k}. " * (3 + k % 4),
                      f"Second part {k} about {words[(k + 1) % 6]} and sleep. " * 20,
                      treatments=(f"{words[k % 6]}-therapy",), headings=[f"Evidence {k}"])
            for k in range(offset, offset + count)]


def test_a_written_segment_holds_what_whooshs_own_commit_writes(tmp_path: Path) -> None:
    from whoosh import index as whoosh_index

    pages = _pages(150)
    written = segments.write_segment(pages, str(tmp_path / "incoming"))
    assert written is not None
    (tmp_path / "whoosh").mkdir()
    w = whoosh_index.create_in(str(tmp_path / "whoosh"), store.index_schema()).writer()
    for page in pages:
        for doc in store.passage_documents(page):
            w.add_document(**doc)
    w.commit()
    expected, got = index_content(str(tmp_path / "whoosh")), index_content(written.folder)
    assert expected[1] and got == expected
    assert written.docs == sum(len(p.passages) for p in pages)
    # terms in more documents than one posting block holds (128) are in the comparison
    assert max(len(v) for v in got[1].values()) > 128
    assert segments.write_segment([], str(tmp_path / "incoming")) is None


def test_merged_segments_hold_what_whooshs_own_merge_holds(tmp_path: Path) -> None:
    from whoosh import index as whoosh_index

    root = tmp_path / "index"
    with store.open_writer(root) as w:
        for n in range(4):  # four checkpoints: four segments
            for page in _pages(40, offset=n * 40):
                w.put_page(page)
            w.checkpoint()
    with store.open_writer(root) as w:  # deletions in two of the sources
        w.delete_page("p3")
        w.delete_page("p52")
    gen = store.live_dir(root)
    assert gen is not None
    sources = list(whoosh_index.open_dir(str(gen))._segments())
    assert len(sources) == 4 and sum(s.deleted_count() for s in sources) > 0

    merged = segments.merge_segments(str(gen), sources, str(tmp_path / "incoming"))
    assert merged is not None
    expected = index_content(_whoosh_merge(str(gen), sources, tmp_path / "whoosh"))
    got = index_content(merged.folder)
    assert merged.docs == len(got[0]) == sum(s.doc_count() for s in sources)
    assert expected[1] and got == expected
    assert max(len(v) for v in got[1].values()) > 128  # terms over several posting blocks
    assert {d["page_id"] for d in got[0]} == {f"p{k}" for k in range(160)} - {"p3", "p52"}


def test_merging_only_deleted_documents_gives_no_segment(tmp_path: Path) -> None:
    from whoosh import index as whoosh_index

    root = tmp_path / "index"
    with store.open_writer(root) as w:
        w.put_page(make_page("gone", "Gone", "Massage relaxes tight muscles. " * 10))
    with store.open_writer(root) as w:
        w.delete_page("gone")
        w.put_page(make_page("kept", "Kept", "Heat relaxes tight muscles. " * 10))
    gen = store.live_dir(root)
    assert gen is not None
    emptied = [s for s in whoosh_index.open_dir(str(gen))._segments() if s.doc_count() == 0]
    assert len(emptied) == 1
    assert segments.merge_segments(str(gen), emptied, str(tmp_path / "incoming")) is None
