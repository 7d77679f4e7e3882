"""Knowledge layer: what each passage is about and what it asserts.

For every passage: the treatments and conditions it names (vocabulary matches,
most specific concepts, in order of first mention), and a `Claim` for every sentence
that asserts something about a treatment (what it does or how well, how it works,
when it fails or harms) or gives a figure about patients or providers.

Rules, not a model: cue phrases live in `data/claim_cues.toml` and are matched on the
index's own normalised terms (`analysis.terms_with_spans`), like the vocabularies.
Everything is compiled once and cached, so annotating a page costs a few milliseconds.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Iterable, Sequence

from .analysis import terms, terms_with_spans
from .model import Claim, Page, Passage, Sentence
from .vocabulary import Vocabulary, load_vocabulary
from .fields import DATA_DIR

Tok = tuple[str, int, int]

# Precedence of claim types when several fire (the first is the primary type).
TYPE_ORDER = ("comparison", "statistic", "caution", "mechanism", "efficacy")

_PERCENT = re.compile(r"\d[\d,.]*\s*(?:%|percent\b|per\s+cent\b)", re.I)
_NUM = r"(?:\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|a hundred|a thousand)"
_RATIO = re.compile(rf"\b{_NUM}\s+(?:in|out\s+of)\s+(?:every\s+)?{_NUM}\b", re.I)
_YEAR = re.compile(r"^(?:1[89]|20)\d\d$")
_DIGITS = re.compile(r"^\d[\d,.]*$")
_FIRST_WORD = re.compile(r"[A-Za-z]+")


class _Cues:
    """Phrase sets from claim_cues.toml, compiled to term tuples indexed by first term."""

    def __init__(self, data: dict):
        self.data = data
        self.groups: dict[str, list[tuple[str, ...]]] = {}
        self.index: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for section, table in data.items():
            for name, phrases in table.items():
                if not isinstance(phrases, list):
                    continue
                key = f"{section}.{name}"
                compiled = []
                for phrase in phrases:
                    pattern = tuple(_compile_word(w) for w in str(phrase).split() for _ in [0])
                    pattern = tuple(t for group in pattern for t in group)
                    if pattern and pattern[0] != "*":
                        compiled.append(pattern)
                        self.index.setdefault(_first_term(pattern[0]), []).append((pattern, key))
                self.groups[key] = compiled
        self.words = {k: frozenset(p[0] for p in v if len(p) == 1) for k, v in self.groups.items()}
        self.imperative = frozenset(w.lower() for w in data.get("not_claim", {}).get("imperative", []))

    def find(self, toks: Sequence[str], surface: Sequence[str] | None = None, masked: frozenset[int] = frozenset()) -> dict[str, list[int]]:
        """Every cue group that fires, with the token positions where its phrases start.

        `surface` holds the words as written (lowercased) for "=word" cues; positions in
        `masked` (inside a treatment's name) never start or take part in a cue.
        """
        hits: dict[str, list[int]] = {}
        n = len(toks)
        surface = surface or toks
        for i, term in enumerate(toks):
            for pattern, key in self.index.get(term, ()):
                if i + len(pattern) > n:
                    continue
                ok = True
                for j, p in enumerate(pattern):
                    if p == "*":
                        continue
                    if (i + j) in masked and not key.startswith(("reference.", "negation.", "not_claim.")):
                        ok = False
                        break
                    if p.startswith("="):
                        if surface[i + j] != p[1:]:
                            ok = False
                            break
                    elif p != toks[i + j]:
                        ok = False
                        break
                if ok:
                    hits.setdefault(key, []).append(i)
        return hits


def _compile_word(word: str) -> tuple[str, ...]:
    """A cue word → pattern items: "*" any word, "=word" the word as written, else its terms."""
    if word == "*":
        return ("*",)
    if word.startswith("="):
        return tuple("=" + w.lower() for w in re.findall(r"[^\W_]+", word[1:]))
    return tuple(terms(word))


def _first_term(item: str) -> str:
    return terms(item[1:])[0] if item.startswith("=") else item


@lru_cache(maxsize=1)
def load_cues() -> _Cues:
    return _Cues(tomllib.loads((DATA_DIR / "claim_cues.toml").read_text(encoding="utf-8")))


@dataclass(frozen=True)
class _Context:
    """What a sentence can refer back to: the previous sentence's, heading's and page's topics."""

    previous: tuple[str, ...] = ()
    heading: tuple[str, ...] = ()
    page: tuple[str, ...] = ()
    passage: tuple[str, ...] = ()


def _topic(ids: Sequence[str], vocab: Vocabulary) -> str | None:
    """The subject among a sentence's treatments: the first, or the family of several listed.

    "Ibuprofen and naproxen belong to the NSAID family" is about nsaids; "Capsaicin ...
    is sold as a cream" stays about capsaicin.
    """
    if not ids:
        return None
    for family in ids:
        members = sum(1 for i in ids if i != family and vocab.is_a(i, family))
        if members >= 2:
            return family
    return ids[0]


def _negated(toks: Sequence[str], cues: _Cues) -> bool:
    negators = cues.words.get("negation.negators", frozenset())
    targets = cues.words.get("negation.targets", frozenset())
    for i, t in enumerate(toks):
        if t in targets and any(x in negators for x in toks[max(0, i - 3) : i]):
            return True
    return False


def _agenda_first(hits: dict[str, list[int]]) -> bool:
    """Whether a recommendation, aim or call for research opens before any finding, effect or caution.

    "Studies are needed to determine whether X reduces Y" states no finding; "X reduced Y;
    further studies are needed" does, and "You should avoid X" is a caution.
    """
    agenda = hits.get("finding.agenda")
    if not agenda:
        return False
    kinds = ("finding.association", "finding.change", "caution.strong", "efficacy.positive", "efficacy.negative")
    stated = [i for k in kinds for i in hits.get(k, ())]
    return not stated or min(agenda) < min(stated)


def _statistic(text: str, toks: Sequence[str], hits: dict[str, list[int]], cues: _Cues) -> tuple[bool, bool]:
    """(strong, weak): a percentage, ratio or statistic phrase; or a count of people."""
    strong = bool(_PERCENT.search(text) or _RATIO.search(text) or "statistic.phrases" in hits)
    numbers = cues.words.get("statistic.number_words", frozenset())
    people = cues.words.get("statistic.people", frozenset())
    weak = False
    for i, t in enumerate(toks):
        if (t in numbers or (_DIGITS.match(t) and not _YEAR.match(t))) and any(
            w in people for w in toks[i + 1 : i + 4]
        ):
            weak = True
            break
    return strong, weak


def classify_sentence(
    sentence: str,
    context_treatments: Sequence[str] = (),
    *,
    start: int = 0,
    _context: _Context | None = None,
    _toks: list[Tok] | None = None,
) -> Claim | None:
    """A `Claim` if the sentence asserts something about a treatment or gives a figure.

    `context_treatments` are the treatments the sentence may refer back to ("it",
    "this type of massage", "the needles"), nearest first; annotate() passes the
    previous sentence's, the heading's and the page's topics.
    """
    vocab = load_vocabulary()
    cues = load_cues()
    spans = _toks if _toks is not None else terms_with_spans(sentence)
    toks = [t for t, _, _ in spans]
    if not toks:
        return None
    named = vocab.match_terms(spans, sentence, "treatment")
    masked = frozenset(i for i, (_, s0, e0) in enumerate(spans) for _, ns, ne, _ in named if ns <= s0 and e0 <= ne)
    surface = [sentence[s0:e0].lower() for _, s0, e0 in spans]
    hits = cues.find(toks, surface, masked)
    if "not_claim.phrases" in hits:
        return None
    ctx = _context or _Context(previous=tuple(context_treatments))

    # -- what it is about ------------------------------------------------------------
    treatments = [tid for tid, _, _, _ in named]
    refers = "reference.phrases" in hits
    candidates = [c for c in dict.fromkeys((*treatments, *ctx.previous, *ctx.heading, *ctx.page, *ctx.passage)) if c]
    type_of = cues.groups.get("reference.type_of", [])
    first_tok = {s0: i for i, (_, s0, _) in enumerate(spans)}
    for k, (tid, ns, _, generic) in enumerate(named):
        # "this type of massage", "these drugs": the narrower concept the text is about
        at = first_tok.get(ns, -1)
        referred = at > 0 and any(
            len(p) <= at and all(q == "*" or q == toks[at - len(p) + j] for j, q in enumerate(p)) for p in type_of
        )
        if generic or referred:
            narrower = next((c for c in candidates if c != tid and vocab.is_a(c, tid)), None)
            in_sentence = any(c != tid and vocab.is_a(c, tid) for c in treatments)
            if in_sentence:
                treatments[k] = ""  # named narrower in this very sentence
            elif narrower and (referred or refers):
                treatments[k] = narrower
    treatments = [t for t in treatments if t]
    if not treatments:
        pick = None
        if refers and ctx.previous:
            pick = _topic(ctx.previous, vocab)
        pick = pick or _topic(ctx.heading, vocab) or _topic(ctx.previous, vocab) or _topic(ctx.page, vocab)
        if pick:
            treatments = [pick]
    treatments = list(dict.fromkeys(treatments))
    conditions = list(dict.fromkeys(cid for cid, _, _, _ in vocab.match_terms(spans, sentence, "condition")))

    # -- what it asserts -------------------------------------------------------------
    first = _FIRST_WORD.search(sentence)
    imperative = bool(first and first.group(0).lower() in cues.imperative)
    strong_caution = "caution.strong" in hits
    if imperative and not (strong_caution and treatments):
        return None

    stat_strong, stat_weak = _statistic(sentence, toks, hits, cues)
    study = "evidence.study" in hits
    result = "study_design.result" in hits
    if study and "study_design.setup" in hits and not result:
        return None  # a study's set-up, not its finding

    finding = "finding.association" in hits or "finding.change" in hits
    if _agenda_first(hits):
        return None  # a recommendation, aim or call for research, not a finding

    efficacy_pos = "efficacy.positive" in hits
    efficacy_neg = "efficacy.negative" in hits
    comp = any(k in hits for k in ("comparison.positive", "comparison.negative", "comparison.equal"))
    if not comp and "comparison.weak" in hits and (result or efficacy_pos or efficacy_neg or stat_strong):
        comp = True
    if comp and len(treatments) == 0 and not ("comparison.negative" in hits or study):
        comp = False

    fired: list[str] = []
    if comp:
        fired.append("comparison")
    if stat_strong or (stat_weak and (result or efficacy_pos or efficacy_neg or strong_caution)):
        fired.append("statistic")
    if strong_caution and treatments:
        fired.append("caution")
    if "mechanism.strong" in hits and treatments:
        fired.append("mechanism")
    if (efficacy_pos or efficacy_neg) and (treatments or study):
        fired.append("efficacy")
    if finding and "efficacy" not in fired:
        fired.append("efficacy")  # a stated finding: exposure related to an outcome
    if "mechanism.weak" in hits and treatments and "mechanism" not in fired and "efficacy" in fired:
        fired.append("mechanism")
    if "caution.weak" in hits and treatments and "caution" not in fired:
        fired.append("caution")
    if not fired:
        return None
    # a safety remark only leads when nothing else is asserted
    order = sorted(fired, key=TYPE_ORDER.index)
    if "caution" in order and not strong_caution and len(order) > 1:
        order.remove("caution")
        order.append("caution")
    if "mechanism" in order and "mechanism.strong" not in hits and len(order) > 1:
        order.remove("mechanism")
        order.append("mechanism")

    negative = (
        "comparison.negative" in hits
        or efficacy_neg
        or _negated(toks, cues)
        or (strong_caution and order[0] in ("caution", "statistic"))
    )
    if order[0] == "comparison" and "comparison.negative" not in hits and ("comparison.positive" in hits or "comparison.equal" in hits):
        negative = False
    hedges = set(hits.get("hedge.phrases", ())) - {i + 1 for i in hits.get("not_hedge.phrases", ())}
    hedged = bool(hedges)
    if study:
        evidence = "study"
    elif "evidence.expert" in hits:
        evidence = "expert"
    else:
        evidence = "none"
    return Claim(
        text=sentence,
        start=start,
        end=start + len(sentence),
        type=order[0],
        types=tuple(order),
        polarity="negative" if negative else "positive",
        evidence=evidence,  # type: ignore[arg-type]
        hedged=hedged,
        treatments=tuple(treatments),
        conditions=tuple(conditions),
    )


def _fallback_sentences(text: str) -> tuple[Sentence, ...]:
    try:
        from .passages import sentence_spans

        return tuple(sentence_spans(text))
    except Exception:  # pragma: no cover - passages is always there in the project
        return tuple(Sentence(m.start(), m.end()) for m in re.finditer(r"[^.!?\n]+[.!?]?", text) if m.group().strip())


def _trim(text: str, s: Sentence) -> tuple[int, int]:
    start, end = s.start, s.end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def annotate_passage(passage: Passage, page_topics: Sequence[str] = (), vocab: Vocabulary | None = None) -> Passage:
    vocab = vocab or load_vocabulary()
    text = passage.text
    sentences = passage.sentences or _fallback_sentences(text)
    heading_topics = tuple(t for t, _, _ in vocab.match(passage.heading, "treatment")) if passage.heading else ()
    all_treatments: list[str] = []
    all_conditions: list[str] = []
    claims: list[Claim] = []
    previous: tuple[str, ...] = ()
    for s in sentences:
        start, end = _trim(text, s)
        if end <= start:
            continue
        sentence = text[start:end]
        spans = terms_with_spans(sentence)
        named = tuple(t for t, _, _, _ in vocab.match_terms(spans, sentence, "treatment"))
        all_treatments.extend(named)
        all_conditions.extend(c for c, _, _, _ in vocab.match_terms(spans, sentence, "condition"))
        ctx = _Context(previous=previous, heading=heading_topics, page=tuple(page_topics), passage=tuple(all_treatments))
        claim = classify_sentence(sentence, start=start, _context=ctx, _toks=spans)
        if claim is not None:
            claims.append(claim)
        if claim is not None and claim.treatments:
            previous = claim.treatments
        elif named:
            previous = named
    return replace(
        passage,
        sentences=tuple(sentences),
        treatments=tuple(vocab.most_specific(all_treatments)),
        conditions=tuple(vocab.most_specific(all_conditions)),
        claims=tuple(claims),
    )


def page_topics(page: Page, vocab: Vocabulary | None = None) -> tuple[str, ...]:
    """The page's main treatments: those its title names."""
    vocab = vocab or load_vocabulary()
    return tuple(dict.fromkeys(t for t, _, _ in vocab.match(page.title, "treatment")))


def annotate(page: Page) -> Page:
    """The page with each passage's treatments, conditions and claims filled."""
    vocab = load_vocabulary()
    topics = page_topics(page, vocab)
    return replace(page, passages=tuple(annotate_passage(p, topics, vocab) for p in page.passages))


def claims_of(pages: Iterable[Page]) -> list[tuple[Page, Passage, Claim]]:
    return [(page, p, c) for page in pages for p in page.passages for c in p.claims]
