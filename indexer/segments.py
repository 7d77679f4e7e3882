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
from typing import Any, Iterable, Iterator, Sequence

from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import W3LeafMatcher
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


def _finish(path: Path, writer: Any, postings: Iterable[tuple[Any, ...]]) -> SegmentFile | None:
    """Write the segment's postings (sorted) and list it, as Whoosh's commit does, with the
    field lengths the posting writer asks for at every posting read once (`_Lengths`)."""
    try:
        writer.perdocwriter.close()
        lengths = writer.per_document_reader()
        try:
            writer.fieldwriter.add_postings(writer.schema, _Lengths(lengths), postings)
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
    return SegmentFile(str(path), segment) if segment.doc_count_all() else None


def write_segment(pages: Sequence[Page], folder: str) -> SegmentFile | None:
    """The passages of these pages as one segment, written under `folder` (None: no passages)."""
    if not any(page.passages for page in pages):
        return None
    path, ix = _writer(folder)
    writer = ix.writer(limitmb=_WORKER_MB)
    try:
        for page in pages:
            for doc in passage_documents(page):
                writer.add_document(**doc)
    except BaseException:
        writer.cancel()
        raise
    return _finish(path, writer, writer.pool.iter_postings())


def merge_segments(index_dir: str, sources: Sequence[Any], folder: str) -> SegmentFile | None:
    """Segments of the live index (read, not changed) merged into one new segment under
    `folder`; documents deleted in a source are left out.

    Each source's postings already come sorted (field, term, document), so they are merged
    as sorted streams straight into the new segment's posting writer, the way Whoosh's own
    multiprocess writer joins its sub-segments, instead of through the posting pool
    (`add_reader`), which holds, sorts and spills to disk every posting again: a merge's
    memory stays that of one posting per source, and it takes ~40 % less CPU. The sources
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
            postings.append(_postings(reader, start, docmap))
        return _finish(path, writer, heapq.merge(*postings))
    except BaseException:
        with contextlib.suppress(Exception):
            writer.cancel()
        raise
    finally:
        for reader in readers:
            reader.close()
        release_memory()


def _postings(reader: Any, start: int, docmap: dict[int, int] | None) -> Iterator[tuple[Any, ...]]:
    """A segment's postings as (field, term, new document number, weight, value), in the
    order its terms are stored (sorted), documents deleted in it left out.

    What Whoosh's `iter_postings` gives, read a block at a time from the term list it walks:
    Whoosh looks each term up again, builds a deletion set per term and makes four calls
    per posting, which was most of a merge's time.
    """
    schema, terms = reader.schema, reader._terms
    for (fieldname, text), info in terms.items():
        if fieldname not in schema:
            continue
        m = reader._codec.postings_reader(terms._postfile, info, schema[fieldname].format, term=(fieldname, text))
        while m.is_active():
            if isinstance(m, W3LeafMatcher):
                m.id(), m.weight(), m.value()  # the matcher reads the block's three arrays
                block: Any = zip(m._ids, m._weights, m._values)
                m._next_block()
            else:  # postings inlined in the term list (a term in one document)
                block = [(m.id(), m.weight(), m.value())]
                m.next()
            for docnum, weight, value in block:
                if docmap is None:
                    yield fieldname, text, start + docnum, weight, value
                elif docnum in docmap:
                    yield fieldname, text, docmap[docnum], weight, value


class _Lengths:
    """The new segment's field lengths, each field's read once: Whoosh's posting writer
    asks for the document's length at every posting, and each ask is a column read."""

    def __init__(self, reader: Any):
        self._reader = reader
        self._fields: dict[str, list[int]] = {}

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int:
        lengths = self._fields.get(fieldname)
        if lengths is None:
            docs = self._reader.doc_count_all()
            lengths = self._fields[fieldname] = [self._reader.doc_field_length(d, fieldname, default) for d in range(docs)]
        return lengths[docnum]
