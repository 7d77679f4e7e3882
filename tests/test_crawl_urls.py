"""URL normalising, scope, page ids, sitemap parsing and body decoding of the crawler."""

from __future__ import annotations

import gzip

import pytest

from indexer.crawl import start_url_problem
from indexer.crawl.pages import agent_token, decode_body, header_directives, links_and_canonical, read_signals
from indexer.crawl.sitemaps import Sitemap, parse_sitemap
from indexer.crawl.urls import make_scope, normalize_url, page_id_for_url
from indexer.model import IngestError


@pytest.mark.parametrize(
    "given, expected",
    [
        ("HTTP://Example.ORG:80/a/./b/../c.html#part", "http://example.org/a/c.html"),
        ("https://example.org:443/guides/index.html", "https://example.org/guides/"),
        ("https://example.org:8443/x", "https://example.org:8443/x"),
        ("https://example.org", "https://example.org/"),
        ("https://example.org/?utm_source=news&b=2&a=1", "https://example.org/?a=1&b=2"),
        ("https://example.org/caf%c3%a9/%7Euser", "https://example.org/caf%C3%A9/~user"),
        ("https://example.org/a%2Fb", "https://example.org/a%2Fb"),
        ("https://EXAMPLE.org./Back-Pain", "https://example.org/Back-Pain"),
    ],
)
def test_normalize_url(given, expected):
    assert normalize_url(given) == expected


@pytest.mark.parametrize("given", ["mailto:a@example.org", "javascript:void(0)", "ftp://example.org/", "", "http://", "http://[::1"])
def test_not_web_urls_are_none(given):
    assert normalize_url(given) is None


def test_relative_links_resolve_against_the_base():
    assert normalize_url("../b.html", "https://example.org/dir/sub/page.html") == "https://example.org/dir/b.html"
    assert normalize_url("//other.org/x", "https://example.org/") == "https://other.org/x"


def test_scope_is_the_start_hosts_or_the_given_prefixes():
    scope = make_scope(["https://example.org/"])
    assert scope.contains("https://example.org/a") and scope.contains("http://example.org/b")
    assert not scope.contains("https://cdn.example.org/a")
    narrow = make_scope(["https://example.org/"], ["https://EXAMPLE.org/guides/"])
    assert narrow.contains("https://example.org/guides/massage") and not narrow.contains("https://example.org/shop/")


def test_page_ids_are_readable_stable_and_distinct():
    assert page_id_for_url("https://example.org/guides/massage.html") == "example.org/guides/massage.html"
    assert page_id_for_url("http://127.0.0.1:8080/guides/") == "127.0.0.1-8080/guides"
    assert page_id_for_url("https://example.org/") == "example.org"
    ids = {page_id_for_url(u) for u in ("https://example.org/p?id=1", "https://example.org/p?id=2", "https://example.org/p", "https://example.org/a b", "https://example.org/a-b")}
    assert len(ids) == 5
    assert all("?" not in i and "#" not in i for i in ids)


def test_links_canonical_base_and_nofollow():
    html = """<html><head><base href="https://example.org/docs/"><link rel="Canonical" href="/docs/page"></head>
    <body><a href="a.html#x">a</a><a href="/b">b</a><a rel="nofollow" href="/c">c</a><a href="mailto:x@y">m</a></body></html>"""
    links, canonical = links_and_canonical(html, "https://example.org/docs/page?print=1")
    assert links == ["https://example.org/docs/a.html", "https://example.org/b"]
    assert canonical == "https://example.org/docs/page"
    assert links_and_canonical("", "https://example.org/") == ([], None)


def test_decode_prefers_valid_utf8_then_the_header_then_the_page():
    text = "naïve café – ibuprofen"
    assert decode_body(text.encode("utf-8"), "iso-8859-1", True) == (text, "utf-8")
    assert decode_body(text.encode("cp1252"), "windows-1252", True) == (text, "windows-1252")
    body = f'<meta charset="windows-1252"><p>{text}</p>'.encode("cp1252")
    decoded, _ = decode_body(body, "no-such-charset", True)
    assert text in decoded


def _urlset(*locs: str) -> bytes:
    return ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "".join(f"<url><loc> {loc} </loc></url>" for loc in locs) + "</urlset>").encode()


def test_sitemaps_plain_gzipped_and_index():
    assert parse_sitemap(_urlset("https://e.org/a", "https://e.org/b"), "s", 10**6) == Sitemap(pages=("https://e.org/a", "https://e.org/b"))
    assert parse_sitemap(gzip.compress(_urlset("https://e.org/a")), "s", 10**6) == Sitemap(pages=("https://e.org/a",))
    index = b'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>https://e.org/s1.xml</loc></sitemap></sitemapindex>'
    assert parse_sitemap(index, "s", 10**6) == Sitemap(children=("https://e.org/s1.xml",))


def test_bad_sitemaps_are_errors_and_entities_do_not_expand():
    bomb = (b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            b'<urlset><url><loc>https://e.org/&b;</loc></url></urlset>')
    result = parse_sitemap(bomb, "s", 10**6)
    assert isinstance(result, IngestError) or all(len(p) < 40 for p in result.pages)
    for bad in (b"<html><body>no</body></html>", b"not xml at all", b"\x1f\x8b broken gzip"):
        result = parse_sitemap(bad, "s", 10**6)
        assert isinstance(result, IngestError) and result.reason == "bad-sitemap"
    big = gzip.compress(_urlset(*(f"https://e.org/{n}" for n in range(2000))))
    result = parse_sitemap(big, "s", 1000)
    assert isinstance(result, IngestError) and result.reason == "too-large"


def test_start_url_problems_say_what_is_wrong():
    assert start_url_problem("https://example.org/") is None
    assert start_url_problem("example.org") == "not an http(s) URL; did you mean https://example.org?"
    assert start_url_problem("localhost:8000/pages/") == "not an http(s) URL; did you mean https://localhost:8000/pages/?"
    assert start_url_problem("ftp://example.org/") == "not an http(s) URL"
    assert start_url_problem("pages/index.html") == "not an http(s) URL"
    assert start_url_problem("") == "not an http(s) URL"
    assert "relief ingest" in (start_url_problem(__file__) or "")


def test_robots_directives_from_meta_tags_and_headers():
    html = ('<html><head><meta name="ROBOTS" content="NoIndex, max-snippet:20"><meta name="otherbot" content="nofollow">'
            '<meta name="relief-index" content="nofollow"></head><body><a href="/a">a</a></body></html>')
    signals = read_signals(html, "https://example.org/", "relief-index")
    assert signals.directives >= {"noindex", "nofollow"} and signals.links == ("https://example.org/a",)
    assert "nofollow" not in read_signals(html, "https://example.org/", "otherbot-not").directives
    assert read_signals('<meta name="robots" content="none">', "https://e.org/").directives >= {"noindex", "nofollow"}
    assert read_signals('<meta name="description" content="noindex">', "https://e.org/").directives == frozenset()

    token = agent_token("relief-index/0.1 (health page indexer)")
    assert token == "relief-index"
    assert header_directives(["noindex"], token) == {"noindex"}
    assert header_directives(["otherbot: noindex, nofollow"], token) == frozenset()
    assert header_directives(["otherbot: noindex", "relief-index: nofollow"], token) == {"nofollow"}
    assert header_directives(["unavailable_after: 25 Jun 2030 15:00:00 GMT, noindex"], token) >= {"noindex"}
    assert header_directives(["noarchive, otherbot: noindex"], token) == {"noarchive"}
