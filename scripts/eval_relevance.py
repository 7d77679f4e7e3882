#!/usr/bin/env python3
"""Ranking quality on an NFCorpus-format collection, beside SQLite FTS5 and bm25s.

    .venv/bin/python scripts/eval_relevance.py DOCS QUERIES QRELS [--cache DIR] [--set k1=1.0 ...] [--xapian]

DOCS is TSV `id<TAB>text`; it is turned into JSONL records and ingested through the real
pipeline (`indexer.pipeline.ingest`) into a temporary index (or a cache folder reused when
the docs have not changed). Each query is run as `relief search --batch --group page
--limit 100` would run it, and nDCG@10 (graded), Recall@100 and MAP (any grade >= 1
relevant) are printed, with the same figures for SQLite FTS5 (porter, bm25) and bm25s
(with a Snowball stemmer) in the same run. Queries without judged-relevant documents are
left out of the averages. With --xapian the same records also go into Xapian shards (two
local shard folders; the xapian backend) and that backend is scored beside Whoosh.

NFCorpus documents are "<paper title> [pubmed ncbi] abstract <text>": the title part is
given to the pipeline as the record's title, and the whole text stays in the body, so the
peers and we search the same words.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import sqlite3
import sys
import tempfile
import time
from dataclasses import fields, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT  # noqa: E402

from indexer.backend import open_index  # noqa: E402
from indexer.config import Settings, load_settings  # noqa: E402
from indexer.pipeline import ingest  # noqa: E402
from indexer.search import Ranking  # noqa: E402

_TITLE_END = re.compile(r"^(.{8,400}?)\s+(?:pubmed ncbi\s+)?abstract\s")


def read_tsv(path: Path) -> list[tuple[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if "\t" in line:
            a, b = line.split("\t", 1)
            rows.append((a.strip(), b.strip()))
    return rows


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 4 and int(parts[3]) > 0:
            qrels.setdefault(parts[0], {})[parts[2]] = int(parts[3])
    return qrels


def to_records(docs: list[tuple[str, str]]) -> list[dict[str, str]]:
    out = []
    for doc_id, text in docs:
        m = _TITLE_END.match(text)
        title = m.group(1) if m else " ".join(text.split()[:12])
        out.append({"id": doc_id, "url": f"https://nfcorpus.example/{doc_id}", "title": title, "text": text})
    return out


def build_index(docs_path: Path, cache: Path | None, backend: str = "whoosh") -> Path:
    docs = read_tsv(docs_path)
    digest = hashlib.sha256(docs_path.read_bytes() + Path(ROOT / "indexer" / "analysis.py").read_bytes()).hexdigest()[:12]
    base = cache or Path(tempfile.mkdtemp(prefix="relief-eval-"))
    index = base / (f"index-{digest}" if backend == "whoosh" else f"{backend}-{digest}")
    if (index / "CURRENT").exists() or (index / "shard-1").exists():
        return index
    base.mkdir(parents=True, exist_ok=True)
    jsonl = base / "docs.jsonl"
    with open(jsonl, "w", encoding="utf-8") as fh:
        for rec in to_records(docs):
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    t0 = time.perf_counter()
    report = ingest([str(jsonl)], _settings(index, backend))
    print(f"# ingested {report.added} docs, {report.passages} passages, {len(report.skipped)} skipped in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return index


# ---------------------------------------------------------------- metrics


def evaluate(run: dict[str, list[str]], qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    ndcg, recall, ap = [], [], []
    for qid, rels in qrels.items():
        if qid not in run:
            continue
        ranked = run[qid]
        dcg = sum(rels.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:10]))
        ideal = sorted(rels.values(), reverse=True)[:10]
        idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
        ndcg.append(dcg / idcg if idcg else 0.0)
        recall.append(len(set(ranked[:100]) & set(rels)) / len(rels))
        hits, precisions = 0, []
        for i, d in enumerate(ranked[:100]):
            if d in rels:
                hits += 1
                precisions.append(hits / (i + 1))
        ap.append(sum(precisions) / len(rels))
    n = len(ndcg) or 1
    return {"ndcg@10": sum(ndcg) / n, "recall@100": sum(recall) / n, "map": sum(ap) / n, "queries": len(ndcg)}


# ---------------------------------------------------------------- systems


def _settings(index: Path, backend: str) -> Settings:
    if backend == "xapian":
        return load_settings(env={}, index=index, backend="xapian", shard_writers=f"{index / 'shard-0'},{index / 'shard-1'}")
    return load_settings(env={}, index=index)


def run_relief(index_path: Path, queries: list[tuple[str, str]], ranking: Ranking, backend: str = "whoosh") -> tuple[dict[str, list[str]], float]:
    index = open_index(_settings(index_path, backend), ranking=ranking)
    run: dict[str, list[str]] = {}
    t0 = time.perf_counter()
    for qid, q in queries:
        # what `relief search --batch FILE --trec --group page --limit 100` does per line
        r = index.search(q, page=1, per_page=100, group="page", facets=False, snippets=False)
        run[qid] = [x.page_id for x in r.results]
    took = time.perf_counter() - t0
    index.close()
    return run, took


_FTS_TOKEN = re.compile(r"\w+", re.UNICODE)


def run_fts5(docs: list[tuple[str, str]], queries: list[tuple[str, str]]) -> tuple[dict[str, list[str]], float]:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE d USING fts5(id UNINDEXED, body, tokenize='porter unicode61')")
    db.executemany("INSERT INTO d VALUES (?, ?)", docs)
    run = {}
    t0 = time.perf_counter()
    for qid, q in queries:
        toks = sorted(set(_FTS_TOKEN.findall(q.lower())))
        if not toks:
            run[qid] = []
            continue
        match = " OR ".join('"' + t.replace('"', '""') + '"' for t in toks)
        rows = db.execute("SELECT id FROM d WHERE d MATCH ? ORDER BY bm25(d) LIMIT 100", (match,)).fetchall()
        run[qid] = [r[0] for r in rows]
    return run, time.perf_counter() - t0


def run_bm25s(docs: list[tuple[str, str]], queries: list[tuple[str, str]]) -> tuple[dict[str, list[str]], float] | None:
    try:
        import bm25s
        import Stemmer
    except ImportError:
        return None
    stemmer = Stemmer.Stemmer("english")
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([t for _, t in docs], stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)
    ids = [d for d, _ in docs]
    run = {}
    t0 = time.perf_counter()
    for qid, q in queries:
        qt = bm25s.tokenize([q], stopwords="en", stemmer=stemmer, show_progress=False)
        if not qt.vocab:
            run[qid] = []
            continue
        k = min(100, len(ids))
        res, _ = retriever.retrieve(qt, k=k, show_progress=False)
        run[qid] = [ids[i] for i in res[0]]
    return run, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("docs", type=Path)
    ap.add_argument("queries", type=Path, nargs="+", help="one or more query files, each scored alone")
    ap.add_argument("--qrels", type=Path, help="judgments (default: the last positional argument)")
    ap.add_argument("--cache", type=Path, help="reuse the index built here for the same docs")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override a Ranking knob (experiments)")
    ap.add_argument("--no-peers", action="store_true", help="skip SQLite FTS5 and bm25s")
    ap.add_argument("--xapian", action="store_true", help="also score the xapian backend (two local shards)")
    args = ap.parse_args(argv)
    query_files = list(args.queries)
    qrels_path = args.qrels or query_files.pop()
    ranking = Ranking()
    kinds = {f.name: f.type for f in fields(Ranking)}
    for item in args.set:
        name, _, value = item.partition("=")
        caster = {"float": float, "bool": lambda v: v.lower() in ("1", "true", "yes"), "int": int}[str(kinds[name])]
        ranking = replace(ranking, **{name: caster(value)})

    docs = read_tsv(args.docs)
    qrels = read_qrels(qrels_path)
    index = build_index(args.docs, args.cache)
    xindex = build_index(args.docs, args.cache, "xapian") if args.xapian else None
    print(f"collection: {args.docs} ({len(docs)} docs), judgments: {qrels_path.name}")
    if args.set:
        print(f"ranking overrides: {', '.join(args.set)}")
    for qfile in query_files:
        queries = read_tsv(qfile)
        systems = [("relief (whoosh)", run_relief(index, queries, ranking))]
        if xindex is not None:
            systems.append(("relief (xapian)", run_relief(xindex, queries, ranking, "xapian")))
        if not args.no_peers:
            systems.append(("sqlite fts5 porter", run_fts5(docs, queries)))
            b = run_bm25s(docs, queries)
            if b:
                systems.append(("bm25s stem", b))
        print(f"\n{qfile.name}: {len(queries)} queries")
        print(f"  {'system':<20} {'nDCG@10':>8} {'R@100':>8} {'MAP':>8} {'judged':>7} {'ms/q':>7}")
        for name, (run, took) in systems:
            m = evaluate(run, qrels)
            print(f"  {name:<20} {m['ndcg@10']:>8.4f} {m['recall@100']:>8.4f} {m['map']:>8.4f} {m['queries']:>7} {1000 * took / max(1, len(queries)):>7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
