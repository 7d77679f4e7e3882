"""Sitemaps (sitemaps.org): a list of page URLs, or an index of further sitemaps; gzip too.

Parsed with lxml with entities, DTDs and network access off, so a hostile sitemap
cannot expand itself or reach elsewhere; decompression stops at the size limit.
"""

from __future__ import annotations

import gzip
import io
import zlib
from dataclasses import dataclass

from lxml import etree

from ..model import IngestError
from .rules import rules


@dataclass(frozen=True)
class Sitemap:
    pages: tuple[str, ...] = ()  # <urlset>: page URLs as written
    children: tuple[str, ...] = ()  # <sitemapindex>: sitemap URLs as written


def parse_sitemap(data: bytes, source: str, max_bytes: int) -> Sitemap | IngestError:
    if data[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as fh:
                data = fh.read(max_bytes + 1)
        except (OSError, EOFError, zlib.error) as exc:
            return IngestError(source, "bad-sitemap", f"bad gzip data: {exc}")
        if len(data) > max_bytes:
            return IngestError(source, "too-large", f"sitemap over {max_bytes:,} bytes after decompression")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        return IngestError(source, "bad-sitemap", f"not well-formed XML: {exc}")
    if root is None:
        return IngestError(source, "bad-sitemap", "empty document")
    kind = etree.QName(root).localname
    if kind == "urlset":
        return Sitemap(pages=_locs(root, "url", rules().max_sitemap_urls))
    if kind == "sitemapindex":
        return Sitemap(children=_locs(root, "sitemap", rules().max_child_sitemaps))
    return IngestError(source, "bad-sitemap", f"root element <{kind}>, not <urlset> or <sitemapindex>")


def _locs(root: etree._Element, entry: str, limit: int) -> tuple[str, ...]:
    found: list[str] = []
    for child in root:
        if not isinstance(child.tag, str) or etree.QName(child).localname != entry:
            continue
        for field in child:
            if isinstance(field.tag, str) and etree.QName(field).localname == "loc" and field.text and field.text.strip():
                found.append(field.text.strip())
                break
        if len(found) >= limit:
            break
    return tuple(found)
