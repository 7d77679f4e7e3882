"""HTTP for the crawler: polite, bounded, and every failure a value with a reason.

One `httpx.Client` is shared by the crawl's threads (it is thread-safe and keeps
connections alive per host). Each request first passes its host's `HostGate`: at most
`host_concurrency` requests in flight to a host, started at least `delay` seconds apart.
Bodies are streamed and cut off at the size limit (after decompression, so a small
gzip bomb is refused too); only the content types the caller accepts are read at all.
"""

from __future__ import annotations

import contextlib
import email.utils
import threading
import time
from dataclasses import dataclass
from typing import Iterator, Mapping

import httpx

from ..model import IngestError
from .options import CrawlOptions
from .rules import rules

REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DNS_HINTS = ("name or service not known", "nodename nor servname", "temporary failure in name resolution",
              "no address associated", "getaddrinfo failed", "name resolution")


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: the status, the headers we use, and the body when it was read."""

    url: str
    status: int
    content_type: str = ""  # media type, lower case, without parameters
    charset: str = ""
    location: str = ""
    etag: str = ""
    last_modified: str = ""
    robots_tags: tuple[str, ...] = ()  # X-Robots-Tag headers, as sent
    body: bytes = b""


class HostGate:
    """Politeness for one host: a few requests at once, spaced by a delay."""

    def __init__(self, concurrency: int, delay: float, stop: threading.Event):
        self._slots = threading.BoundedSemaphore(concurrency)
        self._lock = threading.Lock()
        self._next = 0.0
        self.delay = delay
        self._stop = stop

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        self._slots.acquire()
        try:
            with self._lock:
                now = time.monotonic()
                start = max(now, self._next)
                self._next = start + self.delay
            if start > now:
                self._stop.wait(start - now)
            yield
        finally:
            self._slots.release()


def error_reason(exc: Exception) -> tuple[str, str]:
    """(reason, detail) for a failed request: dns, timeout, connection, bad-url or bad-response."""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return "timeout", f"no answer in time ({type(exc).__name__})"
    if isinstance(exc, httpx.ConnectError):
        cause = exc.__cause__ or exc.__context__
        if any(h in text.lower() for h in _DNS_HINTS) or type(cause).__name__ == "gaierror":
            return "dns", text
        return "connection", text
    if isinstance(exc, (httpx.InvalidURL, httpx.UnsupportedProtocol)):
        return "bad-url", text
    if isinstance(exc, httpx.DecodingError):
        return "bad-response", f"cannot decompress the body: {text}"
    if isinstance(exc, (httpx.TransportError, OSError)):
        return "connection", text
    return "bad-response", text


def _retry_after(value: str | None, fallback: float) -> float:
    if not value:
        return fallback
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, OverflowError):
            seconds = fallback
    return max(0.0, min(seconds, rules().max_wait_seconds))


class Fetcher:
    """GETs one URL at a time (no redirects followed here), with retries and limits."""

    def __init__(self, options: CrawlOptions):
        self.options = options
        self.stop = threading.Event()
        self._gates: dict[str, HostGate] = {}
        self._lock = threading.Lock()
        self.client = httpx.Client(
            headers={"User-Agent": options.user_agent, "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.5"},
            timeout=httpx.Timeout(options.timeout),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=options.concurrency, max_keepalive_connections=options.concurrency),
        )

    def close(self) -> None:
        self.stop.set()
        self.client.close()

    def gate(self, origin: str) -> HostGate:
        with self._lock:
            gate = self._gates.get(origin)
            if gate is None:
                gate = self._gates[origin] = HostGate(self.options.host_concurrency, self.options.delay, self.stop)
            return gate

    def get(
        self,
        url: str,
        origin: str,
        accept: frozenset[str],
        *,
        etag: str = "",
        last_modified: str = "",
    ) -> Answer | IngestError:
        """The answer to GET url; a body only for 2xx answers of an accepted type."""
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        gate = self.gate(origin)
        pause = self.options.backoff
        for attempt in range(self.options.retries + 1):
            last = attempt == self.options.retries
            if self.stop.is_set():
                return IngestError(url, "stopped", "the crawl was stopped")
            try:
                with gate.slot():
                    answer = self._get_once(url, headers, accept)
            except (httpx.HTTPError, OSError) as exc:
                reason, detail = error_reason(exc)
                if reason in ("timeout", "connection") and not last:
                    self.stop.wait(pause)
                    pause *= 2
                    continue
                tries = f" after {attempt + 1} tries" if attempt else ""
                return IngestError(url, reason, detail + tries)
            if isinstance(answer, tuple):  # a status worth another try: (status, Retry-After)
                status, retry_after = answer
                if last:
                    return IngestError(url, "status", f"{status} {_phrase(status)} after {attempt + 1} tries")
                self.stop.wait(_retry_after(retry_after, pause))
                pause *= 2
                continue
            return answer
        raise AssertionError("unreachable")  # pragma: no cover

    def _get_once(self, url: str, headers: Mapping[str, str], accept: frozenset[str]) -> Answer | IngestError | tuple[int, str | None]:
        limit = self.options.max_page_bytes
        with self.client.stream("GET", url, headers=headers) as r:
            status = r.status_code
            if status in rules().retry_statuses:
                return status, r.headers.get("retry-after")
            ctype, _, params = r.headers.get("content-type", "").partition(";")
            ctype = ctype.strip().lower()
            charset = _charset(params)
            base = Answer(
                url=url, status=status, content_type=ctype, charset=charset,
                location=r.headers.get("location", ""), etag=r.headers.get("etag", ""),
                last_modified=r.headers.get("last-modified", ""),
                robots_tags=tuple(r.headers.get_list("x-robots-tag")),
            )
            if not 200 <= status < 300:
                return base
            if ctype and ctype not in accept:
                return IngestError(url, "not-html", f"content type {ctype}")
            declared = r.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit and "content-encoding" not in r.headers:
                return IngestError(url, "too-large", f"{int(declared):,} bytes declared, limit {limit:,} (RELIEF_MAX_PAGE_BYTES)")
            chunks: list[bytes] = []
            size = 0
            for chunk in r.iter_bytes():
                size += len(chunk)
                if size > limit:
                    return IngestError(url, "too-large", f"more than {limit:,} bytes, limit {limit:,} (RELIEF_MAX_PAGE_BYTES)")
                chunks.append(chunk)
            return Answer(**{**base.__dict__, "body": b"".join(chunks)})


def _charset(params: str) -> str:
    for part in params.split(";"):
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip("\"'").lower()
    return ""


def _phrase(status: int) -> str:
    return httpx.codes.get_reason_phrase(status)
