"""A page's position on a treatment: sentence readings, negation and scope, the verdict rules.

The sentences are written for these tests; none is taken from a dev page.
"""

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
    p = page("Magnesium helps night cramps in pregnancy. Magnesium does not help cramps in older adults.")
    assert verdicts.about(p, "magnesium").verdict == "mixed"


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
