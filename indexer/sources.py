"""Ingest: turn files, folders and JSONL exports into decoded RawPages.

The only module that reads input. Every problem becomes an IngestError value with the
path and a reason, so one bad file never stops a run.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import json
import logging
import os
import re
import zlib
from pathlib import Path
from typing import IO, Iterable, Iterator

from bs4.dammit import EncodingDetector, UnicodeDammit

from .model import IngestError, RawPage

# bs4 logs a warning when it has to replace bytes; we record it on the page instead
logging.getLogger("bs4.dammit").addHandler(logging.NullHandler())
logging.getLogger("bs4.dammit").propagate = False

HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
TEXT_SUFFIXES = {".txt"}
JSONL_SUFFIXES = {".jsonl"}
SUPPORTED = HTML_SUFFIXES | TEXT_SUFFIXES | JSONL_SUFFIXES

_CANONICAL = re.compile(
    r"""<link\b[^>]*\brel\s*=\s*["']?canonical["']?[^>]*>""", re.IGNORECASE
)
_HREF = re.compile(r"""\bhref\s*=\s*["']([^"'\s>]+)["']""", re.IGNORECASE)
_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
_C1_BYTES = re.compile(rb"[\x80-\x9f]")  # windows-1252's quotes and dashes; unused in Latin-1


def _kind_suffix(path: Path) -> str:
    """The content suffix, looking through a trailing .gz."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def discover(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[tuple[Path, Path, str]], list[IngestError]]:
    """Expand folders recursively; returns (file, root, source name) in a stable order.

    A file named on the command line keeps its name as given, so reports and
    `relief extract` speak of the path the user typed.

    Files inside folders with unsupported suffixes are passed over silently (a site
    folder holds images and stylesheets); a file named explicitly is reported.
    """
    found: list[tuple[Path, Path, str]] = []
    errors: list[IngestError] = []
    seen: set[Path] = set()
    for given in paths:
        p = Path(given)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts):
                    if _kind_suffix(f) in SUPPORTED and f.resolve() not in seen:
                        seen.add(f.resolve())
                        found.append((f, p, str(f)))
        elif p.is_file():
            if _kind_suffix(p) not in SUPPORTED:
                errors.append(IngestError(str(given), "unsupported", f"not one of {', '.join(sorted(SUPPORTED))} (or .gz)"))
            elif p.resolve() not in seen:
                seen.add(p.resolve())
                found.append((p, p.parent, os.fspath(given)))
        elif p.exists():
            errors.append(IngestError(str(given), "unreadable", "not a regular file or folder"))
        else:
            errors.append(IngestError(str(given), "missing", "no such file or folder"))
    return found, errors


def page_id_for(path: Path, root: Path) -> str:
    """A stable id from the path below the folder that was given: 'guides/massage'."""
    try:
        rel = path.relative_to(root)
    except ValueError:
        rel = Path(path.name)
    name = rel.as_posix()
    for suffix in (".gz", *sorted(SUPPORTED, key=len, reverse=True)):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    name = re.sub(r"[^\w./-]+", "-", name).strip("-./") or "page"
    return name


def read_bytes(path: Path, max_bytes: int, source: str | None = None) -> bytes | IngestError:
    """The file's bytes, gunzipped when needed, never more than max_bytes."""
    source = source or str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        return IngestError(source, "unreadable", exc.strerror or str(exc))
    gz = path.suffix.lower() == ".gz"
    if size == 0:
        return IngestError(source, "empty", "file has 0 bytes")
    if not gz and size > max_bytes:
        return IngestError(source, "too-large", f"{size:,} bytes, limit {max_bytes:,} (RELIEF_MAX_PAGE_BYTES)")
    try:
        if not gz:
            return path.read_bytes()
        with gzip.open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except (gzip.BadGzipFile, zlib.error, EOFError) as exc:
        return IngestError(source, "bad-gzip", str(exc) or "truncated or corrupt gzip data")
    except OSError as exc:
        return IngestError(source, "unreadable", exc.strerror or str(exc))
    if len(data) > max_bytes:
        return IngestError(source, "too-large", f"more than {max_bytes:,} bytes after decompression")
    if not data:
        return IngestError(source, "empty", "no data after decompression")
    return data


def looks_binary(data: bytes) -> bool:
    head = data[:8192]
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    return len(_CONTROL.findall(head)) > max(8, len(head) // 100)


def _declares_other_charset(data: bytes, is_html: bool) -> bool:
    declared = EncodingDetector.find_declared_encoding(data, is_html=is_html)
    if not declared:
        return False
    try:
        return codecs.lookup(declared).name != "utf-8"
    except LookupError:
        return False


def decode(data: bytes, is_html: bool) -> tuple[str, str]:
    """BOM first, then the page's own meta charset, then detection; never fails.

    Bytes that are valid UTF-8 and declare no other charset are read as UTF-8 at once:
    that is what detection concludes anyway, and a detector installed beside us (chardet,
    charset-normalizer) would first read the whole page to say so, at several times the
    cost of cleaning it.
    """
    if not _declares_other_charset(data, is_html):
        try:
            return data.decode("utf-8").lstrip("\ufeff"), "utf-8"
        except UnicodeDecodeError:
            pass
    dammit = UnicodeDammit(data, is_html=is_html)
    if dammit.unicode_markup is not None:
        encoding = (dammit.original_encoding or "utf-8").lower()
        if dammit.contains_replacement_characters:
            encoding += " (invalid bytes replaced)"
        text = dammit.unicode_markup
        if encoding in {"iso-8859-1", "latin-1", "ascii"} and _C1_BYTES.search(data):
            # Browsers read a Latin-1 label as windows-1252; so do we (curly quotes, dashes).
            try:
                text, encoding = data.decode("cp1252"), "windows-1252"
            except UnicodeDecodeError:
                pass
        return text.lstrip("\ufeff"), encoding
    return data.decode("utf-8", errors="replace"), "utf-8 (invalid bytes replaced)"


def canonical_url(html: str) -> str | None:
    head = html[:65536]
    for m in _CANONICAL.finditer(head):
        href = _HREF.search(m.group(0))
        if href and href.group(1).startswith(("http://", "https://")):
            return href.group(1)
    return None


def read_file(path: Path, root: Path, max_bytes: int, source: str | None = None) -> Iterator[RawPage | IngestError]:
    source = source or str(path)
    suffix = _kind_suffix(path)
    if suffix in JSONL_SUFFIXES:
        yield from read_jsonl_file(path, source, max_bytes)
        return
    data = read_bytes(path, max_bytes, source)
    if isinstance(data, IngestError):
        yield data
        return
    if looks_binary(data):
        yield IngestError(source, "binary", "contains NUL or control bytes; not a text page")
        return
    is_html = suffix in HTML_SUFFIXES
    text, encoding = decode(data, is_html=is_html)
    if not text.strip():
        yield IngestError(source, "empty", "only white space")
        return
    canonical = canonical_url(text) if is_html else None
    url = canonical or path.resolve().as_uri()
    site = str(path.parent.resolve())
    yield RawPage(
        page_id=page_id_for(path, root),
        source=source,
        url=url,
        site=site,
        kind="html" if is_html else "text",
        body=text,
        encoding=encoding,
        sha256=hashlib.sha256(data).hexdigest(),
    )


# a record over the limit is skipped by reading on to its end, but not for ever: past this
# many times the limit (a gzip bomb without newlines) the rest of the file is given up
_MAX_SKIP = 4


class _RecordTooLong(Exception):
    def __init__(self, lineno: int):
        self.lineno = lineno


def _open_lines(path: Path) -> IO[bytes]:
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def jsonl_lines(path: Path, max_bytes: int) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line) one at a time; a line over max_bytes comes as None, unread.

    Only one line is ever in memory, so an export of any size streams through and the
    size limit applies to each page, not to the file.
    """
    with _open_lines(path) as fh:
        lineno = 0
        while True:
            line = fh.readline(max_bytes + 1)
            if not line:
                return
            lineno += 1
            if len(line) > max_bytes and not line.endswith(b"\n"):
                skipped = len(line)
                while line and not line.endswith(b"\n"):
                    if skipped > _MAX_SKIP * max_bytes:
                        raise _RecordTooLong(lineno)
                    line = fh.readline(1 << 20)
                    skipped += len(line)
                yield lineno, None
                continue
            # a lone \r ends a line too, as in bytes.splitlines (old Mac exports, junk)
            parts = line.splitlines() or [b""]
            for part in parts:
                yield lineno, part
                lineno += 1
            lineno -= 1


def read_jsonl_file(path: Path, source: str, max_bytes: int) -> Iterator[RawPage | IngestError]:
    """Stream a .jsonl (or .jsonl.gz) export record by record; a read error ends it with a value."""
    try:
        if path.stat().st_size == 0:
            yield IngestError(source, "empty", "file has 0 bytes")
            return
        yield from read_jsonl(jsonl_lines(path, max_bytes), source, max_bytes)
    except _RecordTooLong as exc:
        yield IngestError(f"{source}:{exc.lineno}", "too-large",
                          f"a record of more than {_MAX_SKIP * max_bytes:,} bytes; the rest of the file was not read")
    except (gzip.BadGzipFile, zlib.error, EOFError) as exc:
        yield IngestError(source, "bad-gzip", str(exc) or "truncated or corrupt gzip data")
    except OSError as exc:
        yield IngestError(source, "unreadable", exc.strerror or str(exc))


def read_jsonl(data: bytes | Iterable[tuple[int, bytes | None]], source: str, max_bytes: int) -> Iterator[RawPage | IngestError]:
    """One page a line: id, url, title, and html or text. A broken line is reported alone."""
    lines = enumerate(data.splitlines(), start=1) if isinstance(data, bytes) else data
    for lineno, line in lines:
        where = f"{source}:{lineno}"
        if line is None:
            yield IngestError(where, "too-large", f"record over {max_bytes:,} bytes (RELIEF_MAX_PAGE_BYTES)")
            continue
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            yield IngestError(where, "bad-json", f"line {lineno}: {exc}")
            continue
        except RecursionError:
            yield IngestError(where, "bad-json", f"line {lineno}: nested too deeply to read")
            continue
        if not isinstance(record, dict):
            yield IngestError(where, "bad-record", "a line must be a JSON object")
            continue
        html, text = record.get("html"), record.get("text")
        body = html if isinstance(html, str) and html.strip() else text
        if not isinstance(body, str) or not body.strip():
            yield IngestError(where, "bad-record", "needs a non-empty 'html' or 'text' string")
            continue
        if len(body) > max_bytes:
            yield IngestError(where, "too-large", f"record over {max_bytes:,} characters")
            continue
        raw_id = record.get("id")
        page_id = str(raw_id).strip() if raw_id not in (None, "") else f"{Path(source).stem}-{lineno}"
        url = str(record.get("url") or "")
        title = record.get("title")
        yield RawPage(
            page_id=page_id,
            source=where,
            url=url or f"{Path(source).resolve().as_uri()}#{page_id}",
            site=str(Path(source).resolve().parent),
            kind="html" if body is html else "text",
            body=body,
            encoding="utf-8",
            sha256=hashlib.sha256(line).hexdigest(),
            title=title.strip() if isinstance(title, str) else "",
        )


def count_pages(paths: Iterable[str | os.PathLike[str]]) -> int:
    """How many pages the given paths hold (one per file, one per JSONL line), for a progress total.

    Reads JSONL files once more, in blocks; cheap next to cleaning them.
    """
    files, _ = discover(paths)
    total = 0
    for path, _root, _source in files:
        if _kind_suffix(path) not in JSONL_SUFFIXES:
            total += 1
            continue
        try:
            with _open_lines(path) as fh:
                last = b"\n"
                while block := fh.read(1 << 20):
                    total += block.count(b"\n")
                    last = block[-1:]
                total += last != b"\n"
        except (OSError, EOFError, zlib.error):
            continue
    return total


def read_sources(
    paths: Iterable[str | os.PathLike[str]], max_bytes: int
) -> Iterator[RawPage | IngestError]:
    """Every page under the given paths, in a stable order, with failures as values."""
    files, errors = discover(paths)
    yield from errors
    for path, root, source in files:
        try:
            yield from read_file(path, root, max_bytes, source)
        except (OSError, ValueError, MemoryError) as exc:
            yield IngestError(source, "unreadable", f"{type(exc).__name__}: {exc}")
