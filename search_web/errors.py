"""One error envelope for every failure: JSON under /api/ and /healthz, a friendly page elsewhere.

    {"error": {"status": 400, "message": "...", "parameter": "page"}}

No handler ever shows a traceback: unexpected exceptions are logged and answered with a
generic 500.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from indexer.xapian.shards import ShardUnavailable

from .indexes import NoIndex
from .params import BadParameter

NO_INDEX_MESSAGE = "There is no index yet. Build one with `relief ingest corpus`, then reload this page."

TITLES = {
    400: "That search can’t be run",
    404: "Page not found",
    405: "Method not allowed",
    413: "Request too large",
    414: "Address too long",
    500: "Something went wrong",
    503: "No index yet",
}


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def error_response(status: int, message: str, parameter: str | None = None, **extra: Any) -> Response:
    if wants_json():
        body: dict[str, Any] = {"status": status, "message": message, "parameter": parameter}
        response = jsonify({"error": body, **extra})
    else:
        no_index = status == 503 and message == NO_INDEX_MESSAGE
        response = current_app.make_response(
            render_template(
                "error.html",
                status=status,
                title=TITLES.get(status, "Something went wrong") if no_index or status != 503 else "Search unavailable",
                message=message,
                parameter=parameter,
                no_index=no_index,
            )
        )
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(BadParameter)
    def _bad_parameter(exc: BadParameter) -> Response:
        return error_response(exc.status, exc.message, exc.parameter)

    @app.errorhandler(NoIndex)
    def _no_index(exc: NoIndex) -> Response:
        return error_response(503, NO_INDEX_MESSAGE)

    @app.errorhandler(ShardUnavailable)
    def _shard_down(exc: ShardUnavailable) -> Response:
        # the xapian backend: a shard server that does not answer (no replica did either)
        app.logger.warning("shard unavailable on %s: %s", request.path, exc)
        return error_response(503, f"The search is unavailable for the moment: {exc}")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        status = exc.code or 500
        message = _MESSAGES.get(status) or (exc.description or "").strip() or TITLES.get(status, "Error")
        if status == 414 and exc.description:
            message = exc.description
        response = error_response(status, message)
        if status == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        app.logger.exception("unhandled error on %s", request.path)
        return error_response(500, "Something went wrong on our side. Please try again in a moment.")


_MESSAGES = {
    404: "There is nothing at this address.",
    405: "This address only answers GET requests.",
    413: "The request is too large.",
}
