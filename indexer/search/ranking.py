"""The ranking knobs and the BM25F formula every engine scores with."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from whoosh.scoring import BM25F

__all__ = ["Ranking", "ReliefBM25"]


@dataclass(frozen=True)
class Ranking:
    """The ranking knobs, tuned on NFCorpus dev (see scripts/eval_relevance.py)."""

    k1: float = 1.2
    b: float = 0.85  # NFCorpus dev: .75→.85 +0.006 nDCG@10 on long queries, titles flat
    title_boost: float = 0.5
    heading_boost: float = 1.5
    claims_boost: float = 0.0
    synonym_weight: float = 0.5
    tag_weight: float = 0.3
    all_words_bonus: float = 1000.0  # documents matching every word rank first
    feedback_docs: int = 10  # pseudo-relevance feedback: top passages read for related words
    feedback_terms: int = 10
    feedback_weight: float = 0.5
    feedback_sharpness: float = 3.0  # a top passage counts by (its score / the best score) ** this
    feedback_max_matches: int = 5000  # above this many matching passages, no feedback
    # when the typed words match fewer passages than this, related words add passages too,
    # listed after every passage with a typed word (0: related words only re-rank)
    feedback_expands_below: int = 20
    lucene_idf: bool = True
    # plain-word queries scored by the array engine (arrays.py): Whoosh's scores, ranked
    # exhaustively; the Whoosh engine answers every other query, and all of them when False
    fast_path: bool = True

    def weighting(self) -> "ReliefBM25":
        return ReliefBM25(lucene_idf=self.lucene_idf, B=self.b, K1=self.k1)


class ReliefBM25(BM25F):
    """Whoosh's BM25F with Lucene's idf, log(1 + (N - df + .5) / (df + .5)).

    Whoosh's own idf, log(N / (df + 1)) + 1, gives common words a floor of 1, which on
    long queries lets frequent words outweigh the rare ones that carry the meaning.
    """

    def __init__(self, lucene_idf: bool = True, **kwargs: Any):
        super().__init__(**kwargs)
        self.lucene_idf = lucene_idf

    def idf(self, searcher: Any, fieldname: str, text: Any) -> float:
        if not self.lucene_idf:
            return float(super().idf(searcher, fieldname, text))
        parent = searcher.get_parent()
        n = parent.doc_count_all()
        df = parent.doc_frequency(fieldname, text)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))
