"""Index segments written by the worker processes, so the one writer only files them.

Profiling the ingest with two workers showed the parent (the one writer) busy most of the
time turning postings into a segment at each commit (sorting the pool, writing and
compressing posting blocks) and filing each posting before that: the serial part that kept
a second worker from paying. So a worker writes the passages of the pages it finished as a
complete Whoosh segment, in a folder of its own under the index folder (`incoming-PID/`),
and the writer moves the segment's file into the index and lists it at its next commit.
Merging segments is a worker's job too (`merge_segments`), chosen by the writer
(`store.IndexWriter.merge_sources`) with the tiered policy of `indexer/merging.py`.

A segment is a Whoosh index of its own while it is written (`create_in` a fresh folder),
so nothing here touches the live index: a killed worker leaves a folder the next ingest
removes, and the live index lists only segments the writer moved in and committed.
"""

from __future__ import annotations

import contextlib
import heapq
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.reading import SegmentReader

from .memory import release_memory
from .model import Page
from .store import index_schema, passage_documents

__all__ = ["SegmentFile", "merge_segments", "write_segment"]

# a worker's segment holds a batch of pages (or one merge); its pool rarely spills
_WORKER_MB = 32


@dataclass(frozen=True)
class SegmentFile:
    """A finished segment: the folder it was written in, and Whoosh's description of it."""

    folder: str
    segment: Any  # whoosh.codec.whoosh3.W3Segment: picklable, as Whoosh's own multiprocess writer relies on

    @property
    def docs(self) -> int:
        return int(self.segment.doc_count_all())


def _writer(folder: str) -> tuple[Path, Any]:
    path = Path(folder) / uuid.uuid4().hex
    path.mkdir(parents=True)
    ix = whoosh_index.create_in(str(path), index_schema())
    return path, ix


def _finish(path: Path, ix: Any, writer: Any) -> SegmentFile | None:
    writer.commit(merge=False)
    segments = ix._segments()
    return SegmentFile(str(path), segments[0]) if segments else None


def write_segment(pages: Sequence[Page], folder: str) -> SegmentFile | None:
    """The passages of these pages as one segment, written under `folder` (None: no passages)."""
    if not any(page.passages for page in pages):
        return None
    path, ix = _writer(folder)
    writer = ix.writer(limitmb=_WORKER_MB)
    for page in pages:
        for doc in passage_documents(page):
            writer.add_document(**doc)
    return _finish(path, ix, writer)


def merge_segments(index_dir: str, sources: Sequence[Any], folder: str) -> SegmentFile | None:
    """Segments of the live index (read, not changed) merged into one new segment under
    `folder`; documents deleted in a source are left out.

    Each source's postings already come sorted (field, term, document), so they are merged
    as sorted streams straight into the new segment's posting writer, the way Whoosh's own
    multiprocess writer joins its sub-segments, instead of through the posting pool
    (`add_reader`), which holds, sorts and spills to disk every posting again: a merge's
    memory stays that of one posting per source, and it takes ~30 % less CPU. The sources
    are read with plain file reads, not Whoosh's default mmap: mapped segment files count
    in the worker's resident memory while it merges (~150 MiB in a long ingest's largest).
    """
    path, ix = _writer(folder)
    writer = ix.writer()
    storage = FileStorage(index_dir, supports_mmap=False)
    schema = index_schema()
    names = set(schema.names())
    readers = [SegmentReader(storage, schema, segment) for segment in sources]
    try:
        postings = []
        for reader in readers:
            start = writer.docnum
            docmap = writer.write_per_doc(names, reader)  # stored fields, lengths, columns
            postings.append(writer._process_posts(reader.iter_postings(), start, docmap))
        writer.perdocwriter.close()
        lengths = writer.per_document_reader()
        try:
            writer.fieldwriter.add_postings(schema, lengths, heapq.merge(*postings))
        finally:
            lengths.close()
        writer._close_segment()
        writer._assemble_segment()
        segment = writer.get_segment()
        writer._commit_toc([segment])
        writer._finish()
    except BaseException:
        with contextlib.suppress(Exception):
            writer.cancel()
        raise
    finally:
        for reader in readers:
            reader.close()
        release_memory()
    return SegmentFile(str(path), segment) if segment.doc_count_all() else None
