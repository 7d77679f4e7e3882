#!/usr/bin/env python
"""A page's position on a treatment, against people's judgements.

Usage::

    python scripts/eval_stance.py DIR [--cv] [--errors] [--json]

DIR holds ``gold.json`` (``{doc_id: {"topic", "treatment", "stance", ...}}``, stance 1 =
the page says the treatment helps, 0 = it says it does not) and ``pages/<doc_id>.txt``
(for example ``../shared/data/stance-dev``). Each page goes through the real pipeline alone
(``extract_paths([page], about=TREATMENT)``) and its ``about`` verdict is compared with the
judgement: ``helps`` ↔ 1, ``does-not-help`` ↔ 0; ``mixed`` and ``unclear`` are no call.

Printed: accuracy on the pages with a call, coverage (share of pages with a call), and
always-"helps" on those same pages; then the same figures with near-copies of one article
(same topic, most of their word 8-grams shared) counted once (each page weighs 1/size of
its group). With ``--cv``: the fitted knobs (``GRID``: the does-not-help weight, the weight of
harm-only and page-level debunking sentences, the mixed margin) chosen by leave-one-topic-out
cross-validation; the held-out figures are printed.

The topic's treatment text is used as written, except where TREC lists two names of one
treatment in a row ("amygdalin laetrile"): those are given as alternatives.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT  # noqa: E402

from indexer import verdicts  # noqa: E402
from indexer.config import Settings  # noqa: E402
from indexer.fields import DATA_DIR  # noqa: E402
from indexer.model import Page  # noqa: E402
from indexer.pipeline import extract_paths  # noqa: E402

# TREC's treatment field lists synonyms side by side; the user would type one or the other
ALTERNATIVE_NAMES = {"amygdalin laetrile": "amygdalin or laetrile"}

# The knobs fitted on stance-dev, each with the values tried; --cv chooses them by
# leave-one-topic-out cross-validation and prints the held-out figures.
GRID: dict[str, tuple[float, ...]] = {
    "weights.negative": (1.0, 1.5, 2.0),
    "weights.harm_only": (0.1, 0.2, 0.35),
    "weights.page_skeptic": (0.0, 0.3),
    "decide.mixed_margin": (0.1, 0.15, 0.2),
}

@dataclass(frozen=True)
class Item:
    doc_id: str
    topic: str
    about: str
    stance: int
    group: str  # near-copies share a group
    page: Page | None


def about_text(treatment: str) -> str:
    return ALTERNATIVE_NAMES.get(treatment, treatment)


def _shingles(text: str, n: int = 8) -> set[int]:
    words = re.findall(r"\w+", text.lower())
    return {hash(tuple(words[i : i + n])) for i in range(max(0, len(words) - n + 1))}


def near_copy_groups(texts: dict[str, str], topics: dict[str, str], threshold: float = 0.5) -> dict[str, str]:
    """doc_id → group id: pages of one topic sharing most of their 8-grams are one article."""
    sh = {d: _shingles(t) for d, t in texts.items()}
    parent = {d: d for d in texts}

    def find(d: str) -> str:
        while parent[d] != d:
            parent[d] = parent[parent[d]]
            d = parent[d]
        return d

    for a, b in itertools.combinations(sorted(texts), 2):
        if topics[a] != topics[b] or not sh[a] or not sh[b]:
            continue
        overlap = len(sh[a] & sh[b]) / min(len(sh[a]), len(sh[b]))
        if overlap >= threshold:
            parent[find(a)] = find(b)
    return {d: find(d) for d in texts}


def load(folder: Path) -> list[Item]:
    gold = json.loads((folder / "gold.json").read_text(encoding="utf-8"))
    settings = Settings()
    texts: dict[str, str] = {}
    pages: dict[str, Page | None] = {}
    for doc_id, g in sorted(gold.items()):
        path = folder / "pages" / f"{doc_id}.txt"
        texts[doc_id] = path.read_text(encoding="utf-8", errors="replace")
        got, _ = extract_paths([str(path)], settings, about=about_text(g["treatment"]))
        pages[doc_id] = got[0] if got else None
    groups = near_copy_groups(texts, {d: g["topic"] for d, g in gold.items()})
    return [
        Item(d, str(g["topic"]), about_text(g["treatment"]), int(g["stance"]), groups[d], pages[d])
        for d, g in sorted(gold.items())
    ]


def calls(items: Sequence[Item], rules: verdicts.Rules | None = None, read: dict[str, verdicts.AboutLines] | None = None) -> dict[str, str]:
    out = {}
    for it in items:
        if it.page is None:
            out[it.doc_id] = "unclear"
        elif rules is None and it.page.about is not None:
            out[it.doc_id] = it.page.about.verdict
        elif read is not None:
            out[it.doc_id] = verdicts.weigh(read[it.doc_id], rules).verdict
        else:
            out[it.doc_id] = verdicts.about(it.page, it.about, rules=rules).verdict
    return out


def figures(items: Sequence[Item], got: dict[str, str], dedup: bool = False) -> dict[str, float]:
    size: dict[str, int] = {}
    for it in items:
        size[it.group] = size.get(it.group, 0) + 1
    total = called = right = helps = 0.0
    for it in items:
        w = 1.0 / size[it.group] if dedup else 1.0
        total += w
        v = got[it.doc_id]
        if v not in ("helps", "does-not-help"):
            continue
        called += w
        right += w * ((v == "helps") == (it.stance == 1))
        helps += w * (it.stance == 1)
    acc = right / called if called else 0.0
    base = helps / called if called else 0.0
    return {
        "pages": round(total, 2),
        "called": round(called, 2),
        "accuracy": round(acc, 3),
        "coverage": round(called / total if total else 0.0, 3),
        "always_helps": round(base, 3),
        "gain": round(acc - base, 3),
    }


Knobs = tuple[float, ...]


def rules_with(knobs: Knobs) -> verdicts.Rules:
    data = tomllib.loads((DATA_DIR / "verdicts.toml").read_text(encoding="utf-8"))
    for name, value in zip(GRID, knobs):
        section, key = name.split(".")
        data[section][key] = value
    return verdicts.rules_from(data)


def current_knobs() -> Knobs:
    data = tomllib.loads((DATA_DIR / "verdicts.toml").read_text(encoding="utf-8"))
    return tuple(float(data[n.split(".")[0]][n.split(".")[1]]) for n in GRID)


def _objective(f: dict[str, float]) -> float:
    # accuracy, with coverage under 0.70 paying for itself
    return f["accuracy"] - max(0.0, 0.70 - f["coverage"])


def cross_validate(items: Sequence[Item]) -> dict[str, Any]:
    read = {it.doc_id: verdicts.about_lines(it.page, it.about) for it in items if it.page is not None}
    combos = list(itertools.product(*GRID.values()))
    grid = {k: calls(items, rules_with(k), read) for k in combos}
    current = current_knobs()

    def best(on: Sequence[Item]) -> Knobs:
        # ties go to the values in verdicts.toml, then to the first in the grid
        return max(combos, key=lambda k: (_objective(figures(on, grid[k])), k == current, -combos.index(k)))

    held: dict[str, str] = {}
    chosen: dict[str, Knobs] = {}
    for topic in sorted({it.topic for it in items}):
        chosen[topic] = best([it for it in items if it.topic != topic])
        held.update({it.doc_id: grid[chosen[topic]][it.doc_id] for it in items if it.topic == topic})
    best_all = best(items)
    return {
        "knobs": list(GRID),
        "held_out": figures(items, held),
        "held_out_dedup": figures(items, held, dedup=True),
        "chosen_per_topic": {t: list(k) for t, k in chosen.items()},
        "best_on_all": list(best_all),
        "best_on_all_figures": figures(items, grid[best_all]),
    }


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path, nargs="?", default=ROOT.parent / "shared" / "data" / "stance-dev")
    ap.add_argument("--cv", action="store_true", help="leave-one-topic-out cross-validation of the fitted knobs")
    ap.add_argument("--errors", action="store_true", help="list the pages called wrong")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    items = load(args.folder)
    got = calls(items)
    out: dict[str, Any] = {"all": figures(items, got), "dedup": figures(items, got, dedup=True)}
    out["verdicts"] = {v: sum(1 for x in got.values() if x == v) for v in ("helps", "does-not-help", "mixed", "unclear")}
    out["groups"] = len({it.group for it in items})
    if args.cv:
        out["cv"] = cross_validate(items)
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for key in ("all", "dedup"):
            f = out[key]
            label = "all pages" if key == "all" else f"near-copies once ({out['groups']} articles)"
            print(
                f"{label}: accuracy {f['accuracy']:.3f} at coverage {f['coverage']:.3f} "
                f"({f['called']:g} of {f['pages']:g}); always-helps {f['always_helps']:.3f}; gain {f['gain']:+.3f}"
            )
        print("verdicts:", ", ".join(f"{k} {v}" for k, v in out["verdicts"].items()))
        if args.cv:
            cv = out["cv"]
            for key in ("held_out", "held_out_dedup"):
                f = cv[key]
                print(
                    f"leave-one-topic-out {key}: accuracy {f['accuracy']:.3f} at coverage {f['coverage']:.3f}; "
                    f"always-helps {f['always_helps']:.3f}; gain {f['gain']:+.3f}"
                )
            print(f"best {tuple(cv['knobs'])} on all topics: {cv['best_on_all']} → {cv['best_on_all_figures']}")
            picks: dict[str, int] = {}
            for k in cv["chosen_per_topic"].values():
                picks[str(k)] = picks.get(str(k), 0) + 1
            print("chosen per held-out topic:", ", ".join(f"{k} ×{n}" for k, n in sorted(picks.items(), key=lambda x: -x[1])))
    if args.errors:
        for it in items:
            v = got[it.doc_id]
            if v in ("helps", "does-not-help") and (v == "helps") != (it.stance == 1):
                claims = it.page.about.claims if it.page and it.page.about else ()
                print(f"\n{it.doc_id} [{it.topic} {it.about}] gold {it.stance} got {v}")
                for c in claims[:3]:
                    print(f"   {c.polarity}: {c.text[:200]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
