"""A fetched body → a RawPage: decoding, binary check, links and rel=canonical.

Decoding trusts the bytes over the header: a byte-order mark first, then strict UTF-8
(a page that is valid UTF-8 is UTF-8, whatever a misconfigured server says), then the
header's charset if the bytes fit it, then the page's own meta charset and detection
(`sources.decode`), the same as for files.
"""

from __future__ import annotations

import codecs
import hashlib

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


def links_and_canonical(html: str, base_url: str) -> tuple[list[str], str | None]:
    """Normalised http(s) links of a page (resolved against <base href>), and its canonical URL."""
    try:
        doc = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return [], None
    base = base_url
    for href in doc.xpath("//base/@href")[:1]:
        base = normalize_url(str(href), base_url) or base_url
    canonical = None
    for href in doc.xpath("//link[contains(concat(' ', normalize-space(translate(@rel, 'CANONIL', 'canonil')), ' '), ' canonical ')]/@href")[:1]:
        canonical = normalize_url(str(href), base)
    links: list[str] = []
    for el in doc.xpath("//a[@href] | //area[@href]"):
        rel = (el.get("rel") or "").lower().split()
        if "nofollow" in rel:
            continue
        url = normalize_url(el.get("href") or "", base)
        if url:
            links.append(url)
    return links, canonical


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
