"""Hostile queries: thousands of generated queries against the Python API and the web app.

Random Unicode, query operators, field names (real, internal and unknown), control
characters, lone surrogates, 100 KB strings, odd filters and paging values. The API must
never raise and must answer a well-formed SearchResponse; the web app must never answer
5xx, and every 4xx must carry the error envelope naming the parameter.
"""

from __future__ import annotations

import json
import logging
import os
import re
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.config import load_settings
from indexer.model import SearchResponse
from test_security import assert_inert  # tokenizes HTML as a browser would

FIELDS = [
    "title", "text", "heading", "treatment", "condition", "claim", "evidence", "claims", "claim_type",
    "passage_id", "page_id", "url", "content_sha", "spell", "position", "page_meta", "claims_json",
    "nosuchfield", "TITLE", "Text", "_", "a-b", "ünï", "*", "",
]
OPERATORS = [
    "AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "and", "or", "not", "(", ")", "((", "))", '"', '""', "*", "?",
    "*?*", "~", "~2", "~99999", "^", "^3", "^-1", "^1e308", "^nan", ":", "::", "[", "]", "{", "}", "TO",
    "[a TO z]", "{* TO *}", "[0 TO 99999999999999999999]", "-", "+", "\\", "/", "/re.*gex/", "'", "&&",
    "||", "!", "<", ">", "=", "%", "@", "#", "$", "`", ";", ",", ".", "..", "…", "\u3000", "\u200b",
    "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "${7*7}", "{{7*7}}", "%s%n%x",
    "' OR 1=1 --", "../../etc/passwd", "\\x00", "NaN", "Infinity", "-0", "1e309",
]
WORDS = [
    "back", "pain", "massage", "heat", "cold", "ibuprofen", "sciatica", "stretching", "yoga", "disc",
    "spine", "lumbago", "backache", "nsaid", "acupuncture", "chiropractic", "surgery", "walking",
    "exercise", "posture", "relief", "lower", "muscle", "nerve", "therapy", "study", "the", "a",
]
CONTROL = [chr(c) for c in [*range(0, 32), 127, *range(0x80, 0xA0)]] + ["\u2028", "\u2029", "\ufeff", "\ufffe", "\uffff"]
SURROGATES = ["\ud800", "\udfff", "\ud83d", "\ude00"]

token = st.one_of(
    st.sampled_from(OPERATORS),
    st.sampled_from(WORDS),
    st.sampled_from(FIELDS).map(lambda f: f + ":"),
    st.tuples(st.sampled_from(FIELDS), st.sampled_from(WORDS + OPERATORS)).map(lambda t: f"{t[0]}:{t[1]}"),
    st.tuples(st.sampled_from(FIELDS), st.sampled_from(WORDS)).map(lambda t: f'{t[0]}:"{t[1]} {t[1]}"'),
    st.sampled_from(CONTROL),
    st.sampled_from(SURROGATES),
    st.text(max_size=12),
    st.text(alphabet=st.characters(min_codepoint=0x80, max_codepoint=0x10FFFF), max_size=8),
)
separator = st.sampled_from([" ", " ", " ", "", "\t", "\n", "\x00", "\u3000", "  "])


@st.composite
def queries(draw: Any) -> str:
    tokens = draw(st.lists(token, max_size=30))
    seps = draw(st.lists(separator, min_size=len(tokens), max_size=len(tokens)))
    q = "".join(t + s for t, s in zip(tokens, seps))
    if draw(st.integers(0, 19)) == 0:  # now and then: a long one, up to 100 KB and beyond
        q = (q or "pain ") * draw(st.integers(1, 100_000 // max(1, len(q) or 5) + 2))
    return q


filter_value = st.one_of(
    st.none(),
    st.sampled_from(["massage", "massage-therapy", "heat", "MASSAGE", "", " ", ",", ",,,", "a,b", "*", "efficacy", "study", "none"]),
    st.text(max_size=20),
    st.lists(st.text(max_size=10), max_size=4),
)
page_number = st.one_of(st.integers(-5, 5), st.integers(-(2**70), 2**70), st.sampled_from([None, "2", "x", 1.5]))
per_page_number = st.one_of(st.none(), st.integers(-5, 200), st.sampled_from([0, 10**9, "10", "ten"]))

ENTITY = re.compile(r"&(amp|lt|gt|quot|#x27|#39|#34|apos);")


def check_snippet(snippet: str) -> None:
    bare = snippet.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in bare and ">" not in bare, f"unescaped markup in snippet: {snippet[:200]!r}"
    assert "&" not in ENTITY.sub("", bare), f"bare & in snippet: {snippet[:200]!r}"
    assert snippet.count("<mark>") == snippet.count("</mark>")


def check_response(resp: Any, per_page_cap: int = 100) -> None:
    assert isinstance(resp, SearchResponse)
    d = resp.to_dict()
    json.dumps(d)  # serialisable
    assert isinstance(d["total"], int) and d["total"] >= 0
    assert d["page"] >= 1 and 1 <= d["per_page"] <= per_page_cap
    assert len(d["results"]) <= d["per_page"]
    assert d["total"] >= len(d["results"])
    for r in d["results"]:
        for key in ("page_id", "passage_id", "url", "title", "snippet", "score"):
            assert key in r
        assert isinstance(r["score"], (int, float)) and r["score"] == r["score"]  # not NaN
        check_snippet(r["snippet"])
    assert all(isinstance(n, str) for n in d["notes"])


HYPO = dict(deadline=None, database=None, suppress_health_check=list(HealthCheck), derandomize=False)
# RELIEF_FUZZ_SCALE=10 for a long run; the default keeps this file under a minute (~3,400 queries)
SCALE = float(os.environ.get("RELIEF_FUZZ_SCALE", "1"))


def n(examples: int) -> int:
    return max(10, int(examples * SCALE))


@pytest.fixture(scope="module")
def index(built_index: Any) -> Any:
    from indexer import Index

    ix = Index.open(built_index, settings=load_settings(env={}, index=built_index))
    yield ix
    ix.close()


@pytest.fixture(scope="module")
def app(built_index: Any) -> Any:
    from search_web import create_app

    application = create_app(load_settings(env={}, index=built_index))
    return application


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def client(app: Any) -> Any:
    handler = _Errors()
    app.logger.addHandler(handler)
    c = app.test_client()
    c.errors = handler  # type: ignore[attr-defined]
    yield c
    app.logger.removeHandler(handler)


def _explain(client: Any) -> str:
    import traceback

    recs = client.errors.records
    if not recs:
        return ""
    rec = recs[-1]
    return "".join(traceback.format_exception(*rec.exc_info)) if rec.exc_info else rec.getMessage()


# ---------------------------------------------------------------- the Python API


def test_known_query_has_results(index: Any) -> None:
    assert index.search("back pain").total > 0


@settings(max_examples=n(1200), **HYPO)
@given(q=queries())
def test_api_any_query_string(index: Any, q: str) -> None:
    resp = index.search(q)
    check_response(resp)
    assert len(resp.query) <= index.settings.max_query_chars


@settings(max_examples=n(300), **HYPO)
@given(q=queries(), page=page_number, per_page=per_page_number, group=st.sampled_from([None, "page", "PAGE", "x", ""]),
       treatment=filter_value, condition=filter_value, claim=filter_value, evidence=filter_value,
       flags=st.tuples(st.booleans(), st.booleans(), st.booleans(), st.booleans()))
def test_api_any_arguments(index: Any, q: str, page: Any, per_page: Any, group: Any, treatment: Any,
                           condition: Any, claim: Any, evidence: Any, flags: tuple[bool, ...]) -> None:
    resp = index.search(q, page=page, per_page=per_page, group=group, treatment=treatment, condition=condition,
                        claim=claim, evidence=evidence, facets=flags[0], snippets=flags[1], spell=flags[2], debug=flags[3])
    check_response(resp)


@settings(max_examples=n(400), **HYPO)
@given(q=queries())
def test_api_parse_never_raises(index: Any, q: str) -> None:
    assert isinstance(index.parse(q), str)


@pytest.mark.parametrize("q", [
    "x" * 100_000, "pain " * 20_000, "(" * 50_000, ")" * 50_000, '"' * 50_001, "*" * 10_000, "a*" * 5000,
    "title:" * 10_000, "NOT " * 10_000, "back~" * 5000, "\x00" * 100_000, "\ud800" * 1000, "𝔟𝔞𝔠𝔨 " * 10_000,
    "[a TO z] " * 1000, "a^1e308 b^-1e308", "text:* OR title:*", "*:*", "passage_id:*", "url:http*",
    "\ud800*", "text:\ud800*", "pain \ud800?", '"\udfff pain"~3', 'claim:"back pain"', 'spell:"back pain"',
    "(+a -b " * 40 + ")" * 40, "((+pain -back) (+ice -heat) " * 12 + ")" * 12, "?" * 999 + "a",
])
def test_api_extreme_queries(index: Any, q: str) -> None:
    check_response(index.search(q))


def test_api_results_survive_utf8(index: Any) -> None:
    """Whatever comes in, what goes out can be encoded for the wire."""
    resp = index.search("back \ud800 pain \udfff")
    json.dumps(resp.to_dict(), ensure_ascii=False).encode("utf-8")


# ---------------------------------------------------------------- through Flask


def _check_http(client: Any, resp: Any, where: str) -> None:
    assert resp.status_code < 500, f"{where} -> {resp.status_code}\n{_explain(client)}"
    assert "Traceback" not in resp.get_data(as_text=True)
    if resp.status_code >= 400:
        if resp.mimetype == "application/json":
            err = resp.get_json()["error"]
            assert err["status"] == resp.status_code and err["message"]
    elif resp.mimetype == "application/json" and resp.request.path == "/api/search":
        check_response_dict(resp.get_json())


def check_response_dict(d: dict[str, Any]) -> None:
    assert d["total"] >= len(d["results"]) >= 0
    for r in d["results"]:
        check_snippet(r["snippet"])


@settings(max_examples=n(800), **HYPO)
@given(q=queries(), extra=st.dictionaries(st.sampled_from(["page", "per_page", "group", "treatment", "condition", "claim", "evidence", "bogus", "q"]),
                                          st.text(max_size=15), max_size=3))
def test_flask_api_search(client: Any, q: str, extra: dict[str, str]) -> None:
    params = {"q": q, **{k: v for k, v in extra.items() if k != "q"}}
    qs = urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in params.items()})
    resp = client.get("/api/search?" + qs)
    _check_http(client, resp, f"/api/search?{qs[:300]}")


@settings(max_examples=n(300), **HYPO)
@given(q=queries())
def test_flask_html_search(client: Any, q: str) -> None:
    qs = urlencode({"q": q.encode("utf-8", "surrogatepass")})
    resp = client.get("/search?" + qs)
    _check_http(client, resp, f"/search?{qs[:300]}")
    if resp.mimetype == "text/html":
        assert_inert(resp.get_data(as_text=True), f"/search?{qs[:300]}")


@settings(max_examples=n(400), **HYPO)
@given(raw=st.binary(max_size=200), path=st.sampled_from(["/api/search", "/search", "/", "/api/claims", "/claims"]),
       name=st.sampled_from(["q", "treatment", "type", "page", "%ff", "q%00", "q[]"]))
def test_flask_raw_bytes_in_query_string(client: Any, raw: bytes, path: str, name: str) -> None:
    resp = client.get(f"{path}?{name}={quote(raw, safe='')}")
    _check_http(client, resp, f"{path}?{name}={quote(raw, safe='')[:300]}")


@pytest.mark.parametrize("path", [
    "/api/search?q=" + "x" * 100_000,
    "/search?q=" + "x" * 100_000,
    "/api/search?q=" + "%E2%82%AC" * 3000,
    "/api/search?" + "&".join(f"q{i}=x" for i in range(2000)),
    "/api/search?q=pain&" + "&".join("treatment=massage" for _ in range(500)),
])
def test_flask_oversized_query_refused(client: Any, path: str) -> None:
    resp = client.get(path)
    assert resp.status_code in (400, 413, 414), resp.status_code
    if path.startswith("/api/"):
        err = resp.get_json()["error"]
        assert err["message"]
