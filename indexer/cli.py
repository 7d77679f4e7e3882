"""`relief`: the command line. Parses flags, calls the indexer API, prints.

Every command answers for people by default and for scripts with --json; errors are
one line on stderr naming what to fix, with exit code 2 (usage) or 1 (failure).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable, Sequence, TextIO

from .config import SETTINGS, Settings, load_settings
from .model import IngestReport, SearchResponse
from . import store
from .store import StoreError


class CliError(Exception):
    """A failure to report in one line, without a traceback."""


def _print_json(data: Any, out: TextIO | None = None) -> None:
    out = out or sys.stdout
    json.dump(data, out, ensure_ascii=False, indent=2)
    out.write("\n")


class _ProgressBar:
    """tqdm on the terminal: pages/s, pages done of the total, skipped, time left."""

    def __init__(self, total: int | None):
        from tqdm import tqdm

        self.bar = tqdm(total=total, unit="page", dynamic_ncols=True, file=sys.stderr,
                        smoothing=0.1, mininterval=0.5)
        self.done = 0

    def __call__(self, p: Any) -> None:
        if self.bar.total is not None and p.done > self.bar.total:
            self.bar.total = p.done
        self.bar.update(p.done - self.done)
        self.done = p.done
        self.bar.set_postfix(written=p.written, unchanged=p.unchanged, skipped=p.skipped, refresh=False)

    def close(self) -> None:
        self.bar.close()


class _CrawlProgressBar(_ProgressBar):
    """URLs answered so far (the crawl's pace), with what the ingest has written meanwhile."""

    def __init__(self) -> None:
        super().__init__(None)
        self.bar.unit = "URL"

    def __call__(self, p: Any) -> None:
        self.bar.set_postfix(written=p.written, unchanged=p.unchanged, skipped=p.skipped, refresh=False)

    def answered(self, stats: Any) -> None:
        count = stats.pages + stats.unchanged + stats.gone + stats.noindex + stats.failed + stats.duplicates
        self.bar.update(count - self.done)
        self.done = count


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from .pipeline import ingest

    from .sources import count_pages

    progress = None if args.json or not sys.stderr.isatty() else _ProgressBar(count_pages(args.paths))
    try:
        if settings.dask:  # the cleaning on a Dask cluster (indexer.dask_ingest)
            from .dask_ingest import ingest_dask as ingest  # type: ignore[assignment]
        report: IngestReport = ingest(args.paths, settings, rebuild=args.rebuild, prune=args.prune, progress=progress)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise CliError(
            f"could not write the index at {settings.index}: {reason}. The ingest stopped; what it committed "
            "before stays searchable, and the next run continues from there once you free disk space (or fix permissions)."
        ) from exc
    finally:
        if progress:
            progress.close()
    if args.json:
        _print_json(report.to_dict())
    else:
        print(
            f"{report.pages_read} pages read: {report.added} added, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.removed} removed; "
            f"{report.passages} passages, {report.claims} claims written in {report.seconds:.2f}s"
        )
        print(f"index: {report.index}")
        if report.skipped:
            print(f"{len(report.skipped)} skipped:")
            for error in report.skipped:
                print(f"  {error}")
    if report.skipped and args.strict:
        return 1
    return 0


def cmd_crawl(args: argparse.Namespace, settings: Settings) -> int:
    from .crawl import crawl_into_index, options_from_settings, start_url_problem

    bad = [f"{url!r} is {problem}" for url in args.urls if (problem := start_url_problem(url))]
    if bad:  # a typo on the command line: nothing is fetched, no index is made
        raise ValueError("; ".join(bad))
    options = options_from_settings(settings, max_pages=args.max_pages, max_depth=args.max_depth, scope=args.scope,
                                    robots_sitemaps=False if args.no_sitemaps else None)
    progress = None if args.json or not sys.stderr.isatty() else _CrawlProgressBar()
    folder_was_there, index_was_there = settings.index.exists(), store.index_exists(settings.index)
    try:
        run = crawl_into_index(args.urls, settings, options, rebuild=args.rebuild, prune=args.prune, progress=progress,
                               on_answer=progress.answered if progress else None)
    except OSError as exc:
        raise CliError(
            f"could not write the index at {settings.index}: {exc.strerror or exc}. What the crawl committed before "
            "stays searchable; free disk space (or fix permissions) and crawl again (unchanged pages then cost a 304)."
        ) from exc
    finally:
        if progress:
            progress.close()
    report, stats = run.report, run.stats
    if args.json:
        _print_json(run.to_dict())
    else:
        counts = [(stats.unchanged, "not modified (304)"), (stats.revalidated, "with new validators only"),
                  (stats.gone, "gone (404/410)"), (stats.noindex, "noindex"), (stats.failed, "failed"),
                  (stats.duplicates, "duplicate" + "s" * (stats.duplicates != 1))]
        print(
            f"{_count(stats.requested, 'URL')} fetched: {_count(stats.pages, 'page')}"
            + "".join(f", {n} {label}" for n, label in counts if n)
            + (f"; {stats.over_max_pages} more left out by --max-pages" if stats.over_max_pages else "")
        )
        if stats.sitemaps:
            named = f" ({stats.robots_sitemaps} named in robots.txt)" if stats.robots_sitemaps else ""
            print(f"{_count(stats.sitemaps, 'sitemap')} read{named}")
        print(
            f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
            f"{report.removed} removed; {report.passages} passages, {report.claims} claims in {report.seconds:.2f}s"
        )
        print(f"index: {report.index}")
        if report.skipped:
            print(f"{len(report.skipped)} skipped:")
            for error in report.skipped:
                print(f"  {error}")
        if run.prunable:
            print(f"{_count(run.prunable, 'indexed page')} now gone or noindex stay{'s' if run.prunable == 1 else ''} "
                  "in the index; crawl again with --prune to remove them")
    if stats.pages + stats.unchanged == 0:
        if not index_was_there and store.discard_empty(settings.index, remove_root=not folder_was_there):
            print(f"relief: no index was made at {settings.index}", file=sys.stderr)
        print("relief: the crawl reached no page; see the reasons above", file=sys.stderr)
        return 1
    failed = [e for e in report.skipped if e.reason != "noindex"]  # a page kept out at its site's wish is no failure
    return 1 if failed and args.strict else 0


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def cmd_extract(args: argparse.Namespace, settings: Settings) -> int:
    from .pipeline import extract_paths

    pages, errors = extract_paths(args.files, settings, about=args.about)
    out: dict[str, Any] = {}
    for page in pages:
        source = page.source
        data = page.to_dict()
        out[source] = {k: data[k] for k in ("title", "byline", "published", "headings", "text", "passages", "verdicts", "about")}
        out[source]["url"] = page.url
        out[source]["error"] = None
    for error in errors:
        entry: dict[str, Any] = {"title": "", "byline": "", "published": "", "headings": [], "text": "", "passages": [], "verdicts": {}, "about": None, "error": f"{error.reason}: {error.detail}" if error.detail else error.reason}
        out[error.source] = entry
    if args.json:
        _print_json(out)
    else:
        for source, entry in out.items():
            print(f"== {source}")
            if entry["error"]:
                print(f"  error: {entry['error']}")
                continue
            print(f"  title: {entry['title']}\n  byline: {entry['byline']}\n  passages: {len(entry['passages'])}")
            if entry["about"]:
                print(f"  about {entry['about']['text']!r}: {entry['about']['verdict']}")
            for tid, verdict in entry["verdicts"].items():
                print(f"  {tid}: {verdict['verdict']}")
            print("  " + entry["text"][:500].replace("\n", "\n  "))
    return 1 if errors and args.strict else 0


def _open_index(settings: Settings) -> Any:
    from .backend import open_index
    from .search import IndexMissing

    try:
        return open_index(settings)
    except IndexMissing as exc:
        raise CliError(str(exc)) from exc


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "treatment": args.treatment,
        "condition": args.condition,
        "claim": args.claim,
        "evidence": args.evidence,
    }


def _print_response(response: SearchResponse) -> None:
    import html
    import re

    def plain(snippet: str) -> str:
        return html.unescape(re.sub(r"</?mark>", "*", snippet))

    print(f"{response.total} results for {response.query!r} ({response.took_ms:.1f} ms)")
    for note in response.notes:
        print(f"note: {note}")
    if response.suggestion:
        print(f"did you mean: {response.suggestion}")
    first = (response.page - 1) * response.per_page
    for rank, r in enumerate(response.results, start=first + 1):
        heading = f" › {r.heading}" if r.heading else ""
        more = f"  (+{r.more_on_page} more on this page)" if r.more_on_page else ""
        print(f"\n{rank}. {r.title}{heading}  [{r.score:.2f}]{more}")
        print(f"   {r.url}")
        print(f"   {plain(r.snippet)}")
        if r.treatments:
            print(f"   treatments: {', '.join(r.treatments)}")


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    index = _open_index(settings)
    if args.batch:
        return _batch(index, args)
    if not args.query:
        raise CliError("search needs a QUERY, or --batch FILE")
    response = index.search(
        " ".join(args.query), page=args.page, per_page=args.limit, group=args.group, **_filters(args)
    )
    if args.json:
        _print_json(response.to_dict())
    else:
        _print_response(response)
    return 0


def _batch(index: Any, args: argparse.Namespace) -> int:
    path = Path(args.batch)
    try:
        lines = path.read_text(encoding="utf-8").splitlines() if args.batch != "-" else sys.stdin.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read batch file {args.batch}: {exc}") from exc
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        qid, _, query = line.partition("\t") if "\t" in line else (str(n), "", line)
        response = index.search(query, page=1, per_page=args.limit, group=args.group, **_filters(args))
        if args.trec:
            for rank, r in enumerate(response.results, start=1):
                doc = r.page_id if args.group == "page" else r.passage_id
                print(f"{qid} Q0 {doc} {rank} {r.score:.4f} relief")
        else:
            print(json.dumps({"id": qid, **response.to_dict()}, ensure_ascii=False))
    return 0


def cmd_stats(args: argparse.Namespace, settings: Settings) -> int:
    index = _open_index(settings)
    stats = index.stats()
    if args.json:
        _print_json(stats)
    else:
        for key, value in stats.items():
            print(f"{key:>16}: {value}")
    return 0


def cmd_claims(args: argparse.Namespace, settings: Settings) -> int:
    index = _open_index(settings)
    report = index.claims(treatment=args.treatment, type=args.type, about=args.about)
    data = report.to_dict()
    if args.json:
        _print_json(data)
        return 0
    for treatment, summary in data["summary"].items():
        types = ", ".join(f"{k} {v}" for k, v in summary["types"].items())
        polarity = ", ".join(f"{k} {v}" for k, v in summary["polarity"].items())
        print(f"{summary['label']} ({treatment}): {summary['claims']} claims — {types}; {polarity}")
    for treatment, by in data["verdicts"].items():
        counts = ", ".join(f"{k} {len(v)}" for k, v in by.items() if v)
        print(f"pages on {treatment}: {counts}")
    print()
    for row in data["claims"][: args.limit]:
        c = row["claim"]
        print(f"[{c['type']}/{c['polarity']}/{c['evidence']}] {c['text']}")
        print(f"    {row['title']} — {row['url']} ({row['passage_id']})")
    contradictions = data["contradictions"]
    if contradictions:
        print(f"\n{len(contradictions)} contradicting pairs")
        for pair in contradictions[: args.limit]:
            print(f"- {pair['treatment']}: {pair['reason']}")
            for side in ("a", "b"):
                print(f"    {pair[side]['claim']['text']}  ({pair[side]['url']})")
    return 0


# a command added by another package (search_web adds `serve`): (subparsers, common options)
AddCommand = Callable[[Any, argparse.ArgumentParser], None]


def build_parser(commands: Sequence[AddCommand] = ()) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--index", metavar="DIR", help="index folder (default: $RELIEF_INDEX or instance/index)")
    common.add_argument("--json", action="store_true", help="machine-readable output")

    filters = argparse.ArgumentParser(add_help=False)
    filters.add_argument("--treatment", action="append", help="only passages about this treatment (repeatable: OR)")
    filters.add_argument("--condition", action="append", help="only passages about this condition (repeatable: OR)")
    filters.add_argument("--claim", action="append", help="only passages with a claim of this type")
    filters.add_argument("--evidence", action="append", help="only passages whose claims cite this evidence")

    parser = argparse.ArgumentParser(prog="relief", description="Relief Index: search and knowledge index for health pages.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", parents=[common], help="read pages into the index")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (.html .htm .txt .jsonl, optionally .gz)")
    p.add_argument("--rebuild", action="store_true", help="build a new index beside the live one and swap")
    p.add_argument("--prune", action="store_true", help="remove pages no longer present in the given sources")
    p.add_argument("--strict", action="store_true", help="exit 1 when any page was skipped")
    p.add_argument("--max-page-bytes", type=int, help="skip pages larger than this")
    p.add_argument("--workers", type=int, metavar="N",
                   help="processes that clean pages and write index segments (default: one per core; 1: all in this one)")
    p.add_argument("--dask", metavar="tcp://HOST:PORT", help="clean on the workers of this Dask scheduler (default: $RELIEF_DASK)")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("crawl", parents=[common], help="fetch a site (start pages and/or sitemaps) into the index")
    p.add_argument("urls", nargs="+", metavar="URL", help="start pages, or sitemap.xml / sitemap index / .xml.gz")
    p.add_argument("--scope", action="append", metavar="PREFIX", help="only URLs under this prefix (repeatable; default: the start URLs' hosts)")
    p.add_argument("--max-pages", type=int, metavar="N", help="fetch at most N pages (default: crawl_max_pages)")
    p.add_argument("--max-depth", type=int, metavar="N", help="follow links at most N steps from a start page or sitemap entry")
    p.add_argument("--no-sitemaps", action="store_true", help="do not read the sitemaps a start page's robots.txt names")
    p.add_argument("--prune", action="store_true", help="remove pages that now answer 404 or 410, or ask not to be indexed")
    p.add_argument("--rebuild", action="store_true", help="build a new index beside the live one and swap (fetches every page)")
    p.add_argument("--strict", action="store_true", help="exit 1 when any URL failed")
    p.add_argument("--max-page-bytes", type=int, metavar="N", help="skip pages larger than N bytes (after decompression)")
    p.add_argument("--workers", type=int, metavar="N", help="cleaning processes (default: one per core)")
    p.set_defaults(func=cmd_crawl)

    p = sub.add_parser("extract", parents=[common], help="clean pages and print them, without an index")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--strict", action="store_true", help="exit 1 when any page failed")
    p.add_argument("--max-page-bytes", type=int, help="skip pages larger than this")
    p.add_argument("--about", metavar="TEXT", help="each page's position on this treatment (free words; 'a or b' for two names)")
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("search", parents=[common, filters], help="search the index")
    p.add_argument("query", nargs="*", metavar="QUERY")
    p.add_argument("--limit", type=int, default=10, help="results per page (default 10)")
    p.add_argument("--page", type=int, default=1, help="page of results (default 1)")
    p.add_argument("--group", choices=["page"], help="best passage per page")
    p.add_argument("--batch", metavar="FILE", help="one query a line, or ID<TAB>QUERY; JSON lines out")
    p.add_argument("--trec", action="store_true", help="with --batch: a TREC run (qid Q0 doc rank score relief)")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("claims", parents=[common], help="list claims and contradictions per treatment")
    p.add_argument("--treatment", help="a treatment (its sub-types included)")
    p.add_argument("--type", help="efficacy, comparison, statistic, mechanism or caution")
    p.add_argument("--about", metavar="TEXT", help="each page's position on a treatment named in free words")
    p.add_argument("--limit", type=int, default=50, help="claims to print (default 50)")
    p.set_defaults(func=cmd_claims)

    p = sub.add_parser("stats", parents=[common], help="counts and size of the index")
    p.set_defaults(func=cmd_stats)

    for add in commands:
        add(sub, common)

    p = sub.add_parser("settings", help="list every setting: its environment variable, the value in effect, the default")
    p.set_defaults(func=lambda args, settings: _print_settings(settings))
    return parser


def _print_settings(settings: Settings) -> int:
    """Each setting's variable, the value in effect (a RELIEF_* variable set in the environment
    shows here, with the default beside it) and what it does."""
    name_width = max(len(s.env) for s in SETTINGS)
    values = {s.name: str(getattr(settings, s.name)) for s in SETTINGS}
    value_width = max(len(v) for v in [*values.values(), *(str(s.default) for s in SETTINGS)] if len(v) <= 24)
    for s in SETTINGS:
        value, default = values[s.name], str(s.default)
        note = f" (set; default {default or 'empty'})" if value != default else ""
        print(f"{s.env:<{name_width}}  {value:<{value_width}}  {s.help}{note}")
    return 0


def main(argv: Sequence[str] | None = None, commands: Sequence[AddCommand] = ()) -> int:
    """The `relief` command; `commands` adds subcommands the core does not know (serve)."""
    parser = build_parser(commands)
    args = parser.parse_args(argv)
    overrides = {k: getattr(args, k, None) for k in ("index", "host", "port", "corpus", "max_page_bytes", "workers", "dask")}
    try:
        settings = load_settings(**overrides)
        if args.command in ("ingest", "crawl") and settings.index.is_file():
            raise ValueError(f"the index folder {settings.index} is a file; give --index (or RELIEF_INDEX) a folder, new or holding an index")
        return int(args.func(args, settings) or 0)
    except CliError as exc:
        print(f"relief: {exc}", file=sys.stderr)
        return 1
    except StoreError as exc:
        print(f"relief: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"relief: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("relief: interrupted; the last committed index is unchanged", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
