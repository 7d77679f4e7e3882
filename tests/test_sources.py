"""Reading input: every problem is a value with a reason, never an exception."""

from __future__ import annotations

import gzip
from pathlib import Path

from conftest import FIXTURES
from indexer.model import IngestError, RawPage
from indexer.sources import read_sources

SRC = FIXTURES / "sources"


def read(*paths: Path, max_bytes: int = 1_000_000) -> tuple[list[RawPage], list[IngestError]]:
    items = list(read_sources([str(p) for p in paths], max_bytes))
    return [i for i in items if isinstance(i, RawPage)], [i for i in items if isinstance(i, IngestError)]


def test_binary_file_named_html(tmp_path: Path) -> None:
    f = tmp_path / "image.html"
    f.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    pages, errors = read(f)
    assert not pages and errors[0].reason == "binary" and errors[0].source == str(f)


def test_empty_and_zero_byte_gzip(tmp_path: Path) -> None:
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")
    zgz = tmp_path / "zero.html.gz"
    zgz.write_bytes(b"")
    blank = tmp_path / "blank.txt"
    blank.write_text("   \n\n  ")
    pages, errors = read(empty, zgz, blank)
    assert not pages
    assert {(Path(e.source).name, e.reason) for e in errors} == {("empty.html", "empty"), ("zero.html.gz", "empty"), ("blank.txt", "empty")}


def test_corrupt_gzip(tmp_path: Path) -> None:
    good = gzip.compress(b"<p>Hello back pain readers, a long enough page.</p>")
    bad = tmp_path / "bad.html.gz"
    bad.write_bytes(good[: len(good) // 2])
    junk = tmp_path / "junk.html.gz"
    junk.write_bytes(b"this is not gzip at all")
    ok = tmp_path / "ok.html.gz"
    ok.write_bytes(good)
    pages, errors = read(bad, junk, ok)
    assert [p.page_id for p in pages] == ["ok"]
    assert {(Path(e.source).name, e.reason) for e in errors} == {("bad.html.gz", "bad-gzip"), ("junk.html.gz", "bad-gzip")}


def test_invalid_utf8_without_charset() -> None:
    pages, errors = read(SRC / "invalid-utf8.txt")
    assert not errors and len(pages) == 1
    assert "Back pain" in pages[0].body and "sitting" in pages[0].body


def test_windows_1252_curly_quotes() -> None:
    pages, errors = read(SRC / "cp1252.html")
    assert not errors
    body = pages[0].body
    assert "\u201cbest\u201d" in body and "isn\u2019t" in body and "\u2013" in body


def test_file_over_size_limit_skipped_with_reason(tmp_path: Path) -> None:
    big = tmp_path / "big.html"
    big.write_text("<p>" + "word " * 5000 + "</p>")
    bomb = tmp_path / "bomb.html.gz"
    bomb.write_bytes(gzip.compress(b"<p>" + b"a" * 50_000 + b"</p>"))
    pages, errors = read(big, bomb, max_bytes=10_000)
    assert not pages
    assert all(e.reason == "too-large" for e in errors) and len(errors) == 2
    assert "10,000" in errors[0].detail


def test_jsonl_with_one_broken_line() -> None:
    pages, errors = read(SRC / "broken.jsonl")
    assert [p.page_id for p in pages] == ["a", "c"]
    assert len(errors) == 1 and errors[0].reason == "bad-json" and errors[0].source.endswith("broken.jsonl:2")
    assert pages[1].kind == "html" and pages[0].kind == "text" and pages[0].title == "A"


def test_missing_and_unsupported(tmp_path: Path) -> None:
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    pages, errors = read(tmp_path / "nope.html", pdf)
    assert {e.reason for e in errors} == {"missing", "unsupported"}


def test_folder_ids_are_stable_and_hash_changes_with_content(tmp_path: Path) -> None:
    (tmp_path / "guides").mkdir()
    f = tmp_path / "guides" / "massage.html"
    f.write_text("<p>Massage text.</p>")
    (tmp_path / "style.css").write_text("body{}")
    pages, errors = read(tmp_path)
    assert not errors and [p.page_id for p in pages] == ["guides/massage"]
    sha = pages[0].sha256
    f.write_text("<p>Massage text, changed.</p>")
    assert read(tmp_path)[0][0].sha256 != sha


def _export(path: Path, records: list[str]) -> None:
    data = ("\n".join(records) + "\n").encode()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


def test_jsonl_export_larger_than_the_page_limit_streams_through(tmp_path: Path) -> None:
    # the limit is per record: a 40-record export of ~120 KB passes a 10 KB limit
    records = [f'{{"id": "r{n}", "text": "{"Stretching eases a stiff back. " * 100}"}}' for n in range(40)]
    for name in ("export.jsonl", "export.jsonl.gz"):
        _export(tmp_path / name, records)
        pages, errors = read(tmp_path / name, max_bytes=10_000)
        assert not errors, errors
        assert [p.page_id for p in pages] == [f"r{n}" for n in range(40)]
        assert (tmp_path / name).stat().st_size > 10_000 or name.endswith(".gz")


def test_one_jsonl_record_over_the_limit_is_skipped_alone(tmp_path: Path) -> None:
    big = '{"id": "big", "text": "' + "heat " * 5000 + '"}'
    _export(tmp_path / "mixed.jsonl", ['{"id": "a", "text": "Ice numbs pain."}', big, '{"id": "c", "text": "Rest a little."}'])
    pages, errors = read(tmp_path / "mixed.jsonl", max_bytes=10_000)
    assert [p.page_id for p in pages] == ["a", "c"]
    assert [(e.source.rsplit("/", 1)[-1], e.reason) for e in errors] == [("mixed.jsonl:2", "too-large")]
    # the line numbers after the long record stay right
    assert pages[1].source.endswith("mixed.jsonl:3")


def test_count_pages_counts_files_and_records(tmp_path: Path) -> None:
    from indexer.sources import count_pages

    (tmp_path / "a.html").write_text("<p>A page.</p>")
    (tmp_path / "b.txt").write_text("A text page.")
    _export(tmp_path / "c.jsonl.gz", ['{"id": "1", "text": "x"}'] * 7)
    (tmp_path / "d.jsonl").write_bytes(b'{"id": "1", "text": "x"}\n{"id": "2", "text": "y"}')  # no final newline
    assert count_pages([str(tmp_path)]) == 1 + 1 + 7 + 2
    assert count_pages([str(tmp_path)]) == len(read(tmp_path)[0])


def test_a_jsonl_gzip_bomb_without_newlines_is_given_up_with_a_reason(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.jsonl.gz"
    bomb.write_bytes(gzip.compress(b'{"id": "a", "text": "ok"}\n' + b"\0" * 2_000_000))
    pages, errors = read(bomb, max_bytes=10_000)
    assert [p.page_id for p in pages] == ["a"]
    assert [(e.source.rsplit("/", 1)[-1], e.reason) for e in errors] == [("bomb.jsonl.gz:2", "too-large")]
    assert "rest of the file" in errors[0].detail


def test_decode_valid_utf8_takes_the_fast_way_unless_another_charset_is_declared() -> None:
    from indexer.sources import decode

    text = "Heat \u2013 then movement \u00e9"
    assert decode(text.encode("utf-8"), is_html=True) == (text, "utf-8")
    assert decode(b"\xef\xbb\xbf" + text.encode("utf-8"), is_html=False) == (text, "utf-8")
    # bytes that are also valid UTF-8 still follow the page's own declaration
    latin = b'<meta charset="iso-8859-1"><p>caf\xc3\xa9</p>'
    decoded, encoding = decode(latin, is_html=True)
    assert "caf\u00c3\u00a9" in decoded and encoding != "utf-8"
    # UTF-16 with its BOM is not valid UTF-8 and goes through the BOM sniffing
    decoded, encoding = decode("\ufeffsciatica".encode("utf-16"), is_html=False)
    assert decoded == "sciatica" and encoding.startswith("utf-16")
