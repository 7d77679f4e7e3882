"""Relief Index web app: HTML pages and a JSON API over `indexer`'s public API.

`create_app(settings)` builds the app; `relief serve` (search_web.cli) hands it to waitress. Views are thin:
they parse parameters (params.py), call the index, and render. Every response carries the
same security headers, and every error, HTML or JSON, comes from one set of handlers.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from flask import Flask, Response, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import RequestURITooLarge

from indexer.config import Settings, load_settings

from . import api, views
from .errors import register_error_handlers
from .indexes import EXTENSION, IndexProvider

MAX_QUERY_STRING_BYTES = 8 * 1024

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class SafeJSONProvider(DefaultJSONProvider):
    """JSON with <, > and & written as \\u escapes: inert even if a client sniffs it as HTML.

    ASCII-only, so even a lone surrogate that slipped into some text can't break encoding.
    """

    ensure_ascii = True
    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        kwargs.setdefault("default", self.default)
        text = json.dumps(obj, **kwargs)
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def create_app(settings: Settings | Mapping[str, Any] | None = None) -> Flask:
    """The app for one index. `settings` is a Settings, a mapping of setting overrides, or None
    (defaults and RELIEF_* environment variables)."""
    if settings is None:
        settings = load_settings()
    elif not isinstance(settings, Settings):
        settings = load_settings(**dict(settings))

    app = Flask(__name__)
    app.json = SafeJSONProvider(app)
    app.config.update(
        RELIEF_SETTINGS=settings,
        MAX_CONTENT_LENGTH=64 * 1024,  # nothing here takes a body; refuse big ones early
        PROPAGATE_EXCEPTIONS=False,
        TRAP_HTTP_EXCEPTIONS=False,
        JSON_SORT_KEYS=False,
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.extensions[EXTENSION] = IndexProvider(settings)

    app.register_blueprint(views.bp)
    app.register_blueprint(api.bp)
    register_error_handlers(app)

    @app.before_request
    def _cap_url() -> None:
        if len(request.query_string) > MAX_QUERY_STRING_BYTES or len(request.path) > MAX_QUERY_STRING_BYTES:
            raise RequestURITooLarge(
                f"The address is longer than {MAX_QUERY_STRING_BYTES // 1024} KB; shorten the query."
            )

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers[name] = value
        if request.path.startswith("/api/") or request.path == "/healthz":
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return app


__all__ = ["create_app"]
