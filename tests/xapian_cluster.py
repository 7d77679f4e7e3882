"""Real shard servers for the tests: `xapian-tcpsrv` on 127.0.0.1, started and stopped by pid.

The Xapian tests skip only where the Xapian module or its server is neither installed nor
installable (scripts/test installs both with apt-get, so CI runs them).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pytest

from indexer.xapian import available

needs_xapian = pytest.mark.skipif(
    not available() or shutil.which("xapian-tcpsrv") is None,
    reason="python3-xapian and xapian-tools are not installed (scripts/test installs them with apt-get)",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ShardServer:
    port: int
    paths: tuple[Path, ...]
    proc: subprocess.Popen[bytes]
    writable: bool = False

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Kill the server and the children it forked per connection, by its process group
        (its own, made at start; SIGKILL: a crashed machine, not a polite exit)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)


def start_server(paths: Sequence[Path], *, writable: bool = False, port: int | None = None) -> ShardServer:
    port = port or free_port()
    args = ["xapian-tcpsrv", "--interface", "127.0.0.1", "--port", str(port)]
    if writable:
        args.append("--writable")
    proc = subprocess.Popen([*args, *map(str, paths)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"xapian-tcpsrv exited with {proc.returncode}: {' '.join(args)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return ShardServer(port, tuple(paths), proc, writable)
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("xapian-tcpsrv did not start listening")
