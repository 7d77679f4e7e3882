"""URL normalising and scope: one page, one URL, so it is fetched and indexed once.

A URL is reduced to a canonical spelling (lower-case scheme and host, no default port,
no fragment, no tracking parameters, sorted query, `/dir/index.html` → `/dir/`,
percent-escapes in one case) before it is compared, queued or stored.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

from .rules import rules

_DEFAULT_PORTS = {"http": 80, "https": 443}
_SAFE_SEGMENT = ":@!$&'()*+,;=-._~"
_UNSAFE_ID = re.compile(r"[^\w./-]+")


def normalize_url(url: str, base: str | None = None) -> str | None:
    """The canonical spelling of an http(s) URL, resolved against `base`; None if not a web URL."""
    url = url.strip()
    if not url or url.startswith(("javascript:", "mailto:", "tel:", "data:")):
        return None
    try:
        if base:
            url = urljoin(base, url)
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = _normalize_path(parts.path)
    query = _normalize_query(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def _normalize_path(path: str) -> str:
    if not path.startswith("/"):
        path = "/" + path
    segments: list[str] = []
    for seg in path.split("/")[1:]:
        if seg == "..":
            if segments:
                segments.pop()
        elif seg != ".":
            segments.append(quote(unquote(seg), safe=_SAFE_SEGMENT))
    if segments and segments[-1].lower() in rules().index_pages:
        segments[-1] = ""
    return "/" + "/".join(segments)


def _normalize_query(query: str) -> str:
    if not query:
        return ""
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k.lower() not in rules().tracking_params]
    return urlencode(sorted(pairs), doseq=False)


def start_url_problem(given: str) -> str | None:
    """Why a start URL cannot be crawled (with a hint for a missing scheme), or None."""
    if normalize_url(given) is not None:
        return None
    text = given.strip()
    if text and os.path.exists(text):
        return "a local file or folder, not an http(s) URL; `relief ingest` reads those"
    has_scheme = re.match(r"[A-Za-z][A-Za-z0-9+.-]*:(?!\d)", text)  # "ftp:", not "localhost:8000"
    host = text.split("/", 1)[0]
    looks_like_host = "." in host or ":" in host or host.lower() == "localhost"
    if text and not has_scheme and looks_like_host and normalize_url("https://" + text):
        return f"not an http(s) URL; did you mean https://{text}?"
    return "not an http(s) URL"


def origin(url: str) -> str:
    """scheme://host[:port] of a normalised URL: the unit of politeness and of robots.txt."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def host(url: str) -> str:
    return urlsplit(url).netloc


def looks_like_page(url: str) -> bool:
    """False for links to images, scripts, archives and other files that are never pages."""
    path = urlsplit(url).path.lower()
    return not path.endswith(rules().skip_suffixes)


def looks_like_sitemap(url: str) -> bool:
    path = urlsplit(url).path.lower()
    return path.endswith((".xml", ".xml.gz"))


@dataclass(frozen=True)
class Scope:
    """Which URLs belong to the crawl: URL prefixes, or else whole hosts."""

    prefixes: tuple[str, ...] = ()
    hosts: frozenset[str] = frozenset()

    def contains(self, url: str) -> bool:
        if self.prefixes:
            return url.startswith(self.prefixes)
        return host(url) in self.hosts


def make_scope(start_urls: list[str], prefixes: list[str] | tuple[str, ...] = ()) -> Scope:
    """The hosts of the start URLs by default; `prefixes` (normalised) narrow it."""
    norm = tuple(p for p in (normalize_url(x) for x in prefixes) if p)
    return Scope(prefixes=norm, hosts=frozenset(host(u) for u in start_urls))


def page_id_for_url(url: str) -> str:
    """A stable page id from a URL that also reads well in a web path: 'example.org/guides/massage'.

    The scheme goes (http and https of one page are one page), and so does a trailing
    slash; a query, or any character rewritten for the id, adds a short hash so such URLs
    keep ids of their own.
    """
    parts = urlsplit(url)
    name = parts.netloc.replace(":", "-", 1) + parts.path.rstrip("/")
    clean = _UNSAFE_ID.sub("-", name).strip("-./") or "page"
    if parts.query or clean != name:
        digest = hashlib.sha1((parts.netloc + parts.path + "?" + parts.query).encode("utf-8")).hexdigest()[:10]
        clean = f"{clean}-{digest}"
    return clean
