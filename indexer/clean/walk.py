"""The HTML walk: one iterative pass over the soup that numbers the elements and cuts the
page into segments (runs of inline text inside one block element).

Iterative, not recursive, so 10,000 nested divs are fine. Elements are numbered in
document order, so the subtree of element ``i`` is the id range ``i .. end[i]``. The tree is
lxml's own (no BeautifulSoup layer on top): building bs4's tree cost more than all the rest
of the cleaning together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, NamedTuple

from lxml import etree

from .rules import Rules, has_words, norm, rules

_WORD_SPLIT = re.compile(r"[\s_\-]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


@dataclass
class Seg:
    """A run of inline text inside one block element."""

    node: int  # owner element (innermost block element)
    text: str
    links: int  # characters of text inside <a>
    kind: str  # heading | paragraph | list | table | quote | pre
    level: int
    group: int  # list or table root element (-1: none)
    row: int  # table row element (-1: none)
    weight: float = 0.0


class Ctx(NamedTuple):
    """Where the walk is: one frame per open element."""

    owner: int  # innermost block element: the owner of the text read now
    kind: str  # segment kind text here gets
    level: int  # heading level
    group: int  # the list or table the text belongs to (-1: none)
    row: int  # table row (-1: none)
    in_link: bool
    in_pre: bool
    cell_table: int  # the table whose cell we are in (-1: none)
    inline: bool  # the frame is an inline element's (its end does not cut a segment)
    elem: int  # the element of this frame


# an element's attributes: lxml's attrib, or any str mapping (tests)
Attrs = Mapping[str, str]

_ROOT = Ctx(-1, "paragraph", 0, -1, -1, False, False, -1, False, -1)


class Walk:
    """One pass over the soup: element table (parent, tag, flags) and the text segments."""

    def __init__(self) -> None:
        self.parent: list[int] = []
        self.tag: list[str] = []
        self.chrome: list[bool] = []
        self.hint: list[float] = []
        self.end: list[int] = []
        self.segs: list[Seg] = []
        self.layout_tables: set[int] = set()
        self.meta: dict[str, str] = {}
        self.times: list[str] = []
        self.authors: list[str] = []
        self._parts: list[str] = []
        self._links = 0
        self._rules = rules()
        self.deepest = 0  # most elements open at once

    def run(self, root: etree._Element) -> None:
        r = self._rules
        parent, tagl, chrome, hint, end = self.parent, self.tag, self.chrome, self.hint, self.end
        ctxs: list[Ctx] = [_ROOT]
        # items: an element to open, an int (the end of element `item`), or a str of text
        work: list = [root]
        parts = self._parts
        skip, caption, inline_tags, table_parts = r.skip_tags, r.caption_tags, r.inline_tags, r.table_parts
        while work:
            item = work.pop()
            t = type(item)
            if t is str:
                parts.append(item)
                if ctxs[-1].in_link:
                    self._links += len(norm(item))
                continue
            if t is int:  # end marker of element `item`
                c = ctxs.pop()
                end[item] = len(tagl) - 1
                if not c.inline:
                    self._flush(c)
                continue
            name = item.tag
            if type(name) is not str:
                continue  # comments, processing instructions, entities
            name = name.lower()
            if name in skip:
                if name == "meta":
                    self.read_meta(item)
                continue
            attrs = item.attrib
            if attrs and _hidden(attrs):
                continue
            c = ctxs[-1]
            if name == "br" or name == "hr":
                self._flush(c)
                continue
            if name in caption:
                continue
            if attrs:
                if name == "time" and "datetime" in attrs:
                    self.times.append(str(attrs["datetime"]))
                if "rel" in attrs or "itemprop" in attrs or "class" in attrs:
                    self._author(item, attrs)
            nid = len(tagl)
            if name in inline_tags:
                if attrs and classify(name, attrs, r)[0]:
                    continue  # a share link, a byline span, an ad label
                if name != "a" and len(item) and parts and _link_cluster(item, r):
                    # a hover card or link list tucked inside running text; the link it
                    # opens with (the name the card is about) is part of the sentence
                    lead = item[0]
                    if lead.tag == "a" and not (item.text or "").strip():
                        work.append(lead)
                    continue
                parent.append(c.elem)
                tagl.append(name)
                chrome.append(False)
                hint.append(0.0)
                end.append(nid)
                ctxs.append(Ctx(c.owner, c.kind, c.level, c.group, c.row, c.in_link or name == "a",
                                c.in_pre, c.cell_table, True, nid))
                if len(ctxs) > self.deepest:
                    self.deepest = len(ctxs)
                _push_children(work, item, nid)
                continue
            # a block element: the text before it is one segment, its own text another
            self._flush(c)
            parent.append(c.elem)
            tagl.append(name)
            is_chrome, h = classify(name, attrs, r)
            chrome.append(is_chrome)
            hint.append(h)
            end.append(nid)
            kind, level, group, row, pre, cell_table = c.kind, c.level, c.group, c.row, c.in_pre, c.cell_table
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
            elif cell_table >= 0 and name not in table_parts:
                self.layout_tables.add(cell_table)
            ctxs.append(Ctx(nid, kind, level, group, row, c.in_link, pre, cell_table, False, nid))
            if len(ctxs) > self.deepest:
                self.deepest = len(ctxs)
            _push_children(work, item, nid)
        self._flush(ctxs[0])

    def _flush(self, c: Ctx) -> None:
        parts = self._parts
        if not parts:
            return
        raw = "".join(parts)
        parts.clear()
        links, self._links = self._links, 0
        if c.in_pre:  # keep the lines
            text = "\n".join(norm(ln) for ln in raw.strip("\n").split("\n"))
        else:
            text = norm(raw)
        if not text or not has_words(text):
            return
        self.segs.append(Seg(c.owner, text, min(links, len(text)), c.kind, c.level, c.group, c.row))

    def read_meta(self, el: etree._Element) -> None:
        """Record a <meta> element's name (or property) and content."""
        a = el.attrib
        key = a.get("property") or a.get("name") or a.get("itemprop")
        val = a.get("content")
        if key and val:
            self.meta.setdefault(key.strip().lower(), val.strip())

    def _author(self, el: etree._Element, attrs: Attrs) -> None:
        rel = attrs.get("rel") or ""
        prop = attrs.get("itemprop") or ""
        cls = attrs.get("class") or ""
        marked = bool(cls) and any(w in self._rules.author_words for w in _WORD_SPLIT.split(cls.lower()))
        if marked or "author" in rel.split() or "author" in prop.split():
            text = norm(" ".join(el.itertext()))
            if text and len(text) <= 100:
                self.authors.append(text)
        if "datePublished" in prop.split():
            val = attrs.get("content") or attrs.get("datetime") or norm(" ".join(el.itertext()))
            if val:
                self.meta.setdefault("itemprop:datepublished", str(val))


def _push_children(work: list, el: etree._Element, nid: int) -> None:
    """Queue an element's content so it pops in document order: its text, then each child
    followed by the child's tail, then the end marker."""
    work.append(nid)
    for child in reversed(el):
        tail = child.tail
        if tail:
            work.append(tail)
        work.append(child)
    if el.text:
        work.append(el.text)


def _link_cluster(el: etree._Element, r: Rules) -> bool:
    """An inline element that is nothing but several links (a person's hover card, a list of
    their stories): inside a sentence it is no part of the sentence.

    Only inline elements with children are asked, and only once text has started in their
    block, so the cost stays with the few spans that wrap links."""
    links = [a for a in el.iter("a") if a is not el]
    if len(links) < r.cluster_min_links:
        return False
    total = len(norm("".join(el.itertext())))
    if total < r.cluster_min_chars:
        return False
    inside = sum(len(norm("".join(a.itertext()))) for a in links)
    return inside >= r.cluster_link_share * total


def _hidden(attrs: Attrs) -> bool:
    if "hidden" in attrs:
        return True
    if attrs.get("aria-hidden") == "true":
        return True
    style = attrs.get("style")
    return style is not None and _HIDDEN_STYLE.search(style) is not None


def classify(name: str, attrs: Attrs, r: Rules) -> tuple[bool, float]:
    """(is chrome, positive hint) from tag, role, class and id."""
    chrome = name in r.chrome_tags
    hint = 0.0
    if name in ("article", "main"):
        hint = 1.0
    if not attrs:
        return chrome, hint
    role = attrs.get("role")
    if role:
        role = role.lower()
        if role in r.chrome_roles:
            chrome = True
        elif role in r.main_roles:
            hint = 1.0
    prop = attrs.get("itemprop")
    if prop and ("articleBody" in prop or "text" == prop):
        hint = 2.0
    names = (attrs.get("class") or "") + " " + (attrs.get("id") or "")
    if len(names) <= 1:
        return chrome, hint
    low = _CAMEL.sub("-", names).lower()
    words = set(_WORD_SPLIT.split(low))
    if not chrome and (words & r.chrome_words or any(s in low for s in r.chrome_substrings)):
        # an embedded post or tweet quoted by the article is content, whatever its wrapper
        chrome = not any(s in low for s in r.embed_substrings)
    if words & r.positive_words or any(w in low for w in r.positive_substrings):
        hint = max(hint, 0.5)
    return chrome, hint
