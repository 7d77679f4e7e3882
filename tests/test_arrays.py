"""The array engine (indexer/search/arrays.py) answers plain-word queries as Whoosh does.

Reference: the same `Index` with `Ranking(fast_path=False)`, searched with Whoosh's lossy
matcher replacement switched off (`TopCollector(replace=0)`). Whoosh's top-N collector
swaps matchers for cheaper ones based on each matcher's `max_quality()`, and Whoosh's
`ArrayUnionMatcher` (used for Ors of 3+ clauses in segments of at most 5,000 documents)
reports the *largest* child bound instead of the sum, so now and then the shipped Whoosh
path leaves out a passage that its own scoring ranks higher (see
`test_whoosh_pruning_can_drop_better_passages`). The fast path ranks by Whoosh's scores
exactly, so it is compared with Whoosh's exhaustive ranking, and with the shipped path
on everything that pruning cannot touch (totals, facets, and scores never below it).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from whoosh import collectors
from whoosh import index as whoosh_index
from whoosh import query as Q

from conftest import build_index, make_page
from indexer import store
from indexer.config import load_settings
from indexer.search import Index, Ranking, arrays, warmup
from indexer.search.engine import Paging, run
from indexer.search.engines import StoredFeedback, WhooshEngine
from indexer.search.query import AllOf, AnyOf, Native, Phrase, Term
from indexer.search.whoosh_query import to_whoosh

TOL = 1e-4

WORDS = (
    "back pain ache spine lumbar disc nerve sciatica muscle stretch stretching exercise walking swimming yoga "
    "massage heat ice cold pack therapy physio physiotherapy ibuprofen paracetamol tablet surgery posture "
    "sitting standing chair desk sleep mattress core hips legs weeks months doctor trial study evidence "
    "relief gentle strong daily routine tension stiffness inflammation"
).split()
TREATMENTS = ["massage", "yoga", "ibuprofen", "heat-therapy", "exercise", "physical-therapy", "medication", "nsaids"]
CONDITIONS = ["low-back-pain", "sciatica", "neck-pain"]


class Vocab:
    """A small treatment hierarchy, so treatment words add tag clauses."""

    tree = {"medication": ["nsaids", "ibuprofen"], "nsaids": ["ibuprofen"]}
    treatments = TREATMENTS
    conditions = CONDITIONS

    def resolve(self, name: str, kind: str) -> str | None:
        name = name.lower().strip()
        if kind == "treatment":
            aliases = {"massag": "massage", "yoga": "yoga", "ibuprofen": "ibuprofen", "heat": "heat-therapy", "exercis": "exercise", "medic": "medication", "nsaid": "nsaids"}
            return aliases.get(name) or (name if name in TREATMENTS else None)
        return name if name in CONDITIONS else None

    def descendants(self, ident: str) -> list[str]:
        return self.tree.get(ident, [])

    def ancestors(self, ident: str) -> list[str]:
        return [k for k, v in self.tree.items() if ident in v][::-1]

    def label(self, ident: str) -> str:
        return ident


def _synthetic_pages(n_pages: int, seed: int, prefix: str = "p") -> list[Any]:
    rng = random.Random(seed)
    pages = []
    for i in range(n_pages):
        paras = []
        for _ in range(rng.randint(2, 7)):
            k = rng.randint(45, 90)
            paras.append(" ".join(rng.choice(WORDS) for _ in range(k)).capitalize() + ".")
        title = " ".join(rng.sample(WORDS, rng.randint(1, 4))).title()
        pages.append(
            make_page(
                f"{prefix}{i}",
                title,
                *paras,
                treatments=rng.sample(TREATMENTS, rng.randint(0, 2)),
                conditions=rng.sample(CONDITIONS, rng.randint(0, 1)),
                headings=[" ".join(rng.sample(WORDS, 2))] if rng.random() < 0.5 else [],
            )
        )
    return pages


def _open(path: Path, fast: bool, vocab: bool = False, background: bool = False) -> Any:
    return Index.open(
        path,
        settings=load_settings(env={}, index=path),
        ranking=Ranking(fast_path=fast),
        vocabulary=Vocab() if vocab else None,
        background_warm=background,
    )


@pytest.fixture
def exhaustive_whoosh(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whoosh's top-N without matcher replacement: exactly the best N by Whoosh's scores."""
    orig = collectors.TopCollector.__init__

    def init(self: Any, limit: int = 10, usequality: bool = True, **kw: Any) -> None:
        kw["replace"] = 0
        orig(self, limit, usequality, **kw)

    monkeypatch.setattr(collectors.TopCollector, "__init__", init)


@pytest.fixture(scope="module")
def corpus_pair(built_index: Path) -> Any:
    fast, slow = _open(built_index, True), _open(built_index, False)
    yield fast, slow
    fast.close()
    slow.close()


@pytest.fixture(scope="module")
def synthetic_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~600 passages in three segments, with deleted documents in the first."""
    path = tmp_path_factory.mktemp("fastscore") / "index"
    build_index(path, _synthetic_pages(90, seed=1)).close()
    gen = store.live_dir(path)
    ix = whoosh_index.open_dir(str(gen))
    with ix.searcher() as s:
        donors = [dict(f) for _, (_, f) in zip(range(60), s.reader().iter_docs())]
    for batch in range(2):
        w = ix.writer()
        for j in range(batch * 10, batch * 10 + 10):
            w.delete_by_term("page_id", f"p{j}")
        for d in donors[batch * 30 : batch * 30 + 30]:
            d = {k: v for k, v in d.items() if k in ix.schema.names()}
            d["passage_id"] = f"x{batch}-" + d["passage_id"]
            d["page_id"] = f"x{batch}-" + d["page_id"]
            w.add_document(**d)
        w.commit(merge=False)
    return path


@pytest.fixture(scope="module")
def synthetic_pair(synthetic_path: Path) -> Any:
    fast, slow = _open(synthetic_path, True, vocab=True), _open(synthetic_path, False, vocab=True)
    yield fast, slow
    fast.close()
    slow.close()


def _same(a: Any, b: Any, where: str) -> None:
    assert a.total == b.total, where
    assert a.facets == b.facets, where
    assert a.notes == b.notes and a.suggestion == b.suggestion, where
    assert [r.passage_id for r in a.results] == [r.passage_id for r in b.results], where
    for x, y in zip(a.results, b.results):
        assert abs(x.score - y.score) <= TOL * max(1.0, abs(y.score)), (where, x.passage_id, x.score, y.score)
        assert (x.more_on_page, x.snippet, x.title) == (y.more_on_page, y.snippet, y.title), where


CORPUS_QUERIES = [
    "back pain",
    "backache",  # synonyms, some of them phrases
    "lumbago",
    "sciatica",
    "heat therapy",
    "heat therapy for sciatica",
    "ibuprofen",  # a treatment word: tag clause
    "painkiller",
    "physio exercises",
    "slipped disc surgery",
    "massage stretching yoga",
    "ice pack or heat pack",
    "cbt",
    "tens machine",
    "paracetamol",
    "acupunture",  # misspelled: the suggestion and the corrected search
    "stretchng exercizes",
    "sleep mattress posture",
    "the",  # a stop word only
    "zzzqqq",  # nothing
    "walking swimming pilates core strength",
]
VARIANTS: list[dict[str, Any]] = [
    {},
    {"group": "page"},
    {"page": 2},
    {"page": 3, "per_page": 5},
    {"group": "page", "page": 2, "per_page": 4},
    {"treatment": "exercise"},
    {"condition": "sciatica", "group": "page"},
    {"per_page": 50},
    {"facets": False, "snippets": False},
]


@pytest.mark.parametrize("q", CORPUS_QUERIES)
def test_corpus_parity(corpus_pair: Any, exhaustive_whoosh: None, q: str) -> None:
    fast, slow = corpus_pair
    for kw in VARIANTS:
        _same(fast.search(q, **kw), slow.search(q, **kw), f"{q!r} {kw}")


def test_corpus_parity_random_queries(corpus_pair: Any, exhaustive_whoosh: None) -> None:
    fast, slow = corpus_pair
    reader = fast.generation.reader
    vocab = sorted(w.decode() for w, info in reader.iter_field("spell") if info.doc_frequency() >= 2)
    vocab = [w for w in vocab if w.isalpha() and len(w) >= 3]
    rng = random.Random(5)
    for _ in range(60):
        q = " ".join(rng.sample(vocab, rng.randint(1, 4)))
        for kw in VARIANTS[:5]:
            _same(fast.search(q, **kw), slow.search(q, **kw), f"{q!r} {kw}")


SYNTHETIC_QUERIES = [
    "back pain",
    "backache",
    "massage",
    "heat",  # tag clause heat-therapy + synonyms
    "medication",  # tag clause with descendants: an Or of three treatment terms
    "ibuprofen tablet",
    "yoga stretching core",
    "exercise walking swimming daily routine",
    "physio",
    "ice pack",
    "sciatica nerve",
    "stifness",  # misspelled
    "relief",
    "a",
]


@pytest.mark.parametrize("q", SYNTHETIC_QUERIES)
def test_synthetic_parity(synthetic_pair: Any, exhaustive_whoosh: None, q: str) -> None:
    fast, slow = synthetic_pair
    assert len(fast.generation.reader.leaf_readers()) >= 2 and fast.generation.reader.has_deletions()
    for kw in VARIANTS + [{"treatment": "medication", "group": "page"}, {"treatment": "nope"}, {"claim": "efficacy"}]:
        _same(fast.search(q, **kw), slow.search(q, **kw), f"{q!r} {kw}")


def test_synthetic_parity_random_queries(synthetic_pair: Any, exhaustive_whoosh: None) -> None:
    fast, slow = synthetic_pair
    rng = random.Random(9)
    for _ in range(80):
        q = " ".join(rng.sample(WORDS, rng.randint(1, 5)))
        for kw in VARIANTS[:6]:
            _same(fast.search(q, **kw), slow.search(q, **kw), f"{q!r} {kw}")


def test_shipped_whoosh_path_agrees_except_for_pruning(corpus_pair: Any) -> None:
    """Against the Whoosh path as shipped: same totals and facets; never a worse page."""
    fast, slow = corpus_pair
    for q in CORPUS_QUERIES:
        for kw in VARIANTS[:4]:
            a, b = fast.search(q, **kw), slow.search(q, **kw)
            assert (a.total, a.facets) == (b.total, b.facets)
            assert len(a.results) == len(b.results)
            for x, y in zip(a.results, b.results):
                assert x.score >= y.score - TOL * max(1.0, abs(y.score)), (q, kw)


def test_whoosh_pruning_can_drop_better_passages(corpus_pair: Any) -> None:
    """Why the reference switches replacement off: Whoosh's own top 10 misses passages
    its own scoring puts there. The fast path lists them."""
    fast, slow = corpus_pair
    gen = slow.generation
    plan = slow.builder.build("heat therapy for sciatica")
    plan = run(WhooshEngine(gen), plan, None, Paging(1, 10, False), StoredFeedback(gen, slow.ranking), False).plan
    assert plan is not None and plan.related  # feedback added related words
    s = gen.searcher
    pruned = [d for _, d in s.search(to_whoosh(plan.query), limit=10).top_n]
    full = [d for _, d in s.search(to_whoosh(plan.query), limit=None).top_n[:10]]
    got = fast.search("heat therapy for sciatica")
    assert [r.passage_id for r in got.results] == [s.stored_fields(d)["passage_id"] for d in full]
    assert len(pruned) == len(full) == 10


def test_term_scores_bitwise_equal_to_whoosh(synthetic_pair: Any) -> None:
    fast, _ = synthetic_pair
    fast.search("back")  # builds the per-generation arrays
    fx = fast.generation.arrays()
    s = fast.generation.searcher
    for field, text in [("text", "back"), ("title", "pain"), ("heading", "stretch"), ("text", "ibuprofen"), ("treatment", "yoga"), ("condition", "sciatica")]:
        btext = s.schema[field].to_bytes(text)
        ids, sc = fx.term(field, text)
        want_ids, want_sc = [], []
        for sub, off in s.leaf_searchers():
            if (field, btext) not in sub.reader():
                continue
            m = Q.Term(field, text).matcher(sub, s.context())
            while m.is_active():
                want_ids.append(m.id() + off)
                want_sc.append(m.score())
                m.next()
        assert ids.tolist() == want_ids, (field, text)
        assert sc.tolist() == want_sc, (field, text)


def test_unsupported_queries_take_the_whoosh_path(corpus_pair: Any) -> None:
    fast, slow = corpus_pair
    for q in ['"back pain"', "title:pain", "back AND pain", "pain NOT back", "stretch*", "treatment:massage"]:
        plan = fast.builder.build(q)
        assert not plan.plain and isinstance(plan.query, Native) and not arrays.supports(plan.query)
        a, b = fast.search(q), slow.search(q)
        assert [r.passage_id for r in a.results] == [r.passage_id for r in b.results]
    assert not arrays.supports(Native(Q.Not(Q.Term("text", "back"))))
    assert not arrays.supports(AnyOf((Term("text", "a"), Native(Q.Prefix("text", "b")))))
    assert arrays.supports(AnyOf((Term("text", "a"), Phrase("text", ("b", "c")))))


def test_single_child_compound_ignores_its_boost_like_whoosh(synthetic_pair: Any) -> None:
    """Whoosh runs a one-child Or/And as the child alone, boost and all dropped."""
    fast, _ = synthetic_pair
    fast.search("back")
    fx = fast.generation.arrays()
    s = fast.generation.searcher
    for q in [AnyOf((Term("text", "back"),), 0.3), AllOf((Term("text", "pain"),), 2.0), AnyOf((Term("text", "back"), Term("title", "pain", 0.5)), 0.3)]:
        ids, sc = fx.evaluate(q, {})
        res = s.search(to_whoosh(q), limit=None)
        want = sorted((d, score) for score, d in res.top_n)
        assert ids.tolist() == [d for d, _ in want]
        np.testing.assert_allclose(sc, [x for _, x in want], rtol=1e-12)


def test_refresh_after_commit_resets_arrays(tmp_path: Path, exhaustive_whoosh: None) -> None:
    path = tmp_path / "index"
    build_index(path, _synthetic_pages(20, seed=4)).close()
    fast, slow = _open(path, True, vocab=True), _open(path, False, vocab=True)
    try:
        _same(fast.search("back pain"), slow.search("back pain"), "before")
        before = fast.generation.arrays()
        with store.open_writer(path) as w:
            for page in _synthetic_pages(6, seed=5, prefix="new"):
                w.put_page(page)
            w.delete_page("p0")
        fast.refresh()
        slow.refresh()
        a, b = fast.search("back pain", per_page=50), slow.search("back pain", per_page=50)
        _same(a, b, "after")
        assert fast.generation.arrays() is not before
        assert any(r.page_id.startswith("new") for r in a.results)
        assert not any(r.page_id == "p0" for r in a.results)
    finally:
        fast.close()
        slow.close()


def test_fast_path_is_the_default() -> None:
    assert Ranking().fast_path is True


def test_warm_caches_change_nothing(synthetic_path: Path, exhaustive_whoosh: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Warming (preloaded postings, document frequencies, word → term table) is only a cache."""
    from indexer.analysis import analyzer

    monkeypatch.setattr(warmup, "PRELOAD_MIN_DF", 1)
    fast, slow = _open(synthetic_path, True, vocab=True), _open(synthetic_path, False, vocab=True)
    try:
        fast.warm()  # what `relief serve` does before it listens
        gen = fast.generation
        assert gen.arrays().uses >= 2  # so no search warms it again
        reader = gen.reader
        table = gen.doc_frequencies
        assert table and all(table[t] == reader.doc_frequency("text", t) for t in list(table)[:300])
        ana = analyzer()
        for w in [b.decode() for b in reader.lexicon("spell")][:300]:
            got = [t.text for t in ana(w)]
            assert w in gen.analyzed.terms and gen.analyzed.terms.get(w) == (got[0] if len(got) == 1 else None)
        assert gen.arrays().terms.pinned > 0 and gen.arrays().terms.used > 0
        for q in SYNTHETIC_QUERIES:
            for kw in VARIANTS[:5]:
                _same(fast.search(q, **kw), slow.search(q, **kw), f"{q!r} {kw}")
    finally:
        fast.close()
        slow.close()


def test_warm_fills_the_frequencies_feedback_already_reads(synthetic_path: Path) -> None:
    """A search before warm() builds the feedback over the commit's frequency table; warming
    must fill that same table, or feedback keeps asking Whoosh term by term (slow)."""
    idx = _open(synthetic_path, True, vocab=True)
    try:
        idx.search(SYNTHETIC_QUERIES[0])  # the second search of a commit would warm it
        gen = idx.generation
        feedback = gen.feedback_terms()
        assert gen.has_arrays and gen.arrays().uses == 1
        idx.warm()
        assert gen.arrays().uses == 2
        reader = gen.reader
        text_terms = [t.decode() if isinstance(t, bytes) else t for t in reader.lexicon("text")]
        assert text_terms and all(t in gen.doc_frequencies for t in text_terms)
        # the feedback built before warm-up reads the table warm-up filled, not Whoosh
        gen.doc_frequencies[text_terms[0]] = -7
        assert feedback.doc_frequency(text_terms[0]) == -7
    finally:
        idx.close()


def _warm_threads() -> list[Any]:
    import threading

    return [t for t in threading.enumerate() if t.name == "relief-warm"]


def _wait_for(condition: Any, seconds: float = 60.0) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_background_warm_leaves_the_search_that_asks_for_it_unblocked(synthetic_path: Path) -> None:
    """A server's second search of a commit starts the warm-up and returns long before its end."""
    bg = _open(synthetic_path, True, vocab=True, background=True)
    inline = _open(synthetic_path, True, vocab=True)
    try:
        with bg.lock:  # the warm thread needs the lock for every slice, so it waits for us
            bg.search(SYNTHETIC_QUERIES[0])
            bg.search(SYNTHETIC_QUERIES[1])
            gen = bg.generation
            fx = gen.arrays()
            assert fx.uses == 2 and not fx.warmed and _warm_threads()
            assert not fx.terms.pinned  # not one slice has run
        assert _wait_for(lambda: fx.warmed), "the background warm-up never finished"
        assert fx.terms.pinned
        reader = gen.reader
        assert all(t in gen.doc_frequencies for t in (x.decode() if isinstance(x, bytes) else x for x in reader.lexicon("text")))
        inline.search(SYNTHETIC_QUERIES[0])
        inline.search(SYNTHETIC_QUERIES[1])  # warms inline
        assert inline.generation.arrays().warmed
        for q in SYNTHETIC_QUERIES:
            _same(bg.search(q), inline.search(q), q)
    finally:
        bg.close()
        inline.close()


def test_background_warm_stops_when_its_commit_is_gone(synthetic_path: Path) -> None:
    bg = _open(synthetic_path, True, vocab=True, background=True)
    with bg.lock:
        bg.search(SYNTHETIC_QUERIES[0])
        bg.search(SYNTHETIC_QUERIES[1])
        fx = bg.generation.arrays()
        assert _warm_threads()
        bg.close()  # what a swap to a newer commit does to this one
    assert _wait_for(lambda: not _warm_threads()), "the warm thread outlived its commit"
    assert not fx.warmed


def test_background_warm_advances_with_the_searches_of_a_busy_server(synthetic_path: Path) -> None:
    """A searcher that re-takes the lock at once would starve the warm thread; each search
    runs one slice, so the warm-up ends under load too."""
    bg = _open(synthetic_path, True, vocab=True, background=True)
    try:
        with bg.lock:  # the thread gets no turn at all: only the searches can warm
            bg.search(SYNTHETIC_QUERIES[0])
            bg.search(SYNTHETIC_QUERIES[1])
            fx = bg.generation.arrays()
            for i in range(10_000):
                if fx.warmed:
                    break
                bg.search(SYNTHETIC_QUERIES[i % len(SYNTHETIC_QUERIES)])
            assert fx.warmed and fx.terms.pinned
    finally:
        bg.close()
