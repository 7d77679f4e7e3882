"""The block features and the block model of the cleaner (indexer/clean/features.py,
blockmodel.py) on small hand-written pages."""

from __future__ import annotations

import tomllib

import pytest

from indexer.clean import blockmodel
from indexer.clean.features import FEATURES
from indexer.clean.page import Analysis, analyse_html, clean_html
from indexer.clean.rules import RULES_FILE, parse_rules
from indexer.model import Page, RawPage

PARA = ("Gentle walking after a back strain speeds recovery, and most people manage twenty minutes "
        "a day within a week of the injury. ")


def raw(body: str) -> RawPage:
    return RawPage(page_id="p1", source="fixture", url="https://example.org/p1", site="example.org",
                   kind="html", body=body, encoding="utf-8", sha256="0" * 64)


PAGE = (
    "<html><head><title>Walking and back strain</title></head><body>"
    "<nav><a href='/'>Home</a> <a href='/a'>Conditions</a> <a href='/b'>Treatments</a></nav>"
    "<article><h1>Walking and back strain</h1>"
    f"<p>{PARA * 2}</p><p>It helps.</p><p>{PARA * 3}</p></article>"
    "<footer><p>Copyright 2024 Example Health. All rights reserved.</p></footer>"
    "</body></html>"
)


def analysis() -> Analysis:
    a = analyse_html(raw(PAGE))
    assert isinstance(a, Analysis), a
    return a


def col(a: Analysis, name: str) -> list[float]:
    k = FEATURES.index(name)
    return [row[k] for row in a.features]


def test_every_segment_has_one_row_of_all_features():
    a = analysis()
    assert len(a.features) == len(a.segs)
    assert all(len(row) == len(FEATURES) for row in a.features)


def test_rule_verdicts_and_context_features():
    a = analysis()
    texts = [s.text for s in a.segs]
    nav = texts.index("Home Conditions Treatments")
    short = texts.index("It helps.")
    footer = next(i for i, t in enumerate(texts) if t.startswith("Copyright"))
    kept, chrome = col(a, "rule_kept"), col(a, "chrome")
    assert chrome[nav] == 1.0 and kept[nav] == 0.0
    assert chrome[footer] == 1.0 and kept[footer] == 0.0
    assert kept[short] == 1.0
    # the short paragraph sits among kept siblings (three paragraphs; the headline is not
    # kept, it is the title), next to kept text
    assert col(a, "siblings_kept")[short] == 0.75
    assert col(a, "kept_distance")[short] == 0.0
    assert col(a, "prev_kept")[short] == 1.0 and col(a, "next_kept")[short] == 1.0
    assert col(a, "short")[short] == 1.0 and col(a, "long")[short] == 0.0
    assert col(a, "link_density")[nav] > 0.9 and col(a, "linky")[nav] == 1.0
    # the headline is the title: never text, whatever the model says
    h1 = texts.index("Walking and back strain")
    assert a.hard_drop[h1]


def test_function_word_share_tells_prose_from_labels():
    a = analysis()
    fw = col(a, "function_words")
    texts = [s.text for s in a.segs]
    assert fw[texts.index("Home Conditions Treatments")] == 0.0
    first = next(i for i, t in enumerate(texts) if t.startswith("Gentle walking"))
    assert fw[first] > 0.2


def test_packaged_model_keeps_the_article_and_drops_chrome():
    page = clean_html(raw(PAGE))
    assert isinstance(page, Page)
    assert "It helps." in page.text
    assert page.text.count("Gentle walking") == 5
    assert "Home" not in page.text and "Copyright" not in page.text
    assert page.title == "Walking and back strain"


def test_decide_fills_short_gaps_between_confident_segments():
    m = blockmodel.BlockModel(weights=(0.0,) * len(FEATURES), threshold=0.6, low=0.3, gap=2)
    probs = [0.9, 0.4, 0.35, 0.9, 0.1, 0.9, 0.5, 0.5, 0.5, 0.9]
    hard = [False] * len(probs)
    keep = blockmodel.decide(probs, hard, m)
    assert keep == [True, True, True, True, False, True, False, False, False, True]
    hard[1] = True
    keep = blockmodel.decide(probs, hard, m)
    assert keep[1] is False and keep[2] is True  # a title line never comes back


def test_model_file_must_match_the_features():
    data = blockmodel.model_to_dict(blockmodel.packaged_model())
    assert blockmodel.model_from_dict(data) == blockmodel.packaged_model()
    data["features"] = data["features"][:-1]
    with pytest.raises(ValueError, match="refit"):
        blockmodel.model_from_dict(data)


def test_probabilities_follow_the_weights():
    w = [0.0] * len(FEATURES)
    w[FEATURES.index("bias")] = -2.0
    w[FEATURES.index("rule_kept")] = 4.0
    m = blockmodel.BlockModel(tuple(w), 0.5, 0.5, 0)
    row_kept = [1.0 if n in ("bias", "rule_kept") else 0.0 for n in FEATURES]
    row_not = [1.0 if n == "bias" else 0.0 for n in FEATURES]
    p_kept, p_not = blockmodel.probabilities([row_kept, row_not], m)
    assert p_kept == pytest.approx(1 / (1 + 2.718281828 ** -2), rel=1e-6)
    assert p_not == pytest.approx(1 / (1 + 2.718281828 ** 2), rel=1e-6)


def test_a_one_paragraph_page_keeps_its_paragraph():
    # nothing around it to vouch for it; the rules' choice stands when the model keeps nothing
    page = clean_html(raw("<p>Heat relaxes tight muscles.</p>"))
    assert isinstance(page, Page), page
    assert page.text == "Heat relaxes tight muscles."


@pytest.mark.parametrize("body", [
    "<html><head><title>Heat relaxes tight muscles.</title></head><body><p>Heat relaxes tight muscles.</p></body></html>",
    "<html><head><title>Heat relaxes tight muscles.</title></head><body><nav><a href='/'>Home</a></nav>"
    "<h1>Heat relaxes tight muscles.</h1><footer>Copyright 2024</footer></body></html>",
])
def test_a_page_whose_only_line_is_its_title_keeps_it_as_text(body):
    # a short page is content: its one line is both the title and the text, not "empty"
    page = clean_html(raw(body))
    assert isinstance(page, Page), page
    assert page.title == "Heat relaxes tight muscles."
    assert page.text == "Heat relaxes tight muscles."


def test_the_title_line_stays_out_when_the_page_has_other_text():
    page = clean_html(raw(PAGE))
    assert isinstance(page, Page), page
    assert page.title == "Walking and back strain"
    assert "Walking and back strain" not in page.text and page.text.startswith("Gentle walking")


def test_decide_falls_back_to_the_rules_when_the_model_keeps_nothing():
    m = blockmodel.BlockModel(weights=(0.0,) * len(FEATURES), threshold=0.9, low=0.5, gap=0)
    assert blockmodel.decide([0.2, 0.3, 0.1], [False, True, False], m, [True, True, False]) == [True, False, False]
    assert blockmodel.decide([0.2, 0.95], [False, False], m, [True, False]) == [False, True]


def test_decide_reads_a_page_against_its_best_unit_when_nothing_else_keeps_text():
    m = blockmodel.BlockModel(weights=(0.0,) * len(FEATURES), threshold=0.6, low=0.1, gap=0)
    # neither the model nor the rules keep anything; the 0.18 and 0.15 units are the page's
    # best guesses (1.0 and 0.83 of the best), the others stay out
    assert blockmodel.decide([0.02, 0.18, 0.15, 0.01], [False] * 4, m, [False] * 4) == [False, True, True, False]
    # the title line never comes back, even when it is the best guess
    assert blockmodel.decide([0.5, 0.18], [True, False], m, [False, False]) == [False, True]
    # a page whose best unit is not even a gap filler's probability stays empty
    assert blockmodel.decide([0.05, 0.03], [False, False], m, [False, False]) == [False, False]


def test_decide_treats_a_table_as_one_unit():
    m = blockmodel.BlockModel(weights=(0.0,) * len(FEATURES), threshold=0.6, low=0.3, gap=1)
    probs = [0.9, 0.2, 0.9, 0.6, 0.45, 0.9]
    groups = [-1, -1, 7, 7, 7, -1]
    # the table (mean 0.65) is kept with its weaker cells; the lone 0.2 paragraph stays out
    assert blockmodel.decide(probs, [False] * 6, m, (), groups) == [True, False, True, True, True, True]
    # a list of linked headlines (0.1) with prose teasers (0.95) is not carried by its teasers
    probs = [0.9, 0.1, 0.95, 0.1, 0.95, 0.1, 0.95]
    assert blockmodel.decide(probs, [False] * 7, m, (), [-1, 4, 4, 4, 4, 4, 4]) == [True] + [False] * 6
    # a weak table between kept paragraphs is one gap of one unit, filled when above `low`
    probs = [0.9, 0.4, 0.3, 0.9]
    assert blockmodel.decide(probs, [False] * 4, m, (), [-1, 3, 3, -1]) == [True, True, True, True]


def test_context_rows_read_neighbours_families_and_groups():
    p1 = [0.9, 0.1, 0.8, 0.2]
    rows = blockmodel.context_rows(p1, families=[1, 1, 2, 2], hard_drop=[False, False, False, True])
    names = blockmodel.CONTEXT
    first, second = dict(zip(names, rows[0])), dict(zip(names, rows[1]))
    assert first["p_prev"] == 0.9  # no neighbour before: reads as itself
    assert second["p_prev"] == 0.9 and second["p_next"] == 0.8
    assert second["p_family"] == 0.9
    assert dict(zip(names, rows[2]))["p_next"] == 0.0  # a hard-dropped line counts 0
    grouped = blockmodel.context_rows([0.9, 0.1, 0.7], families=[1, 1, 1], hard_drop=[False] * 3, groups=[-1, 5, 5])
    assert dict(zip(names, grouped[1]))["p_self"] == 0.7  # a cell counts with its table's best


PROMO_PAGE = (
    "<html><head><title>Walking and back strain</title></head><body>"
    "<article><h1>Walking and back strain</h1>"
    f"<p>{PARA * 2}</p><p>Getting up slowly helps. Follow the plan your doctor gives you.</p>"
    f"<p>{PARA * 3}</p>"
    "<p>Sign up for our weekly newsletter to get health news delivered to your inbox.</p>"
    "<p>There is more where that came from. Click here to read it.</p>"
    "</article></body></html>"
)


def test_call_to_action_feature_reads_the_openings_of_sentences():
    a = analyse_html(raw(PROMO_PAGE))
    assert isinstance(a, Analysis), a
    texts = [s.text for s in a.segs]
    cta = dict(zip(texts, col(a, "call_to_action")))
    assert cta["Sign up for our weekly newsletter to get health news delivered to your inbox."] == 1.0
    # a later sentence may open with one, and whole words only ("Getting" is not "Get")
    assert cta["There is more where that came from. Click here to read it."] == 1.0
    assert cta["Getting up slowly helps. Follow the plan your doctor gives you."] == 1.0
    assert cta[next(t for t in texts if t.startswith("Gentle walking"))] == 0.0


def test_call_to_action_openings_are_data():
    with RULES_FILE.open("rb") as fh:
        data = tomllib.load(fh)
    data["features"]["call_to_action"] = ["getting"]
    r = parse_rules(data)
    assert r.call_to_action.search("Getting up slowly helps.")
    assert not r.call_to_action.search("Sign up for our newsletter.")
    assert not r.call_to_action.search("Nobody is getting up.")


def test_packaged_model_reads_a_call_to_action_as_a_sign_of_a_promo_line():
    # the fitted weight, not a rule: the same segment without the cue is more probable text
    a = analyse_html(raw(PROMO_PAGE))
    assert isinstance(a, Analysis), a
    m = blockmodel.packaged_model()
    k = FEATURES.index("call_to_action")
    promo = next(i for i, s in enumerate(a.segs) if s.text.startswith("Sign up"))
    without = [list(row) for row in a.features]
    without[promo][k] = 0.0
    p_with = blockmodel.probabilities(a.features, m, a.families, a.hard_drop, a.groups)[promo]
    p_without = blockmodel.probabilities(without, m, a.families, a.hard_drop, a.groups)[promo]
    assert p_with < p_without - 0.1


def test_context_rows_count_a_table_as_one_neighbour():
    # a paragraph after a three-cell table: the table is its previous neighbour, once
    p1 = [0.9, 0.2, 0.6, 0.1, 0.8]
    rows = blockmodel.context_rows(p1, families=[1] * 5, hard_drop=[False] * 5, groups=[-1, 7, 7, 7, -1])
    last = dict(zip(blockmodel.CONTEXT, rows[4]))
    assert last["p_prev"] == 0.6
    assert last["p_window"] == pytest.approx((0.9 + 0.6) / 2)
    cell = dict(zip(blockmodel.CONTEXT, rows[2]))
    assert cell["p_prev"] == 0.9 and cell["p_next"] == 0.8
