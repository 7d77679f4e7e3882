"""What a long ingest does so that the C heap under Python gives memory back.

Python frees objects into glibc's heap, which keeps the pages resident unless asked to
return them; and every thread that allocates gets its own heap ("arena"), so objects made
on one thread (a process pool unpickles its results on a helper thread) and freed on
another leave holes in two heaps. Without glibc (musl, macOS) both calls do nothing.
"""

from __future__ import annotations

import ctypes
import functools
from typing import Any

__all__ = ["limit_arenas", "release_memory"]

_M_ARENA_MAX = -8  # mallopt's parameter number, from glibc's malloc.h


@functools.lru_cache(maxsize=1)
def _libc() -> Any:
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


def release_memory() -> bool:
    """Give the heap's free pages back to the OS (after a commit freed Whoosh's posting pool)."""
    libc = _libc()
    return bool(libc is not None and libc.malloc_trim(0))


def limit_arenas(arenas: int = 2) -> None:
    """Threads started from now on share `arenas` heaps instead of one each."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(_M_ARENA_MAX, arenas)
