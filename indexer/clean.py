"""Cleaning stage: RawPage → Page (title, byline, date, main-text blocks).

Two layers:

* **Per page** (`clean_page`). HTML is parsed by BeautifulSoup with lxml; scripts, styles and
  other non-text elements never reach the text. One iterative walk over the tree (no
  recursion, so 10,000 nested divs are fine) cuts the page into *segments* (runs of inline
  text inside one block element) and records, per element, its parent, its tag and whether
  its tag, class, id or role mark it as page chrome (nav, footer, share bar, comments …).
  Then, on plain lists of numbers:

  1. every segment gets a *content weight*: long, punctuated, sentence-like text with few
     links weighs much, link lists and short labels weigh nothing;
  2. chrome elements are dropped unless they hold most of the page's content (an ASP.NET
     ``<form>`` around the whole body, a ``has-sidebar`` class on the article wrapper);
  3. the main container is found by descending from ``<body>`` into the child that holds
     most of the remaining weight, as long as it holds nearly all of it;
  4. inside the container, blocks that are link lists, captions, bylines, dates, the title,
     "Read more"/"Related:" lines and short labels at the edges are left out.

  Plain-text dumps (``kind == "text"``) are split into lines: the "By <name>" line near the
  top gives the byline, the line before it the title, and everything above is site chrome.

* **Per site** (`learn_site_template` + `strip_template`): blocks, and single lines of lists,
  that repeat on many pages of one site are template text the per-page layer missed.

Failures are values: `clean_page` returns an `IngestError` and never raises.
"""

from __future__ import annotations

import json
import re
import warnings
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Iterable, Sequence

from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning
from bs4.element import CData, NavigableString, Tag

from .model import Block, IngestError, Page, RawPage

__all__ = ["clean_page", "learn_site_template", "strip_template", "block_key"]

# --------------------------------------------------------------------------- tuning data

# Elements whose text is never page text.
_SKIP_TAGS = frozenset(
    """script style noscript template svg math iframe frame frameset object embed applet
    canvas video audio source track map area picture input select option optgroup textarea
    button datalist label output meter progress head title meta link base dialog""".split()
)
# Inline elements: their text joins the surrounding block. Everything else is a block.
_INLINE_TAGS = frozenset(
    """a abbr acronym b bdi bdo big cite code data del dfn em font i img ins kbd mark nobr q
    rp rt ruby s samp small span strike strong sub sup time tt u var wbr""".split()
)
# Chrome by tag; dropped unless the element holds most of the page's content.
_CHROME_TAGS = frozenset("nav aside footer header form menu".split())
# Always dropped.
_CAPTION_TAGS = frozenset(("figcaption",))
_CHROME_ROLES = frozenset(
    "navigation banner contentinfo complementary menu menubar search dialog alertdialog".split()
)
# class/id words that mark chrome. Whole words (split on space, "-", "_") ...
_CHROME_WORDS = frozenset(
    """nav navbar navigation menu menubar submenu breadcrumb breadcrumbs footer sidebar
    share sharing shares sharebar social related comment comments cookie cookies consent
    newsletter advert advertisement advertising ad ads adslot advertorial promo promos
    promotion subscribe subscription signup popup modal skip sponsored sponsor outbrain
    taboola recommended recirc trending masthead toolbar pagination pager tags tagcloud
    byline caption credit credits disclaimer copyright""".split()
)
# ... and substrings, for camelCase or glued ids ("mainNav", "pagefooter").
_CHROME_SUBSTRINGS = (
    "breadcrumb", "sidebar", "footer", "cookie", "newsletter", "advert", "sponsor",
    "subscribe", "social", "sharing", "share-", "-share", "sharebar", "comment", "related",
    "outbrain", "taboola", "navigation", "navbar", "promo", "popup", "recommend",
)
_POSITIVE_WORDS = frozenset(
    """article articlebody article-body article-content articlecontent entry-content
    entry post-content post-body postbody story story-body storybody content-body
    main-content maincontent post entry-body body-text text prose""".split()
)

_WORD_SPLIT = re.compile(r"[\s_\-]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_SPACE = re.compile(r"\s+")
_PRESTRIP = re.compile(
    r"<(script|style|noscript|template|svg|math)\b[^>]*>.*?</\1\s*>|<!--.*?-->",
    re.S | re.I,
)
_LD_JSON = re.compile(
    r"<script[^>]*type\s*=\s*[\"']?application/ld\+json[\"']?[^>]*>(.*?)</script\s*>",
    re.S | re.I,
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_END_PUNCT = re.compile(r"[.!?…:;\"”’)]\s*$")
_SENTENCE = re.compile(r"[.!?]['\"”’)]?(\s|$)")
_WORD = re.compile(r"\w+")
_KEY_EDGE = re.compile(r"^[\W_]+|[\W_]+$")

_BYLINE = re.compile(r"^(?:written\s+|posted\s+|story\s+|words\s+)?by[\s:]+(?=\S)", re.I)
_DATE_WORDS = (
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
)
_DATE_LINE = re.compile(
    r"^(?:(?:published|updated|posted|last\s+updated|modified|date)(?:\s+on)?\s*:?\s*)?"
    r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+)?"
    r"(?:\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|" + _DATE_WORDS + r"\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}"
    r"|\d{1,2}(?:st|nd|rd|th)?\s+" + _DATE_WORDS + r",?\s+\d{4})"
    r"(?:,?\s*(?:at\s+)?\d{1,2}[:.]\d{2}(?:\s*[ap]\.?m\.?)?(?:\s*[a-z]{2,4})?)?\.?$",
    re.I,
)
_PUBLISHED_LINE = re.compile(r"^(?:published|posted|date)(?:\s+on)?\s*:?\s*(.+)$", re.I)
_BOILER_LINE = re.compile(
    r"^(?:advert(?:isement)?s?|sponsored(?: content)?|ads?|story continues below"
    r"|.{0,40}requires? javascript.*|.{0,40}javascript (?:is )?(?:disabled|required|enabled).*"
    r"|continue reading(?: below)?|read more|read more:.*|related:.*|related stories?:?.*"
    r"|related articles?:?.*|see also:.*|also read:.*|more:.*|recommended:.*"
    r"|share(?: this)?(?: article| story| post)?:?|share on \w+|tweet|email|print|comments?"
    r"|click here.*|sign up.*|subscribe.*|follow us.*|skip to (?:main )?content|loading.*"
    r"|(?:photo|image|picture|video|credit|source)s?\s*:.*|\(?(?:photo|image)s? (?:by|courtesy|credit).*"
    r"|getty images|ap photo.*|reuters.*photo.*)$",
    re.I,
)
_DANGLING_SEPARATOR = re.compile(r"^\s*(?:[|\-–—:·•»«/]|::)\s*|\s*(?:[|\-–—:·•»«/]|::)\s*$")
_TITLE_SEPARATORS = re.compile(r"\s+(?:[|\-–—:·•»«/]|::)\s+")

_META_PUBLISHED = (
    "article:published_time", "og:published_time", "published_time", "datepublished",
    "date", "pubdate", "publishdate", "publish-date", "publish_date", "dc.date.issued",
    "dc.date", "dcterms.created", "sailthru.date", "parsely-pub-date", "article.published",
    "og:article:published_time", "cxenseparse:recs:publishtime", "originalpublicationdate",
)
_META_AUTHOR = ("author", "article:author", "og:article:author", "dc.creator", "parsely-author",
                "sailthru.author", "byl")

# --------------------------------------------------------------------------- public API


def block_key(text: str) -> str:
    """Normalised key of a block or line: casefolded, whitespace collapsed, no end punctuation."""
    return _KEY_EDGE.sub("", " ".join(text.replace("\xa0", " ").split()).casefold())


def clean_page(raw: RawPage) -> Page | IngestError:
    """Main text, title, byline and date of one page; an IngestError when none is left."""
    try:
        if raw.kind == "text":
            return _clean_text(raw)
        return _clean_html(raw)
    except RecursionError as exc:  # pragma: no cover - the walk is iterative; belt and braces
        return IngestError(raw.source, "unparsable", f"nesting too deep: {exc}")
    except Exception as exc:  # noqa: BLE001 - a page must never stop the run
        return IngestError(raw.source, "unparsable", f"{type(exc).__name__}: {exc}"[:300])


# Site-template thresholds. A line counts as template when it occurs on at least
# TEMPLATE_MIN_PAGES pages of the site *and* on at least TEMPLATE_MIN_SHARE of them: three
# pages rule out a coincidence between two articles (a shared quote, a syndicated copy), the
# share keeps a phrase that a few of many articles happen to share. Section menus shown on
# about half of a site's pages are still caught.
TEMPLATE_MIN_PAGES = 3
TEMPLATE_MIN_SHARE = 0.4


def learn_site_template(pages: Sequence[Page]) -> frozenset[str]:
    """Keys of blocks (and of single lines of list blocks) repeated on many pages of a site."""
    if len(pages) < TEMPLATE_MIN_PAGES:
        return frozenset()
    df: Counter[str] = Counter()
    for page in pages:
        df.update(_page_keys(page))
    need = max(TEMPLATE_MIN_PAGES, TEMPLATE_MIN_SHARE * len(pages))
    return frozenset(k for k, n in df.items() if n >= need)


def strip_template(page: Page, template: frozenset[str]) -> Page:
    """Drop template blocks and list lines from a page; everything else stays as it was.

    A heading that is template text ("Symptoms" on every page of a health site) stays when
    the section under it keeps text of its own. A page that would lose every block is
    returned unchanged: it is a duplicate of its siblings, not a page of pure chrome.
    """
    if not template:
        return page
    kept: list[Block | None] = []
    for b in page.blocks:
        if b.kind in ("list", "table"):
            lines = [ln for ln in b.text.split("\n") if block_key(ln) not in template]
            if not any(_WORD.search(ln) for ln in lines):
                kept.append(None)
            elif len(lines) == b.text.count("\n") + 1:
                kept.append(b)
            else:
                kept.append(replace(b, text="\n".join(lines)))
        else:
            kept.append(None if block_key(b.text) in template else b)
    # template headings survive when their section keeps text of its own
    for i, b in enumerate(page.blocks):
        if b.kind == "heading" and kept[i] is None:
            j = i + 1
            while j < len(page.blocks) and not (
                page.blocks[j].kind == "heading" and page.blocks[j].level <= (b.level or 6)
            ):
                if kept[j] is not None and page.blocks[j].kind != "heading":
                    kept[i] = b
                    break
                j += 1
    blocks = tuple(b for b in kept if b is not None)
    if not blocks or len(blocks) == len(page.blocks):
        return page
    return replace(page, blocks=blocks)


def _page_keys(page: Page) -> set[str]:
    keys: set[str] = set()
    for b in page.blocks:
        if b.kind in ("list", "table"):
            keys.update(block_key(ln) for ln in b.text.split("\n"))
        keys.add(block_key(b.text))
    keys.discard("")
    return keys


# --------------------------------------------------------------------------- text helpers


def _norm(text: str) -> str:
    return " ".join(text.split())


def _has_words(text: str) -> bool:
    return _WORD.search(text) is not None


def _iso_date(text: str) -> str:
    """An ISO form of a date string when one of the common shapes parses; else as given."""
    s = text.strip()
    if re.match(r"^\d{4}-\d{2}-\d{2}", s):
        return s
    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", s.replace(",", " "))
    cleaned = re.sub(r"\s+(at\s+)?\d{1,2}[:.]\d{2}.*$", "", cleaned, flags=re.I)
    cleaned = " ".join(cleaned.replace(".", " ").split()) if not re.match(r"^\d+\.\d+\.\d+$", cleaned) else cleaned
    for fmt in ("%B %d %Y", "%b %d %Y", "%d %B %Y", "%d %b %Y", "%A %B %d %Y", "%a %b %d %Y",
                "%A %d %B %Y", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d", "%B %Y"):
        try:
            return datetime.strptime(cleaned, fmt).date().isoformat()
        except ValueError:
            continue
    return s


# --------------------------------------------------------------------------- plain text


def _clean_text(raw: RawPage) -> Page | IngestError:
    lines = [_norm(ln) for ln in _CONTROL.sub("", raw.body).splitlines()]
    # the byline: a short "By Name" line near the top, with a title line before it
    byline, by_at = "", -1
    for i, ln in enumerate(lines[:200]):
        if _BYLINE.match(ln) and len(ln) <= 80 and len(ln.split()) <= 8:
            byline, by_at = ln, i
            break
    title, body_from = raw.title.strip(), 0
    if by_at >= 0:
        j = by_at - 1
        while j >= 0 and not _has_words(lines[j]):
            j -= 1
        if j >= 0 and not title:
            title = lines[j]
        body_from = by_at + 1
    else:
        # no byline: site chrome is the run of short label-like lines before the first
        # sentence-like line; the last of them that is not a nav repeat is the title
        first_prose = next(
            (i for i, ln in enumerate(lines) if len(ln) >= 80 or _SENTENCE.search(ln)), 0
        )
        labels = [ln for ln in lines[:first_prose] if _has_words(ln)]
        if not title and labels:
            title = labels[-1]
        elif not title:
            # no label line: name the page after its opening words, which stay body text
            words = next((ln for ln in lines if _has_words(ln)), "").split()
            title = " ".join(words[:12]) + ("…" if len(words) > 12 else "")
        body_from = first_prose
    title_key = block_key(title)
    blocks: list[Block] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            text = " ".join(para)
            if _has_words(text):
                blocks.append(Block(text))
            para.clear()

    published = ""
    for ln in lines[body_from:]:
        if not _has_words(ln):
            flush()
            continue
        if not blocks and not para:
            if block_key(ln) == title_key:
                continue
            m = _PUBLISHED_LINE.match(ln)
            if m and _DATE_LINE.match(ln):
                published = published or _iso_date(m.group(1))
                continue
        # hard-wrapped prose continues a paragraph; otherwise each line is one
        if para and not _END_PUNCT.search(para[-1]) and ln[:1].islower():
            para.append(ln)
        else:
            flush()
            para.append(ln)
    flush()
    if not blocks:
        return IngestError(raw.source, "empty", "no main text after cleaning")
    return Page(
        page_id=raw.page_id, source=raw.source, url=raw.url, site=raw.site, title=title,
        byline=_strip_by(byline), published=published, blocks=tuple(blocks), sha256=raw.sha256,
        etag=raw.etag, last_modified=raw.last_modified,
    )


def _strip_by(byline: str) -> str:
    return _BYLINE.sub("", byline).strip() if byline else ""


# --------------------------------------------------------------------------- HTML: the walk


@dataclass
class _Seg:
    """A run of inline text inside one block element."""

    node: int  # owner element (innermost block element)
    text: str
    links: int  # characters of text inside <a>
    kind: str  # heading | paragraph | list | table | quote | pre
    level: int
    group: int  # list or table root element (-1: none)
    row: int  # table row element (-1: none)
    weight: float = 0.0


class _Walk:
    """One pass over the soup: element table (parent, tag, flags) and the text segments.

    Elements are numbered in document order, so the subtree of element ``i`` is the id range
    ``i .. end[i]``. A context frame is a tuple
    ``(owner, kind, level, group, row, in_link, in_pre, cell_table, inline, elem)``:
    ``owner`` is the innermost block element (the segment's owner), ``group`` the list or
    table the text belongs to, ``cell_table`` the table whose cell we are in.
    """

    def __init__(self) -> None:
        self.parent: list[int] = []
        self.tag: list[str] = []
        self.chrome: list[bool] = []
        self.hint: list[float] = []
        self.end: list[int] = []
        self.segs: list[_Seg] = []
        self.layout_tables: set[int] = set()
        self.meta: dict[str, str] = {}
        self.times: list[str] = []
        self.authors: list[str] = []
        self._parts: list[str] = []
        self._links = 0

    def run(self, root: Tag) -> None:
        parent, tagl, chrome, hint, end = self.parent, self.tag, self.chrome, self.hint, self.end
        ctxs: list[tuple] = [(-1, "paragraph", 0, -1, -1, False, False, -1, False, -1)]
        work: list = [root]
        parts = self._parts
        while work:
            item = work.pop()
            t = type(item)
            if t is NavigableString or t is CData:
                parts.append(item)
                if ctxs[-1][5]:
                    self._links += len(_norm(item))
                continue
            if t is int:  # end marker of element `item`
                c = ctxs.pop()
                end[item] = len(tagl) - 1
                if not c[8]:
                    self._flush(c)
                continue
            if t is not Tag and not isinstance(item, Tag):
                continue  # comments, doctype, processing instructions
            name = item.name
            if name in _SKIP_TAGS:
                if name == "meta":
                    self._meta(item)
                continue
            attrs = item.attrs
            if attrs and _hidden(attrs):
                continue
            c = ctxs[-1]
            if name == "br" or name == "hr":
                self._flush(c)
                continue
            if name in _CAPTION_TAGS:
                continue
            if attrs:
                if name == "time" and "datetime" in attrs:
                    self.times.append(str(attrs["datetime"]))
                if "rel" in attrs or "itemprop" in attrs or "class" in attrs:
                    self._author(item, attrs)
            nid = len(tagl)
            if name in _INLINE_TAGS:
                if attrs and _classify(name, attrs)[0]:
                    continue  # a share link, a byline span, an ad label
                parent.append(c[9])
                tagl.append(name)
                chrome.append(False)
                hint.append(0.0)
                end.append(nid)
                ctxs.append(c[:5] + (c[5] or name == "a",) + c[6:8] + (True, nid))
                work.append(nid)
                work.extend(reversed(item.contents))
                continue
            # a block element: the text before it is one segment, its own text another
            self._flush(c)
            parent.append(c[9])
            tagl.append(name)
            is_chrome, h = _classify(name, attrs)
            chrome.append(is_chrome)
            hint.append(h)
            end.append(nid)
            kind, level, group, row, pre, cell_table = c[1], c[2], c[3], c[4], c[6], c[7]
            if name[0] == "h" and len(name) == 2 and name[1] in "123456":
                kind, level = "heading", int(name[1])
                if cell_table >= 0:
                    self.layout_tables.add(cell_table)
            elif name in ("ul", "ol", "dl", "menu"):
                if kind != "list":
                    group = nid
                kind = "list"
                if cell_table >= 0:
                    self.layout_tables.add(cell_table)
            elif name in ("li", "dt", "dd"):
                if kind != "list":
                    kind, group = "list", nid
            elif name == "table":
                if cell_table >= 0:
                    self.layout_tables.add(cell_table)
                kind, group, row, cell_table = "table", nid, -1, -1
            elif name == "tr":
                row = nid
            elif name in ("td", "th"):
                cell_table = group if kind == "table" else -1
            elif name == "blockquote":
                kind = "quote"
            elif name == "pre":
                kind, pre = "pre", True
            elif cell_table >= 0 and name not in _TABLE_PARTS:
                self.layout_tables.add(cell_table)
            ctxs.append((nid, kind, level, group, row, c[5], pre, cell_table, False, nid))
            work.append(nid)
            work.extend(reversed(item.contents))
        self._flush(ctxs[0])

    def _flush(self, c: tuple) -> None:
        parts = self._parts
        if not parts:
            return
        raw = "".join(parts)
        parts.clear()
        links, self._links = self._links, 0
        if c[6]:  # pre: keep the lines
            text = "\n".join(_norm(ln) for ln in raw.strip("\n").split("\n"))
        else:
            text = _norm(raw)
        if not text or not _has_words(text):
            return
        self.segs.append(_Seg(c[0], text, min(links, len(text)), c[1], c[2], c[3], c[4]))

    def _meta(self, el: Tag) -> None:
        a = el.attrs
        key = a.get("property") or a.get("name") or a.get("itemprop")
        val = a.get("content")
        if isinstance(key, list):
            key = " ".join(key)
        if key and val and isinstance(val, str):
            self.meta.setdefault(key.strip().lower(), val.strip())

    def _author(self, el: Tag, attrs: dict) -> None:
        rel = attrs.get("rel")
        prop = attrs.get("itemprop")
        rel = " ".join(rel) if isinstance(rel, list) else (rel or "")
        prop = " ".join(prop) if isinstance(prop, list) else (prop or "")
        cls = attrs.get("class")
        cls = " ".join(cls) if isinstance(cls, list) else (cls or "")
        marked = bool(cls) and any(w in ("byline", "author") for w in _WORD_SPLIT.split(cls.lower()))
        if marked or "author" in rel.split() or "author" in prop.split():
            text = _norm(el.get_text(" "))
            if text and len(text) <= 100:
                self.authors.append(text)
        if "datePublished" in prop.split():
            val = attrs.get("content") or attrs.get("datetime") or _norm(el.get_text(" "))
            if val:
                self.meta.setdefault("itemprop:datepublished", str(val))


_TABLE_PARTS = frozenset("thead tbody tfoot caption colgroup col p".split())


def _hidden(attrs: dict) -> bool:
    if "hidden" in attrs:
        return True
    if attrs.get("aria-hidden") == "true":
        return True
    style = attrs.get("style")
    return isinstance(style, str) and bool(style) and _HIDDEN_STYLE.search(style) is not None


def _classify(name: str, attrs: dict) -> tuple[bool, float]:
    """(is chrome, positive hint) from tag, role, class and id."""
    chrome = name in _CHROME_TAGS
    hint = 0.0
    if name in ("article", "main"):
        hint = 1.0
    if not attrs:
        return chrome, hint
    role = attrs.get("role")
    if isinstance(role, str):
        role = role.lower()
        if role in _CHROME_ROLES:
            chrome = True
        elif role in ("main", "article"):
            hint = 1.0
    prop = attrs.get("itemprop")
    if prop:
        p = " ".join(prop) if isinstance(prop, list) else prop
        if "articleBody" in p or "text" == p:
            hint = 2.0
    cls = attrs.get("class")
    ident = attrs.get("id")
    names = (" ".join(cls) if isinstance(cls, list) else (cls or "")) + " " + (
        ident if isinstance(ident, str) else ""
    )
    if len(names) <= 1:
        return chrome, hint
    low = _CAMEL.sub("-", names).lower()
    words = set(_WORD_SPLIT.split(low))
    if not chrome and (words & _CHROME_WORDS or any(s in low for s in _CHROME_SUBSTRINGS)):
        # an embedded post or tweet quoted by the article is content, whatever its wrapper
        chrome = "embed" not in low and "tweet" not in low
    if words & _POSITIVE_WORDS or any(w in low for w in ("articlebody", "article-body", "article__body",
                                                           "entry-content", "post-content", "story-body")):
        hint = max(hint, 0.5)
    return chrome, hint


# --------------------------------------------------------------------------- HTML: the page

# How much of the content weight a child must hold for the walk to descend into it.
_DESCEND_SHARE = 0.8
# ... or this share when the child says it is the article (<article>, itemprop=articleBody,
# class "entry-content" …).
_DESCEND_SHARE_HINTED = 0.5
# A chrome element holding at least this share of the page's content weight stays.
_HEAVY_SHARE = 0.5
_LINK_DENSITY_MAX = 0.5


def _clean_html(raw: RawPage) -> Page | IngestError:
    body = _CONTROL.sub("", raw.body)
    ld = _ld_json(body)
    html = _PRESTRIP.sub(" ", body)
    with warnings.catch_warnings():
        # XHTML and feeds are read as HTML on purpose; the warning would only be noise
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(html, "lxml")
    root = soup.body or soup
    w = _Walk()
    head = soup.head
    doc_title = ""
    if head is not None:
        for el in head.find_all(("meta", "title")):
            if el.name == "meta":
                w._meta(el)
            elif not doc_title:
                doc_title = _norm(el.get_text(" "))
    elif soup.title is not None:
        doc_title = _norm(soup.title.get_text(" "))
    w.run(root)
    segs = w.segs
    if not segs:
        return IngestError(raw.source, "empty", "no main text after cleaning")

    n = len(w.tag)
    parent, end = w.parent, w.end
    # 1. content weight of each segment, summed up the element tree
    for s in segs:
        s.weight = _weight(s)
    raw_w = _subtree_sums(n, parent, segs)
    total = sum(s.weight for s in segs)
    # 2. chrome elements go unless they hold most of the content
    dropped = [False] * n
    for i in range(n):
        p = parent[i]
        if p >= 0 and dropped[p]:
            dropped[i] = True
        elif w.chrome[i] and not (total > 0 and raw_w[i] >= _HEAVY_SHARE * total):
            dropped[i] = True
    live = [s for s in segs if not dropped[s.node]] if n else segs
    # 3. the main container
    lo, hi = _container(n, parent, end, w.hint, live)
    content = [s for s in live if lo <= s.node <= hi]

    title = _DANGLING_SEPARATOR.sub("", _title(doc_title, w.meta, ld, segs, dropped))
    title_key = block_key(title)
    byline = ""
    published = ""
    kept: list[_Seg] = []
    for s in content:
        text = s.text
        if s.kind == "heading" and s.level == 1 or block_key(text) == title_key:
            continue
        if len(text) <= 80 and _BYLINE.match(text) and len(text.split()) <= 10:
            byline = byline or _strip_by(text)
            continue
        if len(text) <= 60 and _DATE_LINE.match(text):
            if not published:
                m = _PUBLISHED_LINE.match(text)
                published = _iso_date(m.group(1) if m else text)
            continue
        if len(text) <= 150 and _BOILER_LINE.match(text):
            continue
        kept.append(s)
    kept = _drop_link_lists(kept)
    kept = _trim_edges(kept)
    blocks = _assemble(kept, w.layout_tables)
    if not blocks:
        return IngestError(raw.source, "empty", "no main text after cleaning")
    byline = byline or _meta_byline(w, ld)
    published = published or _meta_published(w, ld)
    return Page(
        page_id=raw.page_id, source=raw.source, url=raw.url, site=raw.site, title=title,
        byline=byline, published=published, blocks=tuple(blocks), sha256=raw.sha256,
        etag=raw.etag, last_modified=raw.last_modified,
    )


def _weight(s: _Seg) -> float:
    """Content weight: long, punctuated, link-poor text weighs most; labels weigh nothing."""
    if s.kind == "heading":
        return 0.0
    n = len(s.text)
    if n < 25:
        return 0.0
    density = s.links / n
    if density > _LINK_DENSITY_MAX:
        return 0.0
    w = n * (1.0 - density) ** 2
    if s.text.endswith(("...", "…", "[…]", "[...]")):
        w *= 0.2  # a teaser cut short, pointing at another page
    elif not _SENTENCE.search(s.text):
        w *= 0.3
    return w


def _subtree_sums(n: int, parent: list[int], segs: Iterable[_Seg]) -> list[float]:
    acc = [0.0] * n
    for s in segs:
        if s.node >= 0:
            acc[s.node] += s.weight
    for i in range(n - 1, 0, -1):
        p = parent[i]
        if p >= 0:
            acc[p] += acc[i]
    return acc


def _container(n: int, parent: list[int], end: list[int], hint: list[float],
               live: list[_Seg]) -> tuple[int, int]:
    """Id range of the element holding nearly all the live content weight."""
    if n == 0:
        return -1, -1
    acc = _subtree_sums(n, parent, live)
    children: dict[int, list[int]] = {}
    for i in range(1, n):
        if acc[i] > 0:
            children.setdefault(parent[i], []).append(i)
    node = 0
    while True:
        kids = children.get(node)
        if not kids:
            break
        best = max(kids, key=acc.__getitem__)
        share = acc[best] / acc[node]
        if best not in children:
            break  # a single paragraph is never the container: its siblings may belong too
        if share >= _DESCEND_SHARE or (hint[best] > 0 and share >= _DESCEND_SHARE_HINTED):
            node = best
        else:
            break
    if acc[node] <= 0:
        return -1, n
    return node, end[node]


def _drop_link_lists(segs: list[_Seg]) -> list[_Seg]:
    """Leave out link lists: whole lists/tables by their joint link density, else single lines."""
    by_group: dict[int, list[int]] = {}
    for s in segs:
        if s.group >= 0 and s.kind in ("list", "table"):
            g = by_group.setdefault(s.group, [0, 0])
            g[0] += len(s.text)
            g[1] += s.links
    out = []
    for s in segs:
        if s.group >= 0 and s.kind in ("list", "table"):
            chars, links = by_group[s.group]
            if links > _LINK_DENSITY_MAX * chars:
                continue
        elif _linky(s):
            continue
        out.append(s)
    return out


def _linky(s: _Seg) -> bool:
    """A line that is (nearly) all link: a menu entry, a "Read more: <headline>" line.

    A sentence with one long link in it keeps enough text of its own to stay.
    """
    n = len(s.text)
    if s.links >= 0.8 * n:
        return True
    return s.links > _LINK_DENSITY_MAX * n and n - s.links < 50


def _units(segs: list[_Seg]) -> list[tuple[int, int]]:
    """Index ranges of consecutive segments of one block element (lines split by <br>)."""
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(segs):
        j = i + 1
        while j < len(segs) and segs[j].node == segs[i].node and segs[j].kind == segs[i].kind:
            j += 1
        out.append((i, j))
        i = j
    return out


def _unit_text(segs: list[_Seg], u: tuple[int, int]) -> str:
    return " ".join(s.text for s in segs[u[0]:u[1]])


def _trim_edges(segs: list[_Seg]) -> list[_Seg]:
    """Short label-like lines before the first and after the last real paragraph go.

    Works on units (all lines of one block element), so a paragraph broken by <br> is
    judged as a whole. A unit is *strong* when it is long and sentence-like; before the
    first strong unit we keep headings and sentence-like or long lines, after the last one
    sentence-like or long lines and lists.
    """
    units = _units(segs)
    texts = [_unit_text(segs, u) for u in units]
    kinds = [segs[u[0]].kind for u in units]
    strong = [
        k for k, t in enumerate(texts)
        if kinds[k] != "heading" and (len(t) >= 80 and _SENTENCE.search(t) or len(t) >= 200)
    ]
    if not strong:
        return segs

    def ok(k: int) -> bool:
        t = texts[k]
        return len(t) >= 100 or (len(t) >= 40 and _SENTENCE.search(t) is not None)

    first, last = strong[0], strong[-1]
    start = first
    while start > 0 and (kinds[start - 1] == "heading" or ok(start - 1)):
        start -= 1
    stop = last + 1
    while stop < len(units) and kinds[stop] != "heading" and (
        ok(stop) or kinds[stop] in ("list", "table", "quote", "pre")
    ):
        stop += 1
    return segs[units[start][0]:units[stop - 1][1]]


def _assemble(segs: list[_Seg], layout_tables: set[int]) -> list[Block]:
    blocks: list[Block] = []
    i = 0
    while i < len(segs):
        s = segs[i]
        if s.kind == "list" and s.group >= 0:
            j = i
            while j < len(segs) and segs[j].kind == "list" and segs[j].group == s.group:
                j += 1
            blocks.append(Block("\n".join(x.text for x in segs[i:j]), "list"))
            i = j
            continue
        if s.kind == "table" and s.group >= 0:
            j = i
            while j < len(segs) and segs[j].kind == "table" and segs[j].group == s.group:
                j += 1
            cells = segs[i:j]
            if s.group in layout_tables or any(len(x.text) > 200 for x in cells):
                blocks.extend(Block(x.text) for x in cells)
            else:
                rows: list[list[str]] = []
                last_row = None
                for x in cells:
                    if x.row != last_row or not rows:
                        rows.append([])
                        last_row = x.row
                    rows[-1].append(x.text)
                blocks.append(Block("\n".join(" | ".join(r) for r in rows), "table"))
            i = j
            continue
        if s.kind == "heading":
            blocks.append(Block(s.text, "heading", s.level))
        elif s.kind in ("quote", "pre"):
            blocks.append(Block(s.text, "quote" if s.kind == "quote" else "pre"))
        else:
            blocks.append(Block(s.text))
        i += 1
    return blocks


# --------------------------------------------------------------------------- HTML: metadata


def _ld_json(html: str) -> dict[str, str]:
    """headline, author and datePublished from JSON-LD blocks, when present."""
    found: dict[str, str] = {}
    for m in _LD_JSON.finditer(html[:2_000_000]):
        try:
            data = json.loads(m.group(1).strip())
        except (ValueError, RecursionError):
            continue
        stack = [data]
        steps = 0
        while stack and steps < 2000:
            steps += 1
            d = stack.pop()
            if isinstance(d, list):
                stack.extend(d)
                continue
            if not isinstance(d, dict):
                continue
            for key in ("headline", "datePublished"):
                v = d.get(key)
                if isinstance(v, str) and v.strip():
                    found.setdefault(key, v.strip())
            a = d.get("author")
            if a and "author" not in found:
                names = []
                for x in a if isinstance(a, list) else [a]:
                    if isinstance(x, dict) and isinstance(x.get("name"), str):
                        names.append(x["name"].strip())
                    elif isinstance(x, str):
                        names.append(x.strip())
                if names:
                    found["author"] = ", ".join(n for n in names if n)
            stack.extend(v for v in d.values() if isinstance(v, (dict, list)))
    return found


def _split_title(text: str, site_keys: set[str]) -> str:
    """The article part of a "Site - Article" / "Article | Site" compound."""
    text = _DANGLING_SEPARATOR.sub("", text)
    parts = [p for p in _TITLE_SEPARATORS.split(text) if _has_words(p)]
    if len(parts) <= 1:
        return text
    rest = [p for p in parts if block_key(p) not in site_keys and not any(
        k and (k in block_key(p).replace(" ", "") or block_key(p).replace(" ", "") in k)
        for k in site_keys if len(k) > 3)]
    if not rest:
        rest = parts
    return max(rest, key=lambda p: len(p.split()))


def _title(doc_title: str, meta: dict[str, str], ld: dict[str, str], segs: list[_Seg],
           dropped: list[bool]) -> str:
    site = meta.get("og:site_name") or meta.get("application-name") or ""
    site_keys = {block_key(site), block_key(site).replace(" ", "")} - {""}
    og = meta.get("og:title") or meta.get("twitter:title") or ld.get("headline", "")
    h1s = [s.text for s in segs if s.kind == "heading" and s.level == 1][:5]
    tkey, okey = block_key(doc_title), block_key(og)
    for h in h1s:
        k = block_key(h)
        if k and (k in tkey or k in okey) and k not in site_keys:
            return h
    if og:
        return _split_title(_norm(og), site_keys)
    live_h1 = [s.text for s in segs if s.kind == "heading" and s.level == 1 and not dropped[s.node]]
    if doc_title:
        split = _split_title(doc_title, site_keys)
        if split != doc_title or not live_h1:
            return split
    if live_h1:
        return live_h1[0]
    return doc_title


def _meta_byline(w: _Walk, ld: dict[str, str]) -> str:
    if w.authors:
        return _strip_by(w.authors[0])
    for key in _META_AUTHOR:
        v = w.meta.get(key)
        if v and not v.startswith("http"):
            return _strip_by(v)
    return _strip_by(ld.get("author", ""))


def _meta_published(w: _Walk, ld: dict[str, str]) -> str:
    candidates = [w.meta.get(key, "") for key in _META_PUBLISHED]
    candidates += [w.meta.get("itemprop:datepublished", ""), ld.get("datePublished", "")]
    candidates += w.times[:3]
    for v in candidates:
        if v and _PLAUSIBLE_YEAR.search(v):  # skip placeholders such as 0001-01-01
            return _iso_date(v)
    return ""


_PLAUSIBLE_YEAR = re.compile(r"(?<!\d)(?:19[5-9]\d|2\d\d\d)(?!\d)")
