"""The search features on sharded Xapian: two `xapian-tcpsrv` shard servers on 127.0.0.1
(the corpus ingested into them through a Dask scheduler and two workers).

Every search feature test of test_search.py that runs on an index fixture runs here again
on the xapian backend (imported below, so they read this module's `index` and
`corpus_index`); then the sharded answers are compared with a single local database's,
result for result and facet count for facet count; then shard servers die mid-search.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import build_index
from indexer.config import load_settings
from indexer.pipeline import ingest
from test_search import (  # noqa: F401  (re-run here on the xapian backend)
    FakeVocabulary,
    _pages,
    ids,
    test_broken_queries_never_raise,
    test_broken_query_notes,
    test_corpus_spelling,
    test_did_you_mean,
    test_excluded_word_never_in_a_result,
    test_facets_and_combined_filters,
    test_field_filters_in_query_and_hierarchy,
    test_field_terms_narrow_like_filters,
    test_fuzzed_queries_never_raise,
    test_grouping_by_page,
    test_page_view_and_treatments,
    test_pagination_edges,
    test_phrases_and_operators,
    test_plain_words_or_with_all_words_first,
    test_queries_whoosh_accepts_but_cannot_run,
    test_questions_search_their_words,
    test_ranges_and_proximity,
    test_refresh_is_cheap_when_nothing_changed,
    test_result_fields_and_debug,
    test_scores_fall_with_rank,
    test_snippets_escape_markup,
    test_synonyms_from_the_data_file,
    test_threads_share_one_index,
)
from test_hostile_queries import (  # noqa: F401  (bad input never raises, on this backend too)
    test_api_any_arguments,
    test_api_any_query_string,
    test_api_extreme_queries,
    test_api_parse_never_raises,
    test_api_results_survive_utf8,
    test_known_query_has_results,
)
from xapian_cluster import ShardServer, needs_xapian, start_scheduler, start_server, start_worker, wait_for_workers

pytestmark = needs_xapian


def write_shards(folders: list[Path], pages: list[Any]) -> None:
    from indexer.xapian.writer import open_shard_writers

    settings = load_settings(env={}, backend="xapian", shard_writers=",".join(map(str, folders)))
    with open_shard_writers(settings) as writer:
        for page in pages:
            writer.put_page(page)


def open_remote(servers: list[ShardServer], **options: Any) -> Any:
    from indexer.xapian.index import XapianIndex

    settings = load_settings(env={}, backend="xapian", shards=",".join(s.endpoint for s in servers))
    return XapianIndex.open(settings=settings, **options)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The feature pages on two shards behind two servers, and on one local database."""
    root = tmp_path_factory.mktemp("xapian-search")
    shards = [root / "s0", root / "s1"]
    write_shards(shards, _pages())
    write_shards([root / "single" / "shard-0"], _pages())
    servers = [start_server([shards[0]]), start_server([shards[1]])]
    yield {"root": root, "shards": shards, "servers": servers, "single": root / "single"}
    for s in servers:
        s.stop()


@pytest.fixture(scope="module")
def index(cluster: dict[str, Any]) -> Iterator[Any]:
    idx = open_remote(cluster["servers"], vocabulary=FakeVocabulary())
    yield idx
    idx.close()


@pytest.fixture(scope="module")
def corpus_shards(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path) -> Iterator[dict[str, Any]]:
    """The corpus ingested through a Dask scheduler and two workers into two shards."""
    from indexer.dask_ingest import ingest_dask

    root = tmp_path_factory.mktemp("xapian-corpus")
    scheduler = start_scheduler()
    workers = [start_worker(scheduler, "w1"), start_worker(scheduler, "w2")]
    try:
        wait_for_workers(scheduler, 2)
        settings = load_settings(env={}, backend="xapian", shard_writers=f"{root / 's0'},{root / 's1'}", dask=scheduler.address)
        report = ingest_dask([str(corpus_dir)], settings)
    finally:
        for p in [*workers, scheduler]:
            p.stop()
    assert report.added > 10 and not report.skipped
    servers = [start_server([root / "s0"]), start_server([root / "s1"])]
    yield {"root": root, "servers": servers, "report": report}
    for s in servers:
        s.stop()


@pytest.fixture(scope="module")
def corpus_index(corpus_shards: dict[str, Any]) -> Iterator[Any]:
    idx = open_remote(corpus_shards["servers"])
    yield idx
    idx.close()


SAME_QUERIES = [
    ("massage", {}),
    ("massage muscles zebra", {}),
    ('"spinal manipulation"', {}),
    ("massage AND NOT muscles", {}),
    ("(yoga OR chiropractor) AND stretching", {}),
    ("stretch*", {}),
    ("title:ibuprofen", {}),
    ("treatment:medication", {}),
    ("backache", {}),
    ("masage", {}),
    ("time", {"per_page": 3, "page": 2}),
    ("walking swimming", {"group": "page", "per_page": 50}),
    ("pain OR weeks", {"per_page": 50}),
    ("weeks", {"treatment": ["massage", "yoga"]}),
    ("", {"condition": "low-back-pain"}),
]


def _answer(index: Any, q: str, kw: dict[str, Any]) -> dict[str, Any]:
    d = index.search(q, **kw).to_dict()
    d.pop("took_ms")
    return d


def test_sharded_equals_one_local_database(cluster: dict[str, Any]) -> None:
    from indexer.xapian.index import XapianIndex

    sharded = open_remote(cluster["servers"], vocabulary=FakeVocabulary())
    single = XapianIndex.open(cluster["single"], settings=load_settings(env={}, backend="xapian"), vocabulary=FakeVocabulary())
    try:
        for q, kw in SAME_QUERIES:
            want = _answer(single, q, kw)
            assert want["total"] > 0, q
            assert _answer(sharded, q, kw) == want, (q, kw)
        assert sharded.page("long") == single.page("long")
        assert sharded.treatments() == single.treatments()
        assert sharded.claims().to_dict() == single.claims().to_dict()
        assert sharded.claims(about="massage").to_dict() == single.claims(about="massage").to_dict()
        assert sharded.topics() == single.topics() and sharded.topics().treatments
        s1, s2 = sharded.stats(), single.stats()
        assert {k: s1[k] for k in ("pages", "passages", "claims", "treatments", "conditions")} == {k: s2[k] for k in ("pages", "passages", "claims", "treatments", "conditions")}
    finally:
        sharded.close()
        single.close()


# queries whose matches both backends find alike (their BM25 scores differ, so only the
# constant-scored ones compare scores)
LIKE_WHOOSH = [
    ("title:[a TO m]", True),
    ("title:{chiropractic TO yoga}", True),
    ("text:[massage TO muscles]", True),
    ("page_id:[a TO n]", True),
    ("page_id:lo*", True),
    ("text:[TO b]", True),
    ("position:[1 TO]", True),
    ("position:{0 TO 2}", True),
    ("position:[TO 0]", True),
    ("position:[0 TO 1] AND walking", False),
    ("massage OR title:[w TO]", False),
    ("heading:[a TO z] AND walking", False),
    ('"spinal back"~3', False),
    ('"spinal back"~2', False),
    ('title:"back pain"~2', False),
    ('"walking swimming"~2 AND NOT ibuprofen', False),
]


def test_ranges_and_proximity_match_like_whoosh(cluster: dict[str, Any], tmp_path: Path) -> None:
    """What the query language's ranges and slop phrases match on Xapian is what Whoosh matches."""
    whoosh = build_index(tmp_path / "whoosh", _pages(), vocabulary=FakeVocabulary())
    sharded = open_remote(cluster["servers"], vocabulary=FakeVocabulary())
    try:
        for q, constant in LIKE_WHOOSH:
            want, got = whoosh.search(q, per_page=50), sharded.search(q, per_page=50)
            assert not got.notes, (q, got.notes)  # run as written, not searched as words
            assert got.total == want.total and {r.passage_id for r in got.results} == {r.passage_id for r in want.results}, q
            if constant:
                assert [r.score for r in got.results] == [r.score for r in want.results], q
        assert sum(whoosh.search(q, per_page=50).total > 0 for q, _ in LIKE_WHOOSH) >= len(LIKE_WHOOSH) - 1
    finally:
        sharded.close()
        whoosh.close()


def test_scores_are_whooshs(cluster: dict[str, Any], tmp_path: Path) -> None:
    """Per-field length normalisation in the wdfs + Lucene's idf: the sharded Xapian index
    scores plain-word, field and tag queries as Whoosh's BM25F does (to rounding)."""
    whoosh = build_index(tmp_path / "whoosh", _pages(), vocabulary=FakeVocabulary())
    sharded = open_remote(cluster["servers"], vocabulary=FakeVocabulary())
    try:
        compared = 0
        for q in ("massage", "back pain", "walking swimming time", "stretching yoga", "title:exercise", "heading:walking", "ibuprofen inflammation", "lower back spine",
                  "massage OR page_id:long", "condition:sciatica OR massage", "massage OR treatment:yoga"):
            want, got = whoosh.search(q, per_page=50), sharded.search(q, per_page=50)
            mine, theirs = {r.passage_id: r.score for r in got.results}, {r.passage_id: r.score for r in want.results}
            assert mine == pytest.approx(theirs, rel=0.01, abs=1e-3), q  # equal scores; near-ties may swap
            compared += sum(v > 0 for v in theirs.values())
        assert compared >= 20
    finally:
        sharded.close()
        whoosh.close()


def test_sharded_corpus_equals_one_local_database(corpus_shards: dict[str, Any], corpus_index: Any, corpus_dir: Path, tmp_path: Path) -> None:
    from indexer.xapian.index import XapianIndex

    settings = load_settings(env={}, backend="xapian", index=tmp_path)
    ingest([str(corpus_dir)], settings)
    single = XapianIndex.open(settings=settings)
    try:
        for q in ("heat or ice for a strain", "massage sciatica spasm", '"trigger point"', "acupunture", "stretch* -yoga", "treatment:medication claim:caution"):
            for group in (None, "page"):
                want = _answer(single, q, {"group": group, "per_page": 20})
                assert _answer(corpus_index, q, {"group": group, "per_page": 20}) == want, (q, group)
    finally:
        single.close()


def test_a_dead_shard_is_a_clear_error_and_a_replica_answers(tmp_path: Path) -> None:
    from indexer.xapian.shards import ShardUnavailable

    shards = [tmp_path / "s0", tmp_path / "s1"]
    write_shards(shards, _pages())
    primary, replica, other = start_server([shards[1]]), start_server([shards[1]]), start_server([shards[0]])
    try:
        from indexer.xapian.index import XapianIndex

        settings = load_settings(env={}, backend="xapian", shards=f"{other.endpoint},{primary.endpoint}|{replica.endpoint}")
        idx = XapianIndex.open(settings=settings)
        want = _answer(idx, "time", {"per_page": 50})
        assert want["total"] >= 8
        primary.stop()  # the shard's first server dies: its replica answers, the same
        assert _answer(idx, "time", {"per_page": 50}) == want
        replica.stop()  # no server of that shard left: an error naming them, no partial answer
        with pytest.raises(ShardUnavailable, match=replica.endpoint):
            idx.search("time")
        with pytest.raises(ShardUnavailable):
            idx.page("long")
        back = start_server([shards[1]], port=replica.port)  # it comes back: searches work again
        try:
            assert _answer(idx, "time", {"per_page": 50}) == want
        finally:
            back.stop()
        idx.close()
    finally:
        for s in (primary, replica, other):
            s.stop()


def test_killing_a_shard_server_mid_search(tmp_path: Path) -> None:
    """Searches running while a server is killed: each answers in full or raises
    ShardUnavailable; none returns a partial answer."""
    from indexer.xapian.shards import ShardUnavailable

    shards = [tmp_path / "s0", tmp_path / "s1"]
    write_shards(shards, _pages())
    servers = [start_server([shards[0]]), start_server([shards[1]])]
    idx = open_remote(servers)
    want = _answer(idx, "pain OR weeks OR time", {"per_page": 50})
    outcomes: list[str] = []
    stop = threading.Event()

    def searcher() -> None:
        while not stop.is_set() and len(outcomes) < 2000:
            try:
                got = _answer(idx, "pain OR weeks OR time", {"per_page": 50})
                outcomes.append("full" if got == want else "partial")
            except ShardUnavailable:
                outcomes.append("error")

    worker = threading.Thread(target=searcher)
    worker.start()
    try:
        while len(outcomes) < 5:
            stop.wait(0.01)
        servers[1].stop()
        while outcomes.count("error") < 3 and worker.is_alive():
            stop.wait(0.01)
    finally:
        stop.set()
        worker.join(30)
        idx.close()
        for s in servers:
            s.stop()
    assert "partial" not in outcomes
    assert outcomes[0] == "full" and outcomes[-1] == "error"


def test_cli_and_web_on_the_xapian_backend(cluster: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from indexer.cli import main
    from search_web import create_app

    endpoints = ",".join(s.endpoint for s in cluster["servers"])
    monkeypatch.setenv("RELIEF_BACKEND", "xapian")
    monkeypatch.setenv("RELIEF_SHARDS", endpoints)
    assert main(["search", "spinal manipulation", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["results"][0]["page_id"] == "chiro"
    assert main(["stats", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["passages"] > 8
    app = create_app(load_settings())
    c = app.test_client()
    r = c.get("/api/search?q=massage")
    assert r.status_code == 200 and r.get_json()["results"][0]["page_id"] == "massage"
    assert [x["page_id"] for x in c.get("/api/search?q=weeks&condition=sciatica").get_json()["results"]] == ["ibuprofen"]
    assert c.get("/api/pages/yoga").get_json()["page"]["title"] == "Yoga and stretching"
    assert c.get("/search?q=yoga").status_code == 200
    for url in ("/", "/claims", "/api/claims", "/api/treatments", "/healthz", "/page/yoga"):
        assert c.get(url).status_code == 200, url
    monkeypatch.setenv("RELIEF_SHARDS", f"{endpoints},127.0.0.1:1")
    app = create_app(load_settings())
    r = app.test_client().get("/api/search?q=massage")
    assert r.status_code == 503 and "127.0.0.1:1" in r.get_json()["error"]["message"]
    assert main(["search", "massage"]) == 1
    assert "127.0.0.1:1" in capsys.readouterr().err


def test_wildcards_expand_for_highlighting(index: Any) -> None:
    r = index.search("stretch*")
    assert r.results and all("<mark>" in x.snippet for x in r.results)
    assert index.search("y?ga").total == index.search("yoga").total >= 1


def test_a_new_commit_is_picked_up_without_reopening(tmp_path: Path) -> None:
    import time

    from conftest import make_page

    shards = [tmp_path / "s0", tmp_path / "s1"]
    write_shards(shards, _pages())
    servers = [start_server([shards[0]]), start_server([shards[1]])]
    idx = open_remote(servers)
    try:
        assert idx.search("zumba").total == 0
        write_shards(shards, [make_page("zumba", "Zumba", "Zumba classes are dance workouts for the whole body. " * 5)])
        time.sleep(idx.REFRESH_SECONDS)
        assert idx.refresh() is True
        assert ids(idx.search("zumba")) == ["zumba"]
        assert idx.refresh() is False
    finally:
        idx.close()
        for s in servers:
            s.stop()


def test_counts_and_facets_match_the_whoosh_backend(corpus_index: Any, built_index: Path) -> None:
    """Match sets that do not depend on ranking (operators, filters) count alike on both."""
    from indexer import Index

    whoosh = Index.open(built_index, settings=load_settings(env={}, index=built_index))
    try:
        for q, kw in [('"trigger point"', {}), ("", {"treatment": "medication"}), ("massage AND NOT spa", {}),
                      ("condition:sciatica claim:caution", {}), ("stretch*", {"group": "page"}), ("", {"claim": ["caution", "statistic"]})]:
            a, b = corpus_index.search(q, **kw), whoosh.search(q, **kw)
            assert a.total == b.total > 0, q
            assert a.facets == b.facets, q
            ungrouped = {k: v for k, v in kw.items() if k != "group"}
            assert {r.passage_id for r in a.results} <= {r.passage_id for r in whoosh.search(q, per_page=100, **ungrouped).results}
    finally:
        whoosh.close()
