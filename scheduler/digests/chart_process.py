"""The digest's chart drawn in a process of its own, beside the digest's other work.

A state's daily digest is two cores' work: matplotlib's half second of drawing holds
Python's lock, so in a thread it would only take turns with the digest's lines and
tables. A child process draws instead, started once by the scheduler's leader and kept,
loading matplotlib and nothing else (~75 MB). It pays only for a big district: for a
small one the digest takes well under a second, and the memory is not worth it.

Anything wrong with the child (it died, it hangs, it answers nonsense) costs time, never
the chart: the picture is then drawn here, as it would be without a child.

Protocol: one JSON line a chart on the child's stdin; on its stdout, b"+" or b"-", four
bytes of length, then the PNG or the error's text.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from scheduler.digests.chart import Rows, drawn

if TYPE_CHECKING:  # not loaded by the child, which needs matplotlib only
    from scheduler.config import Config

log = logging.getLogger(__name__)

# A district with this many stations has its chart drawn in the child: its digest takes
# seconds, and the child saves about a quarter of them (bench/digest_scale.py).
BIG_DISTRICT = 500
WAIT = 30.0  # seconds for one chart; past that the child is stopped and we draw here
KEPT = 8  # charts kept: an SP office's officers in two languages get the same one
WARM_UP: Rows = (("S", 3.0, 1),)


class ChildGone(Exception):
    """The child ended, or answered with less than it announced."""


# What the child needs of the environment: not the service's tokens and passwords.
PASSED = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "MPLCONFIGDIR",
          "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "PYTHONPATH", "VIRTUAL_ENV")


def _child_command() -> tuple[list[str], dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if k in PASSED}
    root = Path(__file__).resolve().parents[2]
    if root.name not in ("site-packages", "dist-packages"):  # a checkout, run as it is
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    # -P: not the working directory first, so no stray `bot/` there is taken for ours
    return [sys.executable, "-P", "-m", "scheduler.digests.chart_process"], env


class ChartProcess:
    def __init__(self, wait: float = WAIT) -> None:
        self.wait = wait
        self._child: subprocess.Popen[bytes] | None = None
        self._started = self._closed = False
        self._lock = threading.Lock()
        # One thread talks to the child, one chart at a time; the digest goes on meanwhile.
        self._talk = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chart")
        self._asked: dict[tuple[Rows, str], Future[bytes]] = {}

    @staticmethod
    def pays_for(config: Config) -> bool:
        return max((len(d.stations) for d in config.districts), default=0) >= BIG_DISTRICT

    def warm(self) -> None:
        """Start the child once, so it has loaded matplotlib by the first digest. One
        that died is started again by the next chart, not here: a child that cannot
        start costs one warning a digest, not one every tick."""
        if not self._started:
            self._start()

    def _start(self) -> subprocess.Popen[bytes] | None:
        with self._lock:
            if self._closed:
                return None
            if self._child is None or self._child.poll() is not None:
                command, env = _child_command()
                self._child = subprocess.Popen(command, stdin=subprocess.PIPE,
                                               stdout=subprocess.PIPE, env=env)
                self._started = True
            return self._child

    def ready(self) -> None:
        """Wait until the child can draw (it loads matplotlib first: ~1 s)."""
        self._talk.submit(self._ask, WARM_UP, "").result(timeout=self.wait)

    @property
    def pid(self) -> int | None:
        return None if self._child is None else self._child.pid

    def draw(self, rows: Rows, title: str) -> Callable[[], bytes]:
        """Ask for a chart; the callable returned waits for it (or draws it here)."""
        key = (rows, title)
        asked = self._asked.get(key)
        if asked is None or (asked.done() and asked.exception() is not None):
            try:
                asked = self._talk.submit(self._ask, rows, title)
            except RuntimeError:  # closed: the service is stopping, the digest is not
                return lambda: drawn(rows, title)
            while len(self._asked) >= KEPT:
                del self._asked[next(iter(self._asked))]
            self._asked[key] = asked

        def result() -> bytes:
            try:
                return asked.result(timeout=self.wait)
            except Exception as exc:  # the child's trouble is never the digest's
                log.warning("the chart process failed (%s); drawing here",
                            exc or type(exc).__name__)
                if isinstance(exc, TimeoutError):
                    self.stop_child()  # hung: its answer would come to the next chart
                return drawn(rows, title)
        return result

    def _ask(self, rows: Rows, title: str) -> bytes:
        child = self._start()
        if child is None:
            raise ChildGone("the chart process is closed")
        assert child.stdin is not None and child.stdout is not None
        try:
            child.stdin.write(json.dumps({"rows": rows, "title": title}).encode() + b"\n")
            child.stdin.flush()
            head = child.stdout.read(5)
            if len(head) != 5:
                raise ChildGone("the chart process ended")
            size = int.from_bytes(head[1:], "big")
            body = child.stdout.read(size)
            if len(body) != size:
                raise ChildGone("the chart process ended while answering")
        except (OSError, ValueError, ChildGone):  # a broken pipe, a pipe closed by stop
            self.stop_child(child)
            raise
        if head[:1] != b"+":
            raise RuntimeError(body.decode(errors="replace"))  # drawing failed: child fine
        return body

    def stop_child(self, which: subprocess.Popen[bytes] | None = None) -> None:
        """Stop the child (only `which`, if given: a newer one is left alone); the next
        chart starts another. Also for a process that is no longer the leader."""
        with self._lock:
            child = self._child
            if child is None or (which is not None and child is not which):
                return
            self._child = None
        if child.poll() is None:
            child.kill()
        child.wait()

    def close(self) -> None:
        """For good: charts asked for after this are drawn here."""
        with self._lock:
            self._closed = True
            child, self._child = self._child, None
        self._talk.shutdown(wait=False, cancel_futures=True)
        if child is not None:
            if child.stdin is not None:
                child.stdin.close()  # the child ends at the end of its input
            try:
                child.wait(timeout=1)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def _serve() -> None:
    # Ctrl-C on `prayas serve` reaches the whole process group: the child ends when its
    # parent closes the pipe, without a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The answers get their own copy of stdout; anything else written there (a library's
    # warning) goes to stderr instead of into the middle of a PNG.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    drawn(WARM_UP, "")  # fonts loaded and cached before the first digest
    for line in sys.stdin.buffer:
        try:
            request = json.loads(line)
            png = drawn(tuple(map(tuple, request["rows"])), request["title"])
            out.write(b"+" + len(png).to_bytes(4, "big") + png)
        except Exception as exc:
            error = repr(exc).encode()
            out.write(b"-" + len(error).to_bytes(4, "big") + error)
        out.flush()


if __name__ == "__main__":
    _serve()
