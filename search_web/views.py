"""HTML pages: search, page view, claims browser. Each has a JSON twin in api.py."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, render_template, request, url_for

from indexer.fields import CLAIM_TYPES, EVIDENCE_VALUES, FACET_NAMES
from indexer.model import FacetValue
from indexer.search import Index, StoreError, Topics

from . import present
from .indexes import get_index, settings
from .params import FACETS, SearchParams, parse_claims, parse_search
from .reads import find_about, find_claims, find_page

bp = Blueprint("views", __name__)


def search_url(params: SearchParams, endpoint: str = "views.search") -> str:
    pairs = params.pairs()
    return url_for(endpoint) + ("?" + urlencode(pairs) if pairs else "")


@bp.record_once
def _template_helpers(state: Any) -> None:
    """Helpers as Jinja globals, so imported macros see them too."""
    state.app.jinja_env.globals.update(_helpers())


def _helpers() -> dict[str, Any]:
    return {
        "search_url": search_url,
        "facet_label": present.facet_label,
        "facet_title": present.FACET_TITLES.get,
        "label": present.vocab_label,
        "claim_label": lambda kind: present.CLAIM_LABELS.get(kind, present.vocab_label(str(kind))),
        "evidence_label": lambda e: present.EVIDENCE_LABELS.get(e, present.vocab_label(str(e))),
        "polarity_label": lambda p: present.POLARITY_LABELS.get(p, str(p).title()),
        "snippet": present.safe_snippet,
        "stance": present.stance,
        "verdict_label": lambda v: present.VERDICT_LABELS.get(v, str(v)),
        "http_url": present.http_url,
        "display_url": present.display_url,
        "page_url": lambda page_id: url_for("views.page", page_id=page_id),
        "facet_names": FACET_NAMES,
        "claim_types": CLAIM_TYPES,
        "evidence_values": EVIDENCE_VALUES,
    }


@bp.get("/")
@bp.get("/search")
def search() -> str:
    params = parse_search(request.args, settings())
    index = get_index()
    subject, examples = _home(index)
    if params.is_empty:
        return render_template(
            "search.html",
            params=params,
            response=None,
            subject=subject,
            examples=examples,
            stats=_stats(index),
            json_url=None,
        )
    response = index.run(params.request())
    facets = {
        name: [v for v in response.facets.get(name, ()) if getattr(v, "count", 0) > 0 or params.is_active(name, v.value)]
        for name in FACETS
    }
    # an active filter with no hits left still gets a row, so it can be seen and removed
    for name in FACETS:
        shown = {v.value for v in facets[name]}
        for value in params.filters.get(name, ()):
            if value not in shown:
                facets[name].append(FacetValue(value, 0))
    # when the index already ran the corrected query, say so once instead of a note plus "did you mean"
    quoted = f"'{response.suggestion}'" if response.suggestion else None
    corrected = bool(quoted and response.results and any(quoted in note for note in response.notes))
    notes = [note for note in response.notes if not (corrected and quoted and quoted in note)]
    return render_template(
        "search.html",
        params=params,
        response=response,
        notes=notes,
        corrected=corrected,
        facets=facets,
        first_rank=(response.page - 1) * response.per_page + 1,
        page_links=_page_links(response.page, response.pages),
        examples=examples,
        json_url=search_url(params, "api.search"),
    )


def _home(index: Index) -> tuple[str, list[str]]:
    """Subject line and example searches: the `subject` setting, else what the index is about."""
    try:
        topics = index.topics(8)
    except (StoreError, OSError):
        current_app.logger.exception("index.topics() failed")
        topics = Topics()
    return present.home_text(topics, settings().subject)


def _stats(index: Index) -> dict[str, Any]:
    try:
        return index.stats()
    except (StoreError, OSError):
        current_app.logger.exception("index.stats() failed")
        return {}


def _page_links(page: int, pages: int, around: int = 2) -> list[int | None]:
    """Page numbers to show: first, last and a window around the current one; None = gap."""
    wanted = {1, pages, *range(max(1, page - around), min(pages, page + around) + 1)}
    out: list[int | None] = []
    last = 0
    for n in sorted(wanted):
        if n - last > 1:
            out.append(None)
        out.append(n)
        last = n
    return out


@bp.get("/page/<path:page_id>")
def page(page_id: str) -> str:
    data = find_page(get_index(), page_id)
    return render_template(
        "page.html",
        page=data,
        passages=[(p, present.segments(p.text, p.claims)) for p in data.passages],
        claim_count=data.claim_count,
        json_url=url_for("api.page", page_id=page_id),
    )


@bp.get("/claims")
def claims() -> str:
    params = parse_claims(request.args)
    index = get_index()
    treatments = index.treatments()
    report = find_about(index, params, settings()) if params.about is not None else find_claims(index, params, treatments)
    groups = present.group_claims(report.claims) if report is not None else []
    contradictions = [(c.a, c.b, present.contradiction_reason(c)) for c in report.contradictions] if report is not None else []
    return render_template(
        "claims.html",
        params=params,
        treatments=treatments,
        report=report,
        groups=groups,
        contradictions=contradictions,
        json_url=url_for("api.claims", **{k: v for k, v in vars(params).items() if v}),
    )
