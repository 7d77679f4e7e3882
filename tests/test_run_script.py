"""scripts/run as a new user starts it: options after it reach `relief serve`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from conftest import ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_run_passes_port_and_index_to_serve(tmp_path: Path) -> None:
    port = _free_port()
    index = tmp_path / "index"
    with open(tmp_path / "err.txt", "w+b") as err:
        proc = subprocess.Popen(["bash", str(ROOT / "scripts" / "run"), "--port", str(port), "--index", str(index)],
                                stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
        try:
            status, deadline = 0, time.monotonic() + 300
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
                        status = resp.status
                        break
                except OSError:
                    time.sleep(0.5)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    assert status == 200, stderr[-2000:]
    assert "Traceback" not in stderr
    assert f"on http://127.0.0.1:{port}/" in stderr
    # --index reached serve: it built the corpus index there
    assert (index / "CURRENT").exists()
