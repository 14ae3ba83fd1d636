"""The digest's chart drawn in a process of its own, beside the digest's other work.

A state's daily digest is two cores' work: matplotlib's half second of drawing holds
Python's lock, so in a thread it would only take turns with the digest's lines and
tables. A child process draws instead, started once by the scheduler's leader and kept,
loading matplotlib and nothing else (~60 MB). It pays only for a big district: for a
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

from bot.chart import Rows, drawn

if TYPE_CHECKING:  # not loaded by the child, which needs matplotlib only
    from bot.config import Config

log = logging.getLogger(__name__)

# A district with this many stations has its chart drawn in the child: its digest takes
# seconds, and the child saves about a quarter of them (bench/digest_scale.py).
BIG_DISTRICT = 500
WAIT = 30.0  # seconds for one chart; past that the child is stopped and we draw here
KEPT = 8  # charts kept: an SP office's officers in two languages get the same one
WARM_UP: Rows = (("S", 3.0, 1),)


class ChartProcess:
    def __init__(self, wait: float = WAIT) -> None:
        self.wait = wait
        self._child: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        # One thread talks to the child, one chart at a time; the digest goes on meanwhile.
        self._talk = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chart")
        self._asked: dict[tuple[Rows, str], Future[bytes]] = {}

    @staticmethod
    def pays_for(config: Config) -> bool:
        return max((len(d.stations) for d in config.districts), default=0) >= BIG_DISTRICT

    def start(self) -> None:
        """Start the child now, so it has loaded matplotlib by the first digest."""
        with self._lock:
            if self._child is None or self._child.poll() is not None:
                root = str(Path(__file__).resolve().parent.parent)
                paths = [root, *filter(None, [os.environ.get("PYTHONPATH")])]
                self._child = subprocess.Popen(
                    [sys.executable, "-m", "bot.chart_process"],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    env={**os.environ, "PYTHONPATH": os.pathsep.join(paths)})

    def ready(self) -> None:
        """Wait until the child can draw (it loads matplotlib first: ~1 s)."""
        self._talk.submit(self._ask, WARM_UP, "").result(timeout=self.wait)

    @property
    def pid(self) -> int | None:
        return None if self._child is None else self._child.pid

    def draw(self, rows: Rows, title: str) -> Callable[[], bytes]:
        """Ask for a chart; the callable returned waits for it (or draws it here)."""
        key = (rows, title)
        if key not in self._asked:
            while len(self._asked) >= KEPT:
                del self._asked[next(iter(self._asked))]
            self._asked[key] = self._talk.submit(self._ask, rows, title)
        asked = self._asked[key]

        def result() -> bytes:
            try:
                return asked.result(timeout=self.wait)
            except Exception as exc:  # the child's trouble is never the digest's
                log.warning("the chart process failed (%s); drawing here", exc or type(exc))
                self._asked.pop(key, None)
                self._stop_child()
                return drawn(rows, title)
        return result

    def _ask(self, rows: Rows, title: str) -> bytes:
        self.start()
        child = self._child
        assert child is not None and child.stdin is not None and child.stdout is not None
        child.stdin.write(json.dumps({"rows": rows, "title": title}).encode() + b"\n")
        child.stdin.flush()
        head = child.stdout.read(5)
        if len(head) != 5:
            raise EOFError("the chart process ended")
        body = child.stdout.read(int.from_bytes(head[1:], "big"))
        if head[:1] != b"+":
            raise RuntimeError(body.decode(errors="replace"))
        return body

    def _stop_child(self) -> None:
        with self._lock:
            child, self._child = self._child, None
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()

    def close(self) -> None:
        self._talk.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            child, self._child = self._child, None
        if child is not None:
            if child.stdin is not None:
                child.stdin.close()  # the child ends at the end of its input
            try:
                child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def _serve() -> None:
    # Ctrl-C on `prayas serve` reaches the whole process group: the child ends when its
    # parent closes the pipe, without a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    drawn(WARM_UP, "")  # fonts loaded and cached before the first digest
    out = sys.stdout.buffer
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
