"""Passages: main-text blocks → 40–250-word passages with sentence spans.

Passages follow the page's own structure (a heading starts a new passage once the
current one is long enough) so a search hit lands on a readable, self-contained piece.
Sentences come from NLTK Punkt trained offline on our own text, plus an abbreviation
list, so "Dr." and "e.g." never end a sentence and nothing is ever downloaded.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache

from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer, PunktTrainer

from .model import Block, Page, Passage, Sentence
from .fields import DATA_DIR

MIN_WORDS = 40
MAX_WORDS = 250
_WORD = re.compile(r"\S+")


@lru_cache(maxsize=1)
def sentence_tokenizer() -> PunktSentenceTokenizer:
    trainer = PunktTrainer()
    trainer.INCLUDE_ALL_COLLOCS = True
    trainer.train((DATA_DIR / "punkt_train.txt").read_text(encoding="utf-8"), finalize=True)
    params: PunktParameters = trainer.get_params()
    for line in (DATA_DIR / "abbreviations.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0]
        params.abbrev_types.update(w.rstrip(".").lower() for w in line.split())
    return PunktSentenceTokenizer(params)


def sentence_spans(text: str) -> list[Sentence]:
    """Sentence spans; a line break always ends a sentence (list items, table rows)."""
    tokenizer = sentence_tokenizer()
    spans: list[Sentence] = []
    for line in re.finditer(r"[^\n]+", text):
        offset = line.start()
        for start, end in tokenizer.span_tokenize(line.group(0)):
            if line.group(0)[start:end].strip():
                spans.append(Sentence(offset + start, offset + end))
    return spans


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def _split_long(text: str) -> list[str]:
    """Split an over-long block at sentence ends into near-equal parts."""
    sentences: list[str] = []
    for span in sentence_spans(text):
        words_of = text[span.start : span.end].split()
        # a run-on "sentence" (a table dump, hostile input) is cut by words
        sentences.extend(" ".join(words_of[i : i + MAX_WORDS]) for i in range(0, len(words_of), MAX_WORDS))
    total = sum(word_count(s) for s in sentences)
    parts = max(2, -(-total // MAX_WORDS))
    target = total / parts
    chunks: list[str] = []
    current: list[str] = []
    words = 0
    for sentence in sentences:
        n = word_count(sentence)
        if current and (words + n > MAX_WORDS or words >= target):
            chunks.append(" ".join(current))
            current, words = [], 0
        current.append(sentence)
        words += n
    if current:
        chunks.append(" ".join(current))
    return chunks


def split_passages(page: Page) -> Page:
    """The page with its passages filled; headings open a new passage when they can."""
    pieces: list[tuple[str, str]] = []  # (heading, text of one unit)
    heading = ""
    for block in page.blocks:
        if block.kind == "heading":
            heading = block.text
            pieces.append((heading, ""))  # a boundary marker
            continue
        if word_count(block.text) > MAX_WORDS and block.kind in ("paragraph", "quote"):
            pieces.extend((heading, chunk) for chunk in _split_long(block.text))
        else:
            pieces.append((heading, block.text))

    groups: list[tuple[str, list[str]]] = []
    current: list[str] = []
    current_heading = ""
    words = 0
    for piece_heading, text in pieces:
        if not text:  # heading boundary
            if words >= MIN_WORDS:
                groups.append((current_heading, current))
                current, words = [], 0
            if not current:
                current_heading = piece_heading
            continue
        n = word_count(text)
        if current and words + n > MAX_WORDS and words >= MIN_WORDS:
            groups.append((current_heading, current))
            current, words = [], 0
            current_heading = piece_heading
        if not current:
            current_heading = piece_heading
        current.append(text)
        words += n
    if current:
        if groups and words < MIN_WORDS and sum(map(word_count, groups[-1][1])) + words <= MAX_WORDS:
            groups[-1][1].extend(current)
        else:
            groups.append((current_heading, current))

    passages = []
    for position, (group_heading, texts) in enumerate(groups):
        text = "\n\n".join(texts)
        passages.append(
            Passage(
                passage_id=f"{page.page_id}#{position}",
                page_id=page.page_id,
                url=page.url,
                title=page.title,
                heading=group_heading,
                text=text,
                position=position,
                sentences=tuple(sentence_spans(text)),
            )
        )
    return replace(page, passages=tuple(passages))


def blocks_from_text(text: str) -> tuple[Block, ...]:
    """Paragraph blocks from plain text split on blank lines (JSONL `text` records, tests)."""
    return tuple(Block(p.strip()) for p in re.split(r"\n\s*\n", text) if p.strip())
