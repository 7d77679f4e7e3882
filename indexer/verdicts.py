"""A page's position on a treatment: helps, does-not-help, mixed or unclear.

Knowledge (`knowledge.py`) finds each sentence's claim; this module reads a whole page the
way a careful reader would: only sentences about the treatment count (named, or referred to
with "it" right after being named; sentences about other treatments do not), a conclusion
or study finding outweighs background, a hedged remark counts less, and negation and scope
are read within the clause ("has not been shown to prevent", "no better than sham", "helps
acute but not chronic pain"). The cue words and weights are data (`data/verdicts.toml`).

Two entry points: `judge(page)` for every vocabulary treatment the page makes claims about,
and `about(page, text)` for a treatment named in free words, matched as a phrase through
the index's own analyzer ("insoles" finds "shoe insoles").
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Callable, Iterable, Literal, Sequence

from .analysis import terms, terms_with_spans
from .fields import DATA_DIR
from .model import Claim, Page, Verdict, VerdictValue
from .vocabulary import Vocabulary, load_vocabulary

Tok = tuple[str, int, int]
Pattern = tuple[str, ...]


class _PhraseSet:
    """Phrases as term tuples, indexed by first term; "*" is any one word."""

    def __init__(self, phrases: Iterable[str]):
        self.index: dict[str, list[Pattern]] = {}
        for phrase in phrases:
            pattern = tuple("*" if w == "*" else t for w in str(phrase).split() for t in (["*"] if w == "*" else terms(w)))
            if pattern and pattern[0] != "*":
                self.index.setdefault(pattern[0], []).append(pattern)
        for patterns in self.index.values():
            patterns.sort(key=len, reverse=True)

    def find(self, toks: Sequence[str]) -> list[tuple[int, int]]:
        """(start, end) token positions of each match, longest at each start, no overlaps."""
        found: list[tuple[int, int]] = []
        i, n = 0, len(toks)
        while i < n:
            for pattern in self.index.get(toks[i], ()):
                if i + len(pattern) <= n and all(p == "*" or p == toks[i + j] for j, p in enumerate(pattern)):
                    found.append((i, i + len(pattern)))
                    i += len(pattern)
                    break
            else:
                i += 1
        return found


@dataclass(frozen=True)
class Rules:
    """verdicts.toml, compiled."""

    weights: dict[str, float]
    decide: dict[str, float]
    cues: dict[str, _PhraseSet]
    surface: dict[str, frozenset[str]]  # words compared as written, not as stems


def rules_from(data: dict) -> Rules:
    return Rules(
        weights={k: float(v) for k, v in data.get("weights", {}).items()},
        decide={k: float(v) for k, v in data.get("decide", {}).items()},
        cues={k: _PhraseSet(v) for k, v in data.get("cues", {}).items()},
        surface={k: frozenset(str(w).lower() for w in v) for k, v in data.get("surface", {}).items()},
    )


@lru_cache(maxsize=1)
def load_rules() -> Rules:
    return rules_from(tomllib.loads((DATA_DIR / "verdicts.toml").read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Reading:
    """What one sentence says about the treatment: +1 helps, −1 does not, 0 neither."""

    polarity: int
    weight: float
    limited: bool = False
    hedged: bool = False
    study: bool = False
    expert: bool = False
    conclusion: bool = False


_CLAUSE_PUNCT = re.compile(r"[;:()\u2013\u2014]|\s-\s")
_SCOPE_PUNCT = re.compile(r"[,;:()\u2013\u2014]|\s-\s")


def _clauses(text: str, spans: Sequence[Tok], rules: Rules, key: str = "clause_breaks", punct: re.Pattern[str] = _CLAUSE_PUNCT) -> list[int]:
    """Clause number of each token: a break word or ; : — starts a new clause."""
    breaks = {s for s, _ in rules.cues[key].find([t for t, _, _ in spans])}
    out, clause, prev_end = [], 0, 0
    for i, (_, s0, e0) in enumerate(spans):
        if i in breaks or (i and punct.search(text, prev_end, s0)):
            clause += 1
        out.append(clause)
        prev_end = e0
    return out


def read_sentence(
    text: str,
    target: Sequence[tuple[int, int]] = (),
    *,
    referred: bool = False,
    spans: Sequence[Tok] | None = None,
    rules: Rules | None = None,
) -> Reading:
    """How this sentence stands on the treatment found at token ranges `target`.

    With no target (`referred`), every clause counts; otherwise only cues in a clause
    that names the treatment, so "X did not help but Y did" is negative for X.
    """
    rules = rules or load_rules()
    spans = spans if spans is not None else terms_with_spans(text)
    toks = [t for t, _, _ in spans]
    if not toks or text.rstrip().endswith("?"):
        return Reading(0, 0.0)
    cues = rules.cues
    w = rules.weights
    clause = _clauses(text, spans, rules)
    scope = _clauses(text, spans, rules, "scope_breaks", _SCOPE_PUNCT)
    inside = {i for a, b in target for i in range(a, b)}
    wanted = {clause[i] for i in inside} if target else set(clause)
    window = int(rules.decide.get("negation_window", 6))
    ignore = {i for a, b in cues["not_negators"].find(toks) for i in range(a, b)}
    # (start, end, reach): "non", "less" turn only the word right after them ("non-toxic",
    # "less effective"), not "non-steroidal anti-inflammatory drugs reduce pain"
    negators = [(a, b, window) for a, b in cues["negators"].find(toks) if a not in ignore]
    negators += [(a, b, 0) for a, b in cues["adjacent_negators"].find(toks) if a not in ignore]

    strength = {"positive": 1.0, "negative": w.get("negative", 1.0), "harm": w.get("harm", 0.0)}
    found = [(a, b, sign, key) for sign, key in ((1, "positive"), (-1, "negative"), (-1, "harm")) for a, b in cues[key].find(toks)]
    found = _plain_positives(found, text, spans, rules)
    claimed = {i for a, b, _, key in found if key != "harm" for i in range(a, b)}
    hits = sorted(
        (a, b, sign, strength[key], key)
        for a, b, sign, key in found
        if not any(i in inside for i in range(a, b))
        # "reduces the risk": the risk is the claim's object, not a harm of the treatment
        and not (key == "harm" and any(i in claimed for i in range(a, b)))
    )
    # a negator turns the first cue after it (within the window, same clause) around;
    # a cue overlapping the negator ("not been shown") is that same negation
    flipped: set[int] = set()
    for a0, b0, reach in negators:
        after = [(a, b) for a, b, _, _, _ in hits if a >= b0]
        if not after or after[0][0] - b0 > reach or scope[after[0][0]] != scope[a0]:
            continue
        end = after[0][0]
        for a, b in after:  # "not shown to help": cues that follow on at once share it
            if a > end:
                break
            flipped.add(a)
            end = b
    # "more toxic than X" compares as "superior to X" does
    than = [a for a, _ in cues["than"].find(toks)]
    comparative = {a for a, _ in cues["comparative"].find(toks)}
    comparative |= {a for a, b, _, _, _ in hits if any(b <= t <= b + 2 for t in than)}
    first_target = min((a for a, _ in target), default=-1)
    score = 0.0
    harm_only = True
    for a, _, sign, weight, key in hits:
        if clause[a] in wanted:
            # "Y is superior to X": the comparison speaks for Y, against the target X
            turned = (a in flipped) != (a in comparative and first_target > a and clause[first_target] == clause[a])
            score += (-sign if turned else sign) * weight
            harm_only = harm_only and key == "harm"
    if target and _given_up(toks, target, clause, cues["cessation"], window):
        # "stop taking X", "avoid X": whatever the sentence recommends, it is against X
        score = -max(abs(score), 1.0)
        harm_only = False
    limited = bool(cues["limited"].find(toks))
    polarity = (score > 0) - (score < 0)
    if polarity == 0 and not limited:
        return Reading(0, 0.0)
    hedged = bool(cues["hedged"].find(toks))
    study = bool(cues["study"].find(toks))
    expert = bool(cues["expert"].find(toks))
    conclusion = bool(cues["conclusion"].find(toks))
    weight = w.get("base", 1.0)
    if conclusion:
        weight *= w.get("conclusion", 1.0)
    if study:
        weight *= w.get("study", 1.0)
    elif expert:
        weight *= w.get("expert", 1.0)
    if hedged:
        weight *= w.get("hedged", 1.0)
    if cues["unsettled"].find(toks):
        weight *= w.get("unsettled", 1.0)
    if cues["reported"].find(toks):
        weight *= w.get("reported", 1.0)
    if referred:
        weight *= w.get("referred", 1.0)
    if harm_only and polarity:
        # a side effect named, no word on whether it works: pages for a treatment list them too
        weight *= w.get("harm_only", 1.0)
    if polarity < 0:
        weight *= w.get("negative", 1.0)
    return Reading(polarity, weight, limited, hedged, study, expert, conclusion)


def _plain_positives(found: list[tuple[int, int, int, str]], text: str, spans: Sequence[Tok], rules: Rules) -> list[tuple[int, int, int, str]]:
    """Drop positive cues that are not claims of benefit: a stem shared with a plain noun
    ("effect" of "effective", so "side effects" and "no effect" are no praise), and a
    positive word that only completes a negative cue ("negligible effect", "little benefit")."""
    plain = rules.surface.get("not_positive", frozenset())
    against = {b for a, b, sign, key in found if sign < 0}
    covered = {i for a, b, sign, key in found if sign < 0 for i in range(a, b)}
    out = []
    for a, b, sign, key in found:
        if key == "positive":
            surface = text[spans[a][1] : spans[b - 1][2]].lower()
            if surface in plain or a in against or a in covered:
                continue
        out.append((a, b, sign, key))
    return out


def _given_up(toks: Sequence[str], target: Sequence[tuple[int, int]], clause: Sequence[int], cessation: _PhraseSet, window: int) -> bool:
    """A cessation cue ("stop", "avoid", "cut down on") shortly before the treatment, same clause."""
    for a0, b0 in cessation.find(toks):
        for a, _ in target:
            if b0 <= a and a - b0 <= window and clause[a] == clause[a0]:
                return True
    return False


@dataclass(frozen=True)
class Scored:
    claim: Claim
    reading: Reading


def decide(treatment: str, scored: Sequence[Scored], rules: Rules | None = None) -> Verdict:
    """Weigh the readings: enough weight on one side → helps / does-not-help, else mixed or unclear."""
    rules = rules or load_rules()
    d = rules.decide
    pos = neg = 0.0
    for s in scored:
        r = s.reading
        if r.limited:
            # "helps, but only in the short term": a position on both sides
            half = r.weight / 2
            pos += half if r.polarity >= 0 else 0.0
            neg += half if r.polarity >= 0 else r.weight
            continue
        if r.polarity > 0:
            pos += r.weight
        elif r.polarity < 0:
            neg += r.weight
    total = pos + neg
    verdict: VerdictValue
    if total < d.get("min_weight", 1.0):
        verdict = "unclear"
    elif abs(pos - neg) / total < d.get("mixed_margin", 0.2):
        verdict = "mixed"
    else:
        verdict = "helps" if pos > neg else "does-not-help"
    side = {"helps": 1, "does-not-help": -1}.get(verdict, 0)
    ranked = sorted(
        (s for s in scored if s.reading.weight > 0),
        key=lambda s: (side != 0 and s.reading.polarity != side, -s.reading.weight, s.claim.start),
    )
    claims = tuple(s.claim for s in ranked[: int(d.get("max_claims", 5))])
    return Verdict(treatment=treatment, verdict=verdict, claims=claims, score=round(pos - neg, 3))


def _as_claim(base: Claim | None, text: str, start: int, reading: Reading, treatments: tuple[str, ...]) -> Claim:
    evidence: Literal["study", "expert", "none"] = "study" if reading.study else "expert" if reading.expert else "none"
    polarity: Literal["positive", "negative"] = "negative" if reading.polarity < 0 else "positive"
    if base is not None:
        return replace(base, polarity=polarity, hedged=base.hedged or reading.hedged)
    return Claim(
        text=text, start=start, end=start + len(text), type="efficacy", types=("efficacy",),
        polarity=polarity, evidence=evidence, hedged=reading.hedged, treatments=treatments,
    )  # fmt: skip


@dataclass(frozen=True)
class _Line:
    """One sentence of the page, tokenised once, with the treatments it names (token ranges)."""

    text: str
    start: int
    claim: Claim | None
    is_title: bool
    spans: tuple[Tok, ...]
    named: tuple[tuple[str, int, int], ...]


def _lines(page: Page, vocab: Vocabulary) -> list[_Line]:
    """The page's title and sentences in order, each tokenised and matched once."""
    out: list[_Line] = []

    def add(text: str, start: int, claim: Claim | None, is_title: bool) -> None:
        spans = tuple(terms_with_spans(text))
        starts = {s0: i for i, (_, s0, _) in enumerate(spans)}
        ends = {e0: i for i, (_, _, e0) in enumerate(spans)}
        named = tuple(
            (tid, starts[s], ends[e] + 1)
            for tid, s, e, _ in vocab.match_terms(list(spans), text, "treatment")
            if s in starts and e in ends
        )
        out.append(_Line(text, start, claim, is_title, spans, named))

    if page.title.strip():
        add(page.title.strip(), 0, None, True)
    for passage in page.passages:
        claims = {c.start: c for c in passage.claims}
        for s in passage.sentences:
            raw = passage.text[s.start : s.end]
            text = raw.strip()
            if text:
                start = s.start + len(raw) - len(raw.lstrip())
                add(text, start, claims.get(start), False)
    return out


# where a line names the treatment, as token ranges
Finder = Callable[[_Line], list[tuple[int, int]]]


def _verdict_for(lines: Sequence[tuple[_Line, Sequence[tuple[int, int]]]], label: str, rules: Rules) -> Verdict:
    """`lines`: each sentence with the target's token ranges in it; `named` holds only other treatments."""
    reference = rules.cues["reference"]
    scored: list[Scored] = []
    previous = False
    min_words = int(rules.decide.get("min_words", 0))
    for line, target in lines:
        if not line.is_title and (len(line.spans) < min_words or "|" in line.text):
            previous = bool(target)
            continue
        referred = False
        if not target:
            toks = [t for t, _, _ in line.spans[:3]]
            opens = reference.find(toks)
            # "It has not been shown to help": right after the treatment was named, and
            # only when the sentence names no other treatment
            referred = previous and bool(opens) and opens[0][0] == 0 and not line.named
            previous = referred
            if not referred:
                continue
        else:
            previous = True
        reading = read_sentence(line.text, target, referred=referred, spans=line.spans, rules=rules)
        if line.is_title and reading.weight:
            reading = replace(reading, weight=reading.weight * rules.weights.get("title", 1.0))
        if reading.polarity == 0 and not reading.limited:
            continue
        scored.append(Scored(_as_claim(line.claim, line.text, line.start, reading, (label,)), reading))
    if any(target for _, target in lines):
        scored.extend(_skeptic(lines, {s.claim.start for s in scored}, label, rules))
    return decide(label, scored, rules)


def _skeptic(lines: Sequence[tuple[_Line, Sequence[tuple[int, int]]]], taken: set[int], label: str, rules: Rules) -> list[Scored]:
    """A debunking page ("quackery", "no scientific evidence", "FTC sues") leans against what it
    discusses even where a sentence does not name it; a few such sentences, each weighing little,
    none naming another treatment."""
    weight = rules.weights.get("page_skeptic", 0.0)
    most = int(rules.decide.get("page_skeptic_max", 0))
    out: list[Scored] = []
    if weight <= 0 or most <= 0:
        return out
    cue = rules.cues["page_skeptic"]
    for line, target in lines:
        if target or line.named or line.start in taken and not line.is_title:
            continue
        if cue.find([t for t, _, _ in line.spans]):
            reading = Reading(-1, weight)
            out.append(Scored(_as_claim(line.claim, line.text, line.start, reading, (label,)), reading))
            if len(out) >= most:
                break
    return out


def _alternatives(text: str) -> list[str]:
    return [p for p in re.split(r",|/|\bor\b|\|", text) if terms(p)]


def phrase_finder(text: str, vocab: Vocabulary | None = None) -> Finder:
    """Where the words of `text` occur as a phrase (alternatives: "a, b or c").

    When the words name a vocabulary treatment, its synonyms and narrower treatments
    are found too.
    """
    alternatives = [tuple(terms(p)) for p in _alternatives(text)]
    known: frozenset[str] = frozenset()
    if vocab is not None:
        ids = [vocab.resolve(p, "treatment") for p in _alternatives(text)]
        known = frozenset(d for i in ids if i for d in vocab.descendants(i))

    def find(line: _Line) -> list[tuple[int, int]]:
        toks = [t for t, _, _ in line.spans]
        out = {(a, b) for tid, a, b in line.named if tid in known}
        for alt in alternatives:
            n = len(alt)
            out.update((i, i + n) for i in range(len(toks) - n + 1) if tuple(toks[i : i + n]) == alt)
        return sorted(out)

    return find


def name_stems(text: str, vocab: Vocabulary | None = None) -> list[tuple[str, ...]]:
    """The terms of every name `about(text)` looks for: the alternatives, and when one names a
    vocabulary treatment, its names and its narrower treatments' names."""
    vocab = vocab or load_vocabulary()
    out = [tuple(terms(p)) for p in _alternatives(text)]
    for p in _alternatives(text):
        tid = vocab.resolve(p, "treatment")
        for d in vocab.descendants(tid) if tid else ():
            concept = vocab.concept(d)
            if concept:
                out.extend(tuple(terms(n)) for n in (concept.label, *concept.synonyms) if terms(n))
    return out


@dataclass(frozen=True)
class AboutLines:
    """A page read once for a treatment named in free words: each sentence with where it names
    the treatment. Weighing them (`weigh`) is cheap, so rules can be tried on it many times."""

    label: str
    lines: tuple[tuple[_Line, tuple[tuple[int, int], ...]], ...]


def about_lines(page: Page, text: str, vocab: Vocabulary | None = None) -> AboutLines:
    vocab = vocab or load_vocabulary()
    find = phrase_finder(text, vocab)
    lines = []
    for line in _lines(page, vocab):
        target = tuple(find(line))
        lines.append((replace(line, named=_others(line, target)), target))
    return AboutLines(" ".join(text.split()), tuple(lines))


def weigh(read: AboutLines, rules: Rules | None = None) -> Verdict:
    return _verdict_for(read.lines, read.label, rules or load_rules())


def about(page: Page, text: str, vocab: Vocabulary | None = None, rules: Rules | None = None) -> Verdict:
    """The page's position on a treatment named in free words (see `phrase_finder`)."""
    return weigh(about_lines(page, text, vocab), rules)


def _others(line: _Line, mine: Sequence[tuple[int, int]]) -> tuple[tuple[str, int, int], ...]:
    """The line's named treatments that do not overlap the target's ranges."""
    taken = {i for a, b in mine for i in range(a, b)}
    return tuple(n for n in line.named if not any(i in taken for i in range(n[1], n[2])))


def judge(page: Page, vocab: Vocabulary | None = None) -> tuple[Verdict, ...]:
    """A verdict for every vocabulary treatment the page makes claims about, most claimed first.

    Reads only the sentences knowledge already found to be claims (it has resolved "it" and
    "this type of massage" to their treatment), so judging costs little beside annotating.
    """
    vocab = vocab or load_vocabulary()
    rules = load_rules()
    claims = [c for passage in page.passages for c in passage.claims if c.treatments]
    if not claims:
        return ()
    counts: dict[str, int] = {}
    for claim in claims:
        for tid in claim.treatments:
            counts[tid] = counts.get(tid, 0) + 1
    lines: list[tuple[Claim, tuple[Tok, ...], tuple[tuple[str, int, int], ...]]] = []
    for claim in claims:
        spans = tuple(terms_with_spans(claim.text))
        starts = {s0: i for i, (_, s0, _) in enumerate(spans)}
        ends = {e0: i for i, (_, _, e0) in enumerate(spans)}
        named = tuple(
            (tid, starts[s], ends[e] + 1)
            for tid, s, e, _ in vocab.match_terms(list(spans), claim.text, "treatment")
            if s in starts and e in ends
        )
        lines.append((claim, spans, named))
    verdicts = []
    for tid in sorted(counts, key=lambda t: -counts[t]):
        mine = frozenset(vocab.descendants(tid))
        scored = []
        for claim, spans, named in lines:
            if tid not in claim.treatments and not any(t in mine for t, _, _ in named):
                continue
            target = [(a, b) for t, a, b in named if t in mine]
            reading = read_sentence(claim.text, target, referred=not target, spans=spans, rules=rules)
            if reading.polarity or reading.limited:
                scored.append(Scored(_as_claim(claim, claim.text, claim.start, reading, (tid,)), reading))
        verdict = decide(tid, scored, rules)
        if verdict.claims:
            verdicts.append(verdict)
    return tuple(verdicts)


def attach(page: Page) -> Page:
    """The page with a verdict for each vocabulary treatment it makes claims about."""
    return replace(page, verdicts=judge(page))


def with_about(page: Page, text: str) -> Page:
    """The page with its position on the treatment named by `text`."""
    return replace(page, about=about(page, text))
