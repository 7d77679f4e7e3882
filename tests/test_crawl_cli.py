"""`relief crawl` end to end: a real local site into a real index, then a re-crawl."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import CORPUS
from crawl_site import CrawlSite
from indexer import store
from indexer.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


FAST = ("--workers", "1")


@pytest.fixture()
def fast_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELIEF_CRAWL_DELAY", "0")
    monkeypatch.setenv("RELIEF_CRAWL_TIMEOUT", "0.5")
    monkeypatch.setenv("RELIEF_CRAWL_HOST_CONCURRENCY", "4")


def test_crawl_then_recrawl_with_prune(tmp_path: Path, capsys: pytest.CaptureFixture[str], fast_env: None) -> None:
    idx = str(tmp_path / "index")
    with CrawlSite(CORPUS, slow_seconds=1.0) as site:
        code, out, err = run(capsys, "crawl", site.url("/"), "--index", idx, "--json", *FAST)
        assert code == 0, err
        first = json.loads(out)
        reasons = {e["source"]: e["reason"] for e in first["skipped"]}
        assert reasons[site.url("/private/secret.html")] == "robots"
        assert reasons[site.url("/slow")] == "timeout"
        assert reasons[site.url("/huge")] == "too-large"
        assert reasons[site.url("/binary")] == "binary"
        assert reasons[site.url("/download")] == "not-html"
        assert reasons[site.url("/gone")] == "status"
        assert reasons[site.url("/loop/a")] == "redirect"
        assert first["added"] >= len(site.pages) and first["crawl"]["pages"] >= len(site.pages)
        validators = store.read_validators(idx)
        assert site.url("/pages/back-pain.html") in validators and validators[site.url("/pages/back-pain.html")].etag

        code, out, _ = run(capsys, "search", "acupuncture", "--index", idx, "--json")
        assert code == 0 and any(r["url"] == site.url("/pages/acupuncture-for-back-pain.html") for r in json.loads(out)["results"])

        assert reasons[site.url("/noindex/meta")] == "noindex"
        assert site.url("/noindex/meta") not in validators and site.url("/noindex/linked") in validators

        removed, hidden = "/pages/back-pain-relief.html", "/pages/acupuncture-for-back-pain.html"
        del site.pages[removed]
        site.pages[hidden] = site.pages[hidden].replace(b"<head>", b'<head><meta name="robots" content="noindex">', 1)
        assert b"noindex" in site.pages[hidden]
        code, out, err = run(capsys, "crawl", site.url("/sitemap.xml"), "--index", idx, "--max-depth", "0", *FAST)
        assert code == 0, err
        assert "2 indexed pages now gone or noindex stay in the index; crawl again with --prune to remove them" in out
        assert site.url(hidden) in store.read_validators(idx)  # without --prune nothing leaves
        site.hits.clear()
        code, out, err = run(capsys, "crawl", site.url("/sitemap.xml"), "--index", idx, "--json", "--prune", "--max-depth", "0", *FAST)
        assert code == 0, err
        again = json.loads(out)
        assert again["added"] == 0 and again["updated"] == 0, json.dumps([again, first])
        assert again["removed"] == 2 and again["crawl"]["noindex"] == 1 and again["crawl"]["gone"] == 1
        assert again["crawl"]["prunable"] == 0
        assert {e["source"]: e["reason"] for e in again["skipped"]}[site.url(hidden)] == "noindex"
        assert again["unchanged"] >= len(site.pages) - 1
        assert sum(site.not_modified.values()) >= len(site.pages) - 1
        assert site.url(removed) not in store.read_validators(idx) and site.url(hidden) not in store.read_validators(idx)
        code, out, _ = run(capsys, "search", "acupuncture", "--index", idx, "--json")
        assert code == 0 and not any(r["url"] == site.url(hidden) for r in json.loads(out)["results"])
        code, out, _ = run(capsys, "crawl", site.url("/sitemap.xml"), "--index", idx, *FAST, "--max-depth", "0")
        assert code == 0 and "unchanged" in out


def test_crawl_report_for_people_and_a_dead_start_url(tmp_path: Path, capsys: pytest.CaptureFixture[str], fast_env: None) -> None:
    idx = str(tmp_path / "index")
    with CrawlSite(CORPUS) as site:
        code, out, _ = run(capsys, "crawl", site.url("/"), "--index", idx, "--scope", site.url("/pages/"), "--max-pages", "5", *FAST)
        assert code == 0
        assert out.startswith("5 URLs fetched") and "left out by --max-pages" in out
    code, out, _ = run(capsys, "stats", "--index", idx, "--json")
    pages = json.loads(out)["pages"]
    assert code == 0 and pages > 0
    with CrawlSite(CORPUS) as closed:
        dead = closed.url("/")
    code, out, err = run(capsys, "crawl", dead, "--index", idx)
    assert code == 1 and "connection (cannot reach" in out and "reached no page" in err
    assert "no index was made" not in err  # the index it had stays, pages and all
    code, out, _ = run(capsys, "stats", "--index", idx, "--json")
    assert code == 0 and json.loads(out)["pages"] == pages


def test_crawl_mistakes_are_clear_errors_that_touch_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str], fast_env: None) -> None:
    idx = tmp_path / "index"
    code, _, err = run(capsys, "crawl", "example.org/health", "--index", str(idx))
    assert code == 2 and "did you mean https://example.org/health?" in err and not idx.exists()
    code, _, err = run(capsys, "crawl", "https://example.org/", "ftp:/x", "--index", str(idx))
    assert code == 2 and "'ftp:/x' is not an http(s) URL" in err and "did you mean" not in err and not idx.exists()
    code, _, err = run(capsys, "crawl", "https://example.org/", "--max-pages", "0", "--index", str(idx))
    assert code == 2 and "--max-pages" in err and not idx.exists()
    a_file = tmp_path / "notes.txt"
    a_file.write_text("my notes")
    code, _, err = run(capsys, "crawl", "https://example.org/", "--index", str(a_file))
    assert code == 2 and "is a file" in err and a_file.read_text() == "my notes"
    with CrawlSite(CORPUS) as site:
        code, out, err = run(capsys, "crawl", site.url("/private/secret.html"), "--index", str(idx), "--no-sitemaps", *FAST)
        assert code == 1 and "secret.html: robots (disallowed by robots.txt)" in out and "reached no page" in err
        assert site.hits["/private/secret.html"] == 0
    # a crawl that reached nothing leaves no empty index behind to be served as "0 results"
    assert f"no index was made at {idx}" in err and not idx.exists()
    code, _, err = run(capsys, "search", "massage", "--index", str(idx))
    assert code == 1 and err.startswith("relief: no index") and "relief crawl URL" in err
    # nor does it empty a folder that was there before
    idx.mkdir()
    (idx / "README").write_text("mine")
    with CrawlSite(CORPUS) as site:
        code, _, err = run(capsys, "crawl", site.url("/private/secret.html"), "--index", str(idx), "--no-sitemaps", *FAST)
    assert code == 1 and sorted(p.name for p in idx.iterdir()) == ["README"]


def test_a_crawled_site_gets_the_same_passages_as_its_files(tmp_path: Path) -> None:
    from indexer import Index
    from indexer.config import load_settings
    from indexer.crawl import CrawlOptions, crawl_into_index
    from indexer.pipeline import ingest

    def passages(index_dir: Path) -> dict[str, list[tuple[int, str]]]:
        index = Index.open(index_dir, settings=load_settings(env={}, index=index_dir))
        found: dict[str, list[tuple[int, str]]] = {}
        with index.lock:
            for _, fields in index.generation.reader.iter_docs():
                name = fields["page_id"].rsplit("/", 1)[-1].rsplit(".", 1)[0]  # "pages/massage.html", "massage"
                found.setdefault(name, []).append((fields["position"], fields["text"]))
        index.close()
        return {k: sorted(v) for k, v in found.items()}

    files = [str(f) for f in sorted(CORPUS.iterdir()) if f.suffix in (".html", ".txt")]
    ingest(files, load_settings(env={}, index=tmp_path / "files"))
    with CrawlSite(CORPUS) as site:
        run = crawl_into_index([site.url("/sitemap.xml")], load_settings(env={}, index=tmp_path / "crawl"),
                               CrawlOptions(delay=0.0, max_depth=0), workers=1)
    assert run.report.added == len(files) and not run.report.skipped
    assert passages(tmp_path / "crawl") == passages(tmp_path / "files")


def wait_for_kept(crawler: Any, idx: Path, pages: int) -> None:
    """Until a running crawl has committed `pages` pages (or it ended, or two minutes passed)."""
    kept: dict = {}
    deadline = time.monotonic() + 120
    while crawler.poll() is None and len(kept) < pages and time.monotonic() < deadline:
        time.sleep(0.05)
        try:
            kept = store.read_validators(idx)
        except Exception:  # noqa: BLE001 - a commit may be half visible; look again
            continue


def test_a_killed_crawl_keeps_its_checkpoints_and_the_rerun_fetches_only_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import signal
    import subprocess
    import sys

    from conftest import ROOT

    idx = tmp_path / "index"
    env = {**os.environ, "RELIEF_COMMIT_PAGES": "10", "RELIEF_COMMIT_SECONDS": "3600", "RELIEF_CRAWL_DELAY": "0", "RELIEF_WORKERS": "1"}
    server = subprocess.Popen([sys.executable, str(ROOT / "tests" / "crawl_site.py"), "--pages", "120", "--latency", "0.01"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        base, total = server.stdout.readline().split()
        cmd = [sys.executable, "-m", "indexer.cli", "crawl", base + "/sitemap.xml", "--index", str(idx), "--max-depth", "0", "--json"]
        crawler = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_kept(crawler, idx, 30)
        assert crawler.poll() is None, "the crawl ended before it could be killed"
        crawler.send_signal(signal.SIGKILL)
        crawler.wait()
        kept = store.read_validators(idx)
        assert 0 < len(kept) < int(total)
        for key in ("RELIEF_COMMIT_PAGES", "RELIEF_CRAWL_DELAY", "RELIEF_WORKERS"):
            monkeypatch.setenv(key, env[key])
        code, out, err = run(capsys, "crawl", base + "/sitemap.xml", "--index", str(idx), "--max-depth", "0", "--json")
        assert code == 0, err
        again = json.loads(out)
        assert again["crawl"]["unchanged"] == len(kept)  # the kept pages answer 304
        assert again["added"] == int(total) - len(kept) and not again["skipped"]
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=30)
        server.stdout.close()
    final = store.read_validators(idx)
    assert len(final) == int(total)
    from indexer import Index
    from indexer.config import load_settings

    index = Index.open(idx, settings=load_settings(env={}, index=idx))
    with index.lock:
        ids = [fields["passage_id"] for _, fields in index.generation.reader.iter_docs()]
    index.close()
    assert len(ids) == len(set(ids))  # no passage stored twice


def test_crawl_from_the_home_page_reads_the_sitemap_robots_txt_names(tmp_path: Path, capsys: pytest.CaptureFixture[str], fast_env: None) -> None:
    from crawl_site import ORPHAN

    with CrawlSite(CORPUS, orphan=True) as site:
        code, out, err = run(capsys, "crawl", site.url("/"), "--index", str(tmp_path / "off"), "--max-depth", "0", "--no-sitemaps", "--json", *FAST)
        assert code == 0, err
        assert json.loads(out)["crawl"]["sitemaps"] == 0 and site.hits[ORPHAN] == 0
        code, out, err = run(capsys, "crawl", site.url("/"), "--index", str(tmp_path / "on"), "--max-depth", "0", *FAST)
        assert code == 0, err
        assert "2 sitemaps read (1 named in robots.txt)" in out
        # --strict: a page kept out by noindex is the site's wish, not a failure
        code, out, err = run(capsys, "crawl", site.url("/noindex/meta"), "--index", str(tmp_path / "on"), "--no-sitemaps", "--strict", *FAST)
        assert code == 0, err
        assert "1 noindex" in out and "noindex/meta: noindex" in out
    assert site.url(ORPHAN) in store.read_validators(tmp_path / "on")


def test_a_new_etag_on_the_same_body_is_stored_so_the_next_crawl_gets_a_304(tmp_path: Path, capsys: pytest.CaptureFixture[str], fast_env: None) -> None:
    idx = str(tmp_path / "index")
    crawl = ("crawl", "--index", idx, "--max-depth", "0", "--json", *FAST)
    path = "/pages/back-pain.html"
    with CrawlSite(CORPUS) as site:
        code, out, err = run(capsys, *crawl, site.url("/sitemap.xml"))
        assert code == 0, err
        old = store.read_validators(idx)[site.url(path)]
        site.etag_salt[path] = "after a server move"
        code, out, err = run(capsys, *crawl, site.url("/sitemap.xml"))
        assert code == 0, err
        second = json.loads(out)
        assert second["crawl"]["revalidated"] == 1 and second["updated"] == 1 and second["unchanged"] == len(site.pages) - 1
        new = store.read_validators(idx)[site.url(path)]
        assert new.etag != old.etag and new.sha256 == old.sha256 and new.page_id == old.page_id
        site.hits.clear()
        code, out, err = run(capsys, *crawl, site.url("/sitemap.xml"))
        assert code == 0, err
        third = json.loads(out)
        assert third["unchanged"] == len(site.pages) and third["updated"] == 0 and third["crawl"]["revalidated"] == 0
        assert site.not_modified[path] == 1 and site.hits[path] == 1  # a 304, not the body again


def test_ctrl_c_during_a_crawl_ends_it_with_one_line_and_keeps_the_checkpoints(tmp_path: Path) -> None:
    """Ctrl-C reaches the whole process group, the cleaning processes too: no traceback from any."""
    import os
    import signal
    import subprocess
    import sys

    from conftest import ROOT

    idx = tmp_path / "index"
    env = {**os.environ, "RELIEF_COMMIT_PAGES": "10", "RELIEF_CRAWL_DELAY": "0", "RELIEF_WORKERS": "2"}
    server = subprocess.Popen([sys.executable, str(ROOT / "tests" / "crawl_site.py"), "--pages", "120", "--latency", "0.02"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        base, total = server.stdout.readline().split()
        cmd = [sys.executable, "-m", "indexer.cli", "crawl", base + "/sitemap.xml", "--index", str(idx), "--max-depth", "0"]
        crawler = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        wait_for_kept(crawler, idx, 20)
        assert crawler.poll() is None, "the crawl ended before it could be interrupted"
        os.killpg(crawler.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        out, err = crawler.communicate(timeout=60)
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=30)
        server.stdout.close()
    assert crawler.returncode == 130, err
    assert "Traceback" not in err and err.strip().splitlines()[-1].startswith("relief: interrupted"), err
    assert 0 < len(store.read_validators(idx)) < int(total)


def test_the_crawl_reports_each_answer_before_the_first_page_is_written(tmp_path: Path) -> None:
    """What the terminal's progress bar shows: it moves with the crawl, not only with the ingest."""
    from indexer.config import load_settings
    from indexer.crawl import CrawlOptions, crawl_into_index

    events: list[tuple[str, int]] = []
    with CrawlSite(CORPUS) as site:
        run = crawl_into_index([site.url("/sitemap.xml")], load_settings(env={}, index=tmp_path / "index"),
                               CrawlOptions(delay=0.0, max_depth=0), workers=1,
                               progress=lambda p: events.append(("written", p.written)),
                               on_answer=lambda s: events.append(("answered", s.pages + s.unchanged + s.failed)))
    answered = [n for kind, n in events if kind == "answered"]
    first_write = next(i for i, (kind, n) in enumerate(events) if kind == "written" and n > 0)
    assert answered == sorted(answered) and answered[-1] == run.stats.pages == len(site.pages)
    assert len([e for e in events[:first_write] if e[0] == "answered"]) > 1
