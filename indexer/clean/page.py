"""Per page: HTML → Page, in the order of the stages.

1. the walk cuts the page into segments and numbers the elements;
2. every segment gets a *content weight*: long, punctuated, sentence-like text with few
   links weighs much, link lists and short labels weigh nothing;
3. chrome elements are dropped unless they hold most of the page's content (an ASP.NET
   ``<form>`` around the whole body, a ``has-sidebar`` class on the article wrapper);
4. the main container is found by descending from ``<body>`` into the child that holds
   most of the remaining weight, as long as it holds nearly all of it;
5. inside the container, the rules leave out link lists, bylines, dates, the title,
   boilerplate lines and short labels at the edges;
6. the block model (blockmodel.py) weighs the rules' verdicts with each segment's own
   features and its neighbours' and makes the final choice; the title, byline and date
   lines never come back.

`analyse_html` stops before step 6, so scripts/fit_clean.py fits the model on exactly the
features the cleaner computes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from ..model import IngestError, Page, RawPage
from . import blockmodel, content, metadata
from .features import FEATURES, segment_features
from .rules import block_key, has_words, norm, rules
from .text import CONTROL, clean_text
from .walk import Seg, Walk

_PRESTRIP = re.compile(
    r"<(script|style|noscript|template|svg|math)\b[^>]*>.*?</\1\s*>|<!--.*?-->",
    re.S | re.I,
)
# lxml refuses a str that declares its own encoding in an XML declaration
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*>", re.I)
_TITLE_OPEN = re.compile(r"<title\b[^>]*>", re.I)
_TITLE_CLOSE = re.compile(r"</title\s*>", re.I)
# a tag, and the start of a line that opens or closes one
_TAG = re.compile(r"</?[a-zA-Z!]")
_TAG_LINE = re.compile(r"^[ \t]*</?[a-zA-Z!]", re.M)
# huge_tree: no depth or size limit of libxml2 (10,000 nested divs, 1 MB attributes)
_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=True, no_network=True)


# libxml2 stops nesting elements at 2048 levels, even with huge_tree, and drops what lies
# deeper; a page that reaches near that depth is parsed again through _FlatBelow.
_LIBXML_DEPTH = 2000
_MAX_DEPTH = 1000


def close_title(html: str) -> str:
    """A page whose <title> is never closed, with the title ended where its text ends.

    A <title> is raw text up to its end tag, so an unclosed one swallows the whole page and
    leaves no text. It ends at the first tag on its line or else at the end of the line (a
    page cut and pasted around a lost <script> tag); then the lines after it, up to the next
    line that starts with a tag, are the lost script's code and are dropped.
    """
    m = _TITLE_OPEN.search(html)
    if m is None or _TITLE_CLOSE.search(html, m.end()):
        return html
    eol = html.find("\n", m.end())
    if eol < 0:
        eol = len(html)
    tag = _TAG.search(html, m.end(), eol)
    if tag:
        return html[: tag.start()] + "</title>" + html[tag.start():]
    nxt = _TAG_LINE.search(html, eol + 1)
    return html[: eol] + "</title>\n" + (html[nxt.start():] if nxt else "")


def parse_html(html: str, flat_below: int = 0) -> etree._Element | None:
    """lxml's HTML tree of a page, None when nothing parses.

    With ``flat_below`` > 0, elements nested deeper than that are left out of the tree and
    their text joins the deepest element kept.
    """
    html = _XML_DECL.sub("", html, count=1)
    if not html.strip():
        return None
    try:
        if not flat_below:
            return etree.fromstring(html, _PARSER)
        parser = etree.HTMLParser(target=_FlatBelow(flat_below), remove_comments=True, remove_pis=True,
                                  huge_tree=True, no_network=True)
        parser.feed(html)
        return parser.close()
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None


class _FlatBelow:
    """Parser target: an element tree that stops nesting at a depth (libxml2's own event
    stream has no depth limit, its tree builder has)."""

    def __init__(self, depth: int) -> None:
        self._tb = etree.TreeBuilder()
        self._max = depth
        self._depth = 0

    def start(self, tag: str, attrib: dict) -> None:
        self._depth += 1
        if self._depth <= self._max:
            self._tb.start(tag, dict(attrib))

    def end(self, tag: str) -> None:
        if self._depth <= self._max:
            self._tb.end(tag)
        self._depth -= 1

    def data(self, data: str) -> None:
        self._tb.data(data)

    def close(self) -> etree._Element:
        return self._tb.close()


@dataclass(frozen=True)
class Analysis:
    """Everything the cleaner knows of an HTML page before the block model decides."""

    segs: list[Seg]
    features: list[list[float]]  # one row per segment, features.FEATURES order
    hard_drop: list[bool]  # title, byline and date lines: never article text
    title_lines: list[bool]  # of them, the headline or the title's own words
    families: list[int]  # per segment, the parent element of its owner
    groups: list[int]  # per segment, its data table or list (-1: none)
    layout_tables: frozenset[int]
    title: str
    byline: str
    published: str


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


def clean_html(raw: RawPage, model: blockmodel.BlockModel | None = None) -> Page | IngestError:
    a = analyse_html(raw)
    if isinstance(a, IngestError):
        return a
    m = model or blockmodel.packaged_model()
    keep = blockmodel.decide(blockmodel.probabilities(a.features, m, a.families, a.hard_drop, a.groups), a.hard_drop, m,
                             rule_kept(a), a.groups)
    blocks = content.assemble([s for s, k in zip(a.segs, keep) if k], set(a.layout_tables))
    if not blocks:
        # a page whose one line is also its title is a short page, not an empty one
        blocks = content.assemble([s for s, t in zip(a.segs, a.title_lines) if t], set(a.layout_tables))
    if not blocks:
        return IngestError(raw.source, "empty", "no main text after cleaning")
    return Page(
        page_id=raw.page_id, source=raw.source, url=raw.url, site=raw.site, title=raw.title.strip() or a.title,
        byline=a.byline, published=a.published, blocks=tuple(blocks), sha256=raw.sha256,
        etag=raw.etag, last_modified=raw.last_modified,
    )


def rule_kept(a: Analysis) -> list[bool]:
    """The rules' own choice of segments (steps 1 to 5, without the model)."""
    k = FEATURES.index("rule_kept")
    return [row[k] > 0 for row in a.features]


def _walk(tree: etree._Element) -> tuple[Walk, str]:
    """The walk over <body> (or the whole tree), with <head>'s meta tags; and the <title>."""
    body = tree.find("body")
    w = Walk()
    head = tree.find("head")
    if head is not None:
        # an unknown element in <head> (<mbox>) makes libxml2 put what follows inside <head>,
        # which the walk skips, up to the whole page: it is read as the start of the body
        skip = rules().skip_tags
        stray = [el for el in head if isinstance(el.tag, str) and el.tag.lower() not in skip]
        if stray:
            if body is None:
                body = etree.SubElement(tree, "body")
            for i, el in enumerate(stray):
                body.insert(i, el)
    doc_title = ""
    if head is not None:
        for el in head.iter("meta", "title"):
            if el.tag == "meta":
                w.read_meta(el)
            elif not doc_title:
                doc_title = norm(" ".join(el.itertext()))
    else:
        el = tree.find(".//title")
        if el is not None:
            doc_title = norm(" ".join(el.itertext()))
    w.run(body if body is not None else tree)
    return w, doc_title


def analyse_html(raw: RawPage) -> Analysis | IngestError:
    """Segments, their features and the page's metadata (steps 1 to 5)."""
    r = rules()
    source = close_title(CONTROL.sub("", raw.body))
    ld = metadata.ld_json(source)
    html = _PRESTRIP.sub(" ", source)
    tree = parse_html(html)
    if tree is None:
        return IngestError(raw.source, "empty", "no main text after cleaning")
    w, doc_title = _walk(tree)
    if w.deepest >= _LIBXML_DEPTH:
        tree = parse_html(html, flat_below=_MAX_DEPTH)
        if tree is None:
            return IngestError(raw.source, "empty", "no main text after cleaning")
        w, doc_title = _walk(tree)
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
    hinted = [False] * n
    for i in range(n):
        p = parent[i]
        hinted[i] = w.hint[i] > 0 or (p >= 0 and hinted[p])
        if p >= 0 and dropped[p]:
            dropped[i] = True
        elif w.chrome[i] and not (total > 0 and raw_w[i] >= r.heavy_share * total):
            dropped[i] = True
    live = [s for s in segs if not dropped[s.node]] if n else segs
    lo, hi = content.container(n, parent, end, w.hint, live, r)

    title = metadata.title(doc_title, w.meta, ld, segs, dropped)
    title_key = block_key(title)
    byline = ""
    published = ""
    hard = [False] * len(segs)
    title_lines = [False] * len(segs)
    kept: list[Seg] = []
    for k, s in enumerate(segs):
        text = s.text
        if s.kind == "heading" and s.level == 1 or block_key(text) == title_key:
            hard[k] = True
            title_lines[k] = not (s.node >= 0 and dropped[s.node]) and has_words(text)
        elif len(text) <= 80 and r.byline.match(text) and len(text.split()) <= 10:
            hard[k] = True
            if not dropped[s.node] and lo <= s.node <= hi:
                byline = byline or metadata.strip_by(text)
        elif len(text) <= 60 and metadata.DATE_LINE.match(text):
            hard[k] = True
            if not published and not dropped[s.node] and lo <= s.node <= hi:
                m = metadata.PUBLISHED_LINE.match(text)
                published = metadata.iso_date(m.group(1) if m else text)
        elif not dropped[s.node] and lo <= s.node <= hi and not (len(text) <= 150 and r.boilerplate.match(text)):
            kept.append(s)
    kept = content.drop_link_lists(kept, r)
    kept = content.trim_edges(kept)
    kept_ids = {id(s) for s in kept}
    features = segment_features(
        segs,
        parent,
        [id(s) in kept_ids for s in segs],
        [lo <= s.node <= hi for s in segs],
        [s.node >= 0 and dropped[s.node] for s in segs],
        [s.node >= 0 and hinted[s.node] for s in segs],
        [s.kind == "table" and s.group in w.layout_tables for s in segs],
        r,
    )
    return Analysis(
        segs=segs, features=features, hard_drop=hard, title_lines=title_lines,
        families=[parent[s.node] if s.node >= 0 else -1 for s in segs],
        groups=[s.group if s.kind in ("list", "table") and s.group not in w.layout_tables else -1 for s in segs],
        layout_tables=frozenset(w.layout_tables),
        title=title, byline=byline or metadata.meta_byline(w, ld),
        published=published or metadata.meta_published(w, ld),
    )
