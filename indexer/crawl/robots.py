"""robots.txt, read once per host with Protego (wildcards, Allow/Disallow precedence, crawl-delay).

Protego follows the current robots.txt standard (RFC 9309) more closely than the standard
library's parser, which ignores `*` and `$` in paths. The RFC's rules for an unreadable
file apply: a 4xx answer means no rules, a 5xx answer or a failed connection means the
whole host is off limits for this crawl.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from protego import Protego

from ..model import IngestError
from .fetch import Fetcher
from .rules import rules
from .urls import normalize_url
from .urls import origin as origin_of

_ROBOTS_TYPES = frozenset({"text/plain", "text/html", ""})
_MAX_ROBOTS_BYTES = 512 * 1024  # RFC 9309 asks crawlers to read at least 500 KiB


@dataclass(frozen=True)
class Robots:
    """One host's rules; `failure` set when the host is off limits because robots.txt failed."""

    parser: Protego | None = None
    failure: IngestError | None = None
    sitemaps: tuple[str, ...] = field(default=())

    def allowed(self, url: str, agent: str) -> bool:
        if self.failure is not None:
            return False
        return self.parser is None or bool(self.parser.can_fetch(url, agent))

    def delay(self, agent: str) -> float | None:
        if self.parser is None:
            return None
        value = self.parser.crawl_delay(agent)
        return None if value is None else min(float(value), rules().max_wait_seconds)


def read_robots(fetcher: Fetcher, origin: str) -> Robots:
    url = origin + "/robots.txt"
    answer = fetcher.get(url, origin, _ROBOTS_TYPES)
    hops = 0
    while not isinstance(answer, IngestError) and answer.status in (301, 302, 303, 307, 308) and answer.location and hops < 5:
        target = normalize_url(answer.location, answer.url)
        if not target:
            break
        answer = fetcher.get(target, origin_of(target), _ROBOTS_TYPES)
        hops += 1
    if isinstance(answer, IngestError):
        if answer.reason in ("not-html", "too-large"):
            return Robots()  # not a robots file we can read: no rules
        return Robots(failure=IngestError(answer.source, answer.reason, f"cannot reach {origin} (asking for its robots.txt): {answer.detail}"))
    if 300 <= answer.status < 500:
        return Robots()  # no robots.txt (or redirects without end): no rules
    if answer.status >= 500 or answer.status < 200:
        return Robots(failure=IngestError(url, "robots", f"robots.txt answered {answer.status}; the host is skipped"))
    text = answer.body[:_MAX_ROBOTS_BYTES].decode("utf-8", errors="replace")
    parser = Protego.parse(text)
    return Robots(parser=parser, sitemaps=tuple(parser.sitemaps))


class RobotsCache:
    """Each host's robots.txt, fetched by the first thread that needs it; the rest wait."""

    def __init__(self, fetcher: Fetcher):
        self._fetcher = fetcher
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._robots: dict[str, Robots] = {}

    def get(self, origin: str) -> Robots:
        with self._lock:
            host_lock = self._locks.setdefault(origin, threading.Lock())
        with host_lock:
            robots = self._robots.get(origin)
            if robots is None:
                robots = self._robots[origin] = read_robots(self._fetcher, origin)
                delay = robots.delay(self._fetcher.options.user_agent)
                gate = self._fetcher.gate(origin)
                if delay is not None and delay > gate.delay:
                    gate.delay = delay
            return robots
