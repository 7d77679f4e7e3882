"""Tests of the cleaning stage (indexer/clean/) on small hand-written fixtures, plus a
quality gate that runs the extraction benchmark over the first dev pages."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from indexer.clean import block_key, clean_page, learn_site_template, strip_template
from indexer.model import Block, IngestError, Page, RawPage

FIXTURES = Path(__file__).parent / "fixtures" / "clean"
REPO = Path(__file__).resolve().parents[1]
DEV_DATA = REPO.parent / "shared" / "data"
SEED = REPO.parent / "shared" / "seed" / "massage-therapy-for-back-pain.txt"


def raw(body: str, kind: str = "html", source: str = "fixture", site: str = "example.org") -> RawPage:
    return RawPage(page_id="p1", source=source, url="https://example.org/p1", site=site,
                   kind=kind, body=body, encoding="utf-8", sha256="0" * 64)


def clean_fixture(name: str) -> Page:
    path = FIXTURES / name
    page = clean_page(raw(path.read_text(encoding="utf-8"), "text" if name.endswith(".txt") else "html",
                          source=str(path)))
    assert isinstance(page, Page), page
    return page


# --------------------------------------------------------------------------- title, byline, date


def test_title_is_h1_when_title_tag_is_the_site_name():
    page = clean_fixture("article_site_title.html")
    assert page.title == "Heat Wraps for Stiff Lower Backs"
    assert "Heat Wraps for Stiff Lower Backs" not in page.text


def test_og_title_and_site_part_stripped():
    page = clean_fixture("og_title_compound.html")
    assert page.title == "Walking After Surgery: A Gentle Plan"
    assert page.published == "2022-09-03"


def test_title_compound_without_og_drops_site_part():
    page = clean_fixture("link_div_nav.html")
    assert page.title == "Acupressure Points: What the Trials Say"


def test_byline_removed_and_captured():
    page = clean_fixture("article_site_title.html")
    assert page.byline == "Priya Okafor"
    assert "By Priya" not in page.text
    assert all("Priya Okafor" not in b.text for b in page.blocks)


def test_byline_in_an_element_classed_byline_is_captured_not_lost():
    html = ("<html><body><h1>Ice or Heat?</h1><p class='byline'>By Ana Ruiz</p>"
            + "<p>Ice calms a fresh strain in the first two days, and heat loosens stiff muscles after that. "
            * 4 + "</p></body></html>")
    page = clean_page(raw(html))
    assert isinstance(page, Page)
    assert page.byline == "Ana Ruiz"
    assert "Ana Ruiz" not in page.text


def test_published_from_meta():
    page = clean_fixture("article_site_title.html")
    assert page.published.startswith("2023-04-11")


def test_published_from_visible_line():
    html = (
        "<html><body><article><h1>Ice or heat?</h1><p>Published March 3, 2021</p>"
        "<p>Ice is the usual advice for a fresh sprain during the first two days, because it limits swelling.</p>"
        "<p>Heat suits older, stiff injuries better, since it relaxes tight muscle and eases movement.</p>"
        "</article></body></html>"
    )
    page = clean_page(raw(html))
    assert isinstance(page, Page)
    assert page.published == "2021-03-03"
    assert "Published" not in page.text


# --------------------------------------------------------------------------- chrome removal


def test_nav_header_footer_aside_removed():
    page = clean_fixture("article_site_title.html")
    text = page.text
    assert "Heat wraps have become a common first step" in text
    assert "How to use them safely" in page.headings
    for chrome in ("Home", "Yoga", "Popular this week", "Ten stretches", "Copyright", "All rights reserved"):
        assert chrome not in text


def test_hidden_elements_captions_and_read_more_removed():
    text = clean_fixture("article_site_title.html").text
    assert "hidden paragraph" not in text
    assert "inline style attribute" not in text
    assert "aria-hidden" not in text
    assert "photographed for this page" not in text
    assert "Cold packs versus heat packs" not in text


HOVER_CARD = (
    "<html><body><article>"
    "<p>Massage eased back pain for a while, said Dr. <span class='card'><a href='/p/lee'>Ana Lee</a>"
    "<span class='card-block'><img src='lee.jpg'><a href='/p/lee'>Ana Lee</a>"
    "<a href='/s/1'>Massage trial reports short-term relief for back pain</a>"
    "<a href='/s/2'>Ten questions about physical therapy</a></span></span>, who led the trial. "
    "Her team followed <span><a href='/a'>nurses</a> and <a href='/b'>drivers</a></span> for a year, "
    "and the benefit faded by the sixth month in both groups of patients.</p>"
    "<p>The trial enrolled four hundred adults with pain lasting longer than three months, and half "
    "of them received weekly massage sessions from licensed therapists.</p>"
    "</article></body></html>"
)


def test_a_hover_card_inside_a_sentence_is_not_text():
    page = clean_page(raw(HOVER_CARD))
    assert isinstance(page, Page), page
    assert "said Dr. Ana Lee, who led the trial." in page.text
    assert page.text.count("Ana Lee") == 1
    assert "Ten questions" not in page.text and "short-term relief" not in page.text
    # links that share a sentence with words of their own stay
    assert "Her team followed nurses and drivers for a year" in page.text


def test_scripts_and_styles_never_in_text():
    page = clean_fixture("article_site_title.html")
    assert "trackingSecret" not in page.text and "script text" not in page.text
    assert "font-family" not in page.text and "Hidden Style Text" not in page.text


def test_nbsp_spacer_paragraphs_dropped():
    page = clean_fixture("article_site_title.html")
    assert all(b.text.strip() for b in page.blocks)
    assert all("\xa0" not in b.text for b in page.blocks)


def test_div_link_nav_removed_by_link_density():
    page = clean_fixture("link_div_nav.html")
    text = page.text
    assert "Acupressure applies firm finger pressure" in text
    assert "many clinicians see no harm" in text
    for chrome in ("Conditions and treatments", "Latest health news", "standing desk", "posture"):
        assert chrome not in text


def test_menu_class_and_comments_removed():
    text = clean_fixture("og_title_compound.html").text
    assert "Most surgeons now encourage patients" in text
    assert "About" not in text and "Contact" not in text
    assert "Great advice" not in text


def test_table_layout_nav_cell_removed_data_table_kept():
    page = clean_fixture("table_layout.html")
    text = page.text
    assert "A hinged brace limits sideways movement" in text
    assert "snug without leaving deep marks" in text
    for chrome in ("Shoulders", "Hips", "Contact"):
        assert chrome not in text
    tables = [b for b in page.blocks if b.kind == "table"]
    assert len(tables) == 1
    assert tables[0].text.split("\n")[0] == "Type | Best for"
    assert "Hinged | Ligament injury" in tables[0].text


def test_body_wrapped_in_form_is_kept():
    page = clean_fixture("form_wrapped.html")
    text = page.text
    assert page.title == "Sleep Positions for Sciatica"
    assert "Lying on your side with a pillow" in text
    assert "Sleeping on the stomach" in text
    assert "search this site" not in text and "VIEWSTATE" not in text
    assert "Home" not in text


def test_lists_become_one_block_with_lines():
    html = (
        "<html><body><article><p>These habits protect the back over a working day, according to a survey of physiotherapists.</p>"
        "<ul><li>Stand up every half hour</li><li>Keep the screen at eye level</li><li>Carry bags on both shoulders</li></ul>"
        "<p>None of them costs money, and most take only a few seconds to adopt during an ordinary day.</p>"
        "</article></body></html>"
    )
    page = clean_page(raw(html))
    assert isinstance(page, Page)
    lists = [b for b in page.blocks if b.kind == "list"]
    assert lists and lists[0].text.split("\n") == [
        "Stand up every half hour", "Keep the screen at eye level", "Carry bags on both shoulders"]


# --------------------------------------------------------------------------- robustness


def test_ten_thousand_nested_divs_keep_the_deep_paragraph():
    deep = "Deep inside, this sentence is still content worth keeping."
    body = "<html><body>" + "<div>" * 10000 + f"<p>{deep}</p>" + "</div>" * 10000
    result = clean_page(raw(body + "</body></html>"))
    assert isinstance(result, Page), result
    assert deep in result.text


def test_ten_thousand_nested_spans_keep_their_text():
    # libxml2 builds no tree deeper than 2048 levels; the cleaner parses such a page again
    # with the deep levels flattened, so the text is not lost
    deep = "Deep inside many spans, this sentence is still content worth keeping."
    body = "<html><body><div>" + "<span>" * 10000 + deep + "</span>" * 10000 + "</div></body></html>"
    result = clean_page(raw(body))
    assert isinstance(result, Page), result
    assert deep in result.text


ARTICLE = ("Gentle walking after a back strain speeds recovery, and most people manage twenty "
           "minutes a day within a week of the injury.")


def test_an_unclosed_title_does_not_swallow_the_page():
    # the <script> start tag was lost, so <title> runs to the end of the page
    body = ("<html><head><title>Walking after a back strain\nvar size = 12;\nfunction zoom() { size++; }\n"
            "//-->\n</script></head><body><nav><a href='/'>Home</a></nav>"
            f"<p>{ARTICLE}</p><p>{ARTICLE}</p></body></html>")
    page = clean_page(raw(body))
    assert isinstance(page, Page), page
    assert page.title == "Walking after a back strain"
    assert page.text == f"{ARTICLE}\n\n{ARTICLE}"


def test_an_unclosed_title_ends_at_the_first_tag_on_its_line():
    page = clean_page(raw(f"<html><head><title>Walking<body><p>{ARTICLE}</p><p>{ARTICLE}"))
    assert isinstance(page, Page), page
    assert page.title == "Walking"
    assert page.text == f"{ARTICLE}\n\n{ARTICLE}"


@pytest.mark.parametrize("after", ["</html>", "</head><body><p>It helps most people.</p></body></html>"])
def test_text_that_lands_in_head_is_read(after):
    # an unknown element in <head> makes libxml2 keep what follows inside <head>
    body = (f"<html><head><title>Walking</title><mbox><div><p>{ARTICLE}</p>"
            f"<p>{ARTICLE}</p></div>{after}")
    page = clean_page(raw(body))
    assert isinstance(page, Page), page
    assert page.text.startswith(f"{ARTICLE}\n\n{ARTICLE}")
    assert page.title == "Walking"


def test_xhtml_with_an_xml_declaration_is_read():
    body = ('<?xml version="1.0" encoding="iso-8859-1"?>\n<!DOCTYPE html><html xmlns="http://www.w3.org/1999/xhtml">'
            "<head><title>Cold packs</title></head><body><p>Cold packs ease a fresh sprain when used for "
            "fifteen minutes at a time, several times a day.</p></body></html>")
    result = clean_page(raw(body))
    assert isinstance(result, Page), result
    assert result.title == "Cold packs"
    assert result.text.startswith("Cold packs ease a fresh sprain")


@pytest.mark.parametrize("body", ["", "   ", "<html><body></body></html>", "<<<>>>&&&",
                                  "\x00\x01\x02" * 500, "<script>only()</script>"])
def test_empty_or_garbage_returns_ingest_error(body):
    result = clean_page(raw(body))
    assert isinstance(result, IngestError)
    assert result.reason in ("empty", "unparsable")
    assert result.source == "fixture"


def test_binary_looking_text_never_raises_and_has_no_controls():
    body = bytes(range(256)).decode("latin-1") * 50
    result = clean_page(raw(body))
    assert isinstance(result, (Page, IngestError))
    if isinstance(result, Page):
        assert not any(ord(c) < 9 for c in result.text)


def test_empty_text_dump_returns_ingest_error():
    assert isinstance(clean_page(raw("\xa0\n\n \n", kind="text")), IngestError)


# --------------------------------------------------------------------------- plain-text dumps


def test_mini_dump_title_byline_and_chrome():
    page = clean_fixture("mini_dump.txt")
    assert page.title == "Cold Therapy for Sore Knees"
    assert page.byline == "Tomas Lindqvist"
    text = page.text
    assert text.startswith("Cold packs narrow blood vessels")
    for chrome in ("Joint Care Corner", "Knee Pain", "FlexiJoint", "By Tomas"):
        assert chrome not in text
    assert "\xa0" not in text
    assert len(page.blocks) == 3
    assert text.endswith("tightened around the joint and")  # cut mid-sentence: kept as is


@pytest.mark.skipif(not SEED.exists(), reason=f"seed page not present at {SEED}")
def test_real_seed_dump():
    page = clean_page(raw(SEED.read_text(encoding="utf-8"), kind="text", source=str(SEED)))
    assert isinstance(page, Page), page
    assert page.title == "Massage Therapy for Back Pain"
    assert page.byline == "Brennan Howe"
    text = page.text
    assert "\xa0" not in text
    assert "Stretching For Back Pain" not in text  # a nav line
    assert "Advanced Liquid Nutrition" not in text  # the ad line
    assert "Back Pain Relief Information" not in text  # the site name
    assert text.startswith("Massage therapy breaks down scar tissue")


# --------------------------------------------------------------------------- site template


def _page(i: int, blocks: list[Block]) -> Page:
    return Page(page_id=f"p{i}", source=f"s{i}", url=f"https://example.org/{i}", site="example.org",
                title=f"Page {i}", blocks=tuple(blocks))


def test_block_key_normalises():
    assert block_key("  Subscribe\xa0to our  NEWSLETTER!! ") == "subscribe to our newsletter"
    assert block_key("“Quoted.”") == "quoted"


def test_site_template_drops_repeated_blocks_keeps_unique():
    pages = []
    for i in range(5):
        blocks = [Block(f"Article {i} opens with its own sentence about treatment number {i}.")]
        if i < 4:
            blocks.append(Block("This site does not give medical advice. Ask your doctor.", "paragraph"))
            blocks.append(Block("Home\nBack pain\nNeck pain\nArticle only line " + str(i), "list"))
        pages.append(_page(i, blocks))
    template = learn_site_template(pages)
    assert block_key("This site does not give medical advice. Ask your doctor.") in template
    assert "home" in template and "back pain" in template
    assert not any(f"article {i}" in k for k in template for i in range(5))
    stripped = strip_template(pages[0], template)
    texts = [b.text for b in stripped.blocks]
    assert texts[0].startswith("Article 0 opens")
    assert all("medical advice" not in t for t in texts)
    assert texts[-1] == "Article only line 0"  # the list keeps its one own line
    unique = strip_template(pages[4], template)
    assert unique == pages[4]


def test_site_template_needs_enough_pages():
    pages = [_page(i, [Block("Same footer line on both pages.")]) for i in range(2)]
    assert learn_site_template(pages) == frozenset()


def test_template_heading_with_own_section_survives():
    pages = []
    for i in range(4):
        pages.append(_page(i, [Block("Symptoms", "heading", 2), Block(f"Own text about symptoms of case {i}.")]))
    template = learn_site_template(pages)
    assert "symptoms" in template
    assert strip_template(pages[0], template).headings == ["Symptoms"]


# --------------------------------------------------------------------------- quality gates

# One gate per dev set, over all its pages, with the packaged block model: floors of F1,
# recall and precision. They sit a little under the 5-fold cross-validated figures
# (scripts/eval_extraction.py DIRS --cv 5: extraction-dev F1 0.982, P 0.987, R 0.978; l3s
# F1 0.969, P 0.956, R 0.981), which are what the cleaner does on pages it was not fitted
# on; the packaged model has seen these pages, so a figure under the floor is a real
# regression, not noise.
GATES = {
    "extraction-dev": (0.97, 0.965, 0.978),
    "extraction-dev-l3s": (0.96, 0.97, 0.95),
}


def _load_eval():
    spec = importlib.util.spec_from_file_location("eval_extraction", REPO / "scripts" / "eval_extraction.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["eval_extraction"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(GATES))
def test_extraction_quality_gate(name):
    folder = DEV_DATA / name
    if not (folder / "ground-truth.json").exists():
        pytest.skip(f"extraction dev set not found at {folder} (shared data missing)")
    f1_floor, recall_floor, precision_floor = GATES[name]
    ev = _load_eval()
    scores = ev.evaluate(folder, systems=("ours",))["ours"].scores
    assert len(scores) >= 80
    p, r, f1, _ = ev.aggregate(scores)
    assert f1 >= f1_floor, f"{name}: extraction F1 {f1:.3f} (P {p:.3f}, R {r:.3f}) below floor {f1_floor}"
    assert r >= recall_floor, f"{name}: recall {r:.3f} below floor {recall_floor}"
    assert p >= precision_floor, f"{name}: precision {p:.3f} below floor {precision_floor}"


def test_text_record_of_one_long_line_keeps_its_text():
    line = "lumbar disc surgery outcomes were compared in a cohort of adults " * 6
    page = clean_page(raw(line.strip(), kind="text"))
    assert isinstance(page, Page)
    assert page.text.split() == line.split()
    assert page.title.startswith("lumbar disc surgery outcomes") and len(page.title.split()) <= 13


def test_html_record_with_a_given_title_uses_it():
    # a JSONL record's own title wins over what the cleaner would find in its HTML
    body = f"<html><head><title>Example Health</title></head><body><p>{ARTICLE}</p></body></html>"
    r = RawPage(page_id="p2", source="x.jsonl:2", url="https://example.org/p2", site="example.org",
                kind="html", body=body, encoding="utf-8", sha256="0" * 64, title=" Daily Walks ")
    page = clean_page(r)
    assert isinstance(page, Page), page
    assert page.title == "Daily Walks"
    assert page.text == ARTICLE
    plain = clean_page(raw(body))
    assert isinstance(plain, Page) and plain.title == "Example Health"


def test_text_record_with_a_given_title_uses_it():
    body = "Walking every day keeps the spine supple. " * 5
    r = RawPage(page_id="p2", source="x.jsonl:2", url="https://example.org/p2", site="example.org",
                kind="text", body=body, encoding="utf-8", sha256="0" * 64, title="Daily Walks")
    page = clean_page(r)
    assert isinstance(page, Page)
    assert page.title == "Daily Walks"
    assert "Walking every day" in page.text
