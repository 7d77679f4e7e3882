"""The JSON API: the same answers as the HTML pages, for scripts.

    /api/search       SearchResponse.to_dict()  (parameters as on /search)
    /api/pages/<id>   the page with its passages and claims
    /api/claims       claims report (treatment=, type=, or about= a treatment in free words)
    /api/treatments   {"treatments": [...]}
    /healthz          {"status": "ok", "index": {counts}, "settings": {...}}; 503 without an index

Errors: {"error": {"status": 4xx, "message": "...", "parameter": name or null}}.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from flask import Blueprint, Response, jsonify, request

from indexer.search import ClaimsReport

from .indexes import get_index, settings
from .params import BadParameter, check_known, parse_claims, parse_search
from .reads import find_about, find_claims, find_page

bp = Blueprint("api", __name__)


@bp.get("/api/search")
def search() -> Response:
    params = parse_search(request.args, settings())
    if params.is_empty:
        raise BadParameter("q", "parameter 'q' is missing: give a query, or at least one filter")
    return jsonify(get_index().run(params.request()).to_dict())


@bp.get("/api/pages/<path:page_id>")
def page(page_id: str) -> Response:
    check_known(request.args, ())
    return jsonify({"page": find_page(get_index(), page_id).to_dict()})


@bp.get("/api/claims")
def claims() -> Response:
    params = parse_claims(request.args)
    index = get_index()
    report: ClaimsReport | None
    if params.about is not None:
        report = find_about(index, params, settings())
    elif params.treatment is None:
        report = index.claims(treatment=None, type=params.type)
    else:
        report = find_claims(index, params, index.treatments())
    return jsonify(
        {"treatment": params.treatment, "type": params.type, "about": params.about, "report": report.to_dict() if report is not None else None}
    )


@bp.get("/api/treatments")
def treatments() -> Response:
    check_known(request.args, ())
    return jsonify({"treatments": [t.to_dict() for t in get_index().treatments()]})


@bp.get("/healthz")
def healthz() -> Response:
    check_known(request.args, ())
    stats = get_index().stats()
    config = settings()
    return jsonify(
        {
            "status": "ok",
            "index": stats,
            "settings": {f.name: _plain(getattr(config, f.name)) for f in fields(config)},
        }
    )


def _plain(value: Any) -> Any:
    return value if isinstance(value, (int, float, bool, str)) or value is None else str(value)
