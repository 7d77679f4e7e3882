"""The one eviction rule of every per-commit cache: a budget, and a full cache starts over.

Each cache counts what it holds (entries, or a weight such as postings); when an entry
would pass the budget, every entry not pinned is dropped. Starting over is cheap to
run and to reason about, and what a search reads again is read again at once. Pinned
entries (what warm-up read ahead on purpose) stay for the life of their commit.
"""

from __future__ import annotations

from typing import Callable, Generic, Hashable, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

__all__ = ["Bounded"]


class Bounded(Generic[K, V]):
    """A dict with a budget; not thread-safe (the index's lock guards every use)."""

    def __init__(self, budget: int, weight: Callable[[V], int] | None = None) -> None:
        self.budget = budget
        self._weight = weight
        self._data: dict[K, V] = {}
        self._pinned: set[K] = set()
        self._used = 0
        self._pinned_used = 0

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    @property
    def data(self) -> dict[K, V]:
        """The entries, for hot loops to read without a call per lookup; never write to it."""
        return self._data

    def get(self, key: K) -> V | None:
        return self._data.get(key)

    def put(self, key: K, value: V) -> V:
        w = self._weight(value) if self._weight is not None else 1
        if key in self._data:
            return self._data[key]
        if self._used + w > self._pinned_used + self.budget:
            self._data = {k: v for k, v in self._data.items() if k in self._pinned}
            self._used = self._pinned_used
        self._data[key] = value
        self._used += w
        return value

    def pin(self, key: K) -> bool:
        """Keep an entry (already put) past every start-over; False if absent or pinned."""
        if key not in self._data or key in self._pinned:
            return False
        self._pinned.add(key)
        self._pinned_used += self._weight(self._data[key]) if self._weight is not None else 1
        return True

    @property
    def pinned(self) -> int:
        return len(self._pinned)

    @property
    def used(self) -> int:
        return self._used

    def clear(self) -> None:
        self._data = {}
        self._pinned = set()
        self._used = self._pinned_used = 0
