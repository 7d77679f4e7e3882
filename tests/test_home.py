"""The home page reads right for any health site: subject and examples come from the index."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from conftest import build_index, make_page
from indexer.config import load_settings
from indexer.search import Topic, Topics
from search_web import create_app
from search_web.present import GENERIC_SUBJECT, home_text

TEXT = "Regular sleep and fewer screens helped many readers with frequent headaches. " * 3


@pytest.fixture(scope="module")
def headache_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small index of another health site: migraine and tension headaches, no back pain."""
    path = tmp_path_factory.mktemp("headache") / "index"
    pages = [
        make_page(f"mig{i}", "Migraine care", TEXT, treatments=("acupuncture", "medication"), conditions=("migraine",))
        for i in range(4)
    ] + [make_page("tension", "Tension headache", TEXT, treatments=("massage-therapy",), conditions=("tension-headache",))]
    build_index(path, pages).close()
    return path


def home(index: Path, **settings: Any) -> str:
    app = create_app(load_settings(env={}, index=index, **settings))
    response = app.test_client().get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_topics_are_the_most_frequent_tags_most_first(headache_index: Path) -> None:
    from indexer import Index

    with Index.open(headache_index, settings=load_settings(env={}, index=headache_index)) as index:
        topics = index.topics(2)
    assert [t.id for t in topics.conditions] == ["migraine", "tension-headache"]
    assert [t.id for t in topics.treatments] == ["acupuncture", "medication"]
    assert topics.conditions[0].passages > topics.conditions[1].passages > 0


def test_home_page_of_another_site_names_its_own_subject(headache_index: Path) -> None:
    html = home(headache_index)
    subject = re.search(r'<h1 id="intro-title">([^<]+)</h1>', html)
    assert subject and "migraine" in subject.group(1).lower()
    assert "back pain" not in html.lower() and "back-pain" not in html.lower()
    examples = re.findall(r'<li><a href="/search\?q=([^"&]+)">', html)
    assert "acupuncture+for+migraine" in examples
    assert all("back" not in e for e in examples)


def test_subject_setting_wins(headache_index: Path) -> None:
    html = home(headache_index, subject="Headache Help: search our nurses' answers")
    assert "Headache Help: search our nurses&#39; answers" in html


def test_home_text_rules() -> None:
    t = Topics(
        treatments=(Topic("massage", "Massage", 9), Topic("yoga", "Yoga", 5)),
        conditions=(Topic("back-pain", "Back pain", 12), Topic("low-back", "Lower back pain", 8, ("back-pain",)),
                    Topic("copd", "COPD", 3)),
    )
    line, examples = home_text(t)
    assert line == "Search what health pages say about back pain and COPD"
    assert examples == ["massage for back pain", "yoga for lower back pain", "back pain", "lower back pain", "COPD"]
    assert home_text(Topics()) == (GENERIC_SUBJECT, [])
