"""Settings: one table of names, defaults and help, read from the environment in one place.

The CLI turns flags into overrides, the web app receives a Settings object, and the
README and /healthz list the same table, so a setting can't exist in one place only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping


BACKENDS = ("whoosh", "xapian")


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str

    @property
    def env(self) -> str:
        return "RELIEF_" + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("index", "instance/index", "Folder of the Whoosh index (--index DIR)."),
    Setting("corpus", "corpus", "Folder of source pages that `relief serve` indexes when the index is missing."),
    Setting("max_page_bytes", 20 * 1024 * 1024, "Pages larger than this (after gunzip) are skipped with reason too-large."),
    Setting("max_query_chars", 1000, "Longer queries are refused by the web app (400) and truncated by the Python API with a note."),
    Setting("per_page", 10, "Results per page unless the caller asks otherwise."),
    Setting("max_per_page", 100, "Upper bound on results per page."),
    Setting("host", "127.0.0.1", "Address `relief serve` listens on."),
    Setting("port", 5000, "Port `relief serve` listens on."),
    Setting("threads", 8, "Worker threads of the WSGI server."),
    Setting("backend", "whoosh", "Index engine: whoosh (embedded, the default) or xapian (shards behind xapian-tcpsrv; GPL, optional)."),
    Setting("shards", "", "Xapian read endpoints, one per shard, comma-separated HOST:PORT of xapian-tcpsrv (a|b lists replicas); empty: the local shard folders."),
    Setting("shard_writers", "", "Xapian write endpoints, one per shard in the same order: folders, or HOST:PORT of xapian-tcpsrv --writable; empty: INDEX/shard-N."),
    Setting("dask", "", "Dask scheduler address (tcp://HOST:PORT) for `relief ingest`; empty: ingest in this process."),
    Setting("crawl_user_agent", "relief-index/0.1 (health page indexer)", "User-Agent of `relief crawl`; robots.txt rules for it apply."),
    Setting("crawl_timeout", 10.0, "Seconds `relief crawl` waits to connect, and for each read, before a try counts as timed out."),
    Setting("crawl_retries", 2, "Further tries after a 5xx answer, a time-out or a dropped connection, with doubling pauses."),
    Setting("crawl_delay", 0.5, "Least seconds between two requests to one host (a larger robots.txt crawl-delay wins)."),
    Setting("crawl_host_concurrency", 2, "Requests in flight to one host at once."),
    Setting("crawl_max_pages", 10000, "Pages fetched by one crawl at most (--max-pages)."),
    Setting("crawl_max_depth", 20, "Links followed from a start page or sitemap entry at most (--max-depth)."),
    Setting("crawl_max_redirects", 5, "Redirects followed for one URL; each must stay in the crawl's scope."),
    Setting("workers", 0, "Processes that clean pages during an ingest (--workers N); 0 means one per core."),
    Setting("batch_pages", 16, "Pages handed to a worker process at a time; memory grows with it, not with the corpus."),
    Setting("template_pages", 24, "First pages of a site that its template (menus, footers) is learned from."),
    Setting("commit_pages", 500, "An ingest commits after this many written pages, so a killed run keeps them."),
    Setting("commit_seconds", 30, "An ingest also commits when this many seconds passed since its last commit."),
    Setting("writer_mb", 64, "Postings the Whoosh writer holds in memory (Whoosh's estimate, in MB) before it spills sorted runs to disk."),
    Setting("subject", "", "Subject line of the home page; empty: named after the conditions the index speaks of most."),
    Setting("about_max_pages", 200, "Pages the web claims view reads at most for a treatment named in free words (about=); those naming it most go first."),
)


@dataclass(frozen=True)
class Settings:
    index: Path = Path("instance/index")
    corpus: Path = Path("corpus")
    max_page_bytes: int = 20 * 1024 * 1024
    max_query_chars: int = 1000
    per_page: int = 10
    max_per_page: int = 100
    host: str = "127.0.0.1"
    port: int = 5000
    threads: int = 8
    backend: str = "whoosh"
    shards: str = ""
    shard_writers: str = ""
    dask: str = ""
    crawl_user_agent: str = "relief-index/0.1 (health page indexer)"
    crawl_timeout: float = 10.0
    crawl_retries: int = 2
    crawl_delay: float = 0.5
    crawl_host_concurrency: int = 2
    crawl_max_pages: int = 10000
    crawl_max_depth: int = 20
    crawl_max_redirects: int = 5
    workers: int = 0
    batch_pages: int = 16
    template_pages: int = 24
    commit_pages: int = 500
    commit_seconds: int = 30
    writer_mb: int = 64
    subject: str = ""
    about_max_pages: int = 200

    def with_overrides(self, **overrides: Any) -> "Settings":
        """Apply non-None overrides, converting to each field's type."""
        clean = {k: _coerce(k, v) for k, v in overrides.items() if v is not None}
        for name in _AT_LEAST_ONE:
            if name in clean and clean[name] < 1:
                raise ValueError(f"{name} must be 1 or more, not {clean[name]}")
        if clean.get("workers", 0) < 0:
            raise ValueError(f"workers must be 0 (one per core) or more, not {clean['workers']}")
        return replace(self, **clean)

    @property
    def worker_count(self) -> int:
        """The processes an ingest cleans with: the setting, or one per core."""
        return self.workers or os.cpu_count() or 1


_AT_LEAST_ONE = ("batch_pages", "template_pages", "commit_pages", "commit_seconds", "writer_mb", "about_max_pages")


def _coerce(name: str, value: Any) -> Any:
    kind = {f.name: f.type for f in fields(Settings)}[name]
    if kind in ("Path", Path):
        return Path(value)
    if kind in ("int", int):
        return int(value)
    if kind in ("float", float):
        return float(value)
    return value


def load_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Defaults, then RELIEF_* environment variables, then explicit overrides (CLI flags)."""
    env = os.environ if env is None else env
    from_env = {s.name: env[s.env] for s in SETTINGS if env.get(s.env)}
    try:
        settings = Settings().with_overrides(**from_env).with_overrides(**overrides)
    except ValueError as exc:
        raise ValueError(f"bad setting value: {exc}") from exc
    if settings.backend not in BACKENDS:
        raise ValueError(f"bad setting value: backend {settings.backend!r} is not one of {', '.join(BACKENDS)}")
    return settings
