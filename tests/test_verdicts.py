"""A page's position on a treatment: sentence readings, negation and scope, the verdict rules.

The sentences are written for these tests; none is taken from a dev page.
"""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from indexer import verdicts
from indexer.knowledge import annotate
from indexer.model import Page
from indexer.passages import blocks_from_text, split_passages


def page(text: str, title: str = "") -> Page:
    raw = Page(page_id="p", source="p.txt", url="", site="s", title=title, blocks=blocks_from_text(text))
    return annotate(split_passages(raw))


def reading(sentence: str, target: str) -> verdicts.Reading:
    line = verdicts._lines(Page("p", "", "", "", title=sentence), verdicts.load_vocabulary())[0]
    return verdicts.read_sentence(sentence, verdicts.phrase_finder(target)(line))


# -- negation and scope ------------------------------------------------------------------


@pytest.mark.parametrize(
    "sentence, target",
    [
        ("Acupuncture has not been shown to help back pain.", "acupuncture"),
        ("In trials TENS was no better than sham.", "TENS"),
        ("There is little evidence that cranberries prevent bladder infections.", "cranberries"),
        ("Traction does not relieve sciatica.", "traction"),
        ("Laetrile is ineffective and can be toxic.", "laetrile"),
        ("Researchers found no benefit from back belts.", "back belts"),
        ("Vitamin pills failed to reduce seizures.", "vitamin pills"),
    ],
)
def test_negation_reads_negative(sentence, target):
    assert reading(sentence, target).polarity == -1


@pytest.mark.parametrize(
    "sentence, target",
    [
        ("Yoga not only eases pain but also improves sleep.", "yoga"),
        ("Studies show that cranberries reduce the risk of infection.", "cranberries"),
        ("Insoles are not harmful and they help the heel.", "insoles"),
    ],
)
def test_positive_and_non_negations(sentence, target):
    assert reading(sentence, target).polarity == 1


@pytest.mark.parametrize(
    "sentence, target",
    [
        ("Massage helps, but only in the short term.", "massage"),
        ("Spinal manipulation helps for acute but not chronic pain.", "spinal manipulation"),
        ("The evidence on melatonin is mixed.", "melatonin"),
    ],
)
def test_scope_limits_a_claim(sentence, target):
    assert reading(sentence, target).limited


@pytest.mark.parametrize(
    "sentence, target",
    [
        # words whose stems collide with a cue: "lower back", "back to work", "depending on",
        # "trigger points", "lack of concentration", "critical"
        ("Insoles are worn by people with lower back pain who work standing up.", "insoles"),
        ("Traction costs between 50 and 100 dollars, depending on the clinic.", "traction"),
        ("Massage works on trigger points in the lower back.", "massage"),
        ("Valerian is taken for lack of concentration and stress.", "valerian"),
        ("Dehumidifiers are critical equipment in humid basements.", "dehumidifiers"),
    ],
)
def test_everyday_words_are_not_cues(sentence, target):
    assert reading(sentence, target).polarity == 0


@pytest.mark.parametrize(
    "sentence, target",
    [
        # "effect" shares its stem with "effective" but praises nothing
        ("Traction has side effects such as dizziness.", "traction"),
        ("Heat wraps have a negligible effect on sciatica.", "heat wraps"),
        ("Back belts offer little benefit to warehouse workers.", "back belts"),
        # giving it up: "stop", "avoid", "cut down on" before the treatment
        ("Doctors strongly recommend that you stop taking codeine after a week.", "codeine"),
        ("It helps to cut down on coffee when migraines start.", "coffee"),
        # a comparison speaks for what comes first
        ("Exercise was superior to bed rest in every trial.", "bed rest"),
        ("Physiotherapy works better than traction for sciatica.", "traction"),
        # rarely, seldom, impossible: negators too
        ("Opioids are rarely helpful for long-standing back pain.", "opioids"),
    ],
)
def test_against_the_treatment(sentence, target):
    assert reading(sentence, target).polarity == -1


@pytest.mark.parametrize(
    "sentence, target",
    [
        ("Exercise was superior to bed rest in every trial.", "exercise"),
        ("Swimming helps you stop worrying about your back.", "swimming"),
        ("Insoles are effective for heel pain.", "insoles"),
    ],
)
def test_for_the_treatment(sentence, target):
    assert reading(sentence, target).polarity == 1


@pytest.mark.parametrize(
    "sentence, target",
    [
        # "non", "less" turn only the word right after them
        ("Non-steroidal anti-inflammatory drugs reduce acute back pain.", "anti-inflammatory drugs"),
        ("Non-surgical care such as physiotherapy helps most people with sciatica.", "physiotherapy"),
        ("Arnica cream is non-toxic.", "arnica cream"),
        ("Heat wraps were less painful and more effective than ice packs.", "heat wraps"),
    ],
)
def test_prefix_negators_reach_one_word(sentence, target):
    assert reading(sentence, target).polarity == 1


def test_reducing_a_risk_is_not_a_harm():
    assert reading("Cranberries reduce the risk of bladder infections.", "cranberries").polarity == 1


def test_negation_stays_in_its_clause():
    # the negation belongs to the other treatment's clause
    r = reading("Antibiotics did not help, but cranberries cleared the infection.", "cranberries")
    assert r.polarity == 0 or r.polarity == 1
    r = reading("Cranberry juice did not help, but antibiotics cured the infection.", "cranberry juice")
    assert r.polarity == -1


def test_weights_conclusion_study_hedge():
    bare = reading("Cranberries reduce infections.", "cranberries")
    study = reading("A large trial found that cranberries reduce infections.", "cranberries")
    hedged = reading("Cranberries might reduce infections.", "cranberries")
    assert study.study and study.weight > bare.weight
    assert hedged.hedged and hedged.weight < bare.weight


def test_reported_claims_weigh_less():
    own = reading("Laetrile cures cancer.", "laetrile")
    reported = reading("Its sellers asserted that laetrile cures cancer.", "laetrile")
    assert own.polarity == reported.polarity == 1
    assert reported.weight < own.weight


def test_questions_are_not_claims():
    assert reading("Does laetrile cure cancer?", "laetrile").weight == 0


# -- verdict rules -------------------------------------------------------------------------


def test_helps_with_deciding_claims_strongest_first():
    p = page(
        "Melatonin is a hormone made at night.\n\n"
        "Melatonin eases jet lag for many travellers. A review of ten trials found that melatonin "
        "reduces jet lag after flights across five or more time zones."
    )
    v = verdicts.about(p, "melatonin")
    assert v.verdict == "helps"
    assert v.claims[0].text.startswith("A review of ten trials")
    assert all(c.polarity == "positive" for c in v.claims)


def test_does_not_help():
    p = page(
        "Laetrile is sold as a cancer cure. There is no evidence that laetrile works against cancer. "
        "Clinical trials found that it did not shrink tumours, and it can cause cyanide poisoning."
    )
    v = verdicts.about(p, "laetrile")
    assert v.verdict == "does-not-help"
    assert v.claims and v.claims[0].polarity == "negative"


def test_mixed_when_both_sides_weigh_alike():
    p = page(
        "Magnesium helps night cramps in pregnancy. Magnesium also eases cramps in athletes. "
        "Magnesium does not help cramps in older adults. Magnesium does not ease cramps in children."
    )
    assert verdicts.about(p, "magnesium").verdict == "mixed"


def test_debunking_page_leans_against_what_it_discusses():
    neutral = "Laetrile is made from apricot kernels and sold online."
    assert verdicts.about(page(neutral), "laetrile").verdict == "unclear"
    debunking = neutral + " Regulators call such cancer cures quackery. Buyers should beware of the scam."
    v = verdicts.about(page(debunking), "laetrile")
    assert v.verdict == "does-not-help"
    assert any("quackery" in c.text for c in v.claims)
    # the debunking sentence names another treatment: it is about that one
    other = neutral + " Some call acupuncture quackery."
    assert verdicts.about(page(other), "laetrile").verdict == "unclear"


def test_side_effects_alone_weigh_little():
    p = page(
        "Valerian helps people with anxiety fall asleep. Valerian can cause headaches as a side effect. "
        "Valerian may cause dizziness as an adverse reaction."
    )
    assert verdicts.about(p, "valerian").verdict == "helps"
    only_harms = page("Valerian can cause headaches as a side effect.")
    assert verdicts.about(only_harms, "valerian").verdict == "unclear"


def test_limited_claim_alone_is_mixed():
    p = page("A heat wrap relieves back pain, but only in the short term.")
    assert verdicts.about(p, "heat wrap").verdict == "mixed"


def test_unclear_without_claims_about_it():
    p = page("Caffeine is found in coffee and tea. Many people drink coffee in the morning.")
    assert verdicts.about(p, "caffeine").verdict == "unclear"
    assert verdicts.about(p, "dehumidifiers").verdict == "unclear"


def test_other_treatments_do_not_count():
    p = page("Antibiotics cure whooping cough quickly. Antibiotics are the standard treatment.")
    assert verdicts.about(p, "cranberries").verdict == "unclear"


def test_referring_sentence_counts_only_right_after():
    p = page("Valerian is an herb. It has not been shown to ease anxiety in trials.")
    v = verdicts.about(p, "valerian")
    assert v.verdict == "does-not-help"
    p = page("Valerian is an herb. Yoga is a practice. It clearly eases anxiety.")
    assert verdicts.about(p, "valerian").verdict == "unclear"


# -- about: free words matched through the analyzer ------------------------------------------


def test_about_phrase_matches_inflections_and_longer_names():
    p = page("Orthotic insoles do not help low back pain. Shoe insoles were no better than flat ones.")
    v = verdicts.about(p, "insoles")
    assert v.verdict == "does-not-help" and len(v.claims) == 2
    assert v.treatment == "insoles"


def test_about_alternatives_and_vocabulary_synonyms():
    p = page("Amygdalin does not cure cancer.")
    assert verdicts.about(p, "amygdalin or laetrile").verdict == "does-not-help"
    p = page("Lorazepam and other benzodiazepines prevent seizures during alcohol withdrawal.")
    assert verdicts.about(p, "benzos").verdict == "helps"


def test_about_phrase_needs_the_whole_phrase():
    p = page("Gene editing helps some patients. Physical therapy helps too.")
    assert verdicts.about(p, "gene therapy").verdict == "unclear"


# -- vocabulary treatments per page ------------------------------------------------------


def test_judge_gives_one_verdict_per_treatment():
    p = page(
        "Yoga eases chronic back pain, a large trial found. "
        "Back belts did not prevent back pain in warehouse workers."
    )
    got = {v.treatment: v.verdict for v in verdicts.judge(p)}
    assert got.get("yoga") == "helps"
    assert got.get("back-brace") == "does-not-help"


def test_verdicts_in_page_json():
    p = verdicts.with_about(verdicts.attach(page("Yoga eases chronic back pain, a large trial found.")), "yoga")
    d = p.to_dict()
    assert d["verdicts"]["yoga"]["verdict"] == "helps"
    assert d["about"]["text"] == "yoga" and d["about"]["verdict"] == "helps"
    assert d["about"]["claims"][0]["text"].startswith("Yoga eases")


# -- relief extract --json --about ------------------------------------------------------------


def test_extract_json_about(tmp_path, capsys):
    from indexer.cli import main

    f = tmp_path / "insoles.txt"
    f.write_text(
        "Insoles for back pain\n\n"
        "A large trial found that shoe insoles did not reduce low back pain in workers. "
        "Yoga eases chronic back pain, a review found.\n",
        encoding="utf-8",
    )
    assert main(["extract", str(f), "--json", "--about", "insoles"]) == 0
    entry = json.loads(capsys.readouterr().out)[str(f)]
    assert entry["about"]["text"] == "insoles"
    assert entry["about"]["verdict"] == "does-not-help"
    assert "shoe insoles did not reduce" in entry["about"]["claims"][0]["text"]
    assert entry["verdicts"]["orthotics"]["verdict"] == "does-not-help"
    assert entry["verdicts"]["yoga"]["verdict"] == "helps"


# -- gate on real pages judged by people (TREC 2019 decision track) ---------------------------

STANCE_DEV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "stance-dev"


def test_stance_dev_gate():
    if not (STANCE_DEV / "gold.json").exists():
        pytest.skip(f"stance dev set not found at {STANCE_DEV} (shared data missing)")
    scripts = Path(__file__).resolve().parents[1] / "scripts"
    spec = importlib.util.spec_from_file_location("eval_stance", scripts / "eval_stance.py")
    assert spec and spec.loader
    eval_stance = importlib.util.module_from_spec(spec)
    sys.modules["eval_stance"] = eval_stance
    spec.loader.exec_module(eval_stance)

    items = eval_stance.load(STANCE_DEV)
    f = eval_stance.figures(items, eval_stance.calls(items))
    # measured 0.831 at coverage 0.710, always-helps 0.507 on the same pages (leave-one-topic-out
    # CV 0.804 at 0.715); floors sit under the CV figure with a margin for cue edits elsewhere
    assert f["accuracy"] >= 0.79
    assert f["coverage"] >= 0.68
    assert f["gain"] >= 0.27


# -- stored with the page: page view, claims report, web page and JSON ------------------------


@pytest.fixture(scope="module")
def insoles_index(tmp_path_factory):
    from indexer.config import load_settings
    from indexer.pipeline import ingest

    root = tmp_path_factory.mktemp("verdicts")
    pages = root / "pages"
    pages.mkdir()
    (pages / "against.txt").write_text(
        "Insoles and back pain\n\n"
        "A large trial found that shoe insoles did not reduce low back pain in workers. "
        "Orthotic insoles were no better than flat insoles in a second study.\n",
        encoding="utf-8",
    )
    (pages / "for.txt").write_text(
        "Walking for back pain\n\n"
        "A review of trials found that walking eases chronic low back pain. "
        "Walking also improves mood, researchers reported.\n",
        encoding="utf-8",
    )
    index = root / "index"
    settings = load_settings(env={}, index=index)
    assert ingest([str(pages)], settings).added == 2
    return index, settings


def test_verdicts_stored_with_the_page(insoles_index):
    from indexer import Index

    path, settings = insoles_index
    index = Index.open(path, settings=settings)
    try:
        ids = {r.claim.treatments[0]: r.page_id for r in index.claims().claims if r.claim.treatments}
        view = index.page(ids["orthotics"])
        got = {v.treatment: v.verdict for v in view.verdicts}
        assert got["orthotics"] == "does-not-help"
        assert view.to_dict()["verdicts"]["orthotics"]["claims"][0]["text"].startswith("A large trial")
        report = index.claims(treatment="orthotics")
        assert [p.page_id for p in report.positions["orthotics"]["does-not-help"]] == [ids["orthotics"]]
        assert report.positions["orthotics"]["helps"] == []
        walking = index.claims(treatment="walking").to_dict()["verdicts"]["walking"]
        assert [p["page_id"] for p in walking["helps"]] == [ids["walking"]]
    finally:
        index.close()


def test_verdicts_on_web_page_claims_view_and_json(insoles_index):
    from search_web import create_app

    path, settings = insoles_index
    app = create_app(settings)
    app.testing = False
    client = app.test_client()
    data = client.get("/api/claims?treatment=orthotics").get_json()
    positions = data["report"]["verdicts"]["orthotics"]
    page_id = positions["does-not-help"][0]["page_id"]
    page = client.get(f"/api/pages/{page_id}").get_json()["page"]
    assert page["verdicts"]["orthotics"]["verdict"] == "does-not-help"
    html = client.get(f"/page/{page_id}").get_data(as_text=True)
    assert "What this page says about each treatment" in html and "Says it does not help" in html
    html = client.get("/claims?treatment=orthotics").get_data(as_text=True)
    assert "Pages on orthotics and insoles" in html and "Says it does not help" in html


def test_index_about_free_words(insoles_index):
    from indexer import Index

    path, settings = insoles_index
    index = Index.open(path, settings=settings)
    try:
        report = index.claims(about="insoles")
        positions = report.positions["insoles"]
        assert len(positions["does-not-help"]) == 1 and positions["helps"] == []
        assert report.to_dict()["filters"]["about"] == "insoles"
        assert any("shoe insoles did not reduce" in r.claim.text for r in report.claims)
        assert index.claims(about="walking").positions["walking"]["helps"]
        assert index.claims(about="gene therapy").positions == {}
    finally:
        index.close()


def test_web_claims_about_free_words_with_a_budget(insoles_index):
    from dataclasses import replace

    from search_web import create_app

    path, settings = insoles_index
    client = create_app(settings).test_client()
    data = client.get("/api/claims?about=insoles").get_json()
    assert data["about"] == "insoles"
    report = data["report"]
    assert [p["verdict"] for p in report["verdicts"]["insoles"]["does-not-help"]] == ["does-not-help"]
    assert report["about_pages"] == {"naming": 1, "read": 1}
    html = client.get("/claims?about=shoe+insoles").get_data(as_text=True)
    assert "What pages say about shoe insoles" in html and "Says it does not help" in html
    assert 'name="about"' in html and 'value="shoe insoles"' in html
    html = client.get("/claims?about=gene+therapy").get_data(as_text=True)
    assert "No page says whether gene therapy helps." in html

    # "back pain" is on both pages; a budget of one page reads only one of them
    both = client.get("/api/claims?about=back+pain").get_json()["report"]["about_pages"]
    assert both == {"naming": 2, "read": 2}
    small = create_app(replace(settings, about_max_pages=1)).test_client()
    one = small.get("/api/claims?about=back+pain").get_json()["report"]
    assert one["about_pages"] == {"naming": 2, "read": 1}
    assert "the 1 naming it most were read" in small.get("/claims?about=back+pain").get_data(as_text=True)


@pytest.mark.parametrize(
    "query, message",
    [
        ("about=" + "x" * 101, "at most 100 characters"),
        ("about=%21%21%21", "must name a treatment in words"),
        ("about=insoles&treatment=orthotics", "not both"),
    ],
)
def test_web_claims_about_bad_input(insoles_index, query, message):
    from search_web import create_app

    path, settings = insoles_index
    client = create_app(settings).test_client()
    got = client.get(f"/api/claims?{query}")
    assert got.status_code == 400 and message in got.get_data(as_text=True)
    html = client.get(f"/claims?{query}")
    assert html.status_code == 400 and message in html.get_data(as_text=True)


def test_cli_claims_about(insoles_index, capsys):
    from indexer.cli import main

    path, _ = insoles_index
    assert main(["claims", "--index", str(path), "--about", "shoe insoles", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [p["verdict"] for p in data["verdicts"]["shoe insoles"]["does-not-help"]] == ["does-not-help"]
    assert main(["claims", "--index", str(path), "--about", "insoles"]) == 0
    assert "pages on insoles: does-not-help 1" in capsys.readouterr().out
