"""The app's handle on the index: opened lazily, refreshed on every request.

A missing index is not an error of the app: pages answer 503 with a note on how to
build one, and the first request after `relief ingest` opens it without a restart.
`get_index()` and `settings()` are how both blueprints reach them.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from flask import current_app

from indexer.backend import open_index
from indexer.config import Settings
from indexer.search import Index, IndexMissing

EXTENSION = "relief_index"

__all__ = ["EXTENSION", "IndexProvider", "NoIndex", "get_index", "settings"]


class NoIndex(Exception):
    """There is no readable index at the configured path (yet)."""


_MISSING = (IndexMissing, FileNotFoundError)


class IndexProvider:
    def __init__(self, settings: Settings, opener: Callable[[], Any] | None = None) -> None:
        self.settings = settings
        self._opener = opener or self._open_real
        self._index: Any = None
        self._lock = threading.Lock()

    def _open_real(self) -> Index:
        # a new commit is warmed beside the searches, so none waits seconds for it
        index: Index = open_index(self.settings, background_warm=True)
        return index

    def get(self) -> Index:
        """The open index, refreshed so a newly committed index is seen; NoIndex when absent."""
        with self._lock:
            if self._index is None:
                try:
                    self._index = self._opener()
                except _MISSING as exc:
                    raise NoIndex(str(exc)) from exc
            index = self._index
        try:
            index.refresh()
        except _MISSING as exc:
            with self._lock:
                self._index = None
            raise NoIndex(str(exc)) from exc
        return index


def get_index() -> Index:
    provider: IndexProvider = current_app.extensions[EXTENSION]
    return provider.get()


def settings() -> Settings:
    config: Settings = current_app.config["RELIEF_SETTINGS"]
    return config
