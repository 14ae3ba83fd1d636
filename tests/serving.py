"""`prayas serve` (and `prayas poll`) as real processes, for the tests that start one.

Nothing here sleeps to let time pass. uvicorn logs warnings only, so a port that has just
opened says nothing: /healthz is asked again each time the process has not ended within a
moment (a wait on its exit, so a process that dies fails the test at once, with what it
wrote). The timeouts only fail a test that would otherwise hang.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

PRAYAS = str(Path(sys.executable).parent / "prayas")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _died(process: subprocess.Popen[bytes]) -> str:
    log = process.stderr.read().decode() if process.stderr else ""
    return f"the process ended ({process.returncode}) before it was ready: {log}"


def wait_healthy(process: subprocess.Popen[bytes], base: str, timeout: float = 60.0) -> None:
    """Until `base`/healthz answers 200; fails at once if the process ends first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        left = deadline - time.monotonic()
        assert left > 0, f"{base}/healthz did not answer in {timeout:.0f} s"
        try:
            process.wait(min(0.05, left))
        except subprocess.TimeoutExpired:
            continue
        raise AssertionError(_died(process))


def wake_on_exit(process: subprocess.Popen[bytes], wake: Callable[[], None]) -> None:
    """Call `wake` when `process` ends (from a thread of its own), so a wait on a fake's
    condition that also checks `process.poll()` ends as soon as the process does."""
    def watch() -> None:
        process.wait()
        wake()

    threading.Thread(target=watch, daemon=True).start()


def fail_if_ended(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        raise AssertionError(_died(process))


@contextmanager
def serving(config: Path | str, env: dict[str, str], port: int, *, prayas: str = PRAYAS,
            cwd: Path | None = None, timeout: float = 60.0) -> Iterator[subprocess.Popen[bytes]]:
    """`prayas --config CONFIG serve --port PORT`, up (its /healthz answers) until the
    block ends, then stopped with SIGTERM; its stderr is a pipe the test may read, and
    its exit status is its `returncode` after the block."""
    process = subprocess.Popen([prayas, "--config", str(config), "serve", "--port", str(port)],
                               cwd=cwd, env=env, stderr=subprocess.PIPE)
    try:
        wait_healthy(process, f"http://127.0.0.1:{port}", timeout)
        yield process
    finally:
        process.terminate()
        process.wait(30)
