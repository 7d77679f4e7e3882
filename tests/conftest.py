"""Shared fixtures: the sample corpus ingested once per session, and small hand-made indexes.

`built_index` (session): Path of an index built from corpus/ through the real pipeline;
read-only by convention (tests that write make their own with `index_dir`).
`corpus_index` (session): an open `Index` over it.
`make_page(page_id, title, *paragraphs, treatments=..., ...)`: a Page with passages.
`build_index(path, pages)`: write pages into a fresh index folder and open it.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterable

import pytest

from indexer import passages as passages_mod
from indexer import store
from indexer.config import load_settings
from indexer.model import Block, Claim, Page

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return CORPUS


@pytest.fixture(scope="session")
def built_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample corpus ingested once into a temporary index (do not write to it)."""
    from indexer.pipeline import ingest

    path = tmp_path_factory.mktemp("corpus-index") / "index"
    report = ingest([str(CORPUS)], load_settings(env={}, index=path))
    assert report.added > 0, report.to_dict()
    return path


@pytest.fixture(scope="session")
def corpus_index(built_index: Path) -> Any:
    from indexer import Index

    index = Index.open(built_index, settings=load_settings(env={}, index=built_index))
    yield index
    index.close()


def make_page(
    page_id: str,
    title: str,
    *paragraphs: str,
    url: str = "",
    treatments: Iterable[str] = (),
    conditions: Iterable[str] = (),
    claims: Iterable[Claim] = (),
    headings: Iterable[str] = (),
) -> Page:
    """A page whose passages all carry the given knowledge tags (for store/search tests)."""
    blocks: list[Block] = [Block(h, "heading", 2) for h in headings]
    blocks += [Block(p) for p in paragraphs]
    sha = hashlib.sha256(("\n".join([title, *paragraphs, *treatments, *conditions])).encode()).hexdigest()
    page = Page(page_id=page_id, source=page_id, url=url or f"https://example.test/{page_id}", site="example.test", title=title, blocks=tuple(blocks), sha256=sha)
    page = passages_mod.split_passages(page)
    claims = tuple(claims)
    tagged = tuple(
        replace(p, treatments=tuple(treatments), conditions=tuple(conditions), claims=claims if i == 0 else ())
        for i, p in enumerate(page.passages)
    )
    return replace(page, passages=tagged)


def index_content(folder: str | Path) -> tuple[list[Any], dict[Any, Any], list[Any], list[Any]]:
    """Everything a search reads from one Whoosh index folder (stored fields, every posting,
    field lengths, sort columns), so two ways of writing an index can be compared whole."""
    from whoosh import index as whoosh_index

    ix = whoosh_index.open_dir(str(folder))
    with ix.reader() as r:
        stored = list(r.all_stored_fields())
        postings = {(f, t): list(r.postings(f, t).all_items()) for f, t in r.all_terms()}
        lengths = [(d, f, r.doc_field_length(d, f)) for d in r.all_doc_ids() for f in ("title", "heading", "text", "treatment")]
        columns = [list(r.column_reader(c)) for c in ("page_id", "position")]
    ix.close()
    return stored, postings, lengths, columns


def build_index(path: Path, pages: Iterable[Page], *, vocabulary: Any = None, synonyms: Any = None, **settings: Any) -> Any:
    from indexer import Index

    with store.open_writer(path) as writer:
        for page in pages:
            writer.put_page(page)
    return Index.open(path, settings=load_settings(env={}, index=path, **settings), vocabulary=vocabulary, synonyms=synonyms)


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    return tmp_path / "index"


@pytest.fixture(name="make_page")
def make_page_fixture() -> Any:
    return make_page


@pytest.fixture(name="build_index")
def build_index_fixture() -> Any:
    return build_index
