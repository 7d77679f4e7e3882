"""Title, byline and publication date: from visible lines, <meta>, JSON-LD and <time>.

Visible lines win over markup (they are what the reader sees); markup fills the gaps.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

from .rules import block_key, has_words, norm, rules
from .walk import Seg, Walk

_DATE_WORDS = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
DATE_LINE = re.compile(
    r"^(?:(?:published|updated|posted|last\s+updated|modified|date)(?:\s+on)?\s*:?\s*)?"
    r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+)?"
    r"(?:\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|" + _DATE_WORDS + r"\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}"
    r"|\d{1,2}(?:st|nd|rd|th)?\s+" + _DATE_WORDS + r",?\s+\d{4})"
    r"(?:,?\s*(?:at\s+)?\d{1,2}[:.]\d{2}(?:\s*[ap]\.?m\.?)?(?:\s*[a-z]{2,4})?)?\.?$",
    re.I,
)
PUBLISHED_LINE = re.compile(r"^(?:published|posted|date)(?:\s+on)?\s*:?\s*(.+)$", re.I)
DANGLING_SEPARATOR = re.compile(r"^\s*(?:[|\-–—:·•»«/]|::)\s*|\s*(?:[|\-–—:·•»«/]|::)\s*$")
_TITLE_SEPARATORS = re.compile(r"\s+(?:[|\-–—:·•»«/]|::)\s+")
_LD_JSON = re.compile(
    r"<script[^>]*type\s*=\s*[\"']?application/ld\+json[\"']?[^>]*>(.*?)</script\s*>",
    re.S | re.I,
)
_PLAUSIBLE_YEAR = re.compile(r"(?<!\d)(?:19[5-9]\d|2\d\d\d)(?!\d)")
_DATE_FORMATS = ("%B %d %Y", "%b %d %Y", "%d %B %Y", "%d %b %Y", "%A %B %d %Y", "%a %b %d %Y",
                 "%A %d %B %Y", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d", "%B %Y")


def strip_by(byline: str) -> str:
    return rules().byline.sub("", byline).strip() if byline else ""


def iso_date(text: str) -> str:
    """An ISO form of a date string when one of the common shapes parses; else as given."""
    s = text.strip()
    if re.match(r"^\d{4}-\d{2}-\d{2}", s):
        return s
    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", s.replace(",", " "))
    cleaned = re.sub(r"\s+(at\s+)?\d{1,2}[:.]\d{2}.*$", "", cleaned, flags=re.I)
    cleaned = " ".join(cleaned.replace(".", " ").split()) if not re.match(r"^\d+\.\d+\.\d+$", cleaned) else cleaned
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date().isoformat()
        except ValueError:
            continue
    return s


def ld_json(html: str) -> dict[str, str]:
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
    text = DANGLING_SEPARATOR.sub("", text)
    parts = [p for p in _TITLE_SEPARATORS.split(text) if has_words(p)]
    if len(parts) <= 1:
        return text
    rest = [p for p in parts if block_key(p) not in site_keys and not any(
        k and (k in block_key(p).replace(" ", "") or block_key(p).replace(" ", "") in k)
        for k in site_keys if len(k) > 3)]
    if not rest:
        rest = parts
    return max(rest, key=lambda p: len(p.split()))


def title(doc_title: str, meta: dict[str, str], ld: dict[str, str], segs: list[Seg],
          dropped: list[bool]) -> str:
    """The article title: an <h1> the <title>/og:title agrees with, else their article part."""
    site = meta.get("og:site_name") or meta.get("application-name") or ""
    site_keys = {block_key(site), block_key(site).replace(" ", "")} - {""}
    og = meta.get("og:title") or meta.get("twitter:title") or ld.get("headline", "")
    h1s = [s.text for s in segs if s.kind == "heading" and s.level == 1][:5]
    tkey, okey = block_key(doc_title), block_key(og)
    for h in h1s:
        k = block_key(h)
        if k and (k in tkey or k in okey) and k not in site_keys:
            return DANGLING_SEPARATOR.sub("", h)
    if og:
        return DANGLING_SEPARATOR.sub("", _split_title(norm(og), site_keys))
    live_h1 = [s.text for s in segs if s.kind == "heading" and s.level == 1 and not dropped[s.node]]
    if doc_title:
        split = _split_title(doc_title, site_keys)
        if split != doc_title or not live_h1:
            return DANGLING_SEPARATOR.sub("", split)
    if live_h1:
        return DANGLING_SEPARATOR.sub("", live_h1[0])
    return DANGLING_SEPARATOR.sub("", doc_title)


def meta_byline(w: Walk, ld: dict[str, str]) -> str:
    if w.authors:
        return strip_by(w.authors[0])
    for key in rules().meta_author:
        v = w.meta.get(key)
        if v and not v.startswith("http"):
            return strip_by(v)
    return strip_by(ld.get("author", ""))


def meta_published(w: Walk, ld: dict[str, str]) -> str:
    candidates = [w.meta.get(key, "") for key in rules().meta_published]
    candidates += [w.meta.get("itemprop:datepublished", ""), ld.get("datePublished", "")]
    candidates += w.times[:3]
    for v in candidates:
        if v and _PLAUSIBLE_YEAR.search(v):  # skip placeholders such as 0001-01-01
            return iso_date(v)
    return ""
