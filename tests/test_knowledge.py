"""Claim classification: types, negation, hedging, evidence, references, non-claims.

The sentences are written for these tests in the plain consumer-health style of the
corpus; none is taken from a corpus page or the seed.
"""

import pytest

from indexer.knowledge import annotate, classify_sentence
from indexer.model import Page
from indexer.passages import blocks_from_text, split_passages


def claim(sentence, context=()):
    c = classify_sentence(sentence, context)
    assert c is not None, f"not classified as a claim: {sentence!r}"
    return c


# -- types -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sentence",
    [
        "Yoga helps people with chronic back pain move more freely.",
        "Walking every day relieves stiffness in the lower back.",
        "Ibuprofen works well for a recent muscle strain.",
    ],
)
def test_efficacy(sentence):
    c = claim(sentence)
    assert c.type == "efficacy" and c.polarity == "positive"


@pytest.mark.parametrize(
    "sentence, first, second",
    [
        ("Pilates is more effective than walking for chronic low back pain.", "pilates", "walking"),
        ("Physiotherapy works better than bed rest after a slipped disc.", "physical-therapy", "rest"),
        ("Massage worked as well as acupuncture in the trial.", "massage-therapy", "acupuncture"),
    ],
)
def test_comparison(sentence, first, second):
    c = claim(sentence)
    assert c.type == "comparison"
    assert c.treatments[:2] == (first, second)


@pytest.mark.parametrize(
    "sentence",
    [
        "About 60% of patients said their pain eased after a course of massage.",
        "Roughly one in three adults has tried chiropractic care.",
        "Seven out of ten people who do yoga report less back pain.",
        "Nearly 40 percent of physical therapists use dry needling.",
    ],
)
def test_statistic_in_digits_and_words(sentence):
    assert claim(sentence).type == "statistic"


@pytest.mark.parametrize(
    "sentence, treatment",
    [
        ("Heat works by opening the blood vessels and bringing fresh blood to sore muscles.", "heat-therapy"),
        ("NSAIDs reduce inflammation by blocking the enzymes that make prostaglandins.", "nsaids"),
        ("Acupuncture is thought to trigger the release of endorphins.", "acupuncture"),
    ],
)
def test_mechanism(sentence, treatment):
    c = claim(sentence)
    assert c.type == "mechanism"
    assert treatment in c.treatments


@pytest.mark.parametrize(
    "sentence",
    [
        "You should avoid spinal manipulation if you have osteoporosis.",
        "Opioids carry a real risk of addiction.",
        "People with a pacemaker should not use a TENS unit.",
        "Do not use a heating pad while you sleep, because it can cause burns.",
    ],
)
def test_caution(sentence):
    c = claim(sentence)
    assert c.type == "caution" and c.polarity == "negative"


# -- negation and polarity -----------------------------------------------------------------


@pytest.mark.parametrize(
    "sentence, kind",
    [
        ("Traction is not more effective than exercise for sciatica.", "comparison"),
        ("Magnetic insoles are no better than placebo for back pain.", "comparison"),
        ("Stretching won't help if the pain comes from a kidney infection.", "caution"),
        ("Massage will not help if your back pain is caused by inflammation.", "caution"),
    ],
)
def test_negation_makes_negative_claims(sentence, kind):
    c = claim(sentence)
    assert c.type == kind
    assert c.polarity == "negative"


def test_placebo_comparison_keeps_the_treatment_only():
    c = claim("In one trial, acupuncture was no better than sham acupuncture.")
    assert c.treatments == ("acupuncture",)
    assert c.evidence == "study"


def test_safety_statement_is_a_positive_caution():
    c = claim("Swimming is very safe for people with a bad back.")
    assert c.type == "caution" and c.polarity == "positive"


# -- evidence and hedging ----------------------------------------------------------------------


def test_study_evidence():
    c = claim("A 2019 review of 15 trials found that yoga reduced pain more than usual care.")
    assert c.evidence == "study"


def test_expert_evidence():
    c = claim("Most guidelines recommend exercise as the first treatment for back pain.")
    assert c.evidence == "expert"


def test_no_evidence():
    assert claim("Heat relieves a stiff back.").evidence == "none"


@pytest.mark.parametrize(
    "sentence",
    [
        "Meditation may help people cope with chronic pain.",
        "Magnesium is thought to ease muscle cramps.",
        "Early research suggests that biofeedback can reduce pain.",
    ],
)
def test_hedged(sentence):
    assert claim(sentence).hedged is True


def test_unhedged():
    assert claim("Core strengthening reduces repeat episodes of back pain.").hedged is False


# -- reference back to the page's treatment ------------------------------------------------


def test_pronoun_takes_the_context_treatment():
    c = claim("It also improves blood flow to the sore area.", ["massage-therapy"])
    assert c.treatments == ("massage-therapy",)


def test_this_type_of_refers_to_the_narrower_treatment():
    c = claim("This type of massage works by easing trigger points.", ["trigger-point-myotherapy"])
    assert c.treatments == ("trigger-point-myotherapy",)


def test_these_drugs_refers_to_the_context_family():
    c = claim("These drugs can cause stomach ulcers.", ["nsaids"])
    assert c.treatments == ("nsaids",)


def test_generic_name_yields_to_a_narrower_one():
    c = claim("Naproxen is a drug that can cause stomach bleeding.")
    assert c.treatments == ("naproxen",)


def _page(title: str, text: str) -> Page:
    page = Page(page_id="p", source="p", url="https://example.test/p", site="", title=title, blocks=blocks_from_text(text))
    return annotate(split_passages(page))


def test_annotate_uses_the_page_topic_and_fills_passages():
    text = (
        "Acupuncture uses very fine needles placed at chosen points on the body. "
        "Most people feel little more than a slight prick when the needles go in. "
        "The needles are thought to stimulate nerves that release endorphins. "
        "It is less effective for a fresh injury than for pain that has lasted for months. "
        "Hold the position for ten seconds and then relax."
    )
    page = _page("Acupuncture for Back Pain", text)
    passage = page.passages[0]
    assert passage.treatments == ("acupuncture",)
    texts = [c.text for c in passage.claims]
    assert not any(t.startswith("Acupuncture uses") for t in texts)  # a description
    assert not any(t.startswith("Hold") for t in texts)  # an instruction
    mech = next(c for c in passage.claims if c.text.startswith("The needles"))
    assert mech.type == "mechanism" and mech.treatments == ("acupuncture",) and mech.hedged
    for c in passage.claims:
        assert passage.text[c.start : c.end] == c.text


def test_passage_tags_are_most_specific_in_order_of_mention():
    page = _page(
        "Medication",
        "NSAIDs such as ibuprofen are widely used. Sciatica and chronic low back pain are common reasons.",
    )
    passage = page.passages[0]
    assert passage.treatments == ("ibuprofen",)
    assert passage.conditions == ("sciatica", "chronic-pain", "lower-back-pain")


# -- not claims ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sentence",
    [
        "Swedish massage uses long, flowing strokes and gentle kneading.",  # definition
        "At your first visit the chiropractor will ask about your medical history.",  # visit
        "Lie on your back and hold the stretch for 30 seconds.",  # instruction
        "Repeat ten times on each side.",  # instruction
        "Privacy Policy | Contact Us | Terms of Use",  # navigation
        "See a doctor if the pain spreads down your leg.",  # advice, no claim
        "A 2020 trial randomly assigned 200 adults to massage or usual care.",  # study set-up only
        "Acupuncture has been used in China for centuries.",  # history
    ],
)
def test_not_claims(sentence):
    assert classify_sentence(sentence) is None


def test_empty_sentence():
    assert classify_sentence("") is None
    assert classify_sentence("   ") is None


# -- quality gate on the hand-labelled gold ----------------------------------------------------


def _eval(gold: str):
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("eval_claims", root / "scripts" / "eval_claims.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from indexer.config import Settings
    from indexer.pipeline import extract_paths

    rows, mode = module.load_gold(root / gold)
    folder = root / "corpus" if mode == "text" else root.parent / "shared" / "seed"
    if not folder.exists():
        pytest.skip(f"{folder} is not here")
    paths = sorted(str(p) for p in folder.iterdir() if p.suffix in (".html", ".txt", ".jsonl"))
    pages, _ = extract_paths(paths, Settings())
    pairs, unmatched = module.align(rows, mode, module.pipeline_sentences(pages))
    return module.evaluate(pairs), unmatched


def test_gold_corpus_floors():
    result, unmatched = _eval("tests/fixtures/gold/corpus.jsonl")
    assert len(unmatched) <= 3
    assert result["f1"] >= 0.85
    assert result["accuracy"]["type"] >= 0.8
    assert result["accuracy"]["treatments"] >= 0.88


def test_gold_seed_floors():
    result, unmatched = _eval("tests/fixtures/gold/seed.json")
    assert not unmatched
    assert result["f1"] >= 0.8


def test_authors_own_results_suggest_is_not_a_hedge():
    # PubMed-style conclusions: the authors report their finding, not a possibility
    assert not claim("Our results suggest that yoga reduces chronic back pain.").hedged
    assert claim("Studies suggest that yoga reduces chronic back pain.").hedged
    assert claim("Our results suggest that yoga may reduce chronic back pain.").hedged


# -- findings stated without a vocabulary treatment (scientific prose) -------------------------


@pytest.mark.parametrize(
    "sentence",
    [
        "Regular walking was associated with fewer days off work.",  # association
        "Poor sleep is linked to higher pain scores in older adults.",  # linked to
        "Desk height correlated with neck stiffness in call-centre staff.",  # correlation
        "Long commutes were an independent predictor of sick leave.",  # predictor
        "Heavy lifting led to more frequent flare-ups among warehouse staff.",  # led to
        "Daily stretching resulted in better posture scores.",  # resulted in
        "Smokers had higher pain scores than non-smokers.",  # comparison of groups
        "Pain after surgery was lower in the group that walked early.",  # was lower
        "Mood had a strong effect on reported pain.",  # effect on
    ],
)
def test_stated_findings_are_claims(sentence):
    c = claim(sentence)
    assert c.type == "efficacy"
    assert not c.hedged


def test_more_likely_compares_groups_and_does_not_hedge():
    assert not claim("Office workers who sat longest were more likely to report neck stiffness.").hedged
    assert claim("Poor sleep may be associated with worse back pain.").hedged


@pytest.mark.parametrize(
    "sentence",
    [
        "Further studies are needed to find out whether yoga reduces pain.",  # call for research
        "Larger trials are required to determine the effect of cupping on sleep.",  # call
        "The aim of this study was to examine links between posture and pain.",  # aim
        "We recommend that clinics ask about sleep at every visit.",  # recommendation
        "Screening for depression should be considered before spinal surgery.",  # recommendation
        "The lower back carries most of the weight of the upper body.",  # 'lower' is not a finding
    ],
)
def test_agenda_is_not_a_claim(sentence):
    assert classify_sentence(sentence) is None


def test_finding_before_a_call_for_research_stays_a_claim():
    claim("Poor sleep was associated with worse back pain, but more research is needed.")
    # a caution or an effect that opens the sentence is not an agenda either
    assert claim("People with a bleeding disorder should also avoid deep massage.").type == "caution"


def test_finding_negated():
    assert claim("Cold weather did not affect the number of flare-ups.").polarity == "negative"
    assert classify_sentence("Most of the strain in the lower back comes from bending.") is None
