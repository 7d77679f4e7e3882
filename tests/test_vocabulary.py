"""Vocabularies: data-file concepts, hierarchy, and matching on the index's terms."""

from pathlib import Path

import pytest

from indexer.vocabulary import DATA_DIR, VocabularyError, load_vocabulary, load_vocabulary_from


@pytest.fixture(scope="module")
def vocab():
    return load_vocabulary()


def ids(matches):
    return [m[0] for m in matches]


def test_ids_are_single_token_slugs(vocab):
    for concepts in (vocab.treatments, vocab.conditions):
        for cid, concept in concepts.items():
            assert cid == concept.id
            assert cid == cid.lower() and " " not in cid and "," not in cid


@pytest.mark.parametrize(
    "required",
    [
        "massage-therapy", "neuromuscular-therapy", "trigger-point-myotherapy", "myofascial-release",
        "swedish-massage", "deep-tissue-massage", "chiropractic", "spinal-manipulation", "acupuncture",
        "dry-needling", "electroacupuncture", "physical-therapy", "mckenzie-method", "stretching",
        "exercise", "core-strengthening", "walking", "swimming", "yoga", "pilates", "medication",
        "nsaids", "ibuprofen", "naproxen", "aspirin", "acetaminophen", "muscle-relaxants", "opioids",
        "topical-analgesics", "corticosteroid-injections", "antidepressants", "heat-cold-therapy",
        "surgery", "discectomy", "spinal-fusion", "laminectomy", "mind-body-therapy", "cbt",
        "meditation", "mindfulness", "biofeedback", "rest", "posture-ergonomics",
        "nutrition-supplements", "tens",
    ],
)
def test_required_treatments_exist(vocab, required):
    assert required in vocab.treatments


@pytest.mark.parametrize(
    "required",
    [
        "lower-back-pain", "upper-back-pain", "sciatica", "muscle-spasm", "muscle-strain",
        "herniated-disc", "inflammation", "scar-tissue", "osteoarthritis", "osteoporosis",
        "spinal-stenosis", "degenerative-disc-disease", "acute-pain", "chronic-pain",
    ],
)
def test_required_conditions_exist(vocab, required):
    assert required in vocab.conditions


def test_hierarchy(vocab):
    assert vocab.ancestors("ibuprofen") == ["ibuprofen", "nsaids", "medication"]
    assert "ibuprofen" in vocab.descendants("medication")
    assert vocab.descendants("medication")[0] == "medication"
    assert set(vocab.descendants("massage-therapy")) >= {"neuromuscular-therapy", "swedish-massage"}
    assert vocab.ancestors("yoga")[-1] == "exercise"
    assert vocab.ancestors("dry-needling") == ["dry-needling", "acupuncture"]


def test_plural_and_verb_forms_match(vocab):
    assert ids(vocab.match("Gentle stretches each morning", "treatment")) == ["stretching"]
    assert ids(vocab.match("Stretching helps", "treatment")) == ["stretching"]


def test_word_inside_a_word_never_matches(vocab):
    assert vocab.match("The restaurant served icebergs", "treatment") == []
    assert vocab.match("a heatwave", "treatment") == []


def test_british_and_american_spellings(vocab):
    assert ids(vocab.match("cognitive behavioural therapy", "treatment")) == ["cbt"]
    assert ids(vocab.match("cognitive behavioral therapy", "treatment")) == ["cbt"]
    assert ids(vocab.match("Paracetamol or Tylenol", "treatment")) == ["acetaminophen", "acetaminophen"]


def test_hyphens_fold(vocab):
    assert ids(vocab.match("deep-tissue massage", "treatment")) == ["deep-tissue-massage"]
    assert ids(vocab.match("low-back pain", "condition")) == ["lower-back-pain"]


def test_longest_match_wins_without_overlap(vocab):
    text = "Swedish massage and chiropractic adjustment"
    found = vocab.match(text, "treatment")
    assert ids(found) == ["swedish-massage", "spinal-manipulation"]
    assert text[found[0][1] : found[0][2]] == "Swedish massage"


def test_chronic_and_site_are_separate_conditions(vocab):
    assert ids(vocab.match("chronic low back pain", "condition")) == ["chronic-pain", "lower-back-pain"]


def test_capitals_only_acronym(vocab):
    assert vocab.match("six to ten sessions", "treatment") == []
    assert ids(vocab.match("a TENS unit", "treatment")) == ["tens"]


def test_ignore_phrases(vocab):
    assert ids(vocab.match("real acupuncture beat sham acupuncture", "treatment")) == ["acupuncture"]


def test_resolve(vocab):
    assert vocab.resolve("Physiotherapy") == "physical-therapy"
    assert vocab.resolve("NSAID") == "nsaids"
    assert vocab.resolve("massage") == "massage-therapy"
    assert vocab.resolve("slipped disk", "condition") == "herniated-disc"
    assert vocab.resolve("ibuprofen", "condition") is None
    assert vocab.resolve("no such thing") is None
    assert vocab.label("nsaids") == "NSAIDs"


def _copy_data(tmp_path: Path) -> tuple[Path, Path]:
    t = tmp_path / "treatments.toml"
    c = tmp_path / "conditions.toml"
    t.write_text((DATA_DIR / "treatments.toml").read_text(encoding="utf-8"), encoding="utf-8")
    c.write_text((DATA_DIR / "conditions.toml").read_text(encoding="utf-8"), encoding="utf-8")
    return t, c


def test_vocabulary_addition_needs_no_code_change(tmp_path):
    t, c = _copy_data(tmp_path)
    with t.open("a", encoding="utf-8") as f:
        f.write('\n[cupping]\nlabel = "Cupping"\nsynonyms = ["cupping therapy", "fire cupping"]\n')
        f.write('\n[etoricoxib]\nlabel = "Etoricoxib"\nsynonyms = ["Arcoxia"]\nparent = "nsaids"\n')
    vocab = load_vocabulary_from(t, c)
    assert ids(vocab.match("She tried fire cupping and Arcoxia", "treatment")) == ["cupping", "etoricoxib"]
    assert "etoricoxib" in vocab.descendants("medication")


def test_vocabulary_addition_reaches_claims(tmp_path, monkeypatch):
    from indexer import knowledge, vocabulary

    t, c = _copy_data(tmp_path)
    with t.open("a", encoding="utf-8") as f:
        f.write('\n[cupping]\nlabel = "Cupping"\nsynonyms = ["cupping therapy"]\n')
    monkeypatch.setattr(knowledge, "load_vocabulary", lambda: load_vocabulary_from(t, c))
    claim = knowledge.classify_sentence("Cupping therapy is no better than placebo for back pain.")
    assert claim is not None and claim.treatments == ("cupping",)
    assert vocabulary.load_vocabulary() is load_vocabulary()  # the cached project vocabulary is untouched


def test_unknown_parent_is_reported(tmp_path):
    t, c = _copy_data(tmp_path)
    with t.open("a", encoding="utf-8") as f:
        f.write('\n[orphan]\nlabel = "Orphan"\nparent = "nowhere"\n')
    with pytest.raises(VocabularyError):
        load_vocabulary_from(t, c)


# -- condition synonyms name their own condition ----------------------------------------------


def test_no_condition_synonym_names_another_condition():
    vocab = load_vocabulary()
    wrong = []
    for concept in vocab.conditions.values():
        for name in (concept.label, *concept.synonyms):
            found = [cid for cid, _, _ in vocab.match(name, "condition")]
            if found != [concept.id]:
                wrong.append((concept.id, name, found))
    assert not wrong


def _other_conditions():
    path = Path(__file__).parent / "fixtures" / "vocabulary" / "other_conditions.txt"
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, wrong = (p.strip() for p in line.split("|"))
            yield name, wrong


@pytest.mark.parametrize("name, wrong", list(_other_conditions()))
def test_other_conditions_are_not_tagged_as_ours(name, wrong):
    found = {cid for cid, _, _ in load_vocabulary().match(f"She has {name}.", "condition")}
    assert wrong not in found and found  # tagged, and as what it is


# -- low back pain guideline checklist (NICE NG59): treatments offered and not offered -----


@pytest.mark.parametrize(
    "text, expected, parent",
    [
        ("shoe insoles", "orthotics", "posture-ergonomics"),
        ("orthotic insoles", "orthotics", "posture-ergonomics"),
        ("lumbar belts and corsets", "back-brace", "posture-ergonomics"),
        ("lumbar traction", "traction", "physical-therapy"),
        ("facet joint injections", "spinal-injections", "medication"),
        ("an epidural steroid injection", "epidural-steroids", "spinal-injections"),
        ("radiofrequency denervation", "radiofrequency-denervation", None),
        ("therapeutic ultrasound", "therapeutic-ultrasound", "physical-therapy"),
        ("interferential therapy", "interferential-therapy", "electrotherapy"),
        ("a TENS machine", "tens", "electrotherapy"),
        ("tricyclic antidepressants", "antidepressants", "medication"),
        ("gabapentinoids", "anticonvulsants", "medication"),
        ("codeine", "weak-opioids", "opioids"),
        ("strong opioids such as morphine", "strong-opioids", "opioids"),
        ("psychological therapies", "psychological-therapy", "mind-body-therapy"),
        ("a combined physical and psychological programme", "combined-programme", "physical-therapy"),
        ("back schools", "back-school", "physical-therapy"),
        ("benzos", "benzodiazepines", "medication"),
    ],
)
def test_back_pain_guideline_treatments(text, expected, parent):
    vocab = load_vocabulary()
    found = [tid for tid, _, _ in vocab.match(text, "treatment")]
    assert found[0] == expected
    assert vocab.concept(expected).parent == parent
