#!/usr/bin/env python3
"""Crash safety: SIGKILL `relief ingest` at random moments; the index must survive every kill.

    python scripts/crash_ingest.py [--pages 1200] [--kills 20] [--seed 7] [--work DIR]
    python scripts/crash_ingest.py --disk-full-only

What it does, in a temporary folder (or --work DIR):

1. writes --pages synthetic pages in the sample site's style (original text from a small
   vocabulary, one unique marker word per page version) and ingests the first half;
2. --kills times: changes some pages and adds new ones, starts `relief ingest` (every
   fourth run with --rebuild), kills it with SIGKILL after a random delay within its
   expected run time, then checks that
     - the index opens and `relief stats --json` works,
     - its content (page id → content hash, read from the index) is exactly the last
       committed state, or exactly the new one if the kill landed after the commit,
     - marker words of sampled pages of that state are found by `Index.search`
   (every fourth kill instead lands 0–100 ms after the ingest starts writing segment
   files, or 0–10 ms after Whoosh's new table of contents appears: inside the commit);
3. re-runs the ingest to completion: `relief stats --json` pages == number of sources;
   then kills a long first ingest (commits every 25 pages) once half its pages are
   committed: those stay searchable and the re-run adds the rest, every page once;
4. disk full: a 16 MB tmpfs (as root) and, always, an injected write error (RLIMIT_FSIZE):
   the ingest fails with one clear line and exit 1, and the last commit is untouched.

Prints every figure and exits 1 on the first violation.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT  # noqa: E402

VOCAB = (
    "back pain stiffness ache relief gentle walking stretching heat cold massage posture spine disc "
    "nerve sciatica muscle rest sleep lifting exercise core strength physiotherapy ibuprofen doctor "
    "week daily movement lumbar recovery acupuncture yoga swimming chair desk mattress pillow strain "
    "sprain inflammation pressure slowly often most people usually helps within weeks bending twisting"
).split()

TEMPLATE_HEAD = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Back Pain Relief Information - {title}</title>
<link rel="canonical" href="https://crash-test.example/{pid}.html"></head>
<body><header class="site-header"><div class="site-name"><a href="/">Back Pain Relief Information</a></div></header>
<nav class="topics"><ul class="menu"><li><a href="/a">Back Pain</a></li><li><a href="/b">Massage Therapy</a></li>
<li><a href="/c">Stretching</a></li><li><a href="/d">Medication</a></li></ul></nav>
<main><article><h1>{title}</h1>
"""
TEMPLATE_FOOT = """</article></main>
<aside class="related"><h3>Related pages</h3><ul><li><a href="/x">Heat or ice?</a></li></ul></aside>
<footer><p>Copyright Back Pain Relief Information. This site does not give medical advice.</p></footer>
</body></html>
"""


def marker(pid: int, version: int) -> str:
    """A unique, stemmer-proof word for one page version: letters only."""
    letters = "bcdfghjklmnpqrstvwxz"
    n, out = pid * 1000 + version, ""
    while True:
        n, r = divmod(n, len(letters))
        out += letters[r]
        if not n:
            break
    return "zq" + out + "zq"


def page_html(pid: int, version: int, rng: random.Random) -> str:
    title = f"{rng.choice(VOCAB).title()} and {rng.choice(VOCAB)} note {pid}"
    paras = []
    for i in range(rng.randint(2, 4)):
        words = [rng.choice(VOCAB) for _ in range(rng.randint(40, 90))]
        if i == 0:
            words.insert(rng.randint(0, len(words)), marker(pid, version))
        text = " ".join(words)
        sentences = [s.strip().capitalize() + "." for s in text.split(" often ") if s.strip()]
        paras.append("<p>" + " ".join(sentences) + "</p>")
        if rng.random() < 0.3:
            paras.append(f"<h2>{rng.choice(VOCAB).title()} {rng.choice(VOCAB)}</h2>")
    return TEMPLATE_HEAD.format(title=title, pid=f"p{pid:05d}") + "\n".join(paras) + TEMPLATE_FOOT


class Corpus:
    """Synthetic source pages on disk and the state they should produce in the index."""

    def __init__(self, folder: Path, seed: int):
        self.folder = folder
        self.rng = random.Random(seed)
        self.version: dict[int, int] = {}
        self.marker_of: dict[str, str] = {}  # content hash → marker word of that version
        folder.mkdir(parents=True, exist_ok=True)

    def path(self, pid: int) -> Path:
        return self.folder / f"p{pid:05d}.html"

    def write(self, pid: int) -> None:
        self.version[pid] = self.version.get(pid, -1) + 1
        text = page_html(pid, self.version[pid], self.rng)
        self.path(pid).write_text(text, encoding="utf-8")
        self.marker_of[hashlib.sha256(text.encode("utf-8")).hexdigest()] = marker(pid, self.version[pid])

    def state(self) -> dict[str, str]:
        """page id → sha256 of the file bytes, as the ingest will record it."""
        return {f"p{pid:05d}": hashlib.sha256(self.path(pid).read_bytes()).hexdigest() for pid in self.version}

    def markers(self) -> dict[str, str]:
        return {f"p{pid:05d}": marker(pid, v) for pid, v in self.version.items()}


def relief_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "indexer.cli", *args]


def index_state(index: Path) -> dict[str, str]:
    """page id → content hash, read from the committed index itself."""
    from whoosh import index as whoosh_index

    from indexer import store

    gen = store.live_dir(index)
    if gen is None:
        return {}
    ix = whoosh_index.open_dir(str(gen))
    state: dict[str, str] = {}
    with ix.reader() as reader:
        for fields in reader.all_stored_fields():
            state[fields["page_id"]] = fields.get("content_sha", "")
    ix.close()
    return state


def stats(index: Path) -> dict[str, Any]:
    out = subprocess.run(relief_cmd("stats", "--index", str(index), "--json"), capture_output=True, text=True, cwd=ROOT, timeout=120)
    if out.returncode != 0:
        raise AssertionError(f"relief stats failed ({out.returncode}): {out.stderr.strip()}")
    return json.loads(out.stdout)


def check_answers(index: Path, markers: dict[str, str], sample: int, rng: random.Random) -> int:
    """Marker words of sampled pages find exactly their page; returns searches made."""
    from indexer import Index
    from indexer.config import load_settings

    ix = Index.open(index, settings=load_settings(env={}, index=index))
    try:
        ids = rng.sample(sorted(markers), min(sample, len(markers)))
        for pid in ids:
            resp = ix.search(markers[pid], spell=False, facets=False)
            got = {r.page_id for r in resp.results}
            if pid not in got:
                raise AssertionError(f"marker {markers[pid]} of committed page {pid} not found (got {sorted(got)[:5]})")
        assert ix.search("back pain").total > 0
    finally:
        ix.close()
    return len(ids)


def ingest(index: Path, folder: Path, *extra: str, preexec: Callable[[], None] | None = None, timeout: float = 900,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(relief_cmd("ingest", str(folder), "--index", str(index), "--json", *extra),
                          capture_output=True, text=True, cwd=ROOT, timeout=timeout, preexec_fn=preexec,
                          env={**os.environ, **(env or {})})


def duplicate_passages(index: Path) -> int:
    """Passages stored more than once (the same page id and position), read from the index."""
    from whoosh import index as whoosh_index

    from indexer import store

    gen = store.live_dir(index)
    if gen is None:
        return 0
    ix = whoosh_index.open_dir(str(gen))
    with ix.reader() as reader:
        keys = [(f["page_id"], f["position"]) for f in reader.all_stored_fields()]
    ix.close()
    return len(keys) - len(set(keys))


def _files(folder: Path) -> set[str]:
    try:
        return {p.name for p in folder.iterdir() if p.is_file()}
    except OSError:
        return set()


def kill_run(index: Path, folder: Path, delay: float, rebuild: bool, at_commit: float | None = None,
             trigger: str = "segment") -> tuple[bool, float]:
    """Start an ingest, SIGKILL it after `delay` seconds; (killed before it ended, seconds).

    With `at_commit` (seconds), kill that long after a trigger file appears in the live
    generation instead: trigger "segment" = the first new segment file (the writer is
    writing), "toc" = Whoosh's new table of contents (Whoosh has committed; the manifest
    `relief-meta.json` may not be written yet).
    """
    extra = ["--rebuild"] if rebuild else []
    from indexer import store

    live = store.live_dir(index)
    before = _files(live) if live is not None else set()
    started = time.monotonic()
    with tempfile.TemporaryFile() as errfile:
        proc = subprocess.Popen(relief_cmd("ingest", str(folder), "--index", str(index), "--json", *extra),
                                stdout=subprocess.DEVNULL, stderr=errfile, cwd=ROOT)
        finished = False
        if at_commit is not None and live is not None:
            while proc.poll() is None:
                new = _files(live) - before - {store.META_NAME}
                if any(n.endswith(".toc") for n in new) if trigger == "toc" else new:
                    time.sleep(at_commit)
                    break
                time.sleep(0.002)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            proc.wait()
            finished = proc.returncode == 0
        else:
            try:
                proc.wait(timeout=delay)
                finished = True
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
        errfile.seek(0)
        err = errfile.read().decode("utf-8", "replace")
    if finished and proc.returncode != 0:
        raise AssertionError(f"ingest failed on its own ({proc.returncode}): {err.strip()[-2000:]}")
    return (not finished), time.monotonic() - started


def crash_run(work: Path, pages: int, kills: int, seed: int, sample: int = 10, log: Callable[[str], None] = print) -> dict[str, Any]:
    rng = random.Random(seed)
    corpus = Corpus(work / "pages", seed)
    index = work / "index"
    half = pages // 2
    for pid in range(half):
        corpus.write(pid)
    t0 = time.monotonic()
    first = ingest(index, corpus.folder)
    if first.returncode != 0:
        raise AssertionError(f"first ingest failed: {first.stderr.strip()[-2000:]}")
    first_seconds = time.monotonic() - t0
    committed = corpus.state()
    committed_markers = corpus.markers()
    assert index_state(index) == committed, "first commit does not match the sources"
    log(f"first ingest: {half} pages in {first_seconds:.1f}s")
    # how long a run takes, learnt from the runs that ended on their own; kill within it
    expected = first_seconds
    next_pid = half
    figures: dict[str, Any] = {"pages": pages, "kills": 0, "after_commit": 0, "searches": 0, "kill_delays": [],
                               "rebuild_kills": 0, "commit_kills": 0, "checkpoint_kills": 0, "checks": 0}
    attempt = 0
    while figures["kills"] < kills:
        attempt += 1
        if attempt > kills * 3:
            raise AssertionError("could not land enough kills; runs end too quickly")
        # change ~30% of pages and add new ones until all `pages` exist
        for pid in rng.sample(sorted(corpus.version), max(1, len(corpus.version) * 3 // 10)):
            corpus.write(pid)
        for _ in range(min(pages - next_pid, max(1, (pages - half) // max(1, kills // 2)))):
            corpus.write(next_pid)
            next_pid += 1
        target = corpus.state()
        rebuild = figures["kills"] % 4 == 3
        # every fourth incremental run is killed inside its commit, 0-100 ms after it starts writing
        at_commit = rng.uniform(0.0, 0.1) if figures["kills"] % 4 == 1 else None
        trigger = "toc" if figures["kills"] % 8 == 5 else "segment"
        if trigger == "toc" and at_commit is not None:
            at_commit /= 10  # within 10 ms of Whoosh's commit
        delay = rng.uniform(0.3, 1.0) * expected * (1.0 if not rebuild else 1.5)
        killed, secs = kill_run(index, corpus.folder, delay, rebuild, at_commit=at_commit, trigger=trigger)
        # learn the run time: a finished run sets it, a kill pushes later kills later
        if at_commit is None:
            expected = secs if not killed else max(expected, secs) * 1.15
        now = index_state(index)
        st = stats(index)
        if now == committed:
            which = "previous commit"
        elif now == target:
            which = "new commit"
        elif not rebuild and set(committed) <= set(now) <= set(target) and all(
            now[p] in (committed.get(p), target[p]) for p in now
        ):
            which = "a checkpoint"  # the run committed part of its pages before the kill
        else:
            lost = set(committed) - set(now)
            extra = set(now) - set(target)
            wrong = [p for p in now if p in committed and p in target and now[p] not in (committed[p], target[p])]
            raise AssertionError(
                f"after a kill at {secs:.2f}s the index is neither the last commit, nor the new one, nor a "
                f"checkpoint between them: {len(now)} pages (previous {len(committed)}, new {len(target)}); "
                f"lost {sorted(lost)[:5]}, unknown {sorted(extra)[:5]}, mixed content {wrong[:5]}"
            )
        if st["pages"] != len(now):
            raise AssertionError(f"relief stats says {st['pages']} pages; the index holds {len(now)}")
        if now != committed:
            committed = now
            committed_markers = {p: corpus.marker_of[sha] for p, sha in now.items()}
        figures["searches"] += check_answers(index, committed_markers, sample, rng)
        figures["checks"] += 1
        if killed:
            figures["kills"] += 1
            figures["rebuild_kills"] += rebuild
            figures["kill_delays"].append(round(secs, 2))
            figures["after_commit"] += which == "new commit"
            figures["checkpoint_kills"] += which == "a checkpoint"
            figures["commit_kills"] += at_commit is not None
        log(f"{'kill' if killed else 'done'} {figures['kills']:>2}/{kills} at {secs:5.2f}s"
            f"{' (rebuild)' if rebuild else ''}{f' ({trigger} written +{at_commit * 1000:.0f} ms)' if at_commit is not None else ''}"
            f": index = {which}, {len(now)} pages, answers ok")
    while next_pid < pages:
        corpus.write(next_pid)
        next_pid += 1
    t0 = time.monotonic()
    final = ingest(index, corpus.folder)
    figures["final_seconds"] = round(time.monotonic() - t0, 2)
    if final.returncode != 0:
        raise AssertionError(f"final ingest failed: {final.stderr.strip()[-2000:]}")
    st = stats(index)
    figures["final_pages"] = st["pages"]
    figures["final_passages"] = st["passages"]
    if st["pages"] != pages:
        raise AssertionError(f"after the re-run relief stats says {st['pages']} pages; there are {pages} sources")
    if index_state(index) != corpus.state():
        raise AssertionError("after the re-run the index content differs from the sources")
    figures["searches"] += check_answers(index, corpus.markers(), sample * 3, rng)
    log(f"re-run: {st['pages']} pages == {pages} sources, {st['passages']} passages, {figures['final_seconds']}s")
    return figures


def _proc_table() -> dict[int, tuple[int, str]]:
    """pid → (parent pid, state letter) of every process, from /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            table[int(entry)] = (int(fields[1]), fields[0])
    return table


def descendants(pid: int) -> set[int]:
    """Every live process below pid (its worker processes, the forkserver between)."""
    table = _proc_table()
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for child, (ppid, _state) in table.items():
            if ppid == parent and child not in found:
                found.add(child)
                todo.append(child)
    return found


def still_running(pids: set[int], wait: float = 10.0) -> set[int]:
    """Those of pids still alive (not zombies) after up to `wait` seconds."""
    deadline = time.monotonic() + wait
    while True:
        table = _proc_table()
        alive = {p for p in pids if p in table and table[p][1] != "Z"}
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.2)


def first_ingest_kill(work: Path, pages: int = 400, commit_pages: int = 25, log: Callable[[str], None] = print) -> dict[str, Any]:
    """SIGKILL a long first ingest once it has committed about half its pages; then re-run.

    The first ingest of a folder goes live at its first checkpoint, so the kill keeps what
    was committed (searchable), and the re-run adds only the rest: every page once.
    """
    corpus = Corpus(work / "first-pages", 5)
    for pid in range(pages):
        corpus.write(pid)
    index = work / "first-index"
    env = {"RELIEF_COMMIT_PAGES": str(commit_pages), "RELIEF_COMMIT_SECONDS": "3600"}
    started = time.monotonic()
    with tempfile.TemporaryFile() as errfile:
        proc = subprocess.Popen(relief_cmd("ingest", str(corpus.folder), "--index", str(index), "--json"),
                                stdout=subprocess.DEVNULL, stderr=errfile, cwd=ROOT, env={**os.environ, **env})
        kept: dict[str, str] = {}
        while proc.poll() is None and len(kept) < pages // 2:
            time.sleep(0.05)
            try:
                kept = index_state(index)
            except Exception:  # noqa: BLE001 - a commit may be half visible; look again
                continue
        if proc.poll() is not None:
            errfile.seek(0)
            raise AssertionError(f"the ingest ended before it could be killed (exit {proc.returncode}): "
                                 f"{errfile.read().decode('utf-8', 'replace')[-1000:]}")
        workers = descendants(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    killed_at = time.monotonic() - started
    # the ingest's worker processes end with it: none waits for work for ever
    orphans = still_running(workers)
    if orphans:
        for pid in orphans:
            os.kill(pid, signal.SIGKILL)
        raise AssertionError(f"{len(orphans)} of the killed ingest's {len(workers)} worker processes kept running")
    kept = index_state(index)
    state = corpus.state()
    if not kept or any(state.get(p) != sha for p, sha in kept.items()):
        raise AssertionError(f"after the kill the index holds {len(kept)} pages, not a part of the sources")
    if duplicate_passages(index):
        raise AssertionError("after the kill a passage is stored twice")
    searches = check_answers(index, {p: corpus.marker_of[sha] for p, sha in kept.items()}, 10, random.Random(2))
    again = ingest(index, corpus.folder, env=env)
    if again.returncode != 0:
        raise AssertionError(f"the re-run failed: {again.stderr.strip()[-1000:]}")
    report = json.loads(again.stdout)
    final = index_state(index)
    dups = duplicate_passages(index)
    figures = {"pages": pages, "killed_at": round(killed_at, 2), "kept": len(kept), "workers_ended": len(workers), "rerun_added": report["added"],
               "rerun_unchanged": report["unchanged"], "final_pages": len(final), "duplicates": dups, "searches": searches}
    if final != state or dups or report["unchanged"] != len(kept) or report["added"] != pages - len(kept):
        raise AssertionError(f"after the re-run: {figures}")
    log(f"first ingest of {pages} pages killed at {killed_at:.1f}s with {len(kept)} committed; "
        f"re-run added {report['added']}, skipped {report['unchanged']} unchanged: {len(final)} pages, 0 twice")
    return figures


# ---------------------------------------------------------------- disk full


def _limit_file_size(limit: int) -> Callable[[], None]:
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def _disk_full_check(index: Path, corpus: Corpus, run: Callable[[], subprocess.CompletedProcess[str]], label: str,
                     log: Callable[[str], None], make_room: Callable[[], None] = lambda: None) -> dict[str, Any]:
    before = index_state(index)
    before_markers = corpus.markers()
    for pid in range(len(corpus.version), len(corpus.version) + 300):
        corpus.write(pid)
    result = run()
    err = result.stderr.strip()
    figures: dict[str, Any] = {"label": label, "returncode": result.returncode, "message": err.splitlines()[-1] if err else "", "problems": []}
    problems: list[str] = figures["problems"]
    if result.returncode == 0:
        problems.append("the ingest reported success although the disk was full")
    if "Traceback" in err:
        problems.append(f"the failure printed a traceback instead of a message (last line: {figures['message']})")
    elif len(err.splitlines()) > 3:
        problems.append(f"the failure message is {len(err.splitlines())} lines long")
    if str(index) not in err:
        problems.append(f"the message does not name the index folder {index}")
    after = index_state(index)
    if after != before:
        raise AssertionError(f"{label}: a failed ingest changed the last commit ({len(before)} → {len(after)} pages)")
    check_answers(index, {k: v for k, v in before_markers.items() if k in before}, 10, random.Random(1))
    # and once the disk has room again, the next ingest completes
    make_room()
    again = ingest(index, corpus.folder)
    if again.returncode != 0 or index_state(index) != corpus.state():
        raise AssertionError(f"{label}: with room again, the ingest did not complete: {again.stderr.strip()[-1000:]}")
    log(f"{label}: exit {result.returncode}, last commit intact ({len(after)} pages), message: {figures['message']}")
    for p in problems:
        log(f"  PROBLEM: {p}")
    return figures


def _first_commit(corpus: Corpus, index: Path, pages: int = 20) -> None:
    """The committed index a disk-full check then tries to overwrite."""
    for pid in range(pages):
        corpus.write(pid)
    first = ingest(index, corpus.folder)
    if first.returncode != 0:
        raise AssertionError(first.stderr)


def disk_full_fsize(work: Path, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Injected write error: RLIMIT_FSIZE makes writes past 64 KB fail with EFBIG."""
    corpus = Corpus(work / "fsize-pages", 3)
    index = work / "fsize-index"
    _first_commit(corpus, index)
    return _disk_full_check(index, corpus, lambda: ingest(index, corpus.folder, preexec=_limit_file_size(64 * 1024)),
                            "write error (RLIMIT_FSIZE 64 KB)", log)


def can_mount() -> bool:
    return os.name == "posix" and os.geteuid() == 0 and shutil.which("mount") is not None


def disk_full_tmpfs(work: Path, size: str = "16m", log: Callable[[str], None] = print) -> dict[str, Any]:
    """A real ENOSPC: the index lives on a small tmpfs that the second ingest overflows.

    The tmpfs leaves room for the recovery run's transient files: with workers, an ingest
    of these 320 pages peaks at 3.5-4.2 MB on disk (segments not yet merged beside their
    merges) for a 2 MB index, so 4 MB made the recovery fail now and then.
    """
    mnt = work / "tmpfs"
    mnt.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)], check=True, capture_output=True)
    try:
        corpus = Corpus(work / "tmpfs-pages", 4)
        index = mnt / "index"
        _first_commit(corpus, index)
        # fill the disk further so the next commit cannot fit
        filler = mnt / "filler"
        free = shutil.disk_usage(mnt).free
        with open(filler, "wb") as fh:
            fh.write(b"\0" * max(0, free - 96 * 1024))
        figures = _disk_full_check(index, corpus, lambda: ingest(index, corpus.folder), f"disk full (tmpfs {size})", log,
                                   make_room=filler.unlink)
    finally:
        busy = subprocess.run(["umount", str(mnt)], capture_output=True).returncode != 0
        if busy:  # detach anyway, so the work folder can still be removed
            subprocess.run(["umount", "--lazy", str(mnt)], capture_output=True)
    if busy:
        figures["problems"].append("the index's files were still open after every reader had closed (umount: target busy)")
    return figures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=1200)
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", help="work folder (default: a temporary one, removed afterwards)")
    ap.add_argument("--disk-full-only", action="store_true")
    args = ap.parse_args(argv)
    tmp = None
    work = Path(args.work) if args.work else Path(tmp := tempfile.mkdtemp(prefix="relief-crash-"))
    started = time.monotonic()
    try:
        out: dict[str, Any] = {}
        if not args.disk_full_only:
            out["crash"] = crash_run(work, args.pages, args.kills, args.seed)
            out["first_ingest_kill"] = first_ingest_kill(work)
        out["disk_full"] = [disk_full_fsize(work)]
        if can_mount():
            out["disk_full"].append(disk_full_tmpfs(work))
        out["seconds"] = round(time.monotonic() - started, 1)
        print(json.dumps(out, indent=1))
        return 1 if any(d["problems"] for d in out["disk_full"]) else 0
    except AssertionError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
