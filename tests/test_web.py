"""The web app through Flask's test client: every route and parameter, errors, headers, XSS.

Searches run against the real index of corpus/ (`built_index` from conftest.py); the XSS
tests ingest tests/fixtures/web/xss, and a few tests write their own small index.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from indexer.config import load_settings
from indexer.model import Claim
from search_web import SECURITY_HEADERS, create_app
from search_web.indexes import EXTENSION, IndexProvider

XSS_FIXTURE = Path(__file__).resolve().parent / "fixtures" / "web" / "xss"
CSP = SECURITY_HEADERS["Content-Security-Policy"]


def make_client(index: Path, **overrides: Any) -> Any:
    app = create_app(load_settings(env={}, index=index, **overrides))
    app.testing = False  # real error handling, as in production
    return app.test_client()


@pytest.fixture(scope="module")
def client(built_index: Path) -> Any:
    return make_client(built_index)


@pytest.fixture(scope="module")
def xss_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from indexer.pipeline import ingest

    path = tmp_path_factory.mktemp("xss") / "index"
    report = ingest([str(XSS_FIXTURE)], load_settings(env={}, index=path))
    assert report.added == 3, report.to_dict()
    return path


@pytest.fixture(scope="module")
def xss_client(xss_index: Path) -> Any:
    return make_client(xss_index)


@pytest.fixture(scope="module")
def tagged_client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A small hand-made index whose passages carry treatments, conditions and claims."""
    from tests.conftest import build_index, make_page

    def claim(text: str, kind: str, polarity: str = "positive", evidence: str = "none", *treatments: str) -> Claim:
        return Claim(text=text, start=0, end=len(text), type=kind, polarity=polarity, evidence=evidence, treatments=treatments)

    m1 = "Massage therapy eased lower back pain for many people in a 2019 trial of six weeks."
    m2 = "Massage therapy did not beat exercise for chronic back pain in a larger review."
    h1 = "Heat therapy relaxes tight back muscles and eases pain after a long day."
    s1 = "Stretching the hamstrings helps back pain because tight hamstrings pull on the pelvis."
    n1 = "Ibuprofen and other NSAIDs ease back pain but can irritate the stomach."
    pages = [
        make_page("massage-a", "Massage for back pain", m1, "Ask your doctor before a deep massage.", treatments=("massage-therapy",), conditions=("lower-back-pain",), claims=[claim(m1, "efficacy", "positive", "study", "massage-therapy")]),
        make_page("massage-b", "Massage compared", m2, treatments=("massage-therapy", "exercise-therapy"), conditions=("chronic-back-pain",), claims=[claim(m2, "comparison", "negative", "study", "massage-therapy")]),
        make_page("heat", "Heat for back pain", h1, treatments=("heat-therapy",), conditions=("lower-back-pain",), claims=[claim(h1, "efficacy", "positive", "expert", "heat-therapy")]),
        make_page("stretch", "Stretching for back pain", s1, treatments=("stretching",), conditions=("lower-back-pain",), claims=[claim(s1, "mechanism", "positive", "none", "stretching")]),
        make_page("nsaids", "Pain relievers for back pain", n1, treatments=("nsaids",), claims=[claim(n1, "caution", "positive", "none", "nsaids")]),
    ]
    pages += [make_page(f"extra-{i}", f"Back pain note {i}", f"Back pain note number {i}: keep moving and stay active.") for i in range(6)]
    path = tmp_path_factory.mktemp("tagged") / "index"
    build_index(path, pages).close()
    return make_client(path)


def html_of(response: Any) -> str:
    assert response.mimetype == "text/html", response.mimetype
    return response.get_data(as_text=True)


def links(html: str, cls: str) -> list[str]:
    return [m.group(1).replace("&amp;", "&") for m in re.finditer(rf'<a[^>]*class="{cls}"[^>]*href="([^"]*)"', html)]


def assert_secure(response: Any) -> None:
    headers = response.headers
    assert headers["Content-Security-Policy"] == CSP
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and 'File "' not in body
    response.close()  # static files are streamed from an open file


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"status", "message", "parameter"}
    assert body["error"]["status"] == status
    assert body["error"]["message"]
    return body["error"]


# ------------------------------------------------------------------ search page


def test_home_is_the_empty_state_with_a_labelled_focused_search_box(client: Any) -> None:
    for url in ("/", "/search", "/search?q=", "/search?q=++"):
        r = client.get(url)
        assert r.status_code == 200
        html = html_of(r)
        assert '<label for="q"' in html
        assert re.search(r'<input id="q" name="q" type="search"[^>]*autofocus', html)
        assert 'role="search"' in html and 'method="get"' in html
        assert "<main" in html and "<header" in html and "<footer" in html and 'aria-label="Main"' in html
        assert "Try a search" in html and "/search?q=exercise+for+back+pain" in html
        assert "Search what health pages say about back pain" in html
        assert_secure(r)
    assert 'class="result"' not in html


def test_every_example_query_finds_something(client: Any) -> None:
    examples = re.findall(r'<li><a href="/search\?q=([^"&]+)">', html_of(client.get("/")))
    assert len(examples) >= 3
    for q in examples:
        assert client.get("/api/search", query_string={"q": q.replace("+", " ")}).get_json()["total"] > 0, q


def test_search_shows_ranked_highlighted_results_with_links(client: Any) -> None:
    r = client.get("/search?q=massage")
    html = html_of(r)
    assert r.status_code == 200
    assert 'value="massage"' in html  # the query is kept in the box
    assert "Results for “<span class=\"q\">massage</span>”" in html
    assert re.search(r"\d+ passages", html) and re.search(r"\d+ ms", html)
    assert "<mark>" in html
    titles = re.findall(r'<h2 class="result-title" id="r\d+"><a href="([^"]+)">', html)
    assert titles and all(t.startswith("/page/") for t in titles)
    assert 'rel="noopener noreferrer nofollow"' in html
    assert "https://backpain-relief.example/massage-therapy-for-back-pain.html" in html
    assert 'class="result-heading"' in html
    assert '<link rel="alternate" type="application/json" href="/api/search?q=massage">' in html


def test_results_are_ordered_as_the_index_ranks_them(client: Any) -> None:
    api = client.get("/api/search?q=stretching").get_json()
    html = html_of(client.get("/search?q=stretching"))
    shown = re.findall(r'<h2 class="result-title" id="r\d+"><a href="/page/([^"#]+)', html)
    assert shown == [r["page_id"] for r in api["results"]]


def test_facet_links_add_filters_shown_as_removable_chips(tagged_client: Any) -> None:
    client = tagged_client
    html = html_of(client.get("/search?q=back+pain"))
    assert "Refine results" in html and "<aside" in html
    facet_links = links(html, "facet-value")
    assert facet_links, "the tagged index gives facet values for 'back pain'"
    assert re.search(r'<h3 id="facet-treatment">Treatment</h3>', html) and 'id="facet-evidence"' in html
    assert re.search(r'<span class="count">\d+</span>', html)
    first = facet_links[0]
    params = dict(parse_qsl(urlsplit(first).query))
    (name,) = [k for k in params if k in ("treatment", "condition", "claim", "evidence")]
    filtered = client.get(first)
    assert filtered.status_code == 200
    fhtml = html_of(filtered)
    assert 'class="chip"' in fhtml and "Remove filter" in fhtml
    assert 'aria-current="true"' in fhtml
    chip = links(fhtml, "chip")[0]
    assert name not in dict(parse_qsl(urlsplit(chip).query))
    assert dict(parse_qsl(urlsplit(chip).query))["q"] == "back pain"
    api = client.get("/api" + first).get_json()
    assert api["filters"][name] == [params[name]]
    assert api["total"] <= client.get("/api/search?q=back+pain").get_json()["total"]


def test_two_filters_combine_and_clear_all_removes_both(tagged_client: Any) -> None:
    html = html_of(tagged_client.get("/search?q=pain&claim=efficacy&evidence=study"))
    assert html.count('class="chip"') == 2
    api = tagged_client.get("/api/search?q=pain&claim=efficacy&evidence=study").get_json()
    assert [r["page_id"] for r in api["results"]] == ["massage-a"]
    either = tagged_client.get("/api/search?q=pain&treatment=heat-therapy&treatment=nsaids").get_json()
    assert {r["page_id"] for r in either["results"]} == {"heat", "nsaids"}
    clear = links(html, "chip-clear")[0]
    assert clear == "/search?q=pain"


def test_group_by_page_toggle(client: Any) -> None:
    html = html_of(client.get("/search?q=massage"))
    toggles = re.findall(r'<a href="([^"]+)"( aria-current="true")?>(All passages|Best passage per page)</a>', html)
    assert [(t[2], bool(t[1])) for t in toggles] == [("All passages", True), ("Best passage per page", False)]
    grouped = html_of(client.get(toggles[1][0].replace("&amp;", "&")))
    assert re.search(r'aria-current="true">Best passage per page', grouped)
    assert '<input type="hidden" name="group" value="page">' in grouped
    api = client.get("/api/search?q=massage&group=page").get_json()
    ids = [r["page_id"] for r in api["results"]]
    assert api["group"] == "page" and len(ids) == len(set(ids))


def test_pagination_links_follow_pages(client: Any) -> None:
    html = html_of(client.get("/search?q=back+pain&per_page=3"))
    assert 'aria-label="Result pages"' in html
    nxt = re.search(r'<a rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert dict(parse_qsl(urlsplit(nxt).query)) == {"q": "back pain", "per_page": "3", "page": "2"}
    page2 = html_of(client.get(nxt))
    assert 'rel="prev"' in page2 and 'aria-current="page"' in page2
    assert '<ol class="result-list" start="4">' in page2
    first = client.get("/api/search?q=back+pain&per_page=3").get_json()
    second = client.get(nxt.replace("/search", "/api/search")).get_json()
    assert second["page"] == 2 and not {r["passage_id"] for r in first["results"]} & {r["passage_id"] for r in second["results"]}


def test_page_past_the_end_is_an_empty_state_not_an_error(client: Any) -> None:
    r = client.get("/search?q=massage&page=999")
    assert r.status_code == 200
    html = html_of(r)
    assert 'id="no-results"' in html and "There are only" in html and "first page of results" in html
    assert "No pages match" not in html


def test_no_results_state(client: Any) -> None:
    r = client.get("/search?q=xylophonequartz")
    html = html_of(r)
    assert r.status_code == 200
    assert 'id="no-results"' in html and "No pages match" in html
    assert "xylophonequartz" in html


def test_did_you_mean_links_to_the_suggestion(client: Any) -> None:
    api = client.get("/api/search?q=masage").get_json()
    assert api["suggestion"], "the index should suggest a spelling for 'masage'"
    html = html_of(client.get("/search?q=masage"))
    m = re.search(r'(?:Did you mean|Showing results for) <a href="([^"]+)" class="suggestion">([^<]+)</a>', html)
    assert m and m.group(2) == api["suggestion"]
    assert dict(parse_qsl(urlsplit(m.group(1).replace("&amp;", "&")).query))["q"] == api["suggestion"]


@pytest.mark.parametrize("q", ['"unclosed phrase', "treatment:", "((back pain", "AND OR NOT", "title:(", "*", "~~~", "\\"])
def test_queries_that_cannot_be_parsed_get_a_friendly_page(client: Any, q: str) -> None:
    r = client.get("/search", query_string={"q": q})
    assert r.status_code == 200
    assert_secure(r)
    api = client.get("/api/search", query_string={"q": q})
    assert api.status_code == 200 and isinstance(api.get_json()["notes"], list)


def test_notes_from_the_index_are_shown(client: Any) -> None:
    api = client.get("/api/search", query_string={"q": '"unclosed phrase'}).get_json()
    html = html_of(client.get("/search", query_string={"q": '"unclosed phrase'}))
    assert api["notes"], "an unclosed phrase is repaired with a note"
    assert '<p class="note" role="status">' in html


def test_filters_without_a_query_browse_the_index(tagged_client: Any) -> None:
    r = tagged_client.get("/search?treatment=heat-therapy")
    html = html_of(r)
    assert r.status_code == 200 and "Filtered results" in html
    assert tagged_client.get("/api/search?treatment=heat-therapy").get_json()["total"] >= 1


def test_result_badges_show_treatments_and_claim_types(tagged_client: Any) -> None:
    html = html_of(tagged_client.get("/search?q=massage"))
    assert re.search(r'<li class="badge badge-treatment"><span class="visually-hidden">Treatment: </span>[^<]+</li>', html)
    assert '<li class="badge badge-claim claim-efficacy"><span class="visually-hidden">Claim: </span>Efficacy</li>' in html


def test_active_filter_with_no_hits_can_still_be_removed(tagged_client: Any) -> None:
    html = html_of(tagged_client.get("/search?q=heat&treatment=nsaids"))
    assert 'id="no-results"' in html and "Search again without filters" in html
    assert 'class="facet-value is-active"' in html and 'class="chip"' in html


# ------------------------------------------------------------------ page view


def test_page_view_shows_passages_and_source(client: Any) -> None:
    result = client.get("/api/search?q=massage").get_json()["results"][0]
    r = client.get(f"/page/{result['page_id']}")
    html = html_of(r)
    assert r.status_code == 200
    assert f"<h1 id=\"page-title\">{result['title']}</h1>" in html
    assert html.count('class="passage"') >= 1
    assert f'id="passage-{result["passage_id"].rsplit("#", 1)[1]}"' in html
    assert f'href="{result["url"]}" rel="noopener noreferrer nofollow"' in html
    assert 'aria-label="Breadcrumb"' in html
    api = client.get(f"/api/pages/{result['page_id']}").get_json()["page"]
    assert api["page_id"] == result["page_id"] and api["passages"]


def test_unknown_page_is_a_friendly_404(client: Any) -> None:
    for url in ("/page/no-such-page", "/page/../../etc/passwd", "/page/%2e%2e/%2e%2e/etc/passwd", "/page/a/b/c"):
        r = client.get(url)
        assert r.status_code == 404, url
        html = html_of(r)
        assert "Page not found" in html and "root:" not in html
        assert_secure(r)
    err = error_of(client.get("/api/pages/no-such-page"), 404)
    assert "no page" in err["message"].lower()
    error_of(client.get("/api/pages/..%2f..%2fetc%2fpasswd"), 404)


def test_page_ids_with_slashes_are_looked_up(xss_client: Any) -> None:
    html = html_of(xss_client.get("/search?q=walking"))
    assert 'href="/page/nested/deep-page#passage-0"' in html
    r = xss_client.get("/page/nested/deep-page")
    assert r.status_code == 200 and "Walking for Back Pain" in html_of(r)
    assert xss_client.get("/api/pages/nested/deep-page").get_json()["page"]["page_id"] == "nested/deep-page"


def test_page_view_marks_claims_by_type(tmp_path: Path, build_index: Any, make_page: Any) -> None:
    text = "Massage therapy relieves lower back pain for many people in the short term. It is safe for most adults."
    claim = Claim(text=text[:74], start=0, end=74, type="efficacy", polarity="positive", evidence="study", treatments=("massage-therapy",))
    page = make_page("guides/massage", "Massage <b>guide</b>", text, treatments=("massage-therapy",), claims=[claim])
    build_index(tmp_path / "index", [page]).close()
    c = make_client(tmp_path / "index")
    html = html_of(c.get("/page/guides/massage"))
    assert '<mark class="claim claim-efficacy"><span class="claim-tag">Efficacy</span> Massage therapy relieves' in html
    assert "Massage &lt;b&gt;guide&lt;/b&gt;" in html
    assert "1 claim marked" in html and "Cites a study" in html


# ------------------------------------------------------------------ claims browser


@pytest.fixture(scope="module")
def claims_client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from tests.conftest import build_index, make_page

    yes = "Massage therapy reduces lower back pain in the short term, a 2019 trial found."
    no = "Massage therapy does not reduce lower back pain more than rest, a review found."
    warn = "Avoid deep massage therapy if you take blood thinners."
    pages = [
        make_page("pro", "Massage works", yes, treatments=("massage-therapy",), claims=[
            Claim(text=yes, start=0, end=len(yes), type="efficacy", polarity="positive", evidence="study", treatments=("massage-therapy",))]),
        make_page("con", "Massage doubts <script>x</script>", no, treatments=("massage-therapy",), claims=[
            Claim(text=no, start=0, end=len(no), type="efficacy", polarity="negative", evidence="study", treatments=("massage-therapy",))]),
        make_page("warn", "Massage safety", warn, treatments=("massage-therapy",), claims=[
            Claim(text=warn, start=0, end=len(warn), type="caution", polarity="positive", evidence="none", treatments=("massage-therapy",))]),
    ]
    path = tmp_path_factory.mktemp("claims") / "index"
    build_index(path, pages).close()
    return make_client(path)


def test_claims_page_lists_treatments_to_pick(client: Any) -> None:
    r = client.get("/claims")
    html = html_of(r)
    assert r.status_code == 200
    assert '<label for="treatment">Treatment</label>' in html and '<select id="treatment" name="treatment">' in html
    assert "Pick a treatment" in html
    assert '<link rel="alternate" type="application/json" href="/api/claims">' in html


def test_claims_for_a_treatment_grouped_by_type_and_polarity(claims_client: Any) -> None:
    r = claims_client.get("/claims?treatment=massage-therapy")
    html = html_of(r)
    assert r.status_code == 200
    assert 'id="type-efficacy"' in html and 'id="type-caution"' in html
    assert html.index('id="type-efficacy"') < html.index('id="type-caution"')
    assert "In favour" in html and "Against" in html
    assert "a 2019 trial found" in html and "Cites a study" in html
    assert 'href="/page/pro#passage-0"' in html
    assert "Massage doubts &lt;script&gt;" in html and "<script>x" not in html


def test_contradicting_claims_side_by_side(claims_client: Any) -> None:
    data = claims_client.get("/api/claims?treatment=massage-therapy").get_json()
    assert data["treatment"] == "massage-therapy"
    assert data["report"].get("contradictions"), "the fixture pages contradict each other"
    html = html_of(claims_client.get("/claims?treatment=massage-therapy"))
    assert 'id="contradictions"' in html and 'class="pair"' in html


def test_claims_type_filter(claims_client: Any) -> None:
    html = html_of(claims_client.get("/claims?treatment=massage-therapy&type=caution"))
    assert 'id="type-caution"' in html and 'id="type-efficacy"' not in html


def test_claims_errors(client: Any) -> None:
    r = client.get("/claims?treatment=not-a-treatment-we-know")
    assert r.status_code == 404 and "pick one from the list" in html_of(r)
    assert client.get("/claims?type=rumour").status_code == 400
    assert error_of(client.get("/api/claims?type=rumour"), 400)["parameter"] == "type"
    assert error_of(client.get("/api/claims?treatment=<script>"), 400)["parameter"] == "treatment"
    assert error_of(client.get("/api/claims?treatment=not-known-here"), 404)["parameter"] == "treatment"


# ------------------------------------------------------------------ JSON API


def test_api_search_returns_the_search_response(client: Any) -> None:
    r = client.get("/api/search?q=massage&per_page=3")
    assert r.status_code == 200 and r.mimetype == "application/json"
    data = r.get_json()
    assert list(data) == ["query", "total", "page", "per_page", "pages", "group", "filters", "took_ms", "suggestion", "notes", "facets", "results"]
    assert data["query"] == "massage" and data["per_page"] == 3 and len(data["results"]) <= 3
    assert set(data["facets"]) >= {"treatment", "condition", "claim", "evidence"}
    result = data["results"][0]
    assert {"page_id", "passage_id", "url", "title", "heading", "score", "snippet", "treatments", "claims", "more_on_page"} <= set(result)
    assert r.headers["Cache-Control"] == "no-store"
    assert_secure(r)


def test_api_search_needs_a_query_or_filter(client: Any) -> None:
    assert error_of(client.get("/api/search"), 400)["parameter"] == "q"
    r = client.get("/api/search?claim=efficacy")
    assert r.status_code == 200 and r.get_json()["filters"]["claim"] == ["efficacy"]


def test_api_treatments_and_healthz(client: Any) -> None:
    data = client.get("/api/treatments").get_json()
    assert isinstance(data["treatments"], list)
    assert all({"id", "label"} <= set(t) for t in data["treatments"])
    health = client.get("/healthz")
    assert health.status_code == 200
    body = health.get_json()
    assert body["status"] == "ok" and body["index"]["pages"] > 0 and body["index"]["passages"] > 0
    assert body["settings"]["max_query_chars"] == 1000


def test_api_claims_without_treatment_is_the_whole_report(client: Any) -> None:
    data = client.get("/api/claims").get_json()
    assert data["treatment"] is None and isinstance(data["report"], dict)


# ------------------------------------------------------------------ parameter errors


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("q=x&page=abc", "page"),
        ("q=x&page=0", "page"),
        ("q=x&page=-1", "page"),
        ("q=x&page=100000", "page"),
        ("q=x&per_page=10000", "per_page"),
        ("q=x&per_page=0", "per_page"),
        ("q=x&per_page=ten", "per_page"),
        ("q=x&group=foo", "group"),
        ("q=x&claim=rumour", "claim"),
        ("q=x&evidence=anecdote", "evidence"),
        ("q=x&treatment=%3Cscript%3E", "treatment"),
        ("q=x&condition=a%20b", "condition"),
        ("q=x&sort=date", "sort"),
        ("q=x&q=y", "q"),
        ("q=x&page=1&page=2", "page"),
        ("q=x&q%00=1", "q\x00"),
    ],
)
def test_bad_parameters_get_a_400_naming_them(client: Any, query: str, parameter: str) -> None:
    err = error_of(client.get("/api/search?" + query), 400)
    assert err["parameter"] == parameter
    assert repr(parameter)[1:-1] in err["message"] or parameter in err["message"]
    r = client.get("/search?" + query)
    assert r.status_code == 400
    html = html_of(r)
    assert "That search can’t be run" in html
    assert_secure(r)


def test_query_length_is_capped(client: Any) -> None:
    ok = client.get("/api/search", query_string={"q": "a" * 1000})
    assert ok.status_code == 200
    err = error_of(client.get("/api/search", query_string={"q": "a" * 1001}), 400)
    assert err["parameter"] == "q" and "limit is 1,000" in err["message"]
    r = client.get("/search", query_string={"q": "b" * 1001})
    assert r.status_code == 400 and "limit is 1,000" in html_of(r)


def test_query_length_cap_follows_settings(built_index: Path) -> None:
    c = make_client(built_index, max_query_chars=20)
    assert c.get("/api/search", query_string={"q": "x" * 21}).status_code == 400
    assert c.get("/api/search", query_string={"q": "x" * 20}).status_code == 200


def test_huge_urls_get_414(client: Any) -> None:
    err = error_of(client.get("/api/search?q=x&" + "a" * 9000), 414)
    assert "8 KB" in err["message"]
    r = client.get("/search?q=" + "y" * 9000)
    assert r.status_code == 414 and "Address too long" in html_of(r)


def test_unknown_routes_and_methods(client: Any) -> None:
    r = client.get("/nope")
    assert r.status_code == 404 and "Page not found" in html_of(r)
    assert_secure(r)
    error_of(client.get("/api/nope"), 404)
    for url in ("/search", "/api/search", "/healthz", "/page/x"):
        r = client.post(url, data={"q": "x"})
        assert r.status_code == 405
        assert "GET" in r.headers["Allow"]
        assert_secure(r)
    error_of(client.delete("/api/search"), 405)


def test_no_admin_or_reindex_endpoint(client: Any) -> None:
    for url in ("/admin", "/api/ingest", "/api/reindex", "/ingest", "/api/admin"):
        assert client.get(url).status_code == 404
        assert client.post(url).status_code in (404, 405)


def test_unexpected_errors_are_a_generic_500(built_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(load_settings(env={}, index=built_index))

    class Exploding:
        def refresh(self) -> None:
            pass

        def search(self, *a: Any, **k: Any) -> Any:
            raise RuntimeError("secret internal detail /etc/shadow")

        run = page = claims = treatments = stats = search

    app.extensions[EXTENSION] = IndexProvider(app.config["RELIEF_SETTINGS"], opener=Exploding)
    c = app.test_client()
    for url in ("/search?q=x", "/page/x", "/claims"):
        r = c.get(url)
        assert r.status_code == 500
        assert "secret internal detail" not in r.get_data(as_text=True)
        assert "Something went wrong" in html_of(r)
        assert_secure(r)
    err = error_of(c.get("/api/search?q=x"), 500)
    assert "secret" not in err["message"]


# ------------------------------------------------------------------ security headers, static files


@pytest.mark.parametrize(
    "url",
    ["/", "/search?q=massage", "/claims", "/api/search?q=x", "/api/treatments", "/healthz", "/static/style.css",
     "/static/search.js", "/static/missing.css", "/nope", "/api/search?page=x", "/page/missing"],
)
def test_security_headers_on_every_response(client: Any, url: str) -> None:
    assert_secure(client.get(url))


def test_pages_have_no_inline_script_or_style(client: Any) -> None:
    for url in ("/", "/search?q=massage", "/claims", "/page/massage-therapy-for-back-pain", "/nope"):
        html = client.get(url).get_data(as_text=True)
        assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/search.js" defer>']
        assert " style=" not in html and "<style" not in html
        assert not re.search(r"\son[a-z]+=", html), url


def test_static_files_are_served(client: Any) -> None:
    with client.get("/static/style.css") as css:
        assert css.status_code == 200 and css.mimetype == "text/css" and ":focus-visible" in css.get_data(as_text=True)
    with client.get("/static/search.js") as js:
        assert js.status_code == 200 and "javascript" in js.mimetype


# ------------------------------------------------------------------ missing index, refresh


def test_missing_index_is_a_clear_503_then_picked_up_without_restart(tmp_path: Path) -> None:
    from indexer.pipeline import ingest

    index = tmp_path / "index"
    c = make_client(index)
    for url in ("/", "/search?q=walking", "/page/x", "/claims"):
        r = c.get(url)
        assert r.status_code == 503, url
        html = html_of(r)
        assert "No index yet" in html and "relief ingest corpus" in html
        assert_secure(r)
    for url in ("/api/search?q=walking", "/api/treatments", "/api/pages/x", "/api/claims", "/healthz"):
        assert "relief ingest corpus" in error_of(c.get(url), 503)["message"]

    ingest([str(XSS_FIXTURE / "nested")], load_settings(env={}, index=index))
    assert c.get("/healthz").status_code == 200
    assert c.get("/api/search?q=walking").get_json()["total"] >= 1


def test_newly_committed_pages_are_searchable_without_restart(tmp_path: Path) -> None:
    from indexer.pipeline import ingest

    index = tmp_path / "index"
    settings = load_settings(env={}, index=index)
    ingest([str(XSS_FIXTURE / "nested")], settings)
    c = make_client(index)
    assert c.get("/api/search?q=hamstrings").get_json()["total"] == 0
    ingest([str(XSS_FIXTURE / "hostile-page.html")], settings)
    assert c.get("/api/search?q=hamstrings").get_json()["total"] >= 1


# ------------------------------------------------------------------ create_app


def test_create_app_takes_settings_a_mapping_or_nothing(built_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app({"index": str(built_index), "per_page": 4})
    assert app.config["RELIEF_SETTINGS"].per_page == 4
    assert len(app.test_client().get("/api/search?q=pain").get_json()["results"]) == 4
    monkeypatch.setenv("RELIEF_INDEX", str(built_index))
    assert create_app().config["RELIEF_SETTINGS"].index == built_index


# ------------------------------------------------------------------ XSS


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def assert_inert(html: str) -> None:
    """Tokenize the page as a browser would: no tag or attribute came from page or query text."""
    parser = _Tags()
    parser.feed(html)
    for tag, attrs in parser.tags:
        assert tag not in ("img", "svg", "iframe", "object", "embed"), (tag, attrs)
        if tag == "script":
            assert attrs == [("src", "/static/search.js"), ("defer", None)], attrs
        for name, value in attrs:
            assert not name.startswith("on"), (tag, attrs)
            if name in ("href", "src", "action", "formaction", "xlink:href"):
                assert not (value or "").strip().lower().startswith("javascript:"), (tag, attrs)


def test_xss_in_pages_renders_as_text_in_results(xss_client: Any) -> None:
    for q in ("stretching script", "heat", "hamstrings onerror"):
        html = html_of(xss_client.get("/search", query_string={"q": q}))
        assert_inert(html)
    html = html_of(xss_client.get("/search", query_string={"q": "stretching"}))
    assert "Stretching &lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt; for Back Pain" in html
    assert "&lt;img src=x onerror=alert(&#34;heading&#34;)&gt;" in html


def test_javascript_source_urls_are_text_not_links(xss_client: Any) -> None:
    html = html_of(xss_client.get("/search?q=heat"))
    assert 'href="javascript:' not in html.lower()
    assert '<span class="source source-plain">javascript:alert(document.cookie)</span>' in html
    page = html_of(xss_client.get("/page/hostile-record"))
    assert 'href="javascript:' not in page.lower() and "source-plain" in page
    # file:// sources of local files are shown, not linked, too
    local = html_of(xss_client.get("/page/hostile-page"))
    assert 'href="file:' not in local and "source-plain" in local


@pytest.mark.parametrize(
    "q",
    ['<script>alert("q")</script>', '"><img src=x onerror=alert(1)>', "' onmouseover='alert(2)", "javascript:alert(3)", "</title><svg onload=alert(4)>"],
)
def test_xss_in_queries_is_inert(xss_client: Any, q: str) -> None:
    r = xss_client.get("/search", query_string={"q": q})
    assert r.status_code == 200
    assert_inert(html_of(r))
    api = xss_client.get("/api/search", query_string={"q": q})
    raw = api.get_data(as_text=True)
    assert "<" not in raw and ">" not in raw
    assert api.get_json()["query"] == q
    err = xss_client.get("/api/search", query_string={"q": q, "page": q})
    assert "<" not in err.get_data(as_text=True) and err.status_code == 400
    bad = xss_client.get("/search", query_string={"q": "x", "group": q})
    assert bad.status_code == 400 and "<script>" not in bad.get_data(as_text=True) and "<img" not in bad.get_data(as_text=True)


def test_xss_in_page_view_is_inert(xss_client: Any) -> None:
    for page_id in ("hostile-page", "hostile-record"):
        html = html_of(xss_client.get(f"/page/{page_id}"))
        assert_inert(html)
    html = html_of(xss_client.get("/page/hostile-page"))
    assert "&lt;script&gt;alert(&#34;xss-body&#34;)&lt;/script&gt;" in html
    assert "head-script" not in html and "body-script" not in html  # the cleaner dropped real scripts


def test_xss_in_json_is_escaped_but_round_trips(xss_client: Any) -> None:
    for url in ("/api/search?q=stretching+script", "/api/pages/hostile-page", "/api/pages/hostile-record", "/api/search?q=heat"):
        r = xss_client.get(url)
        raw = r.get_data(as_text=True)
        assert r.mimetype == "application/json"
        assert "<" not in raw and ">" not in raw, url
        assert "\\u003cscript\\u003e" in raw or "\\u003csvg" in raw or "\\u003cmark\\u003e" in raw
        json.loads(raw)
    page = xss_client.get("/api/pages/hostile-page").get_json()["page"]
    assert '<script>alert("xss-body")</script>' in page["passages"][0]["text"]


def test_snippets_only_keep_mark_tags() -> None:
    from search_web.present import safe_snippet

    assert str(safe_snippet("a <mark>b</mark> &lt;script&gt;")) == "a <mark>b</mark> &lt;script&gt;"
    assert str(safe_snippet("<script>alert(1)</script><mark>x")) == "&lt;script&gt;alert(1)&lt;/script&gt;<mark>x</mark>"
    assert str(safe_snippet("</mark><MARK>y</mark></mark>")) == "<mark>y</mark>"
    assert str(safe_snippet('<mark onclick="x">z</mark>')) == "&lt;mark onclick=&#34;x&#34;&gt;z"


def test_the_app_warms_new_commits_beside_its_searches(built_index: Path) -> None:
    app = create_app(load_settings(env={}, index=built_index))
    index = app.extensions[EXTENSION].get()
    try:
        assert index.background_warm  # a search never waits for a whole warm-up
    finally:
        index.close()
