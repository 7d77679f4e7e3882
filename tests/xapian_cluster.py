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
import sys
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


@dataclass
class DaskProcess:
    proc: subprocess.Popen[bytes]
    address: str = ""

    def stop(self) -> None:
        """SIGKILL by pid (the worker or scheduler and anything it started)."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


def _dask(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    dask = Path(sys.executable).with_name("dask")
    return subprocess.Popen([str(dask), *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), **(env or {})})


def start_scheduler(*, allowed_failures: int = 3) -> DaskProcess:
    """A Dask scheduler on 127.0.0.1; `allowed_failures` is how many workers may die running
    one task before the task fails with KilledWorker."""
    port = free_port()
    proc = _dask("scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard", "--no-show",
                 env={"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": str(allowed_failures)})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dask scheduler exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return DaskProcess(proc, f"tcp://127.0.0.1:{port}")
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("dask scheduler did not start listening")


def start_worker(scheduler: DaskProcess, name: str) -> DaskProcess:
    """One single-threaded worker process without a nanny, so killing its pid kills it."""
    proc = _dask("worker", scheduler.address, "--name", name, "--nthreads", "1", "--no-nanny",
                 "--no-dashboard", "--host", "127.0.0.1", "--memory-limit", "0")
    return DaskProcess(proc, name)


def wait_for_workers(scheduler: DaskProcess, n: int, timeout: float = 90) -> None:
    from distributed import Client

    with Client(scheduler.address, timeout=30, set_as_default=False) as client:
        client.wait_for_workers(n, timeout=timeout)
