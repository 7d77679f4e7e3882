"""What the scripts share: the project on the import path, one percentile, index reads,
and the extraction benchmark's tokens, shingles and dev pages.

Every script starts with

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import ROOT, ...  # noqa: E402

so each imports the project the same way, from this checkout, installed or not.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, NamedTuple, Sequence
from urllib.parse import urlparse

if TYPE_CHECKING:
    from indexer.model import RawPage

ROOT = Path(__file__).resolve().parents[1]
for _p in (ROOT, ROOT / "scripts"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

__all__ = ["ROOT", "SHINGLE", "DevPage", "dev_pages", "html_raw_page", "passages_of", "percentile", "shingles",
           "spell_words", "tokens"]


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0–100) of the values, nearest rank; nan when there are none."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, round(p / 100 * (len(s) - 1))))
    return s[k]


def passages_of(index: Any) -> list[tuple[str, str, str]]:
    """(passage id, title, text) of every passage of an open `indexer.Index`."""
    with index.lock:
        reader = index.generation.reader
        return [(f["passage_id"], f.get("title", ""), f.get("text", "")) for _, f in reader.iter_docs()]


def spell_words(index: Any) -> list[tuple[str, int]]:
    """(surface word, passages with it) for every word of an open `indexer.Index`, sorted."""
    with index.lock:
        reader = index.generation.reader
        out = []
        for word, info in reader.iter_field("spell"):
            out.append((word.decode() if isinstance(word, bytes) else word, info.doc_frequency()))
    return sorted(out)


# The extraction benchmark's metric (../shared/data/extraction-dev/SOURCE.md): word tokens
# with case kept, 4-token shingles, a text of fewer tokens is one shingle.
_TOKEN = re.compile(r"\w+")
SHINGLE = 4


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def shingles(toks: Sequence[str], n: int = SHINGLE) -> Counter:
    """The multiset of n-token shingles of a token list (one shingle when it is shorter)."""
    if len(toks) < n:
        return Counter([tuple(toks)]) if toks else Counter()
    return Counter(tuple(toks[i : i + n]) for i in range(len(toks) - n + 1))


class DevPage(NamedTuple):
    """One page of an extraction dev folder with its gold text."""

    page_id: str
    path: Path
    url: str
    html: str
    truth: str


def dev_pages(folder: Path, limit: int | None = None) -> Iterator[DevPage]:
    """The pages of a folder laid out as html/<id>.html.gz plus ground-truth.json, by id."""
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf8"))
    n = 0
    for path in sorted((folder / "html").glob("*.html.gz")):
        page_id = path.name.split(".")[0]
        if page_id not in truth:
            continue
        with gzip.open(path, "rt", encoding="utf8") as fh:
            html = fh.read()
        yield DevPage(page_id, path, truth[page_id].get("url", ""), html, truth[page_id]["articleBody"])
        n += 1
        if limit and n >= limit:
            return


def html_raw_page(page_id: str, path: Path, url: str, html: str) -> RawPage:
    """The page as the cleaner gets it (imported late: most scripts never need it)."""
    from indexer.model import RawPage

    return RawPage(page_id=page_id, source=str(path), url=url, site=urlparse(url).netloc or "unknown",
                   kind="html", body=html, encoding="utf-8",
                   sha256=hashlib.sha256(html.encode("utf8", "surrogatepass")).hexdigest())
