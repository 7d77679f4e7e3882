"""The streaming ingest: batches on worker processes, site templates in a stream, checkpoints."""

from __future__ import annotations

import dataclasses
import hashlib
import pickle
import random
from pathlib import Path
from typing import Iterator

import pytest

from indexer import Index, store
from indexer.config import load_settings
from indexer.model import IngestError, RawPage
from indexer.pipeline import IngestProgress, ingest, ingest_stream, process_batch

WORDS = ("back pain stiffness gentle walking stretching heat massage posture spine nerve muscle rest sleep "
         "lifting exercise core strength physiotherapy doctor week daily movement recovery yoga swimming").split()
NAV = ["Home", "Back pain basics", "Treatments A to Z", "Ask our nurses", "Newsletter sign up"]
FOOTER = "Copyright Spine Friends Trust. This site does not replace advice from your own doctor."
AD = "Advertisement: Try the ComfortPlus lumbar cushion today for only nineteen pounds"
# inside the article on every page, so only the site template can tell it is not content
BOILER = "Reviewed by the Spine Friends clinical team, who check every article against current guidance each year."


def site_page(n: int, rng: random.Random) -> str:
    """A page of a made-up health site: the same menu, ad and footer around an article of its own."""
    paras = "".join(
        "<p>" + " ".join(rng.choice(WORDS) for _ in range(45)).capitalize() + f" page{n}marker.</p>" for _ in range(2)
    )
    nav = "".join(f"<li><a href='/{i}'>{label}</a></li>" for i, label in enumerate(NAV))
    return (f"<html><head><title>Note {n}</title></head><body><div class='top'><ul>{nav}</ul></div>"
            f"<div class='promo'><p>{AD}</p></div><div class='content'><h1>Note {n} on {rng.choice(WORDS)}</h1>{paras}<p>{BOILER}</p></div>"
            f"<div class='bottom'><p>{FOOTER}</p></div></body></html>")


def raws(count: int, seed: int = 3, site: str = "/sites/spine") -> list[RawPage]:
    rng = random.Random(seed)
    out = []
    for n in range(count):
        body = site_page(n, rng)
        out.append(RawPage(f"p{n:04d}", f"{site}/p{n:04d}.html", f"https://spine.example/p{n:04d}", site, "html",
                           body, "utf-8", hashlib.sha256(body.encode()).hexdigest()))
    return out


def settings(index: Path, **over: object):  # type: ignore[no-untyped-def]
    return load_settings(env={}, index=index, **over)


def index_content(index: Path) -> dict[str, list[str]]:
    """page id → its passages' text in order, read from the committed index."""
    from whoosh import index as whoosh_index

    ix = whoosh_index.open_dir(str(store.live_dir(index)))
    rows: dict[str, list[tuple[int, str]]] = {}
    with ix.reader() as reader:
        for f in reader.all_stored_fields():
            rows.setdefault(f["page_id"], []).append((f["position"], f["text"]))
    ix.close()
    return {pid: [t for _, t in sorted(v)] for pid, v in rows.items()}


def test_process_batch_learns_the_template_and_crosses_processes_by_pickle() -> None:
    batch = raws(6)
    plain = process_batch(batch[:1])
    assert any(BOILER in p.text for page in plain.pages for p in page.passages)
    result = process_batch(batch, frozenset(), learn=True)
    assert result.template and not result.errors and len(result.pages) == 6
    again = pickle.loads(pickle.dumps(result))
    assert again == result
    for page in result.pages:
        text = " ".join(p.text for p in page.passages).casefold()
        assert BOILER.casefold() not in text and FOOTER.casefold() not in text and AD.casefold() not in text
        assert "treatments a to z" not in text
    # a later batch cleaned with the learned template loses it too
    later = process_batch(raws(8)[6:], result.template)
    assert later.pages and all(BOILER not in p.text for page in later.pages for p in page.passages)


def test_two_workers_write_what_one_worker_writes(tmp_path: Path) -> None:
    pages = raws(70)
    one = ingest_stream(iter(pages), settings(tmp_path / "one", batch_pages=8, template_pages=12), workers=1)
    two = ingest_stream(iter(pages), settings(tmp_path / "two", batch_pages=8, template_pages=12), workers=2)
    assert one.added == two.added == 70 and not one.skipped and not two.skipped
    assert one.passages == two.passages
    content = index_content(tmp_path / "two")
    assert content == index_content(tmp_path / "one")
    # the template learned from the first 12 pages left every later page too
    for texts in content.values():
        joined = " ".join(texts).casefold()
        assert BOILER.casefold() not in joined and FOOTER.casefold() not in joined and AD.casefold() not in joined
        assert not any(label.casefold() == t.casefold() for t in texts for label in NAV)


def test_checkpoints_make_pages_searchable_while_the_stream_runs(tmp_path: Path) -> None:
    index = tmp_path / "index"
    seen_while_running: list[int] = []

    def stream() -> Iterator[RawPage | IngestError]:
        for n, raw in enumerate(raws(60)):
            if n == 45:  # pages read lazily: by now earlier ones are committed and searchable
                with Index.open(index, settings=settings(index)) as ix:
                    seen_while_running.append(ix.stats()["pages"])
                    assert ix.search("page3marker").total >= 1
            yield raw

    report = ingest_stream(stream(), settings(index, commit_pages=10, batch_pages=4, template_pages=8), workers=2)
    assert report.added == 60
    assert seen_while_running and 10 <= seen_while_running[0] < 60
    with store.open_writer(index) as w:
        assert len(w.manifest()) == 60


def test_progress_reports_every_page_and_duplicates_are_skipped(tmp_path: Path) -> None:
    pages = raws(30)
    updates: list[IngestProgress] = []
    stream = [*pages, pages[3], IngestError("gone.html", "missing", "no such file")]
    report = ingest_stream(iter(stream), settings(tmp_path / "ix"), workers=1, progress=updates.append)
    assert report.added == 30 and report.pages_read == 30
    assert sorted(e.reason for e in report.skipped) == ["duplicate-id", "missing"]
    assert updates[-1].done == 32 and updates[-1].written == 30 and updates[-1].skipped == 2
    assert [u.done for u in updates] == sorted(u.done for u in updates)
    # a second run skips unchanged pages before cleaning them
    again = ingest_stream(iter(pages), settings(tmp_path / "ix"), workers=2)
    assert (again.unchanged, again.added, again.updated) == (30, 0, 0)


def test_short_pages_are_indexed(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "one-line.txt").write_text("Sciatica is pain along the sciatic nerve.\n")
    (src / "answers.jsonl").write_text(
        '{"id": "q1", "text": "Ice numbs a fresh strain for a day or two."}\n'
        '{"id": "q2", "text": "Heat relaxes tight muscles."}\n'
        '{"id": "q3", "html": "<p>Heat relaxes tight muscles in the lower back.</p>"}\n'
    )
    report = ingest([str(src)], settings(tmp_path / "ix"))
    assert not report.skipped, report.skipped
    content = index_content(tmp_path / "ix")
    assert content["one-line"] == ["Sciatica is pain along the sciatic nerve."]
    assert content["q1"] == ["Ice numbs a fresh strain for a day or two."]
    assert content["q2"] == ["Heat relaxes tight muscles."]
    assert content["q3"] == ["Heat relaxes tight muscles in the lower back."]


def test_bad_worker_count_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="workers"):
        settings(tmp_path / "ix", workers=-1)
    with pytest.raises(ValueError, match="workers"):
        ingest_stream(iter(raws(2)), settings(tmp_path / "ix"), workers=0)


def test_a_crawls_unchanged_and_gone_answers(tmp_path: Path) -> None:
    from indexer.crawl import Gone, Unchanged

    pages = raws(5)
    conf = settings(tmp_path / "ix")
    ingest_stream(iter(pages), conf, workers=1)
    gone = Gone(pages[3].url, pages[3].page_id, IngestError(pages[3].url, "status", "404 Not Found"))
    answers = [Unchanged(p.url, p.page_id) for p in pages[:3]] + [gone, pages[4]]
    report = ingest_stream(iter(answers), conf, workers=1, prune=True)
    assert (report.unchanged, report.added, report.removed) == (4, 0, 1)
    assert [e.reason for e in report.skipped] == ["status"]
    assert set(index_content(tmp_path / "ix")) == {p.page_id for p in pages} - {pages[3].page_id}


def _segments(index: Path) -> list[int]:
    from whoosh import index as whoosh_index

    ix = whoosh_index.open_dir(str(store.live_dir(index)))
    try:
        return [s.doc_count_all() for s in ix._segments()]
    finally:
        ix.close()


def test_worker_segments_and_merges_give_the_one_worker_index_and_updates_replace(tmp_path: Path) -> None:
    pages = raws(90)
    small = {"batch_pages": 3, "template_pages": 6, "commit_pages": 3}
    one = ingest_stream(iter(pages), settings(tmp_path / "one", **small), workers=1)
    two = ingest_stream(iter(pages), settings(tmp_path / "two", **small), workers=2)
    assert one.added == two.added == 90 and one.passages == two.passages and not two.skipped
    assert index_content(tmp_path / "two") == index_content(tmp_path / "one")
    # about 30 segments were written by the workers; the merges left fewer, none lost
    sizes = _segments(tmp_path / "two")
    assert sum(sizes) == two.passages and len(sizes) < 30
    assert not list((tmp_path / "two").glob("incoming-*"))  # nothing left where workers wrote

    # 40 pages change: their new text replaces the old, in segments merged or not
    changed = [replace_body(raw, "replaced") if i % 9 < 4 else raw for i, raw in enumerate(pages)]
    again = ingest_stream(iter(changed), settings(tmp_path / "two", **small), workers=2)
    assert again.updated == 40 and again.unchanged == 50 and not again.skipped
    after = index_content(tmp_path / "two")
    assert len(after) == 90
    for i, raw in enumerate(changed):
        assert ("replacedmarker" in " ".join(after[raw.page_id])) == (i % 9 < 4)
    with Index.open(tmp_path / "two", settings=settings(tmp_path / "two")) as ix:
        assert ix.stats()["passages"] == sum(len(v) for v in after.values())


def replace_body(raw: RawPage, word: str) -> RawPage:
    body = raw.body.replace("marker.", f"marker {word}marker.")
    return dataclasses.replace(raw, body=body, sha256=hashlib.sha256(body.encode()).hexdigest())
