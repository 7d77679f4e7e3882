"""One opened state of the shards, as the `Index` facade reads it, and its caches.

`XapianGeneration` is the Xapian side of `search.generation.Generation`: the same reads
(stored fields by passage id, postings of a tag value, the values of a facet, spelling,
feedback statistics, stats), answered from the shards opened as one database. Passage ids
are Xapian's document ids of that combined database. The spelling lexicon is read by the
front end from the shards' `spell` terms (Xapian serves no spelling over remote) and kept
for the generation. `reopen()` moves the database to the newest commit of every shard,
and only to a state where every shard holds the same index generation (one rebuild), so a
search never merges an old shard's passages with a rebuilt shard's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

from ..config import Settings
from ..fields import FACETS
from ..search.cache import Bounded
from ..search.engine import Unsupported
from ..search.generation import Generation
from ..search.ranking import Ranking
from ..search.snippets import Analyzed
from ..store import IndexMissing
from . import load
from .documents import FIELD_PREFIX, NORMS_KEY, PAGE_SLOT, Norms, facet_term, idf_scale, key_term, term
from .shards import SWAP_WAIT_S, agreed_generation, open_shards, read_layout
from .translate import Translator
from .writer import LAST_INGEST

__all__ = ["XapianGeneration"]


def _text(b: Any) -> str:
    return b.decode("utf-8") if isinstance(b, bytes) else str(b)


class _Lexicon:
    """The few reads of a Whoosh reader that spelling, feedback and the claims report make."""

    def __init__(self, gen: "XapianGeneration"):
        self.gen = gen

    def lexicon(self, field: str) -> Iterator[str]:
        yield from self.gen.frequencies(field)

    def doc_frequency(self, field: str, text: str) -> int:
        if field in ("spell", "text"):
            return self.gen.frequencies(field).get(_text(text), 0)
        return int(self.gen.db.get_termfreq(term(field, _text(text))))

    def doc_count_all(self) -> int:
        return int(self.gen.db.get_doccount())

    def doc_count(self) -> int:
        return int(self.gen.db.get_doccount())

    def iter_docs(self) -> Iterator[tuple[int, dict[str, Any]]]:
        db = self.gen.db
        for item in db.postlist(""):
            yield item.docid, json.loads(db.get_document(item.docid).get_data() or b"{}")


class XapianGeneration(Generation):
    """The shards as one database, and what searches remember about this state of it."""

    def __init__(self, settings: Settings, ranking: Ranking, db: Any = None, parts: list[Any] | None = None, *, wait: float = SWAP_WAIT_S):  # not super().__init__: it opens Whoosh
        self.settings = settings
        self.ranking = ranking
        self.gen = Path(settings.index)
        self.layout = read_layout(settings)
        if db is None or parts is None:
            missing = [str(r[0]) for r in self.layout if r[0].path is not None and not r[0].path.is_dir()]
            if missing:
                raise IndexMissing(f"no xapian shard at {', '.join(missing)}; build the shards with `RELIEF_BACKEND=xapian relief ingest PATH`")
            db, parts = open_shards(self.layout)
        self.db = db
        self.parts = parts
        self.generation_id = agreed_generation(db, parts, self.layout, wait)
        self.searcher: Any = None
        self.meta: dict[str, Any] = {}
        self.xapian = load()
        self.norms = Norms.from_json(db.get_metadata(NORMS_KEY))
        self._scales: dict[str, float] = {}
        self.translator = Translator(lambda prefix: self.all_terms(prefix), self.terms_from, self.term_scale)
        self.analyzed = Analyzed()
        self.doc_frequencies: dict[str, int] = {}
        self._postings: Bounded[tuple[str, str], frozenset[int]] = Bounded(self.POSTINGS_BUDGET)
        self._stored: Bounded[int, dict[str, Any]] = Bounded(self.STORED_BUDGET)
        self._values: dict[str, list[str]] = {}
        self._lexicons: dict[str, dict[str, int]] = {}
        self._page_key: Bounded[int, str] = Bounded(self.STORED_BUDGET * 8)
        self._feedback = None
        self._speller = None
        self._stats: dict[str, Any] | None = None
        self._arrays = None

    def reopen(self, *, force: bool = False, wait: float = SWAP_WAIT_S) -> "XapianGeneration":
        """The newest commit of every shard, once they all hold one generation: self when
        none changed, else a new generation (`force`: new even if Xapian saw no change)."""
        if not self.db.reopen() and not force:
            return self
        return XapianGeneration(self.settings, self.ranking, self.db, self.parts, wait=wait)

    def next_commit(self) -> "XapianGeneration":
        return self.reopen()

    def release(self) -> None:
        self.analyzed = Analyzed()
        self.doc_frequencies = {}
        self._postings.clear()
        self._stored.clear()
        self._page_key.clear()
        self._values = {}
        self._lexicons = {}
        self._scales = {}
        self._feedback = None
        self._speller = None

    def close(self) -> None:
        self.release()
        self.db.close()

    # ------------------------------------------------------------ reads
    @property
    def reader(self) -> Any:
        return _Lexicon(self)

    def all_terms(self, prefix: str, strip: bool = False) -> Iterator[str]:
        """The terms under a field's prefix (no prefix begins another, so all are that field's)."""
        for item in self.db.allterms(prefix):
            t = _text(item.term)
            yield t[len(prefix) :] if strip else t

    def term_scale(self, t: str) -> float:
        """A scored term's weight factor (`documents.idf_scale`); 1 on shards without norms.
        Document frequencies come from the field lexicons read once per state of the shards."""
        if self.norms is None:
            return 1.0
        got = self._scales.get(t)
        if got is None:
            n = 0
            for name in ("text", "title", "heading"):
                prefix = FIELD_PREFIX[name]
                if t.startswith(prefix):
                    n = self.frequencies(name).get(t[len(prefix) :], 0)
                    break
            else:
                n = int(self.db.get_termfreq(t))
            got = self._scales[t] = idf_scale(n, int(self.db.get_doccount()), self.ranking.k1, self.norms)
        return got

    def terms_from(self, prefix: str, first: str) -> Iterator[str]:
        """The terms under `prefix` from `first` on, in order (term ranges)."""
        it = self.db.allterms(prefix)
        try:
            at = it.skip_to(first)  # returns the term it moved to; iterating goes on after it
        except StopIteration:
            return
        yield _text(at.term)
        for item in it:
            yield _text(item.term)

    def frequencies(self, field: str) -> dict[str, int]:
        """A field's whole lexicon with document frequencies, read in one pass per state of
        the shards: spelling and feedback ask for thousands of words per search, and a
        round trip to every shard per word costs more than the search."""
        got = self._lexicons.get(field)
        if got is None:
            prefix = FIELD_PREFIX[field]
            got = self._lexicons[field] = {_text(item.term)[len(prefix) :]: int(item.termfreq) for item in self.db.allterms(prefix)}
        return got

    def postings(self, fieldname: str, value: str) -> frozenset[int]:
        key = (fieldname, value)
        got = self._postings.get(key)
        if got is None:
            t = key_term(fieldname, value) if fieldname in ("page_id", "passage_id") else facet_term(fieldname, value)
            got = self._postings.put(key, frozenset(int(p.docid) for p in self.db.postlist(t)) if self.db.term_exists(t) else frozenset())
        return got

    def values(self, fieldname: str) -> list[str]:
        got = self._values.get(fieldname)
        if got is None:
            got = self._values[fieldname] = list(self.all_terms(FIELD_PREFIX[fieldname], strip=True))
        return got

    def page_of(self) -> list[str]:
        raise Unsupported("the xapian backend reads a passage's page from its value slot (page_key)")

    def knows(self, docid: int) -> bool:
        return self._stored.get(docid) is not None and self._page_key.get(docid) is not None

    def remember(self, docid: int, document: Any) -> None:
        """What a ranked page brought back anyway: the stored fields and the page id."""
        if self._stored.get(docid) is None:
            self._stored.put(docid, json.loads(document.get_data() or b"{}"))
        self._page_key.put(docid, _text(document.get_value(PAGE_SLOT)))

    def stored(self, docnum: int) -> dict[str, Any]:
        got = self._stored.get(docnum)
        if got is None:
            got = self._stored.put(docnum, json.loads(self.db.get_document(docnum).get_data() or b"{}"))
        return got

    def page_key(self, docnum: int) -> str:
        got = self._page_key.get(docnum)
        if got is None:
            got = self._page_key.put(docnum, _text(self.db.get_document(docnum).get_value(PAGE_SLOT)))
        return got

    def doc_frequency(self, term_text: str) -> int:
        return self.frequencies("text").get(term_text, 0)

    def arrays(self) -> Any:
        raise Unsupported("the array engine reads Whoosh segments")

    def stats(self, root: Path) -> dict[str, Any]:
        if self._stats is None:
            claims = 0
            for _, f in self.reader.iter_docs():
                raw = f.get("claims_json")
                if raw:
                    claims += len(json.loads(raw))
            local = [r[0].path for r in self.layout if r[0].path is not None]
            size = sum(p.stat().st_size for d in local for p in d.iterdir() if p.is_file())
            self._stats = {
                "index": str(root),
                "backend": "xapian",
                "shards": [" | ".join(str(e) for e in r) for r in self.layout],
                "pages": sum(1 for _ in self.all_terms(FIELD_PREFIX["page_id"])),
                "passages": int(self.db.get_doccount()),
                "claims": claims,
                "treatments": len(self.values(FACETS["treatment"])),
                "conditions": len(self.values(FACETS["condition"])),
                "size_bytes": size if len(local) == len(self.layout) else None,
                "size_mb": round(size / 1e6, 2) if len(local) == len(self.layout) else None,
                "last_ingest": _text(self.db.get_metadata(LAST_INGEST)) or None,
                "generation": self.generation_id or None,
                "segments": len(self.layout),
            }
        return dict(self._stats)

    def stamp(self) -> int | None:
        return None
