"""Plain-text dumps (``kind == "text"``): lines instead of markup.

The "By <name>" line near the top gives the byline, the line before it the title, and
everything above is site chrome. Without a byline, the run of short label-like lines
before the first sentence-like line is chrome and its last line the title.
"""

from __future__ import annotations

import re

from ..model import Block, IngestError, Page, RawPage
from .metadata import DATE_LINE, PUBLISHED_LINE, iso_date, strip_by
from .rules import SENTENCE, block_key, has_words, norm, rules

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
END_PUNCT = re.compile(r"[.!?…:;\"”’)]\s*$")


def clean_text(raw: RawPage) -> Page | IngestError:
    """Title, byline, date and paragraphs of a plain-text dump."""
    byline_re = rules().byline
    lines = [norm(ln) for ln in CONTROL.sub("", raw.body).splitlines()]
    byline, by_at = "", -1
    for i, ln in enumerate(lines[:200]):
        if byline_re.match(ln) and len(ln) <= 80 and len(ln.split()) <= 8:
            byline, by_at = ln, i
            break
    title, body_from = raw.title.strip(), 0
    title_from_body = False
    if by_at >= 0:
        j = by_at - 1
        while j >= 0 and not has_words(lines[j]):
            j -= 1
        if j >= 0 and not title:
            title = lines[j]
        body_from = by_at + 1
    else:
        first_prose = next(
            (i for i, ln in enumerate(lines) if len(ln) >= 80 or SENTENCE.search(ln)), 0
        )
        labels = [ln for ln in lines[:first_prose] if has_words(ln)]
        if not title and labels:
            title = labels[-1]
        elif not title:
            # no label line: name the page after its opening words, which stay body text
            # (even when they are the whole page: a one-line answer is content)
            words = next((ln for ln in lines if has_words(ln)), "").split()
            title = " ".join(words[:12]) + ("…" if len(words) > 12 else "")
            title_from_body = True
        body_from = first_prose
    title_key = "" if title_from_body else block_key(title)
    blocks: list[Block] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            text = " ".join(para)
            if has_words(text):
                blocks.append(Block(text))
            para.clear()

    published = ""
    for ln in lines[body_from:]:
        if not has_words(ln):
            flush()
            continue
        if not blocks and not para:
            if block_key(ln) == title_key:
                continue
            m = PUBLISHED_LINE.match(ln)
            if m and DATE_LINE.match(ln):
                published = published or iso_date(m.group(1))
                continue
        # hard-wrapped prose continues a paragraph; otherwise each line is one
        if para and not END_PUNCT.search(para[-1]) and ln[:1].islower():
            para.append(ln)
        else:
            flush()
            para.append(ln)
    flush()
    if not blocks:
        return IngestError(raw.source, "empty", "no main text after cleaning")
    return Page(
        page_id=raw.page_id, source=raw.source, url=raw.url, site=raw.site, title=title,
        byline=strip_by(byline), published=published, blocks=tuple(blocks), sha256=raw.sha256,
        etag=raw.etag, last_modified=raw.last_modified,
    )
