"""How the index's segments are merged while an ingest commits every few hundred pages.

Whoosh's default policy (MERGE_SMALL) lets checkpoint segments pile up and then merges
nearly all of them into one: a merge that grows with the index, pushed through the
writer's posting pool, so a long ingest's memory and commit pauses grew with its corpus.
Here a merge takes `factor` segments of one size class (sizes within a factor of each
other), so each passage is rewritten about log_factor(N) times, and a segment of
`max_docs` passages is never merged again: the largest merge, and what it costs, are the
same at any corpus size.
"""

from __future__ import annotations

from typing import Any, Sequence

__all__ = ["merge_group", "tiered_merge"]


def _level(docs: int, base: int, factor: int) -> int:
    """A segment's size class: 0 below `base` documents, then one more per `factor`×."""
    level = 0
    while docs >= base:
        docs //= factor
        level += 1
    return level


def merge_group(sizes: Sequence[int], factor: int, max_docs: int, base: int = 1000) -> set[int]:
    """Which segments (by position, of these document counts) to merge now: `factor` of one
    size class, the smallest class first, as many of its smallest as fit in `max_docs`."""
    classes: dict[int, list[int]] = {}
    for i, docs in enumerate(sizes):
        if docs < max_docs:
            classes.setdefault(_level(docs, base, factor), []).append(i)
    for level in sorted(classes):
        members = sorted(classes[level], key=lambda i: sizes[i])
        if len(members) < factor:
            continue
        chosen: set[int] = set()
        total = 0
        for i in members:
            if total + sizes[i] > max_docs:
                break
            chosen.add(i)
            total += sizes[i]
        if len(chosen) > 1:
            return chosen
    return set()


def tiered_merge(factor: int, max_docs: int, base: int = 1000) -> Any:
    """merge_group as a Whoosh merge policy (`writer.commit(mergetype=...)`): the writer
    itself reads the chosen segments into the segment it is writing."""

    def policy(writer: Any, segments: list[Any]) -> list[Any]:
        from whoosh.reading import SegmentReader

        group = merge_group([s.doc_count_all() for s in segments], factor, max_docs, base)
        for i in group:
            reader = SegmentReader(writer.storage, writer.schema, segments[i])
            writer.add_reader(reader)
            reader.close()
        return [s for i, s in enumerate(segments) if i not in group]

    return policy
