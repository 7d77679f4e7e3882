"""The app's handle on the index: opened lazily, refreshed on every request.

A missing index is not an error of the app: pages answer 503 with a note on how to
build one, and the first request after `relief ingest` opens it without a restart.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from indexer.config import Settings

EXTENSION = "relief_index"


class NoIndex(Exception):
    """There is no readable index at the configured path (yet)."""


class IndexProvider:
    def __init__(self, settings: Settings, opener: Callable[[], Any] | None = None) -> None:
        self.settings = settings
        self._opener = opener or self._open_real
        self._index: Any = None
        self._lock = threading.Lock()

    def _open_real(self) -> Any:
        from indexer.search import Index

        # a new commit is warmed beside the searches, so none waits seconds for it
        return Index.open(self.settings.index, settings=self.settings, background_warm=True)

    def get(self) -> Any:
        """The open index, refreshed so a newly committed index is seen; NoIndex when absent."""
        with self._lock:
            if self._index is None:
                try:
                    self._index = self._opener()
                except Exception as exc:  # IndexMissing, or an index that can't be read
                    if _is_missing(exc):
                        raise NoIndex(str(exc)) from exc
                    raise
            index = self._index
        try:
            index.refresh()
        except Exception as exc:
            if _is_missing(exc):
                with self._lock:
                    self._index = None
                raise NoIndex(str(exc)) from exc
            raise
        return index


def _is_missing(exc: BaseException) -> bool:
    try:
        from indexer.search import IndexMissing
    except ImportError:  # the index module itself isn't there yet
        return isinstance(exc, (FileNotFoundError, ImportError))
    return isinstance(exc, (IndexMissing, FileNotFoundError))
