"""Vocabularies of treatments and conditions, loaded from data files.

`indexer/data/treatments.toml` and `indexer/data/conditions.toml` hold the concepts
(id, label, synonyms, parent); this module only reads them. Every name is run through
the index's own analyzer chain (`analysis.terms`), so matching works on the same
normalised terms as search: case, plurals and verb forms, hyphens and British
spellings all fold together, and a word inside another word never matches.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Literal

from .analysis import terms, terms_with_spans

from .fields import DATA_DIR
Kind = Literal["treatment", "condition"]
KINDS: dict[str, str] = {
    "treatment": "treatment",
    "treatments": "treatment",
    "condition": "condition",
    "conditions": "condition",
}


@dataclass(frozen=True)
class Concept:
    id: str
    label: str
    synonyms: tuple[str, ...] = ()
    parent: str | None = None


class VocabularyError(ValueError):
    """A data file that cannot be used: bad TOML, unknown parent, cycle."""


class _Matcher:
    """Longest token-sequence match at each position, left to right, no overlaps."""

    def __init__(self, phrases: dict[tuple[str, ...], list[tuple[str | None, tuple[str, ...] | None, bool]]]):
        # terms → candidates (concept or None for an ignore phrase, exact surface words or
        # None, generic?); a candidate with surface words only matches that very text.
        self.phrases = phrases
        self.max_len = max((len(k) for k in phrases), default=0)
        self.firsts = frozenset(k[0] for k in phrases)

    def match_terms(
        self, toks: list[tuple[str, int, int]], text: str | None = None
    ) -> list[tuple[str, int, int, bool]]:
        """(id, start, end, generic) for each match; `text` enables surface-only names."""
        found: list[tuple[str, int, int, bool]] = []
        phrases, firsts = self.phrases, self.firsts
        i, n = 0, len(toks)
        while i < n:
            if toks[i][0] not in firsts:
                i += 1
                continue
            for length in range(min(self.max_len, n - i), 0, -1):
                key = tuple(t[0] for t in toks[i : i + length])
                candidates = phrases.get(key)
                if not candidates:
                    continue
                start, end = toks[i][1], toks[i + length - 1][2]
                chosen = None
                for concept, surface, generic in candidates:
                    if surface is not None:
                        if text is None or not _surface_equal(text[start:end], surface):
                            continue
                    chosen = (concept, generic)
                    break
                if chosen is None:
                    continue
                if chosen[0] is not None:
                    found.append((chosen[0], start, end, chosen[1]))
                i += length
                break
            else:
                i += 1
        return found


_WORDS = re.compile(r"[^\W_]+", re.UNICODE)


def _surface_equal(found: str, surface: tuple[str, ...]) -> bool:
    words = tuple(_WORDS.findall(found))
    if len(words) != len(surface):
        return False
    # an all-capitals name (TENS, NMT) only matches capitals; others ignore case
    return all(w == s if s.isupper() and len(s) > 1 else w.lower() == s.lower() for w, s in zip(words, surface))


class Vocabulary:
    """Treatments and conditions with their hierarchy and a matcher for each kind."""

    def __init__(
        self,
        treatments: dict[str, Concept],
        conditions: dict[str, Concept],
        ignore: dict[str, Iterable[str]] | None = None,
        surface_only: dict[str, Iterable[str]] | None = None,
        generic: dict[str, Iterable[str]] | None = None,
    ):
        self.treatments = treatments
        self.conditions = conditions
        self._concepts: dict[str, dict[str, Concept]] = {"treatment": treatments, "condition": conditions}
        ignore = ignore or {}
        self._matchers: dict[str, _Matcher] = {}
        self._names: dict[str, dict[tuple[str, ...], str]] = {}
        for kind, concepts in self._concepts.items():
            self._check_parents(kind, concepts)
            exact = {w.lower() for w in (surface_only or {}).get(kind, ())}
            weak = {w.lower() for w in (generic or {}).get(kind, ())}
            phrases: dict[tuple[str, ...], list[tuple[str | None, tuple[str, ...] | None, bool]]] = {}
            names: dict[tuple[str, ...], str] = {}
            for concept in concepts.values():
                id_name = concept.id.replace("-", " ")
                for name in (concept.label, *concept.synonyms, id_name):
                    key = tuple(terms(name))
                    if not key:
                        continue
                    if name is id_name and key in names:
                        continue  # the id spells a name already listed (with its own rules)
                    names.setdefault(key, concept.id)
                    words = tuple(_WORDS.findall(name))
                    caps = any(w.isupper() and len(w) > 1 for w in words)
                    surface = words if (caps or name is id_name or name.lower() in exact) else None
                    phrases.setdefault(key, []).append((concept.id, surface, name.lower() in weak))
            for phrase in ignore.get(kind, ()):
                key = tuple(terms(phrase))
                if key:
                    phrases.setdefault(key, []).append((None, None, False))
            for candidates in phrases.values():
                # exact-surface names first, then plain names, then ignore phrases
                candidates.sort(key=lambda c: (c[1] is None, c[0] is None))
            self._matchers[kind] = _Matcher(phrases)
            self._names[kind] = names
        self._children: dict[str, dict[str, list[str]]] = {}
        for kind, concepts in self._concepts.items():
            children: dict[str, list[str]] = {}
            for concept in concepts.values():
                if concept.parent:
                    children.setdefault(concept.parent, []).append(concept.id)
            self._children[kind] = children
        # the chains are short and asked for per mention: walk each once
        self._ancestors: dict[str, tuple[str, ...]] = {}
        for concepts in self._concepts.values():
            for concept in concepts.values():
                chain = [concept.id]
                while parent := concepts[chain[-1]].parent:
                    chain.append(parent)
                self._ancestors.setdefault(concept.id, tuple(chain))

    @staticmethod
    def _check_parents(kind: str, concepts: dict[str, Concept]) -> None:
        for concept in concepts.values():
            seen = {concept.id}
            parent = concept.parent
            while parent:
                if parent not in concepts:
                    raise VocabularyError(f"{kind} {concept.id!r}: unknown parent {parent!r}")
                if parent in seen:
                    raise VocabularyError(f"{kind} {concept.id!r}: parent cycle through {parent!r}")
                seen.add(parent)
                parent = concepts[parent].parent

    # -- lookups -----------------------------------------------------------------------

    def _kind_of(self, id: str, kind: str | None = None) -> str | None:
        if kind:
            k = KINDS.get(kind)
            if k is None:
                raise ValueError(f"unknown kind {kind!r}: use 'treatment' or 'condition'")
            return k if id in self._concepts[k] else None
        for k, concepts in self._concepts.items():
            if id in concepts:
                return k
        return None

    def concept(self, id: str, kind: str | None = None) -> Concept | None:
        k = self._kind_of(id, kind)
        return self._concepts[k][id] if k else None

    def label(self, id: str) -> str:
        concept = self.concept(id)
        return concept.label if concept else id

    def ancestors(self, id: str) -> list[str]:
        """The concept and its broader concepts, nearest first: ibuprofen, nsaids, medication."""
        return list(self._ancestors.get(id, (id,)))

    def descendants(self, id: str) -> list[str]:
        """The concept and every narrower concept under it, breadth first."""
        k = self._kind_of(id)
        if k is None:
            return [id]
        out, queue = [], [id]
        while queue:
            current = queue.pop(0)
            out.append(current)
            queue.extend(self._children[k].get(current, ()))
        return out

    def is_a(self, id: str, ancestor: str) -> bool:
        return ancestor in self._ancestors.get(id, (id,))

    def resolve(self, name: str, kind: str | None = None) -> str | None:
        """An id, label or synonym in any case or spelling → the canonical id (or None)."""
        name = name.strip()
        if not name:
            return None
        kinds = [KINDS[kind]] if kind else ["treatment", "condition"]
        if kind and kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}: use 'treatment' or 'condition'")
        for k in kinds:
            if name.lower() in self._concepts[k]:
                return name.lower()
        key = tuple(terms(name))
        for k in kinds:
            if key in self._names[k]:
                return self._names[k][key]
        return None

    # -- matching ----------------------------------------------------------------------

    def match(self, text: str, kind: str = "treatment") -> list[tuple[str, int, int]]:
        """Concepts named in `text` as (id, start, end), in text order.

        At each position the longest name wins and matches never overlap, so
        "deep tissue massage" is one deep-tissue-massage, not massage-therapy.
        """
        k = KINDS.get(kind)
        if k is None:
            raise ValueError(f"unknown kind {kind!r}: use 'treatment' or 'condition'")
        return [(c, s, e) for c, s, e, _ in self._matchers[k].match_terms(terms_with_spans(text), text)]

    def match_terms(
        self, toks: list[tuple[str, int, int]], text: str, kind: str = "treatment"
    ) -> list[tuple[str, int, int, bool]]:
        """`match` over `terms_with_spans(text)`, with a generic flag per match.

        A generic name ("drugs", "pills") is a weak mention: knowledge drops it when
        the same sentence names something narrower.
        """
        return self._matchers[KINDS[kind]].match_terms(toks, text)

    def most_specific(self, ids: Iterable[str]) -> list[str]:
        """Unique ids in order, without any that is an ancestor of another in the list."""
        unique = list(dict.fromkeys(ids))
        broader = {a for i in unique for a in self.ancestors(i)[1:]}
        return [i for i in unique if i not in broader]


def _read_concepts(path: Path) -> tuple[dict[str, Concept], list[str], list[str], list[str]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise VocabularyError(f"{path.name}: {exc}") from exc
    ignore = [str(p) for p in data.pop("ignore", [])]
    surface_only = [str(p) for p in data.pop("surface_only", [])]
    generic = [str(p) for p in data.pop("generic", [])]
    concepts: dict[str, Concept] = {}
    for cid, table in data.items():
        if not isinstance(table, dict):
            raise VocabularyError(f"{path.name}: {cid!r} is not a table")
        if cid != cid.lower() or not cid.replace("-", "").isalnum():
            raise VocabularyError(f"{path.name}: id {cid!r} must be a lowercase slug (letters, digits, hyphens)")
        concepts[cid] = Concept(
            id=cid,
            label=str(table.get("label", cid.replace("-", " ").capitalize())),
            synonyms=tuple(str(s) for s in table.get("synonyms", ())),
            parent=str(table["parent"]) if table.get("parent") else None,
        )
    return concepts, ignore, surface_only, generic


def load_vocabulary_from(treatments_path: Path, conditions_path: Path) -> Vocabulary:
    treatments, t_ignore, t_surface, t_generic = _read_concepts(treatments_path)
    conditions, c_ignore, c_surface, c_generic = _read_concepts(conditions_path)
    return Vocabulary(
        treatments,
        conditions,
        {"treatment": t_ignore, "condition": c_ignore},
        {"treatment": t_surface, "condition": c_surface},
        {"treatment": t_generic, "condition": c_generic},
    )


@lru_cache(maxsize=1)
def load_vocabulary() -> Vocabulary:
    """The project's vocabulary (cached; `load_vocabulary.cache_clear()` reloads it)."""
    return load_vocabulary_from(DATA_DIR / "treatments.toml", DATA_DIR / "conditions.toml")
