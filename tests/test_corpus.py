"""The bundled corpus, cleaned as one site: template text gone, article text kept whole."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from indexer.config import Settings
from indexer.pipeline import extract_paths

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
TEMPLATE_PAGE = CORPUS / "massage-therapy-for-back-pain.html"


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\xa0", " ")).strip().casefold()


@pytest.fixture(scope="module")
def pages():
    pages, errors = extract_paths([str(CORPUS)], Settings())
    assert errors == []
    return pages


@pytest.fixture(scope="module")
def template_text() -> dict[str, list[str]]:
    """The site template, read from one page's own semantic markup."""
    soup = BeautifulSoup(TEMPLATE_PAGE.read_text(encoding="utf-8"), "lxml")
    nav = [_norm(a.get_text()) for nav in soup.find_all("nav") for a in nav.find_all("a")]
    footer = [_norm(p.get_text()) for p in soup.find("footer").find_all(["p", "a"])]
    ad = [_norm(el.get_text()) for el in soup.select("[class*=ad-]")]
    script = [_norm(s.get_text())[:40] for s in soup.find_all("script") if s.get_text().strip()]
    assert nav and footer and ad and script
    return {"nav": nav, "footer": footer, "ad": ad, "script": script}


def test_every_corpus_page_is_read(pages):
    html = len(list(CORPUS.glob("*.html")))
    txt = len(list(CORPUS.glob("*.txt")))
    jsonl = sum(1 for line in (CORPUS / "export.jsonl").read_text(encoding="utf-8").splitlines() if line.strip())
    assert len(pages) == html + txt + jsonl >= 18


def test_no_template_text_in_any_passage(pages, template_text):
    for page in pages:
        for passage in page.passages:
            lines = {_norm(passage.text[s.start : s.end]) for s in passage.sentences}
            text = _norm(passage.text)
            for label in template_text["nav"]:
                assert label not in lines, (passage.passage_id, label)
            for chunk in template_text["footer"] + template_text["ad"] + template_text["script"]:
                if len(chunk) > 15:
                    assert chunk not in text, (passage.passage_id, chunk)


def test_titles_and_bylines_are_not_body_text(pages):
    for page in pages:
        assert page.title, page.source
        if page.byline:
            assert all(page.byline not in p.text for p in page.passages), page.source


def test_every_article_sentence_is_in_exactly_one_passage(pages):
    for page in pages:
        body = [b.text for b in page.blocks if b.kind != "heading"]
        assert " ".join(body).split() == " ".join(p.text for p in page.passages).split(), page.source
        for passage in page.passages:
            covered = " ".join(passage.text[s.start : s.end] for s in passage.sentences)
            assert covered.split() == passage.text.split(), passage.passage_id


def test_passages_are_40_to_250_words_where_the_page_allows(pages):
    sizes = [len(p.text.split()) for page in pages for p in page.passages]
    assert max(sizes) <= 300
    assert sum(40 <= n <= 250 for n in sizes) / len(sizes) >= 0.95


def test_windows_1252_page_keeps_its_curly_quotes(pages):
    page = next(p for p in pages if p.source.endswith("mind-over-back-pain.html"))
    assert re.search("[‘’“”–—]", page.text)
    assert "\ufffd" not in page.text


def test_seed_like_text_dump_loses_its_menus(pages, template_text):
    page = next(p for p in pages if p.source.endswith(".txt"))
    assert page.byline and page.title
    lines = {_norm(line) for line in page.text.splitlines()}
    assert not lines & set(template_text["nav"])
