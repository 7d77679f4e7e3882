"""Passages: 40–250 words, sentence spans that respect abbreviations, nothing lost."""

from __future__ import annotations

from indexer.model import Block, Page
from indexer.passages import MAX_WORDS, MIN_WORDS, sentence_spans, split_passages, word_count

ABBREV = (
    "Dr. Smith saw the patient on Monday. Heat helps, e.g. a warm bath, and so does rest, i.e. a short break. "
    "Massage vs. stretching is a common question, among others etc. in clinics. "
    "See Fig. 2 for the results of trial No. 5, which enrolled approx. 300 people. "
    "The last sentence ends here."
)


def sentences_of(text: str) -> list[str]:
    return [text[s.start : s.end] for s in sentence_spans(text)]


def test_abbreviations_do_not_split() -> None:
    got = sentences_of(ABBREV)
    assert got == [
        "Dr. Smith saw the patient on Monday.",
        "Heat helps, e.g. a warm bath, and so does rest, i.e. a short break.",
        "Massage vs. stretching is a common question, among others etc. in clinics.",
        "See Fig. 2 for the results of trial No. 5, which enrolled approx. 300 people.",
        "The last sentence ends here.",
    ]


def _page(blocks: list[Block]) -> Page:
    return split_passages(Page(page_id="p", source="p", url="u", site="s", title="T", blocks=tuple(blocks)))


def test_passage_sizes_and_every_sentence_once() -> None:
    para = [f"Sentence number {i} talks about lifting with bent knees and a straight back. " * 1 for i in range(120)]
    blocks = [Block("Intro", "heading", 2)]
    for i in range(0, 120, 7):
        blocks.append(Block(" ".join(para[i : i + 7])))
        if i % 21 == 0:
            blocks.append(Block(f"Part {i}", "heading", 2))
    blocks.append(Block(" ".join(para[:40])))  # one long paragraph, split at sentence ends
    page = _page(blocks)
    assert len(page.passages) > 3
    for p in page.passages:
        assert MIN_WORDS <= word_count(p.text) <= MAX_WORDS, word_count(p.text)
    all_sentences = [p.text[s.start : s.end] for p in page.passages for s in p.sentences]
    expected = [s for b in blocks if b.kind != "heading" for s in sentences_of(b.text)]
    assert sorted(all_sentences) == sorted(expected)
    assert [p.position for p in page.passages] == list(range(len(page.passages)))
    assert all(p.passage_id == f"p#{p.position}" for p in page.passages)


def test_short_page_is_one_passage() -> None:
    page = _page([Block("Just a few words here.")])
    assert len(page.passages) == 1 and page.passages[0].text == "Just a few words here."
