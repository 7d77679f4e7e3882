"""Per page: HTML → Page, in the order of the stages.

1. the walk cuts the page into segments and numbers the elements;
2. every segment gets a *content weight*: long, punctuated, sentence-like text with few
   links weighs much, link lists and short labels weigh nothing;
3. chrome elements are dropped unless they hold most of the page's content (an ASP.NET
   ``<form>`` around the whole body, a ``has-sidebar`` class on the article wrapper);
4. the main container is found by descending from ``<body>`` into the child that holds
   most of the remaining weight, as long as it holds nearly all of it;
5. inside the container, blocks that are link lists, captions, bylines, dates, the title,
   "Read more"/"Related:" lines and short labels at the edges are left out.
"""

from __future__ import annotations

import re
import warnings

from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

from ..model import IngestError, Page, RawPage
from . import content, metadata
from .rules import block_key, norm, rules
from .text import CONTROL, clean_text
from .walk import Seg, Walk

_PRESTRIP = re.compile(
    r"<(script|style|noscript|template|svg|math)\b[^>]*>.*?</\1\s*>|<!--.*?-->",
    re.S | re.I,
)


def clean_page(raw: RawPage) -> Page | IngestError:
    """Main text, title, byline and date of one page; an IngestError when none is left."""
    try:
        if raw.kind == "text":
            return clean_text(raw)
        return clean_html(raw)
    except RecursionError as exc:  # pragma: no cover - the walk is iterative; belt and braces
        return IngestError(raw.source, "unparsable", f"nesting too deep: {exc}")
    except Exception as exc:  # noqa: BLE001 - a page must never stop the run
        return IngestError(raw.source, "unparsable", f"{type(exc).__name__}: {exc}"[:300])


def clean_html(raw: RawPage) -> Page | IngestError:
    r = rules()
    body = CONTROL.sub("", raw.body)
    ld = metadata.ld_json(body)
    html = _PRESTRIP.sub(" ", body)
    with warnings.catch_warnings():
        # XHTML and feeds are read as HTML on purpose; the warning would only be noise
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(html, "lxml")
    root = soup.body or soup
    w = Walk()
    head = soup.head
    doc_title = ""
    if head is not None:
        for el in head.find_all(("meta", "title")):
            if el.name == "meta":
                w.read_meta(el)
            elif not doc_title:
                doc_title = norm(el.get_text(" "))
    elif soup.title is not None:
        doc_title = norm(soup.title.get_text(" "))
    w.run(root)
    segs = w.segs
    if not segs:
        return IngestError(raw.source, "empty", "no main text after cleaning")

    n = len(w.tag)
    parent, end = w.parent, w.end
    for s in segs:
        s.weight = content.weight(s, r)
    raw_w = content.subtree_sums(n, parent, segs)
    total = sum(s.weight for s in segs)
    dropped = [False] * n
    for i in range(n):
        p = parent[i]
        if p >= 0 and dropped[p]:
            dropped[i] = True
        elif w.chrome[i] and not (total > 0 and raw_w[i] >= r.heavy_share * total):
            dropped[i] = True
    live = [s for s in segs if not dropped[s.node]] if n else segs
    lo, hi = content.container(n, parent, end, w.hint, live, r)
    inside = [s for s in live if lo <= s.node <= hi]

    title = metadata.title(doc_title, w.meta, ld, segs, dropped)
    title_key = block_key(title)
    byline = ""
    published = ""
    kept: list[Seg] = []
    for s in inside:
        text = s.text
        if s.kind == "heading" and s.level == 1 or block_key(text) == title_key:
            continue
        if len(text) <= 80 and r.byline.match(text) and len(text.split()) <= 10:
            byline = byline or metadata.strip_by(text)
            continue
        if len(text) <= 60 and metadata.DATE_LINE.match(text):
            if not published:
                m = metadata.PUBLISHED_LINE.match(text)
                published = metadata.iso_date(m.group(1) if m else text)
            continue
        if len(text) <= 150 and r.boilerplate.match(text):
            continue
        kept.append(s)
    kept = content.drop_link_lists(kept, r)
    kept = content.trim_edges(kept)
    blocks = content.assemble(kept, w.layout_tables)
    if not blocks:
        return IngestError(raw.source, "empty", "no main text after cleaning")
    byline = byline or metadata.meta_byline(w, ld)
    published = published or metadata.meta_published(w, ld)
    return Page(
        page_id=raw.page_id, source=raw.source, url=raw.url, site=raw.site, title=title,
        byline=byline, published=published, blocks=tuple(blocks), sha256=raw.sha256,
        etag=raw.etag, last_modified=raw.last_modified,
    )
