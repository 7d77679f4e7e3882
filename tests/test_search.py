"""The query language, synonyms and hierarchy, spelling, facets, grouping, pagination, snippets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import build_index, make_page
from indexer import Index
from indexer.model import Claim
from indexer.config import load_settings
from indexer.search import Ranking, make_snippet, repair_query
from test_hostile_queries import check_response

FILLER = "Most episodes settle within a few weeks with ordinary activity and time. "


def _pages() -> list[Any]:
    claim = Claim(text="Massage eased pain in a trial.", start=0, end=30, type="efficacy", types=("efficacy",), evidence="study", treatments=("massage",))
    return [
        make_page("massage", "Massage for back pain", "Massage therapy relaxes tight muscles and eases back pain. " + FILLER * 4, treatments=["massage"], conditions=["low-back-pain"], claims=[claim]),
        make_page("yoga", "Yoga and stretching", "Yoga classes combine stretching with breathing; gentle stretching helps stiffness. " + FILLER * 4, treatments=["yoga"], conditions=["low-back-pain"]),
        make_page("ibuprofen", "Ibuprofen", "Ibuprofen tablets reduce inflammation for a short while. " + FILLER * 4, treatments=["ibuprofen"], conditions=["sciatica"]),
        make_page("lumbago", "Old words", "Lumbago is an old word people still use for the ache across the lower spine. " + FILLER * 4, conditions=["low-back-pain"]),
        make_page("chiro", "Chiropractic care", "A chiropractor uses spinal manipulation on the lower back. " + FILLER * 4, treatments=["chiropractic"]),
        make_page("physio", "Seeing a physical therapist", "Physical therapy teaches exercises for the core and hips. " + FILLER * 4, treatments=["physical-therapy"]),
        make_page("evil", "Page with markup", "This text mentions <script>alert('x')</script> & massage in words, as text. " + FILLER * 4),
        make_page("long", "Exercise guide", *(f"Section {i}: walking and swimming keep the back strong and supple over time, step {i}. " * 5 for i in range(6)), headings=["Walking"]),
    ]


class FakeVocabulary:
    """medication ⊃ nsaids ⊃ ibuprofen, as the knowledge layer's vocabulary will say."""

    tree = {"medication": ["nsaids", "ibuprofen"], "nsaids": ["ibuprofen"]}
    treatments = ["medication", "nsaids", "ibuprofen", "massage", "yoga"]
    conditions = ["low-back-pain", "sciatica"]

    def resolve(self, name: str, kind: str) -> str | None:
        name = name.lower().strip()
        aliases = {"nsaid": "nsaids", "medicine": "medication", "medication": "medication", "nsaids": "nsaids", "ibuprofen": "ibuprofen", "massag": "massage", "massage": "massage"}
        return aliases.get(name) if kind == "treatment" else (name if name in self.conditions else None)

    def descendants(self, ident: str) -> list[str]:
        return self.tree.get(ident, [])

    def ancestors(self, ident: str) -> list[str]:
        return [k for k, v in self.tree.items() if ident in v][::-1]

    def label(self, ident: str) -> str:
        return ident.title()


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("search") / "index"
    idx = build_index(path, _pages(), vocabulary=FakeVocabulary())
    yield idx
    idx.close()


def ids(response: Any) -> list[str]:
    return [r.page_id for r in response.results]


def test_plain_words_or_with_all_words_first(index: Any) -> None:
    r = index.search("massage muscles zebra")
    assert r.total >= 1 and ids(r)[0] == "massage"  # one missing word never empties results
    r = index.search("stretching breathing")
    assert ids(r)[0] == "yoga"
    # a page with both words ranks above pages with one, however often the one occurs
    r = index.search("walking massage", per_page=20)
    assert set(ids(r)) >= {"long", "massage"}


def test_phrases_and_operators(index: Any) -> None:
    assert ids(index.search('"spinal manipulation"')) == ["chiro"]
    assert index.search('"manipulation spinal"').total == 0
    assert set(ids(index.search("massage AND muscles"))) == {"massage"}
    assert set(ids(index.search("yoga OR ibuprofen"))) == {"yoga", "ibuprofen"}
    assert "massage" not in ids(index.search("massage NOT muscles"))
    assert "massage" not in ids(index.search("massage -muscles"))
    # a hyphen inside a word joins ("coca-cola", "beta-carboline"); only a leading one excludes
    assert "massage" in ids(index.search("tight-muscles"))
    assert "massage" not in ids(index.search("tight -muscles"))
    assert "massage" not in ids(index.search("yoga (massage -muscles)"))
    assert set(ids(index.search("(yoga OR chiropractor) AND stretching"))) == {"yoga"}
    assert set(ids(index.search("stretch*"))) == {"yoga"}
    assert set(ids(index.search("title:ibuprofen"))) == {"ibuprofen"}


def test_excluded_word_never_in_a_result(index: Any) -> None:
    # Whoosh's AndNot matcher let the first match through when the excluded word's first
    # passage came before it; every page here says "time", so nothing may come back
    for q in ("walking -time", "walking NOT time", "massage -time", "(walking OR yoga) -time"):
        r = index.search(q, per_page=100)
        assert r.total == 0 and r.results == (), (q, ids(r))
    assert "long" in ids(index.search("walking -massage"))


def test_field_filters_in_query_and_hierarchy(index: Any) -> None:
    assert set(ids(index.search("treatment:massage"))) == {"massage"}
    assert set(ids(index.search("condition:sciatica"))) == {"ibuprofen"}
    assert set(ids(index.search("claim:efficacy"))) == {"massage"}
    assert set(ids(index.search("evidence:study"))) == {"massage"}
    # medication ⊃ nsaids ⊃ ibuprofen
    assert set(ids(index.search("treatment:medication"))) == {"ibuprofen"}
    assert set(ids(index.search("", treatment=["nsaids"]))) == {"ibuprofen"}


def test_synonyms_from_the_data_file(index: Any) -> None:
    assert "lumbago" in ids(index.search("backache"))  # back pain ~ backache ~ lumbago
    assert "lumbago" in ids(index.search("back pain", per_page=20))
    assert "physio" in ids(index.search("physio"))  # physio ~ physical therapy
    assert "ibuprofen" in ids(index.search("nsaid"))  # NSAID → ibuprofen (one-way)
    assert "yoga" not in ids(index.search("ibuprofen"))


def test_synonyms_reload_without_reindex(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    syn = tmp_path / "synonyms.toml"
    syn.write_text('[[group]]\nterms = ["kinesiotherapy", "massage"]\n', encoding="utf-8")
    idx = build_index(tmp_path / "index", _pages()[:2], synonyms=syn)
    try:
        assert ids(idx.search("kinesiotherapy")) == ["massage"]
        syn.write_text('[[group]]\nterms = ["kinesiotherapy", "yoga"]\n', encoding="utf-8")
        os.utime(syn, (1, 1))
        idx.refresh()
        assert ids(idx.search("kinesiotherapy")) == ["yoga"]
    finally:
        idx.close()


@pytest.mark.parametrize(("typo", "fixed"), [("acupunture", None), ("chiropracter", "chiropractor"), ("masage", "massage"), ("strecthing", "stretching")])
def test_did_you_mean(index: Any, typo: str, fixed: str | None) -> None:
    r = index.search(typo)
    if fixed is None:  # not a word of this index: no suggestion invented
        assert r.suggestion is None and r.total == 0
        return
    assert r.suggestion == fixed
    assert r.total >= 1
    if typo == "masage":  # the typo alone finds nothing: the corrected results come, with a note
        assert any("showing results for 'massage'" in n for n in r.notes)


def test_corpus_spelling(corpus_index: Any) -> None:
    for typo, fixed in [("acupunture", "acupuncture"), ("chiropracter", "chiropractor"), ("masage", "massage"), ("sciatia", "sciatica")]:
        r = corpus_index.search(typo)
        assert r.suggestion == fixed, (typo, r.suggestion)
        assert r.total >= 1


def test_facets_and_combined_filters(index: Any) -> None:
    r = index.search("pain OR weeks", per_page=50)
    facets = {k: {f.value: f.count for f in v} for k, v in r.facets.items()}
    assert facets["treatment"]["massage"] >= 1 and facets["condition"]["low-back-pain"] >= 3
    assert facets["claim"] == {"efficacy": 1} and facets["evidence"] == {"study": 1}
    # OR within a facet, AND across facets
    both = index.search("weeks", treatment=["massage", "yoga"], per_page=50)
    assert set(ids(both)) == {"massage", "yoga"}
    assert set(ids(index.search("weeks", treatment=["massage", "yoga"], condition="sciatica"))) == set()
    assert set(ids(index.search("weeks", treatment="ibuprofen", condition=["sciatica"]))) == {"ibuprofen"}
    # facet counts follow the filters
    f = {v.value: v.count for v in index.search("weeks", condition="low-back-pain").facets["treatment"]}
    assert "ibuprofen" not in f


def test_grouping_by_page(index: Any) -> None:
    passages = index.search("walking swimming", per_page=50)
    grouped = index.search("walking swimming", group="page", per_page=50)
    assert passages.total > grouped.total >= 1
    first = grouped.results[0]
    assert first.page_id == "long" and first.more_on_page == sum(1 for r in passages.results if r.page_id == "long") - 1
    assert len({r.page_id for r in grouped.results}) == len(grouped.results)


def test_pagination_edges(index: Any) -> None:
    all_ = index.search("time", per_page=100)
    n = all_.total
    assert n >= 8
    pages = [index.search("time", page=p, per_page=3) for p in range(1, -(-n // 3) + 1)]
    assert [r.passage_id for p in pages for r in p.results] == [r.passage_id for r in all_.results]
    assert pages[-1].pages == len(pages) and 1 <= len(pages[-1].results) <= 3
    assert index.search("time", page=99, per_page=3).results == () and index.search("time", page=99).total == n
    assert index.search("weeks", page=0).page == 1
    assert index.search("weeks", per_page=10_000).per_page == 100
    assert index.search("weeks", per_page=0).per_page == 1


def test_snippets_escape_markup(index: Any) -> None:
    r = index.search("script alert massage", per_page=20)
    evil = next(x for x in r.results if x.page_id == "evil")
    assert "<script" not in evil.snippet and "&lt;<mark>script</mark>&gt;" in evil.snippet
    assert "<mark>" in evil.snippet
    stripped = evil.snippet.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in stripped and ">" not in stripped


def test_snippet_windows() -> None:
    text = ("Filler words about nothing much here. " * 30) + "Massage helps. " + ("More filler text follows. " * 30)
    s = make_snippet(text, {"massag"})
    assert "<mark>Massage</mark>" in s and s.startswith("…") and len(s) < 400


BROKEN = ['"unbalanced quote', "((massage", "massage))", "treatment:", "title: ", "x" * 10_000, "mass\x00age", "\x07\x1b[31m", "AND", "NOT", "OR OR", "*", "?", ":", '"', "()", "-", "treatment:(", 'title:"', "claim:*", "a" * 300 + "*"]


@pytest.mark.parametrize("q", BROKEN)
def test_broken_queries_never_raise(index: Any, q: str) -> None:
    check_response(index.search(q))


def test_queries_whoosh_accepts_but_cannot_run(index: Any) -> None:
    r = index.search('claims:"massage eased"')  # a phrase on a field without positions
    assert r.total >= 1
    r = index.search('claim:"back back"')
    assert r.suggestion is None  # field names are never "corrected"
    assert index.search("massage \ud800").total >= 1  # a lone surrogate is dropped


def test_ranges_and_proximity(index: Any) -> None:
    """Term and number ranges match with one score, as Whoosh's do; `"a b"~N` lets the
    words stand up to N positions apart, in order."""
    r = index.search("title:[a TO m]", per_page=50)
    assert set(ids(r)) == {"massage", "ibuprofen", "chiro", "long"} and {x.score for x in r.results} == {1.0}
    r = index.search("title:{chiropractic TO yoga}", per_page=50)  # bounds excluded; stretch is inside
    assert "chiro" not in ids(r) and "yoga" in ids(r) and r.total == 8
    assert [x.passage_id for x in index.search("position:[1 TO]").results] == ["long#1"]
    assert [x.passage_id for x in index.search("position:{0 TO 2}").results] == ["long#1"]
    assert index.search("position:[TO 0]", per_page=50).total == len(_pages())
    assert not index.search('"spinal back"').results and not index.search('"spinal back"~2').results
    assert ids(index.search('"spinal back"~3')) == ["chiro"]
    assert not index.search('"back spinal"~3').results


def test_broken_query_notes(index: Any) -> None:
    assert any("quote" in n for n in index.search('"massage muscles').notes)
    assert any("parenthes" in n for n in index.search("(massage").notes)
    assert any("control" in n for n in index.search("mass\x00age").notes)
    assert any("cut" in n for n in index.search("massage " * 2000).notes)
    assert index.search('"massage muscles').total >= 1


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(list('ab "()*:-+^~\\\x00?treatmn') + ["AND", "OR", "NOT", "title:", "claim:", " massage "]), max_size=25).map("".join))
def test_fuzzed_queries_never_raise(index: Any, q: str) -> None:
    check_response(index.search(q))


def test_repair_query() -> None:
    assert repair_query('a "b')[0] == "a  b"
    assert repair_query("(a")[0] == "(a)"
    assert repair_query("a)")[0] == "a"
    assert repair_query("treatment: x")[0] == "treatment x"
    # a question mark ends a sentence; inside a word it is still the one-letter wildcard
    assert repair_query("does it help? really?!")[0] == "does it help really!"
    assert repair_query("cooked or sprouted ?")[0] == "cooked or sprouted"
    assert repair_query("wom?n")[0] == "wom?n"


def test_questions_search_their_words(index: Any) -> None:
    assert ids(index.search("massage?")) == ids(index.search("massage")) != []
    q = index.search("does yoga help stretching ?")
    assert ids(q)[0] == "yoga" and q.total == index.search("does yoga help stretching").total


def test_page_view_and_treatments(index: Any) -> None:
    page = index.page("massage")
    assert page.title == "Massage for back pain" and page.passages[0].claims[0].type == "efficacy"
    assert page.passages[0].claims[0] == Claim(text="Massage eased pain in a trial.", start=0, end=30, type="efficacy", types=("efficacy",), evidence="study", treatments=("massage",))
    assert page.to_dict()["passages"][0]["claims"][0]["type"] == "efficacy"
    assert index.page("../etc/passwd") is None and index.page("") is None
    t = {x.id: x for x in index.treatments()}
    assert t["ibuprofen"].parent == "nsaids" and t["massage"].passages >= 1 and t["medication"].passages == 0
    assert t["ibuprofen"].to_dict() == {"id": "ibuprofen", "label": "Ibuprofen", "parent": "nsaids", "passages": t["ibuprofen"].passages}


def test_result_fields_and_debug(index: Any) -> None:
    r = index.search("massage", debug=True)
    top = r.results[0]
    assert top.page_id == "massage" and top.passage_id.startswith("massage#") and top.url and top.treatments == ("massage",)
    assert top.claims and isinstance(top.claims[0], Claim) and top.claims[0].evidence == "study"
    assert r.to_dict()["results"][0]["claims"][0]["evidence"] == "study"
    assert any(n.startswith("parsed:") for n in r.notes) and r.took_ms > 0
    assert "massag" in index.parse("massage")
    d = r.to_dict()
    assert {"query", "total", "results", "facets", "suggestion", "notes", "took_ms"} <= set(d)


def test_refresh_is_cheap_when_nothing_changed(index: Any) -> None:
    import time

    t0 = time.perf_counter()
    for _ in range(200):
        assert index.refresh() is False
    assert (time.perf_counter() - t0) / 200 < 0.002


def test_threads_share_one_index(index: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    queries = ["massage", "yoga stretching", "backache", '"spinal manipulation"', "walking"] * 10
    expected = {q: ids(index.search(q)) for q in set(queries)}
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda q: (q, ids(index.search(q))), queries))
    assert all(expected[q] == r for q, r in got)


def test_field_terms_narrow_like_filters(corpus_index: Any) -> None:
    both = corpus_index.search("treatment:acupuncture claim:caution")
    assert both.filters == {"treatment": ("acupuncture",), "claim": ("caution",)}
    assert 0 < both.total < corpus_index.search("claim:caution").total
    for r in both.results:
        assert "caution" in {t for c in r.claims for t in (c.type, *c.types)}
    studied = corpus_index.search("evidence:study massage")
    assert studied.query == "massage"
    assert 0 < studied.total < corpus_index.search("massage").total
    for r in studied.results:
        assert "study" in {c.evidence for c in r.claims}


def test_explicit_operators_keep_field_terms_in_the_query() -> None:
    from indexer.search import lift_filters

    assert lift_filters("treatment:acupuncture OR claim:caution") == ("treatment:acupuncture OR claim:caution", {})
    assert lift_filters("-treatment:surgery back") == ("-treatment:surgery back", {})
    assert lift_filters("(treatment:a claim:b) x") == ("(treatment:a claim:b) x", {})
    assert lift_filters('treatment:"heat-cold-therapy" ice') == ("ice", {"treatment": ["heat-cold-therapy"]})


def test_scores_fall_with_rank(corpus_index: Any) -> None:
    for q in ("heat or ice for a strain", "massage sciatica spasm", "exercise"):
        for group in (None, "page"):
            scores = [r.score for r in corpus_index.search(q, per_page=20, group=group).results]
            assert scores == sorted(scores, reverse=True), (q, group, scores)



@pytest.mark.parametrize("fast", [True, False])
def test_related_words_add_passages_after_the_typed_ones(built_index: Path, fast: bool) -> None:
    idx = Index.open(built_index, settings=load_settings(env={}, index=built_index), ranking=Ranking(fast_path=fast))
    typed_only = Index.open(built_index, settings=load_settings(env={}, index=built_index), ranking=Ranking(fast_path=fast, feedback_expands_below=0))
    r = idx.search("yoga", per_page=50)
    base = typed_only.search("yoga", per_page=50)
    assert 2 <= base.total < Ranking().feedback_expands_below
    assert r.total > base.total  # passages found through related words only
    note = next(n for n in r.notes if "related words" in n)
    assert f"{base.total} passages match your words; {r.total - base.total} more" in note
    typed = {x.passage_id for x in base.results}
    flags = [x.passage_id in typed for x in r.results]
    # every passage the typed words match comes first, then the related-only ones
    assert flags == [True] * base.total + [False] * (r.total - base.total)
    related = [x for x, f in zip(r.results, flags) if not f]
    assert all("<mark>" in x.snippet for x in related)  # the related words they were found by
    # a query whose words match plenty is only re-ranked: same total, no note
    broad = idx.search("back pain", per_page=5)
    assert broad.total == typed_only.search("back pain", per_page=5).total
    assert not any("related words" in n for n in broad.notes)
    idx.close()
    typed_only.close()


# ---------------------------------------------------------------- files released on close


def _open_under(folder: Path) -> set[str]:
    """Files under folder this process holds open or mapped (Linux's /proc)."""
    held = {line.split(maxsplit=5)[-1].strip() for line in Path("/proc/self/maps").read_text().splitlines()}
    fd_dir = Path("/proc/self/fd")
    for fd in fd_dir.iterdir():
        try:
            held.add(str(fd.resolve()))
        except OSError:
            pass
    return {h for h in held if h.startswith(str(folder))}


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads Linux's /proc")
def test_close_and_generation_swap_release_files_without_garbage_collection(tmp_path: Path, corpus_dir: Path) -> None:
    import gc

    from indexer import store
    from indexer.pipeline import ingest

    root = tmp_path / "index"
    conf = load_settings(env={}, index=root)
    ingest([str(corpus_dir)], conf)
    gc.disable()  # reference counting alone must let the files go
    try:
        idx = Index.open(root, settings=conf)
        for q in ["back pain", "massage therapy", "stretching for stiffness", "heat or ice"]:
            assert idx.search(q).total > 0  # fills the fast-path and feedback caches
        first = store.live_dir(root)
        assert first is not None
        assert _open_under(first), "the searches should have the index open"
        ingest([str(corpus_dir)], conf, rebuild=True)
        assert idx.refresh() and store.live_dir(root) != first
        idx.search("massage")
        assert not _open_under(first), "the replaced generation is still held open"
        idx.close()
        assert not _open_under(root)
    finally:
        gc.enable()
