"""The cleaner's tuning data (data/clean_rules.toml), loaded once into a frozen `Rules`.

Vocabularies, boilerplate patterns and thresholds are data, not code, so they can be
refitted and reviewed apart from the walk that uses them. Small text helpers shared by
every module of the package live here too, since all of them depend on nothing else.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

RULES_FILE = Path(__file__).resolve().parent.parent / "data" / "clean_rules.toml"

_WORD = re.compile(r"\w+")
_KEY_EDGE = re.compile(r"^[\W_]+|[\W_]+$")
# the end of a sentence: what tells prose from labels
SENTENCE = re.compile(r"[.!?]['\"”’)]?(\s|$)")


@dataclass(frozen=True)
class Rules:
    skip_tags: frozenset[str]
    inline_tags: frozenset[str]
    chrome_tags: frozenset[str]
    caption_tags: frozenset[str]
    table_parts: frozenset[str]
    chrome_roles: frozenset[str]
    main_roles: frozenset[str]
    chrome_words: frozenset[str]
    chrome_substrings: tuple[str, ...]
    embed_substrings: tuple[str, ...]
    positive_words: frozenset[str]
    positive_substrings: tuple[str, ...]
    author_words: frozenset[str]
    boilerplate: re.Pattern[str]
    byline: re.Pattern[str]
    meta_published: tuple[str, ...]
    meta_author: tuple[str, ...]
    descend_share: float
    descend_share_hinted: float
    heavy_share: float
    link_density_max: float
    cluster_min_links: int
    cluster_min_chars: int
    cluster_link_share: float
    template_min_pages: int
    template_min_share: float
    function_words: frozenset[str]
    call_to_action: re.Pattern[str]  # at the start of a block or of one of its sentences


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def parse_rules(data: dict) -> Rules:
    """A `Rules` from the parsed TOML table (separate from loading, so tests can vary it)."""
    tags, roles, classes, lines, meta, th = (
        data["tags"], data["roles"], data["classes"], data["lines"], data["meta"], data["thresholds"])
    return Rules(
        skip_tags=_words(tags["skip"]),
        inline_tags=_words(tags["inline"]),
        chrome_tags=_words(tags["chrome"]),
        caption_tags=_words(tags["caption"]),
        table_parts=_words(tags["table_parts"]),
        chrome_roles=_words(roles["chrome"]),
        main_roles=_words(roles["main"]),
        chrome_words=_words(classes["chrome_words"]),
        chrome_substrings=tuple(classes["chrome_substrings"]),
        embed_substrings=tuple(classes["embed_substrings"]),
        positive_words=_words(classes["positive_words"]),
        positive_substrings=tuple(classes["positive_substrings"]),
        author_words=frozenset(classes["author_words"]),
        boilerplate=re.compile("^(?:" + "|".join(lines["boilerplate"]) + ")$", re.I),
        byline=re.compile(lines["byline"], re.I),
        meta_published=tuple(meta["published"]),
        meta_author=tuple(meta["author"]),
        descend_share=float(th["descend_share"]),
        descend_share_hinted=float(th["descend_share_hinted"]),
        heavy_share=float(th["heavy_share"]),
        link_density_max=float(th["link_density_max"]),
        cluster_min_links=int(th["cluster_min_links"]),
        cluster_min_chars=int(th["cluster_min_chars"]),
        cluster_link_share=float(th["cluster_link_share"]),
        template_min_pages=int(th["template_min_pages"]),
        template_min_share=float(th["template_min_share"]),
        function_words=_words(data["features"]["function_words"]),
        call_to_action=re.compile(
            r"(?:^|(?<=[.!?] ))(?:" + "|".join(re.escape(c) for c in data["features"]["call_to_action"]) + r")\b", re.I),
    )


@lru_cache(maxsize=1)
def rules() -> Rules:
    """The packaged rules, read once per process."""
    with RULES_FILE.open("rb") as fh:
        return parse_rules(tomllib.load(fh))


def norm(text: str) -> str:
    """White space collapsed to single spaces."""
    return " ".join(text.split())


def has_words(text: str) -> bool:
    return _WORD.search(text) is not None


def block_key(text: str) -> str:
    """Normalised key of a block or line: casefolded, whitespace collapsed, no end punctuation."""
    return _KEY_EDGE.sub("", " ".join(text.replace("\xa0", " ").split()).casefold())
