"""The cleaner's tuning data (indexer/data/clean_rules.toml) loads and means what it says."""

from __future__ import annotations

import tomllib

from indexer.clean.rules import RULES_FILE, parse_rules, rules
from indexer.clean.walk import classify


def test_packaged_rules_load_with_sane_thresholds():
    r = rules()
    assert 0 < r.descend_share_hinted < r.descend_share <= 1
    assert 0 < r.link_density_max < 1
    assert r.template_min_pages >= 2
    assert "script" in r.skip_tags and "a" in r.inline_tags


def test_boilerplate_lines_match_whole_lines_only():
    r = rules()
    assert r.boilerplate.match("Advertisement")
    assert r.boilerplate.match("Read more: five ways to sleep better")
    assert not r.boilerplate.match("Advertisement spending on sleep aids doubled last year.")


def test_class_words_classify_and_can_be_changed_in_data():
    r = rules()
    assert classify("div", {"class": "site-footer"}, r) == (True, 0.0)
    assert classify("div", {"class": "twitter-tweet embed"}, r)[0] is False
    assert classify("div", {"class": "entry-content"}, r) == (False, 0.5)
    with RULES_FILE.open("rb") as fh:
        data = tomllib.load(fh)
    data["classes"]["chrome_words"] += " widgetbox"
    changed = parse_rules(data)
    assert classify("div", {"class": "widgetbox"}, changed)[0] is True
    assert classify("div", {"class": "widgetbox"}, r)[0] is False
