"""`relief serve`, and the `relief` command with it: the core CLI plus the web server.

The core (`indexer.cli`) knows nothing of the web; this module adds the `serve` command
to it and is what the `relief` entry point runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, Sequence

from indexer.cli import CliError
from indexer.cli import main as core_main
from indexer.config import Settings
from indexer.backend import index_present

__all__ = ["main", "serve"]


def serve(settings: Settings) -> int:
    """Build the index from the corpus when it is missing, warm it, and serve under waitress."""
    import waitress

    from . import create_app
    from .indexes import EXTENSION, NoIndex

    if not index_present(settings):
        if not settings.corpus.exists():
            raise CliError(f"no index at {settings.index} and no corpus folder at {settings.corpus} to build one from")
        from indexer.pipeline import ingest

        print(f"No index at {settings.index}: building it from {settings.corpus} …", file=sys.stderr)
        report = ingest([str(settings.corpus)], settings)
        print(f"  {report.added} pages, {report.passages} passages, {len(report.skipped)} skipped", file=sys.stderr)
    app = create_app(settings)
    started = time.perf_counter()
    try:
        app.extensions[EXTENSION].get().warm()
        print(f"Index warmed in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    except NoIndex:
        pass  # pages say how to build one; the first request after that opens it
    print(f"Relief Index serving {settings.index} on http://{settings.host}:{settings.port}/", file=sys.stderr)
    waitress.serve(app, host=settings.host, port=settings.port, threads=settings.threads, ident="relief")
    return 0


def _add_serve(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("serve", parents=[common], help="serve the web UI and JSON API")
    p.add_argument("--host", help="address (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 5000)")
    p.add_argument("--corpus", help="folder to build the index from when it is missing")
    p.set_defaults(func=lambda args, settings: serve(settings))


def main(argv: Sequence[str] | None = None) -> int:
    return core_main(argv, commands=[_add_serve])


if __name__ == "__main__":
    sys.exit(main())
