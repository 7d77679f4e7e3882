"""The one analyzer chain: tokenize → lowercase → spelling → stop words → stem.

The index, query parsing and vocabulary matching all use it, so "stretches",
"Stretching" and "stretch" meet on one term wherever they occur.
"""

from __future__ import annotations

import re
from functools import lru_cache

from whoosh.analysis import (
    Analyzer,
    Filter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
)

from .fields import DATA_DIR

# Letters and digits; underscores, hyphens and apostrophes split words, so
# "trigger-point" and "trigger point" give the same terms.
TOKEN_PATTERN = re.compile(r"[^\W_]+(?:[.,][0-9]+)*", re.UNICODE)




def _data_lines(name: str) -> list[str]:
    text = (DATA_DIR / name).read_text(encoding="utf-8")
    return [ln for ln in (line.split("#", 1)[0].strip() for line in text.splitlines()) if ln]


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    return frozenset(w for line in _data_lines("stopwords.txt") for w in line.split())


@lru_cache(maxsize=1)
def spelling_map() -> dict[str, str]:
    pairs = (line.split() for line in _data_lines("spelling.txt"))
    return {p[0]: p[1] for p in pairs if len(p) == 2}


class SpellingFilter(Filter):
    """Folds British spellings (and curly apostrophes' leftovers) onto one form."""

    def __init__(self, mapping: dict[str, str]):
        self.mapping = mapping

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SpellingFilter) and other.mapping == self.mapping

    def __call__(self, tokens):
        mapping = self.mapping
        for t in tokens:
            t.text = mapping.get(t.text, t.text)
            yield t


# No word is longer; longer runs are junk (base64, hostile pages) and stemming them is slow.
MAX_TOKEN_CHARS = 64


def make_analyzer(stop: bool = True) -> Analyzer:
    chain = RegexTokenizer(TOKEN_PATTERN) | LowercaseFilter() | SpellingFilter(spelling_map())
    chain = chain | StopFilter(stoplist=stop_words() if stop else (), minsize=1, maxsize=MAX_TOKEN_CHARS)
    # Snowball English (Porter2), Whoosh's own copy. Measured on NFCorpus dev against
    # Whoosh's original Porter stemmer and NLTK's SnowballStemmer("english"): NLTK gives
    # the same stem for every one of the collection's 25,584 words (so the same ranking,
    # with no speed gain); Porter trades about +0.005 nDCG@10 on short titles for -0.004
    # to -0.008 on video descriptions and lower recall on both, so Snowball stays.
    return chain | StemFilter(lang="en", cachesize=50000)


@lru_cache(maxsize=2)
def analyzer(stop: bool = True) -> Analyzer:
    return make_analyzer(stop)


def terms(text: str, stop: bool = False) -> list[str]:
    """Normalised terms of a text, in order; for vocabulary and claim matching."""
    return [t.text for t in analyzer(stop)(text)]


def terms_with_spans(text: str) -> list[tuple[str, int, int]]:
    """Terms (stop words kept) with their character spans in the text."""
    return [(t.text, t.startchar, t.endchar) for t in analyzer(False)(text, chars=True)]
