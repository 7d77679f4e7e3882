"""Web security, end to end: hostile pages through the real pipeline, then every route.

- XSS payloads in page text, titles, headings, URLs, page ids and queries render inert on
  every HTML page (checked by tokenizing the HTML as a browser would) and stay escaped in
  JSON; in a real browser (Chromium via Playwright, when installed) no payload runs.
- Path traversal in /page/ ids, /api/pages/ ids and /static/ gives 404 and leaks nothing.
- Oversized query strings get 400/414; security headers are on every response, errors too.
- No debug mode, even with FLASK_DEBUG=1; no traceback in any answer; a real `relief serve`
  answers raw (unnormalised) traversal paths with 404 and sends the same headers.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import make_hostile  # noqa: E402

from indexer.config import load_settings  # noqa: E402

XSS = make_hostile.XSS
REQUIRED_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"),
    "X-Content-Type-Options": ("nosniff",),
    "X-Frame-Options": ("DENY",),
    "Referrer-Policy": ("no-referrer",),
}
LEAKS = ("root:x:0:0", "[build-system]", "def load_settings", "Traceback", "File \"/", "werkzeug", "__debugger__")


def _para(words: str) -> str:
    return (f"{words} Gentle walking and stretching help most people with back pain recover within a few weeks. " * 4).strip()


def write_hostile_site(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, payload in enumerate(XSS):
        esc = payload.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        (folder / f"escaped-{i:02d}.html").write_text(
            f"<html><head><title>Back pain {esc} title {i}</title>"
            f'<link rel="canonical" href="https://xss.example/{i}?q=%22%3E%3Cscript%3Ealert(1)%3C/script%3E"></head>'
            f"<body><main><h1>Back pain {esc} title {i}</h1><h2>Heading {esc}</h2>"
            f"<p>{_para('Massage xsspayload ' + esc)}</p><p>{_para('Heat therapy')}</p></main></body></html>",
            encoding="utf-8",
        )
        (folder / f"raw-{i:02d}.html").write_text(
            f"<html><head><title>Raw {i}</title><script>window.__xss_head=1;alert('head')</script></head>"
            f"<body onload=\"alert('body')\"><main><h1>Raw payload page {i}</h1><p>{_para('Stretching xsspayload')} {payload}</p>"
            f"<p>{_para('Ice packs')}</p></main></body></html>",
            encoding="utf-8",
        )
        (folder / f"text-{i:02d}.txt").write_text(f"Back pain {payload}\n\n{_para('Yoga xsspayload ' + payload)}\n\n{_para('Rest')}\n", encoding="utf-8")
    records = [
        {"id": "<script>alert('xss-id')</script>", "title": XSS[0], "url": "javascript:alert('xss-url')", "text": _para("Swimming xsspayload")},
        {"id": "quote\"'><svg onload=alert(1)>", "title": XSS[1], "url": "https://x.example/\"><script>alert(2)</script>", "text": _para("Cycling xsspayload")},
        {"id": "../../records/traversal-id", "title": "Traversal id", "url": "file:///etc/passwd", "text": _para("Posture xsspayload")},
        {"id": "dir/with/slashes", "title": "Slashes", "url": "data:text/html,<script>alert(3)</script>", "text": _para("Pillow xsspayload")},
        {"id": "percent%2e%2e%2fid", "title": "Percent", "url": "vbscript:msgbox(1)", "text": _para("Chair xsspayload")},
    ]
    (folder / "export.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from indexer.pipeline import ingest

    site = tmp_path_factory.mktemp("xss-site") / "site"
    write_hostile_site(site)
    index = tmp_path_factory.mktemp("xss-index") / "index"
    report = ingest([str(site)], load_settings(env={}, index=index))
    assert report.added >= len(XSS) * 2, report.to_dict()
    return index


@pytest.fixture(scope="module")
def page_ids(hostile_index: Path) -> list[str]:
    import crash_ingest

    return sorted(crash_ingest.index_state(hostile_index))


@pytest.fixture(scope="module")
def app(hostile_index: Path) -> Any:
    from search_web import create_app

    return create_app(load_settings(env={}, index=hostile_index))


class Client:
    """The Flask test client, checking headers and leaks on every response it sees."""

    def __init__(self, app: Any) -> None:
        self.c = app.test_client()
        self.seen = 0

    def get(self, url: str, **kw: Any) -> Any:
        r = self.c.get(url, **kw)
        self.seen += 1
        check_headers(r.headers, url)
        body = r.get_data(as_text=True)
        assert r.status_code < 500, f"{url} -> {r.status_code}"
        for leak in LEAKS:
            assert leak not in body, f"{url} leaks {leak!r}"
        return r


def check_headers(headers: Any, where: str) -> None:
    for name, parts in REQUIRED_HEADERS.items():
        value = headers.get(name)
        assert value, f"{where}: no {name} header"
        for part in parts:
            assert part in value, f"{where}: {name} lacks {part!r}: {value}"
    csp = headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, csp


@pytest.fixture(scope="module")
def client(app: Any) -> Client:
    return Client(app)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


def assert_inert(html: str, where: str) -> None:
    """No element or attribute that could run code came from page or query text."""
    parser = _Tags()
    parser.feed(html)
    for tag, attrs in parser.tags:
        a = dict(attrs)
        assert tag not in ("img", "svg", "iframe", "object", "embed", "frame", "frameset", "math", "base", "applet"), (where, tag, attrs)
        if tag == "script":
            assert set(a) <= {"src", "defer"} and str(a.get("src", "")).startswith("/static/"), (where, attrs)
        if tag == "meta":
            assert (a.get("http-equiv") or "").lower() != "refresh", (where, attrs)
        for name, value in attrs:
            assert not name.startswith("on"), (where, tag, attrs)
            assert name not in ("style", "srcdoc"), (where, tag, attrs)
            if name in ("href", "src", "action", "formaction", "xlink:href", "data", "poster"):
                v = "".join((value or "").split()).lower()
                assert not v.startswith(("javascript:", "vbscript:", "data:", "file:")), (where, tag, attrs)


# ---------------------------------------------------------------- XSS


def test_hostile_pages_are_indexed(page_ids: list[str]) -> None:
    assert "../../records/traversal-id" in page_ids and "<script>alert('xss-id')</script>" in page_ids


@pytest.mark.parametrize("q", ["xsspayload", "alert", "script", "onerror", "javascript", "svg onload", "iframe", "title", *XSS])
def test_search_results_are_inert(client: Client, q: str) -> None:
    for group in ("", "&group=page"):
        r = client.get(f"/search?q={quote(q)}{group}")
        assert r.status_code == 200
        assert_inert(r.get_data(as_text=True), f"/search?q={q}")
        api = client.get(f"/api/search?q={quote(q)}{group}")
        raw = api.get_data(as_text=True)
        assert api.mimetype == "application/json" and "<" not in raw and ">" not in raw
        assert api.get_json()["query"] == q.strip()


def test_search_finds_the_hostile_pages(client: Client) -> None:
    data = client.get("/api/search?q=xsspayload&per_page=100&group=page").get_json()
    assert data["total"] >= len(XSS) * 3


def test_every_page_view_is_inert(client: Client, page_ids: list[str]) -> None:
    for pid in page_ids:
        url = "/page/" + quote(pid, safe="/")
        r = client.get(url)
        if pid.startswith("../") or "/../" in pid:
            assert r.status_code in (200, 404)
        else:
            assert r.status_code == 200, f"{url} -> {r.status_code}"
        assert_inert(r.get_data(as_text=True), url)
        api = client.get("/api/pages/" + quote(pid, safe="/"))
        raw = api.get_data(as_text=True)
        assert "<" not in raw and ">" not in raw, url
        if api.status_code == 200:
            assert api.get_json()["page"]["page_id"] == pid


def test_other_pages_are_inert(client: Client) -> None:
    for url in ("/", "/claims", "/claims?treatment=massage", "/api/claims", "/api/treatments", "/healthz", "/nowhere<script>"):
        r = client.get(url)
        if r.mimetype == "text/html":
            assert_inert(r.get_data(as_text=True), url)
        else:
            assert "<" not in r.get_data(as_text=True)


def test_xss_in_every_parameter_is_inert(client: Client) -> None:
    for payload in XSS:
        for param in ("q", "page", "per_page", "group", "treatment", "condition", "claim", "evidence", payload):
            for path in ("/search", "/api/search", "/claims", "/api/claims"):
                r = client.get(f"{path}?{quote(param)}={quote(payload)}")
                body = r.get_data(as_text=True)
                if r.mimetype == "text/html":
                    assert_inert(body, f"{path}?{param}=")
                else:
                    assert "<" not in body and ">" not in body


# ---------------------------------------------------------------- traversal and size

TRAVERSAL = [
    "/page/../../../../etc/passwd",
    "/page/..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/page/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/page/%252e%252e%252fetc%252fpasswd",
    "/page/....//....//etc/passwd",
    "/page/..\\..\\..\\etc\\passwd",
    "/page/..%5c..%5cetc%5cpasswd",
    "/page/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
    "/page/CURRENT",
    "/page/writer.lock",
    "/page/relief-meta.json",
    "/page/" + "a" * 5000,
    "/page/%00",
    "/page/x%00.html",
    "/api/pages/../../../etc/passwd",
    "/api/pages/..%2f..%2f..%2fetc%2fpasswd",
    "/api/pages/%2e%2e%2f%2e%2e%2fpyproject.toml",
    "/api/pages/CURRENT",
    "/static/../indexer/config.py",
    "/static/..%2f..%2findexer%2fconfig.py",
    "/static/%2e%2e/%2e%2e/pyproject.toml",
    "/static/..%5c..%5cpyproject.toml",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/api/../indexer/config.py",
    "/..%2f..%2fetc%2fpasswd",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/api/search/../../../../etc/passwd",
    "//evil.example/%2e%2e/etc/passwd",
    "/page//evil.example",
]


def _same_site(location: str) -> bool:
    """A redirect may only go to a path on this site, never to another host (open redirect)."""
    from urllib.parse import urlsplit

    parts = urlsplit(location)
    return parts.netloc in ("", "localhost", "127.0.0.1") or parts.netloc.startswith("127.0.0.1:")


@pytest.mark.parametrize("url", TRAVERSAL)
def test_path_traversal_is_404(client: Client, url: str) -> None:
    r = client.get(url)
    if r.status_code in (301, 308):  # Werkzeug merges repeated slashes with a redirect
        location = r.headers["Location"]
        assert _same_site(location), f"{url} redirects off-site to {location}"
        r = client.get(location)
    assert r.status_code == 404, f"{url} -> {r.status_code}"


def test_traversal_page_id_is_only_a_lookup_key(client: Client) -> None:
    """A page whose *id* looks like a path (../../records/traversal-id) is shown from the index, never read from disk."""
    r = client.get("/api/pages/" + quote("../../records/traversal-id", safe=""))
    if r.status_code == 200:
        assert r.get_json()["page"]["title"] == "Traversal id"


@pytest.mark.parametrize("url", [
    "/search?q=" + "x" * 20_000,
    "/api/search?q=" + "x" * 20_000,
    "/api/search?q=" + "y" * 1001,
    "/search?q=" + "%F0%9F%98%80" * 5000,
    "/api/search?q=pain&" + "&".join(f"p{i}=1" for i in range(3000)),
    "/page/" + "a" * 20_000,
    "/claims?treatment=" + "m" * 20_000,
])
def test_oversized_requests_are_refused(client: Client, url: str) -> None:
    r = client.get(url)
    assert r.status_code in (400, 404, 414), f"{url[:80]}… -> {r.status_code}"
    if url.startswith("/api/"):
        assert r.get_json()["error"]["message"]


def test_no_debug_mode(app: Any, client: Client) -> None:
    assert app.debug is False and not app.config.get("DEBUG")
    assert app.config.get("PROPAGATE_EXCEPTIONS") is not True
    assert client.get("/console").status_code == 404


def test_debug_env_does_not_expose_tracebacks(hostile_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASK_DEBUG", "1")
    from indexer.search import Index
    from search_web import create_app

    app = create_app(load_settings(env={}, index=hostile_index))

    def boom(*a: Any, **k: Any) -> Any:
        raise RuntimeError("secret internal detail /etc/shadow")

    monkeypatch.setattr(Index, "run", boom)  # what the web app calls to search
    c = app.test_client()
    for url in ("/search?q=pain", "/api/search?q=pain"):
        r = c.get(url)
        body = r.get_data(as_text=True)
        assert r.status_code == 500, (url, r.status_code)
        assert "secret internal detail" not in body and "Traceback" not in body and "__debugger__" not in body
        check_headers(r.headers, url)


def test_methods_other_than_get_are_refused(client: Client) -> None:
    for method in ("post", "put", "delete", "patch"):
        r = getattr(client.c, method)("/api/search?q=pain", data=b"x" * 100)
        assert r.status_code in (405, 413), (method, r.status_code)
        check_headers(r.headers, method)
    r = client.c.post("/search", data=b"x" * (1024 * 1024))
    assert r.status_code in (405, 413)
    check_headers(r.headers, "big post")


def test_headers_were_checked_on_many_responses(client: Client) -> None:
    assert client.seen > 100


# ---------------------------------------------------------------- a real server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(hostile_index: Path) -> Iterator[int]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "search_web.cli", "serve", "--index", str(hostile_index), "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env={**os.environ, "FLASK_DEBUG": "1"},
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"relief serve exited: {proc.stderr.read().decode() if proc.stderr else ''}")
            time.sleep(0.1)
    yield port
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if proc.stderr:
        proc.stderr.close()


def raw_get(port: int, path: str) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.endheaders()
        r = conn.getresponse()
        return r.status, {k: v for k, v in r.getheaders()}, r.read().decode("utf-8", "replace")
    finally:
        conn.close()


@pytest.mark.parametrize("path", TRAVERSAL + ["/static/../../../../etc/passwd", "/static/./../pyproject.toml", "/page/./../../etc/passwd"])
def test_real_server_traversal(server: int, path: str) -> None:
    status, headers, body = raw_get(server, path)
    if status in (301, 308):  # Werkzeug merges repeated slashes with a redirect
        location = headers["Location"]
        assert _same_site(location), f"{path} redirects off-site to {location}"
        from urllib.parse import urlsplit

        status, headers, body = raw_get(server, urlsplit(location).path)
    assert status in (404, 400), f"{path} -> {status}"
    for leak in LEAKS:
        assert leak not in body, f"{path} leaks {leak!r}"
    check_headers(headers, path)


def test_real_server_headers_and_no_version_leak(server: int) -> None:
    for path in ("/", "/search?q=xsspayload", "/api/search?q=alert", "/static/style.css", "/healthz", "/nowhere", "/api/search?q=" + "x" * 10_000):
        status, headers, body = raw_get(server, path)
        assert status < 500, (path, status)
        check_headers(headers, path)
        server_header = headers.get("Server", "")
        assert not any(ch.isdigit() for ch in server_header), f"Server header leaks a version: {server_header}"
        if headers.get("Content-Type", "").startswith("text/html"):
            assert_inert(body, path)


# ---------------------------------------------------------------- a real browser


def test_payloads_do_not_run_in_a_browser(server: int, page_ids: list[str]) -> None:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed: run scripts/test, which installs it")
    from playwright.sync_api import sync_playwright

    fired: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            context = browser.new_context(java_script_enabled=True)
            tab = context.new_page()
            tab.on("dialog", lambda d: (fired.append(f"dialog {d.message} on {tab.url}"), d.dismiss()))
            base = f"http://127.0.0.1:{server}"
            urls = [f"/search?q={quote(q)}" for q in ("xsspayload", "alert script", XSS[0], XSS[1], XSS[3], XSS[7])]
            urls += ["/page/" + quote(pid, safe="/") for pid in page_ids if "xss" in pid or "<" in pid or pid.startswith(("raw-", "escaped-0", "text-0"))][:14]
            for url in urls:
                tab.goto(base + url, wait_until="load")
                tab.wait_for_timeout(50)
                flags = tab.evaluate("() => [window.__xss_head || null, document.querySelectorAll('img,svg,iframe').length]")
                assert flags[0] is None, url
                assert flags[1] == 0, f"{url}: a payload became an element"
            # type a payload into the live search box: its answers are built with textContent
            tab.goto(base + "/search?q=xsspayload")
            tab.fill("#q", XSS[1])
            tab.wait_for_timeout(800)
        finally:
            browser.close()
    assert not fired, fired
