"""A fetched body → a RawPage: decoding, binary check, links and rel=canonical.

Decoding trusts the bytes over the header: a byte-order mark first, then strict UTF-8
(a page that is valid UTF-8 is UTF-8, whatever a misconfigured server says), then the
header's charset if the bytes fit it, then the page's own meta charset and detection
(`sources.decode`), the same as for files.
"""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass
from typing import Iterable

import lxml.html
from lxml import etree

from ..model import IngestError, RawPage
from ..sources import decode, looks_binary
from .fetch import Answer
from .rules import rules
from .urls import normalize_url, origin, page_id_for_url

_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def decode_body(data: bytes, header_charset: str, is_html: bool) -> tuple[str, str]:
    if not data.startswith(_BOMS):
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
        if header_charset:
            try:
                codecs.lookup(header_charset)
                return data.decode(header_charset), header_charset
            except (LookupError, UnicodeDecodeError):
                pass
    return decode(data, is_html=is_html)


@dataclass(frozen=True)
class PageSignals:
    """What a page tells the crawler: its links, its canonical URL, its robots directives."""

    links: tuple[str, ...] = ()
    canonical: str | None = None
    directives: frozenset[str] = frozenset()  # from <meta name="robots">: noindex, nofollow, ...


def read_signals(html: str, base_url: str, agent_token: str = "") -> PageSignals:
    """Normalised http(s) links (resolved against <base href>), rel=canonical and meta robots.

    `<meta name="robots">` applies to every crawler, a meta named after our own agent
    token (`relief-index`) to this one; `none` means noindex and nofollow.
    """
    try:
        doc = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return PageSignals()
    base = base_url
    for href in doc.xpath("//base/@href")[:1]:
        base = normalize_url(str(href), base_url) or base_url
    canonical = None
    for href in doc.xpath("//link[contains(concat(' ', normalize-space(translate(@rel, 'CANONIL', 'canonil')), ' '), ' canonical ')]/@href")[:1]:
        canonical = normalize_url(str(href), base)
    names = {"robots", agent_token.lower()} - {""}
    directives: set[str] = set()
    for meta in doc.xpath("//meta[@name]"):
        if (meta.get("name") or "").strip().lower() in names:
            directives |= _directive_words(meta.get("content") or "")
    links: list[str] = []
    for el in doc.xpath("//a[@href] | //area[@href]"):
        rel = (el.get("rel") or "").lower().split()
        if "nofollow" in rel:
            continue
        url = normalize_url(el.get("href") or "", base)
        if url:
            links.append(url)
    return PageSignals(tuple(links), canonical, _expand(directives))


def links_and_canonical(html: str, base_url: str) -> tuple[list[str], str | None]:
    """Normalised http(s) links of a page (resolved against <base href>), and its canonical URL."""
    signals = read_signals(html, base_url)
    return list(signals.links), signals.canonical


def header_directives(values: Iterable[str], agent_token: str) -> frozenset[str]:
    """Robots directives of X-Robots-Tag headers that apply to us.

    A header may name a crawler first (`otherbot: noindex`): such directives apply only
    when the name is our agent token; unnamed ones (`noindex, nofollow`) apply to all.
    """
    found: set[str] = set()
    token = agent_token.lower()
    for value in values:
        agent = ""
        for part in value.split(","):
            name, colon, rest = part.partition(":")
            name = name.strip().lower()
            if colon and name not in rules().valued_directives:
                agent, part = name, rest  # "otherbot: noindex" starts that crawler's directives
            if agent in ("", "*", token):
                found |= _directive_words(part)
    return _expand(found)


def agent_token(user_agent: str) -> str:
    """The product token of a User-Agent ("relief-index/0.1 (...)" → "relief-index")."""
    return user_agent.split("/", 1)[0].split()[0].lower() if user_agent.strip() else ""


def _directive_words(text: str) -> set[str]:
    return {w.strip().lower() for w in text.replace(";", ",").split(",") if w.strip()}


def _expand(directives: set[str]) -> frozenset[str]:
    if "none" in directives:
        directives = directives | {"noindex", "nofollow"}
    return frozenset(directives)


def build_page(answer: Answer, identity: str, page_id: str | None = None) -> RawPage | IngestError:
    """The page as the pipeline takes it; `identity` is its normalised (or canonical) URL."""
    data = answer.body
    if not data.strip():
        return IngestError(answer.url, "empty", "the answer had no body")
    if looks_binary(data):
        return IngestError(answer.url, "binary", f"served as {answer.content_type or 'no content type'} but holds binary data")
    is_html = answer.content_type not in rules().text_types
    text, encoding = decode_body(data, answer.charset, is_html)
    if not text.strip():
        return IngestError(answer.url, "empty", "only white space")
    return RawPage(
        page_id=page_id or page_id_for_url(identity),
        source=answer.url,
        url=identity,
        site=origin(identity),
        kind="html" if is_html else "text",
        body=text,
        encoding=encoding,
        sha256=hashlib.sha256(data).hexdigest(),
        etag=answer.etag,
        last_modified=answer.last_modified,
    )
