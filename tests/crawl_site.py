"""A real local web site for the crawler's tests and benchmark, on 127.0.0.1 only.

`CrawlSite(corpus)` serves the sample corpus as a site under /pages/, with a home page
linking to every page, robots.txt, a sitemap index pointing at a gzipped sitemap, ETags
and Last-Modified with 304 answers, gzip compression, and the troublesome URLs a real
site has (see TRAPS). It counts requests per path so tests can check what was fetched.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import os
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

LAST_MODIFIED = "Mon, 02 Nov 2026 10:00:00 GMT"
CHUNK = b"<p>" + b"padding text " * 5000 + b"</p>\n"

# path → what the crawler should make of it (reason code, or "page" / "gone" / "duplicate")
TRAPS = {
    "/private/secret.html": "robots",
    "/gone": "gone",
    "/removed": "gone",
    "/broken": "status",
    "/flaky": "page",
    "/slow": "timeout",
    "/loop/a": "redirect",
    "/offsite": "redirect",
    "/moved": "duplicate",
    "/alias": "duplicate",
    "/canon/a": "duplicate",  # names /canon/b canonical, which names /canon/a: b is indexed once
    "/huge": "too-large",
    "/huge-stream": "too-large",
    "/binary": "binary",
    "/download": "not-html",
    "/wrong-charset": "page",
    "/guide/": "page",
    "/noindex/meta": "noindex",  # its link to /noindex/linked is followed
    "/noindex/header": "noindex",  # X-Robots-Tag: noindex, on plain text
    "/noindex/none": "noindex",  # content="none": its link to /noindex/unfollowed is not followed
    "/noindex/other-bot": "page",  # X-Robots-Tag for another crawler only
}

ORPHAN = "/unlinked/stretches.html"  # with orphan=True: listed in the sitemap, linked from no page
WRONG_CHARSET_TEXT = "Ibuprofen – an NSAID – eases back pain for many; naïve users should read the café leaflet."


class CrawlSite:
    def __init__(self, corpus: Path, *, latency: float = 0.0, crawl_delay: float | None = None, slow_seconds: float = 2.0,
                 extra_pages: int = 0, orphan: bool = False):
        self.corpus = corpus
        self.orphan = orphan
        self.latency = latency
        self.crawl_delay = crawl_delay
        self.slow_seconds = slow_seconds
        self.pages: dict[str, bytes] = {}
        for f in sorted(corpus.iterdir()):
            if f.suffix in (".html", ".txt"):
                self.pages[f"/pages/{f.name}"] = f.read_bytes()
        for n in range(extra_pages):  # more pages for the benchmark: the corpus repeated
            name, body = list(self.pages.items())[n % len(self.pages)]
            self.pages[f"/more/{n}{Path(name).suffix}"] = body
        self.etag_salt: dict[str, str] = {}  # path → text mixed into its ETag: a new ETag, the same body
        self.hits: Counter[str] = Counter()
        self.not_modified: Counter[str] = Counter()
        self.gzipped: Counter[str] = Counter()  # answers sent with Content-Encoding: gzip
        self.times: list[tuple[float, str]] = []
        self.agents: set[str] = set()
        self.in_flight = 0
        self.most_in_flight = 0  # the most requests the site was answering at once
        self._lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def page_urls(self) -> set[str]:
        return {self.url(p) for p in self.pages}

    def __enter__(self) -> "CrawlSite":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def record(self, path: str, agent: str) -> int:
        with self._lock:
            self.hits[path] += 1
            self.times.append((time.monotonic(), path))
            self.agents.add(agent)
            return self.hits[path]

    # what the site serves
    def home(self) -> bytes:
        links = [f'<li><a href="{html.escape(p)}">{html.escape(p)}</a></li>' for p in self.pages]
        links += [f'<li><a href="{p}">{p}</a></li>' for p in TRAPS]
        links += [
            '<li><a href="/pages/back-pain.html#causes">causes, a fragment of a page already linked</a></li>',
            f'<li><a href="http://127.0.0.1:{self.server.server_address[1]}/guide/index.html">the guide again</a></li>',
            '<li><a href="/image.png">a picture</a></li>',
            '<li><a href="mailto:editor@example.org">write to us</a></li>',
            '<li><a href="http://offsite.invalid/elsewhere">another site</a></li>',
        ]
        return ("<!doctype html><html><head><title>Back pain library</title></head><body><h1>All pages</h1><ul>"
                + "".join(links) + "</ul></body></html>").encode()

    def sitemap_index(self) -> bytes:
        return (f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"<sitemap><loc>{self.base}/sitemaps/pages.xml.gz</loc></sitemap></sitemapindex>").encode()

    def sitemap(self) -> bytes:
        paths = [*self.pages, ORPHAN] if self.orphan else list(self.pages)
        entries = "".join(f"<url><loc>{self.base}{html.escape(p)}</loc><lastmod>2026-11-02</lastmod></url>" for p in paths)
        return gzip.compress(f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'.encode())

    def robots(self) -> bytes:
        lines = ["User-agent: *", "Disallow: /private/"]
        if self.crawl_delay is not None:
            lines.append(f"Crawl-delay: {self.crawl_delay}")
        lines.append(f"Sitemap: {self.base}/sitemap.xml")
        return ("\n".join(lines) + "\n").encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)  # a client that hung up is no news


def article(title: str, text: str, extra_head: str = "") -> bytes:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>{extra_head}</head><body><article>"
            f"<h1>{title}</h1><p>{text}</p></article></body></html>").encode()


def _handler(site: CrawlSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body leave in one write: split small writes on a kept-alive
        # connection meet the client's delayed ACK and cost ~40 ms an answer
        wbufsize = 1 << 16
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            count = site.record(path, self.headers.get("User-Agent", ""))
            with site._lock:
                site.in_flight += 1
                site.most_in_flight = max(site.most_in_flight, site.in_flight)
            try:
                if site.latency:
                    time.sleep(site.latency)
                self.route(path, count)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
            finally:
                with site._lock:
                    site.in_flight -= 1

        def send(self, status: int, body: bytes = b"", ctype: str = "text/html; charset=utf-8", headers: dict[str, str] | None = None) -> None:
            compress = "gzip" in self.headers.get("Accept-Encoding", "") and len(body) > 200 and status == 200
            if compress:
                body = gzip.compress(body, compresslevel=1)
                site.gzipped[self.path] += 1
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            if compress:
                self.send_header("Content-Encoding", "gzip")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def redirect(self, status: int, location: str) -> None:
            self.send(status, b"", headers={"Location": location})

        def route(self, path: str, count: int) -> None:
            if path == "/":
                return self.send(200, site.home())
            if path == "/robots.txt":
                return self.send(200, site.robots(), "text/plain")
            if path == "/sitemap.xml":
                return self.send(200, site.sitemap_index(), "application/xml")
            if path == "/sitemaps/pages.xml.gz":
                return self.send(200, site.sitemap(), "application/gzip")
            if path in site.pages:
                body = site.pages[path]
                etag = '"' + hashlib.sha1(body + site.etag_salt.get(path, "").encode()).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    site.not_modified[path] += 1
                    return self.send(304, b"", headers={"ETag": etag})
                ctype = "text/plain; charset=utf-8" if path.endswith(".txt") else "text/html; charset=utf-8"
                return self.send(200, body, ctype, {"ETag": etag, "Last-Modified": LAST_MODIFIED})
            if path == ORPHAN and site.orphan:
                return self.send(200, article("Stretches", "Gentle stretches each morning eased stiffness in the lower back."))
            if path.startswith("/noindex/"):
                return self.noindex(path)
            if path == "/private/secret.html":
                return self.send(200, article("Secret", "Nobody should index this page."))
            if path == "/gone":
                return self.send(404, b"not here")
            if path == "/removed":
                return self.send(410, b"removed")
            if path == "/broken":
                return self.send(500, b"oops")
            if path == "/flaky":
                if count == 1:
                    return self.send(503, b"busy", headers={"Retry-After": "0"})
                return self.send(200, article("Heat wraps", "Heat wraps eased low back pain in a trial of office workers over two weeks."))
            if path == "/slow":
                time.sleep(site.slow_seconds)
                return self.send(200, article("Slow", "This page takes its time."))
            if path == "/loop/a":
                return self.redirect(302, "/loop/b")
            if path == "/loop/b":
                return self.redirect(302, "/loop/a")
            if path == "/offsite":
                return self.redirect(302, "http://offsite.invalid/page")
            if path == "/moved":
                return self.redirect(301, "/pages/back-pain.html")
            if path == "/alias":
                head = f'<link rel="canonical" href="{site.base}/pages/massage-therapy-for-back-pain.html">'
                return self.send(200, article("Massage (print view)", "Massage therapy for back pain, the print view.", head))
            if path in ("/canon/a", "/canon/b"):
                other = "/canon/b" if path == "/canon/a" else "/canon/a"
                head = f'<link rel="canonical" href="{other}">'
                return self.send(200, article("Sciatica " + path[-1], "Sciatica eases within weeks for most people.", head))
            if path in ("/guide/", "/guide/index.html"):
                return self.send(200, article("Guide", "A guide to moving well with back pain: walk daily, keep active, rest briefly."))
            if path == "/huge":
                return self.stream(50 * 1024 * 1024, chunked=False)
            if path == "/huge-stream":
                return self.stream(50 * 1024 * 1024, chunked=True)
            if path == "/binary":
                return self.send(200, b"\x89PNG\r\n\x1a\n\x00\x00" + os.urandom(4000) + b"\x00" * 64, "text/html")
            if path == "/download":
                return self.send(200, b"%PDF-1.4 not really a pdf", "application/pdf")
            if path == "/wrong-charset":
                return self.send(200, article("Wrong charset", WRONG_CHARSET_TEXT).replace(b"<meta charset='utf-8'>", b""), "text/html; charset=iso-8859-1")
            if path == "/image.png":
                return self.send(200, b"\x89PNG\r\n", "image/png")
            return self.send(404, b"no such page")

        def noindex(self, path: str) -> None:
            if path == "/noindex/meta":
                body = article("Members only", "Our members' digest on back pain. <a href='/noindex/linked'>Open letter</a>",
                               '<meta name="Robots" content="NOINDEX">')
                return self.send(200, body)
            if path == "/noindex/header":
                return self.send(200, b"Draft notes on lumbar supports, not for search engines.", "text/plain; charset=utf-8",
                                 {"X-Robots-Tag": "noarchive, noindex"})
            if path == "/noindex/none":
                body = article("Staff", "Staff rota. <a href='/noindex/unfollowed'>Rota archive</a>", '<meta name="robots" content="none">')
                return self.send(200, body)
            if path == "/noindex/other-bot":
                return self.send(200, article("Posture", "Good posture at a desk spares the lower back."), headers={"X-Robots-Tag": "otherbot: noindex"})
            if path in ("/noindex/linked", "/noindex/unfollowed"):
                return self.send(200, article("Open letter", "An open letter on waiting times for physiotherapy."))
            return self.send(404, b"no such page")

        def stream(self, size: int, chunked: bool) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(size))
            self.end_headers()
            sent = 0
            while sent < size:
                piece = CHUNK[: size - sent]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                sent += len(piece)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")

    return Handler


def main() -> None:
    """Serve the site from its own process (the benchmark's server must not share our GIL).

    Prints "BASE_URL PAGES" on one line, then serves until standard input closes.
    """
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parent.parent / "corpus")
    ap.add_argument("--pages", type=int, default=0, help="serve this many pages (the corpus repeated)")
    ap.add_argument("--latency", type=float, default=0.0)
    args = ap.parse_args()
    base = sum(1 for f in args.corpus.iterdir() if f.suffix in (".html", ".txt"))
    with CrawlSite(args.corpus, latency=args.latency, extra_pages=max(0, args.pages - base)) as site:
        print(site.base, len(site.pages), flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
