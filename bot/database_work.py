"""Where a process's database work runs, off the event loop: citizens' turns, officers'
commands, delivery reports. One instance serves every channel of the process.

SQLite takes one writer at a time, so its work runs on one thread, and the citizens'
turns that arrive while a group is being stored are stored together, in one
transaction, next (group commit: bench/README.md). Alone, a turn waits for nobody.
PostgreSQL takes several writers: eight threads, a transaction a turn (its per-citizen
advisory locks, taken in a group, could deadlock against another).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from scheduler.service import CitizenMessage, FeedbackService, Turn

T = TypeVar("T")
GROUP = 32  # turns in one transaction at most: a bigger group only delays its first reply
Waiting = list[tuple[CitizenMessage, "asyncio.Future[Turn]"]]


class DatabaseWork:
    def __init__(self, service: FeedbackService) -> None:
        self.service = service
        self._grouped = service.engine.dialect.name == "sqlite"
        self._pool = ThreadPoolExecutor(1 if self._grouped else 8,
                                        thread_name_prefix="prayas-db")
        self._lock = threading.Lock()
        self._waiting: Waiting = []
        self._draining = False  # a group is queued or being stored
        self._closed = False

    async def run(self, func: Callable[..., T], *args: object) -> T:
        """Any blocking database call but a citizen's turn."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, func, *args)

    async def handle(self, request: CitizenMessage) -> Turn:
        """A citizen's turn, committed when this returns."""
        if self._closed:
            raise RuntimeError("the service is stopping")
        if not self._grouped:
            return await self.run(self.service.handle_one, request)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Turn] = loop.create_future()
        with self._lock:
            self._waiting.append((request, future))
            start, self._draining = not self._draining, True
        if start:
            self._pool.submit(self._drain, loop)
        return await future

    def _drain(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the database thread: one group of what waits. If more waits then, the next
        group goes behind the officers' commands and reports that came meanwhile."""
        with self._lock:
            group, self._waiting = self._waiting[:GROUP], self._waiting[GROUP:]
        results: list[Turn | Exception]
        try:
            results = self.service.handle_together([request for request, _ in group])
        except Exception as exc:  # a group of one failed: that turn's error
            results = [exc] * len(group)
        with self._lock:
            self._draining = bool(self._waiting)
        try:
            loop.call_soon_threadsafe(_settle, group, results)
            if self._draining:
                self._pool.submit(self._drain, loop)
        except RuntimeError:  # the loop or the pool closed: the service is stopping
            with self._lock:
                self._draining = False

    def close(self) -> None:
        """On the event loop, when the process stops: what still waits is told so."""
        self._closed = True
        self._pool.shutdown(wait=False)
        with self._lock:
            group, self._waiting = self._waiting, []
        _settle(group, [RuntimeError("the service is stopping")] * len(group))


def _settle(group: Waiting, results: Sequence[Turn | Exception]) -> None:
    for (_, future), result in zip(group, results, strict=True):
        if future.cancelled():
            continue  # the request went away; its turn is stored all the same
        if isinstance(result, Exception):
            future.set_exception(result)
        else:
            future.set_result(result)
