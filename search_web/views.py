"""HTML pages: search, page view, claims browser. Each has a JSON twin in api.py."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, render_template, request, url_for

from indexer.model import FacetValue

from . import present
from .indexes import EXTENSION
from .params import FACETS, BadParameter, ClaimsParams, SearchParams, parse_claims, parse_search

bp = Blueprint("views", __name__)


def get_index() -> Any:
    return current_app.extensions[EXTENSION].get()


def settings() -> Any:
    return current_app.config["RELIEF_SETTINGS"]


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
        "http_url": present.http_url,
        "display_url": present.display_url,
        "page_url": lambda page_id: url_for("views.page", page_id=page_id),
    }


@bp.get("/")
@bp.get("/search")
def search() -> str:
    params = parse_search(request.args, settings())
    index = get_index()
    if params.is_empty:
        return render_template(
            "search.html",
            params=params,
            response=None,
            examples=present.EXAMPLE_QUERIES,
            stats=_stats(index),
            json_url=None,
        )
    response = index.search(params.q, **params.kwargs())
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
        examples=present.EXAMPLE_QUERIES,
        json_url=search_url(params, "api.search"),
    )


def _stats(index: Any) -> dict[str, Any]:
    try:
        stats = index.stats()
        return dict(stats) if isinstance(stats, dict) else {}
    except Exception:
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
    data = load_page(get_index(), page_id)
    passages = []
    claim_count = 0
    for passage in data.get("passages") or []:
        passage = present.as_dict(passage)
        claims = [present.as_dict(c) for c in passage.get("claims") or []]
        claim_count += len(claims)
        passages.append(
            {
                **passage,
                "claims": claims,
                "segments": present.segments(str(passage.get("text") or ""), claims),
            }
        )
    return render_template(
        "page.html",
        page=data,
        passages=passages,
        claim_count=claim_count,
        json_url=url_for("api.page", page_id=page_id),
    )


def load_page(index: Any, page_id: str) -> dict[str, Any]:
    """The page's data from the index (the id is only ever a lookup key), or 404."""
    missing = BadParameter(None, "There is no page with this id in the index.", status=404)
    if not page_id or len(page_id) > 1000:
        raise missing
    data = present.as_dict(index.page(page_id))
    if not isinstance(data, dict):
        raise missing
    return data


@bp.get("/claims")
def claims() -> str:
    params = parse_claims(request.args)
    index = get_index()
    treatments = load_treatments(index)
    report = load_claims(index, params, treatments)
    groups = present.group_claims(report.get("claims") or []) if report is not None else []
    contradictions = []
    for raw in (report or {}).get("contradictions") or []:
        pair = present.contradiction_pair(raw)
        if pair:
            contradictions.append((*pair, present.contradiction_reason(raw)))
    return render_template(
        "claims.html",
        params=params,
        treatments=treatments,
        report=report,
        groups=groups,
        contradictions=contradictions,
        json_url=url_for("api.claims", **{k: v for k, v in vars(params).items() if v}),
    )


def load_treatments(index: Any) -> list[dict[str, Any]]:
    out = []
    for item in index.treatments() or []:
        item = present.as_dict(item)
        if isinstance(item, str):
            item = {"id": item}
        if isinstance(item, dict) and item.get("id"):
            item = {**item, "label": item.get("label") or present.vocab_label(str(item["id"]))}
            out.append(item)
    return out


def load_claims(index: Any, params: ClaimsParams, treatments: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The claims report for the chosen treatment; None when none is chosen; 404 for an unknown one."""
    if params.treatment is None:
        return None
    known = {str(t["id"]) for t in treatments}
    if known and params.treatment not in known:
        raise BadParameter(
            "treatment", f"No treatment with the id '{params.treatment}' in the index; pick one from the list.", 404
        )
    report = present.as_dict(index.claims(treatment=params.treatment, type=params.type))
    return report if isinstance(report, dict) else {"claims": report or []}
