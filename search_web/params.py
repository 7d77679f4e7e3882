"""Request parameters: parsed and checked once, shared by the HTML pages and the JSON API.

A bad value never reaches the index: it becomes a `BadParameter` naming the parameter,
which the error handlers turn into a 400 (JSON envelope or friendly page).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Iterable, Mapping

from werkzeug.datastructures import MultiDict

from indexer.config import Settings
from indexer.fields import CLAIM_TYPES, EVIDENCE_VALUES
from indexer.fields import FACET_NAMES as FACETS
from indexer.search import SearchRequest
GROUPS: tuple[str, ...] = ("page",)
MAX_PAGE = 1000  # deeper than any person pages; keeps a crafted URL from asking for offset 10^9
MAX_FILTER_VALUES = 20
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")

SEARCH_PARAMS: tuple[str, ...] = ("q", "page", "per_page", "group", *FACETS)
CLAIMS_PARAMS: tuple[str, ...] = ("treatment", "type", "about")
MAX_ABOUT_CHARS = 100  # a treatment's name in free words, not a query


class BadParameter(ValueError):
    """A request parameter that can't be used; `status` is the HTTP status to answer with."""

    def __init__(self, parameter: str | None, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.message = message
        self.status = status


@dataclass(frozen=True)
class SearchParams:
    q: str = ""
    page: int = 1
    per_page: int = 10
    group: str | None = None
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    default_per_page: int = 10

    @property
    def has_filters(self) -> bool:
        return any(self.filters.get(name) for name in FACETS)

    @property
    def is_empty(self) -> bool:
        return not self.q.strip() and not self.has_filters

    def active(self) -> list[tuple[str, str]]:
        return [(name, value) for name in FACETS for value in self.filters.get(name, ())]

    def is_active(self, name: str, value: str) -> bool:
        return value in self.filters.get(name, ())

    def request(self) -> SearchRequest:
        """The search these parameters ask for."""
        values = {name: list(self.filters[name]) if self.filters.get(name) else None for name in FACETS}
        return SearchRequest(
            self.q, self.page, self.per_page, self.group, values["treatment"], values["condition"], values["claim"], values["evidence"]
        )

    # --- links: each returns the query-string pairs of a changed search ----------------
    def pairs(self) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = [("q", self.q)] if self.q else []
        for name, value in self.active():
            out.append((name, value))
        if self.group:
            out.append(("group", self.group))
        if self.per_page != self.default_per_page:
            out.append(("per_page", str(self.per_page)))
        if self.page != 1:
            out.append(("page", str(self.page)))
        return out

    def with_page(self, page: int) -> "SearchParams":
        return replace(self, page=page)

    def with_group(self, group: str | None) -> "SearchParams":
        return replace(self, group=group, page=1)

    def with_query(self, q: str) -> "SearchParams":
        return replace(self, q=q, page=1)

    def toggled(self, name: str, value: str) -> "SearchParams":
        current = self.filters.get(name, ())
        values = tuple(v for v in current if v != value) if value in current else (*current, value)
        return replace(self, filters={**self.filters, name: values}, page=1)

    def without_filters(self) -> "SearchParams":
        return replace(self, filters={}, page=1)


def _single(args: MultiDict[str, str], name: str) -> str | None:
    values = args.getlist(name)
    if len(values) > 1:
        raise BadParameter(name, f"parameter '{name}' was given {len(values)} times; give it once")
    return values[0] if values else None


def _int(args: MultiDict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = _single(args, name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise BadParameter(name, f"parameter '{name}' must be a whole number, not {_show(raw)}") from None
    if not low <= value <= high:
        raise BadParameter(name, f"parameter '{name}' must be between {low} and {high}, not {value}")
    return value


def _show(raw: str, limit: int = 40) -> str:
    text = raw if len(raw) <= limit else raw[:limit] + "…"
    return repr(text)


def check_known(args: MultiDict[str, str], allowed: Iterable[str]) -> None:
    allowed = tuple(allowed)
    for name in args.keys():
        if name not in allowed:
            raise BadParameter(
                name, f"unknown parameter {_show(name)}; this address takes: {', '.join(allowed) or 'no parameters'}"
            )


def check_query(q: str, settings: Settings, name: str = "q") -> str:
    if len(q) > settings.max_query_chars:
        raise BadParameter(
            name,
            f"the query is {len(q):,} characters long; the limit is {settings.max_query_chars:,}. "
            "Shorten it and search again.",
        )
    if "\x00" in q:
        raise BadParameter(name, "the query contains a NUL character")
    return q


def _filter_values(args: MultiDict[str, str], name: str) -> tuple[str, ...]:
    raw = [v.strip() for v in args.getlist(name) if v.strip()]
    if len(raw) > MAX_FILTER_VALUES:
        raise BadParameter(name, f"parameter '{name}' was given {len(raw)} times; at most {MAX_FILTER_VALUES}")
    values: list[str] = []
    for value in raw:
        value = value.lower()
        if name == "claim" and value not in CLAIM_TYPES:
            raise BadParameter(name, f"parameter 'claim' must be one of {', '.join(CLAIM_TYPES)}, not {_show(value)}")
        if name == "evidence" and value not in EVIDENCE_VALUES:
            raise BadParameter(name, f"parameter 'evidence' must be one of {', '.join(EVIDENCE_VALUES)}, not {_show(value)}")
        if not _SLUG.match(value):
            raise BadParameter(
                name, f"parameter '{name}' must be an id such as 'massage-therapy' (letters, digits, hyphens), not {_show(value)}"
            )
        if value not in values:
            values.append(value)
    return tuple(values)


def parse_search(args: MultiDict[str, str], settings: Settings) -> SearchParams:
    check_known(args, SEARCH_PARAMS)
    q = check_query((_single(args, "q") or "").strip(), settings)
    page = _int(args, "page", 1, 1, MAX_PAGE)
    per_page = _int(args, "per_page", settings.per_page, 1, settings.max_per_page)
    group = (_single(args, "group") or "").strip().lower() or None
    if group is not None and group not in GROUPS:
        raise BadParameter("group", f"parameter 'group' must be 'page' or left out, not {_show(group)}")
    filters = {name: _filter_values(args, name) for name in FACETS}
    return SearchParams(
        q=q, page=page, per_page=per_page, group=group, filters=filters, default_per_page=settings.per_page
    )


@dataclass(frozen=True)
class ClaimsParams:
    treatment: str | None = None
    type: str | None = None
    about: str | None = None  # a treatment named in free words


def parse_claims(args: MultiDict[str, str]) -> ClaimsParams:
    check_known(args, CLAIMS_PARAMS)
    treatment = (_single(args, "treatment") or "").strip().lower() or None
    if treatment is not None and not _SLUG.match(treatment):
        raise BadParameter(
            "treatment", f"parameter 'treatment' must be an id such as 'massage-therapy', not {_show(treatment)}"
        )
    kind = (_single(args, "type") or "").strip().lower() or None
    if kind is not None and kind not in CLAIM_TYPES:
        raise BadParameter("type", f"parameter 'type' must be one of {', '.join(CLAIM_TYPES)}, not {_show(kind)}")
    about = " ".join((_single(args, "about") or "").split()) or None
    if about is not None:
        if len(about) > MAX_ABOUT_CHARS:
            raise BadParameter("about", f"parameter 'about' names a treatment in at most {MAX_ABOUT_CHARS} characters, not {len(about):,}")
        if not re.search(r"[^\W_]", about):
            raise BadParameter("about", f"parameter 'about' must name a treatment in words, not {_show(about)}")
        if treatment is not None:
            raise BadParameter("about", "give either 'treatment' (an id from the list) or 'about' (free words), not both")
    return ClaimsParams(treatment=treatment, type=kind, about=about)
