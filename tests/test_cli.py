"""`relief` end to end: ingest, search (single, batch, TREC), extract, stats, claims; exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CORPUS, ROOT
from indexer.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_ingest_whole_corpus_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    idx = str(tmp_path / "index")
    code, out, _ = run(capsys, "ingest", str(CORPUS), "--index", idx, "--json")
    report = json.loads(out)
    assert code == 0
    html_and_txt = [p for p in CORPUS.iterdir() if p.suffix in (".html", ".txt")]
    records = [ln for ln in (CORPUS / "export.jsonl").read_text(encoding="utf-8").splitlines() if ln.strip()]
    assert report["pages_read"] + sum(1 for e in report["skipped"] if e["reason"] in ("bad-json", "bad-record")) == len(html_and_txt) + len(records)
    assert report["added"] == report["pages_read"] - len([e for e in report["skipped"] if e["reason"] == "empty"])
    assert report["passages"] >= report["added"] and report["updated"] == 0 and report["unchanged"] == 0
    code, out, _ = run(capsys, "ingest", str(CORPUS), "--index", idx, "--json")
    again = json.loads(out)
    assert code == 0 and again["unchanged"] == report["pages_read"] and again["passages"] == 0


def test_search_stats_batch(built_index: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    idx = str(built_index)
    code, out, _ = run(capsys, "search", "massage", "--index", idx, "--json", "--limit", "3")
    data = json.loads(out)
    assert code == 0 and data["total"] >= 1 and len(data["results"]) <= 3 and "facets" in data and "suggestion" in data
    assert {"page_id", "passage_id", "url", "title", "heading", "score", "snippet", "treatments", "claims"} <= set(data["results"][0])
    code, out, _ = run(capsys, "search", "acupuncture", "sciatica", "--index", idx, "--group", "page")
    assert code == 0 and "results for" in out
    code, out, _ = run(capsys, "stats", "--index", idx, "--json")
    stats = json.loads(out)
    assert code == 0 and stats["pages"] >= 14 and stats["passages"] >= stats["pages"]
    code, out, _ = run(capsys, "stats", "--index", idx)
    assert code == 0 and "passages" in out

    batch = tmp_path / "q.tsv"
    batch.write_text("q1\tmassage therapy\nq2\tacupunture\n\nplain query without id\n", encoding="utf-8")
    code, out, _ = run(capsys, "search", "--batch", str(batch), "--index", idx, "--limit", "5")
    lines = [json.loads(ln) for ln in out.splitlines()]
    assert code == 0 and [ln["id"] for ln in lines] == ["q1", "q2", "4"]
    code, out, _ = run(capsys, "search", "--batch", str(batch), "--trec", "--group", "page", "--index", idx, "--limit", "5")
    rows = [ln.split() for ln in out.splitlines()]
    assert code == 0 and rows and all(len(r) == 6 and r[1] == "Q0" and r[5] == "relief" for r in rows)
    q1 = [r for r in rows if r[0] == "q1"]
    assert [int(r[3]) for r in q1] == list(range(1, len(q1) + 1)) and len({r[2] for r in q1}) == len(q1)


def test_errors_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "search", "x", "--index", str(tmp_path / "none"))
    assert code == 1 and err.startswith("relief: no index") and "relief ingest" in err
    code, _, err = run(capsys, "stats", "--index", str(tmp_path / "none"))
    assert code == 1
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    code, _, err = run(capsys, "search", "x", "--index", str(notes))
    assert code == 1 and "is a file, not an index folder" in err and "relief ingest" not in err
    bad = tmp_path / "src"
    bad.mkdir()
    (bad / "ok.txt").write_text("Walking\n\n" + "\n\n".join(" ".join(f"Walking every day, step {i}{j}, keeps the lower back supple and strong." for i in range(6)) for j in range(3)))
    (bad / "empty.html").write_bytes(b"")
    idx = str(tmp_path / "index")
    code, out, _ = run(capsys, "ingest", str(bad), "--index", idx)
    assert code == 0 and "1 skipped" in out and "empty" in out
    code, _, _ = run(capsys, "ingest", str(bad), "--index", idx, "--strict")
    assert code == 1
    with pytest.raises(SystemExit) as exc:
        main(["search", "--limit", "notanumber"])
    assert exc.value.code == 2


def test_locked_index_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from indexer import store

    src = tmp_path / "src"
    src.mkdir()
    (src / "ok.txt").write_text("Walking every day keeps the lower back supple and strong. " * 10)
    idx = tmp_path / "index"
    with store.open_writer(idx):
        code, _, err = run(capsys, "ingest", str(src), "--index", str(idx))
    assert code == 1 and "another ingest" in err and "wait" in err


def test_extract(capsys: pytest.CaptureFixture[str]) -> None:
    page = CORPUS / "massage-therapy-for-back-pain.html"
    code, out, _ = run(capsys, "extract", str(page), "--json")
    data = json.loads(out)
    assert code == 0 and data[str(page)]["title"] and data[str(page)]["passages"] and data[str(page)]["error"] is None


def test_claims(built_index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "claims", "--index", str(built_index), "--json")
    assert code == 0 and isinstance(json.loads(out), dict)


def test_console_script_runs() -> None:
    proc = subprocess.run([sys.executable, "-m", "indexer.cli", "settings"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "RELIEF_INDEX" in proc.stdout


def test_settings_listing_keeps_its_columns() -> None:
    """Every help text starts in the same column, however long a variable's name."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "indexer.cli", "settings"], capture_output=True, text=True, check=True).stdout
    rows = [line for line in out.splitlines() if line.startswith("RELIEF_")]
    assert len(rows) > 20
    starts = {line.index(name) for line in rows for name in ["Folder of the Whoosh index", "Requests in flight to one host"] if name in line}
    assert len(starts) == 1, out


def test_settings_listing_shows_the_values_in_effect(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELIEF_CRAWL_DELAY", "0")
    monkeypatch.delenv("RELIEF_CRAWL_RETRIES", raising=False)
    code, out, _ = run(capsys, "settings")
    rows = {line.split()[0]: line for line in out.splitlines()}
    assert code == 0
    assert rows["RELIEF_CRAWL_DELAY"].split()[1] == "0.0" and rows["RELIEF_CRAWL_DELAY"].endswith("(set; default 0.5)")
    assert rows["RELIEF_CRAWL_RETRIES"].split()[1] == "2" and "(set;" not in rows["RELIEF_CRAWL_RETRIES"]
