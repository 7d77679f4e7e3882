"""Content scoring and assembly: which segments are the article, and how they become blocks.

Works on plain lists (segments, parent ids) built by the walk, never on the soup.
"""

from __future__ import annotations

from typing import Iterable

from ..model import Block
from .rules import SENTENCE, Rules
from .walk import Seg


def weight(s: Seg, r: Rules) -> float:
    """Content weight: long, punctuated, link-poor text weighs most; labels weigh nothing."""
    if s.kind == "heading":
        return 0.0
    n = len(s.text)
    if n < 25:
        return 0.0
    density = s.links / n
    if density > r.link_density_max:
        return 0.0
    w = n * (1.0 - density) ** 2
    if s.text.endswith(("...", "…", "[…]", "[...]")):
        w *= 0.2  # a teaser cut short, pointing at another page
    elif not SENTENCE.search(s.text):
        w *= 0.3
    return w


def subtree_sums(n: int, parent: list[int], segs: Iterable[Seg]) -> list[float]:
    """Per element, the weight of the segments inside it."""
    acc = [0.0] * n
    for s in segs:
        if s.node >= 0:
            acc[s.node] += s.weight
    for i in range(n - 1, 0, -1):
        p = parent[i]
        if p >= 0:
            acc[p] += acc[i]
    return acc


def container(n: int, parent: list[int], end: list[int], hint: list[float],
              live: list[Seg], r: Rules) -> tuple[int, int]:
    """Id range of the element holding nearly all the live content weight."""
    if n == 0:
        return -1, -1
    acc = subtree_sums(n, parent, live)
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
        if share >= r.descend_share or (hint[best] > 0 and share >= r.descend_share_hinted):
            node = best
        else:
            break
    if acc[node] <= 0:
        return -1, n
    return node, end[node]


def drop_link_lists(segs: list[Seg], r: Rules) -> list[Seg]:
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
            if links > r.link_density_max * chars:
                continue
        elif linky(s, r):
            continue
        out.append(s)
    return out


def linky(s: Seg, r: Rules) -> bool:
    """A line that is (nearly) all link: a menu entry, a "Read more: <headline>" line.

    A sentence with one long link in it keeps enough text of its own to stay.
    """
    n = len(s.text)
    if s.links >= 0.8 * n:
        return True
    return s.links > r.link_density_max * n and n - s.links < 50


def units(segs: list[Seg]) -> list[tuple[int, int]]:
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


def trim_edges(segs: list[Seg]) -> list[Seg]:
    """Short label-like lines before the first and after the last real paragraph go.

    Works on units (all lines of one block element), so a paragraph broken by <br> is
    judged as a whole. A unit is *strong* when it is long and sentence-like; before the
    first strong unit we keep headings and sentence-like or long lines, after the last one
    sentence-like or long lines and lists.
    """
    us = units(segs)
    texts = [" ".join(s.text for s in segs[a:b]) for a, b in us]
    kinds = [segs[u[0]].kind for u in us]
    strong = [
        k for k, t in enumerate(texts)
        if kinds[k] != "heading" and (len(t) >= 80 and SENTENCE.search(t) or len(t) >= 200)
    ]
    if not strong:
        return segs

    def ok(k: int) -> bool:
        t = texts[k]
        return len(t) >= 100 or (len(t) >= 40 and SENTENCE.search(t) is not None)

    first, last = strong[0], strong[-1]
    start = first
    while start > 0 and (kinds[start - 1] == "heading" or ok(start - 1)):
        start -= 1
    stop = last + 1
    while stop < len(us) and kinds[stop] != "heading" and (
        ok(stop) or kinds[stop] in ("list", "table", "quote", "pre")
    ):
        stop += 1
    return segs[us[start][0]:us[stop - 1][1]]


def assemble(segs: list[Seg], layout_tables: set[int]) -> list[Block]:
    """Blocks from kept segments: one per list and data table, one per other segment."""
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
