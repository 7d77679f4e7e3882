"""Per-site layer: text repeated across many pages of one site is template the page layer missed.

A line counts as template when it occurs on at least ``template_min_pages`` pages of the
site *and* on at least ``template_min_share`` of them: three pages rule out a coincidence
between two articles (a shared quote, a syndicated copy), the share keeps a phrase that a
few of many articles happen to share. Section menus shown on about half of a site's pages
are still caught.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Sequence

from ..model import Block, Page
from .rules import block_key, has_words, rules


def learn_site_template(pages: Sequence[Page]) -> frozenset[str]:
    """Keys of blocks (and of single lines of list blocks) repeated on many pages of a site."""
    r = rules()
    if len(pages) < r.template_min_pages:
        return frozenset()
    df: Counter[str] = Counter()
    for page in pages:
        df.update(_page_keys(page))
    need = max(r.template_min_pages, r.template_min_share * len(pages))
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
            if not any(has_words(ln) for ln in lines):
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
