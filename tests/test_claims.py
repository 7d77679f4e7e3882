"""The claims report: filters, tallies and contradictions across pages."""

import json

from indexer.search.claims_report import ClaimRecord, build_report
from indexer.knowledge import classify_sentence


def rec(sentence, page, context=()):
    claim = classify_sentence(sentence, context)
    assert claim is not None, sentence
    return ClaimRecord(claim=claim, page_id=page, passage_id=f"{page}#0", url=f"https://example.test/{page}", title=page.title())


def records():
    return [
        rec("Massage is more effective than chiropractic for muscle spasms.", "massage"),
        rec("Chiropractic is more effective than massage for muscle spasms.", "chiro"),
        rec("A large trial found that acupuncture was more effective than sham acupuncture.", "acu"),
        rec("A review of 20 trials found that acupuncture was no better than sham acupuncture.", "natural"),
        rec("Ibuprofen can cause stomach ulcers.", "meds"),
        rec("Acetaminophen works well for mild back pain.", "meds"),
        rec("Several studies suggest acetaminophen is no better than a placebo for back pain.", "relief"),
        rec("Stretching works as well as yoga for chronic back pain.", "stretch"),
        rec("Yoga is more effective than stretching for chronic back pain.", "yoga"),
        rec("Pilates is more effective than walking.", "pilates"),
        rec("Pilates is more effective than swimming.", "pilates2"),
    ]


def test_filter_by_treatment_includes_descendants():
    report = build_report(records(), treatment="medication")
    texts = [r.claim.text for r in report.claims]
    assert any("Ibuprofen" in t for t in texts)
    assert any("Acetaminophen" in t for t in texts)
    assert not any("Massage" in t for t in texts)
    assert set(report.summary) <= {"ibuprofen", "acetaminophen", "medication", "nsaids"}


def test_filter_by_name_or_synonym_and_type():
    report = build_report(records(), treatment="Physiotherapy")
    assert report.claims == []
    report = build_report(records(), treatment="NSAIDs", type="caution")
    assert [r.page_id for r in report.claims] == ["meds"]


def test_summary_counts_types_and_polarity():
    report = build_report(records(), treatment="acupuncture")
    s = report.summary["acupuncture"]
    assert s["claims"] == 2
    assert s["types"] == {"comparison": 2}
    assert s["polarity"] == {"positive": 1, "negative": 1}


def pairs(report):
    return {(c.kind, frozenset({c.a.page_id, c.b.page_id})) for c in report.contradictions}


def test_opposite_comparisons_contradict():
    report = build_report(records())
    assert ("comparison", frozenset({"massage", "chiro"})) in pairs(report)
    assert ("comparison", frozenset({"acu", "natural"})) in pairs(report)
    assert ("comparison", frozenset({"stretch", "yoga"})) in pairs(report)


def test_helps_versus_no_better_than_placebo():
    report = build_report(records())
    assert ("efficacy", frozenset({"meds", "relief"})) in pairs(report)


def test_unrelated_comparisons_do_not_contradict():
    report = build_report(records())
    assert not any({"pilates", "pilates2"} & {c.a.page_id, c.b.page_id} for c in report.contradictions)


def test_same_page_never_contradicts_itself():
    rs = [
        rec("Massage is more effective than chiropractic.", "one"),
        rec("Chiropractic is more effective than massage.", "one"),
    ]
    assert build_report(rs).contradictions == []


def test_to_dict_is_json_with_links():
    data = build_report(records(), treatment="acupuncture").to_dict()
    json.dumps(data)
    assert data["total"] == 2
    first = data["claims"][0]
    assert first["url"].startswith("https://") and first["passage_id"] and first["claim"]["type"]
    assert data["contradictions"][0]["a"]["claim"]["text"]
