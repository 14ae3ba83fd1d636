"""Where the channels' blocking database work runs, off the event loop.

SQLite takes one writer at a time, so it gets one thread, and the citizens' turns that
arrive while that thread is busy are run together in one transaction when it is free
(group commit): under load a turn costs half as much (bench/README.md), and alone it
waits for nobody. PostgreSQL takes several writers: eight threads, a transaction a turn
(its per-citizen advisory locks, taken in a group, could deadlock against another).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from bot.service import FeedbackService, Turn, TurnRequest

T = TypeVar("T")
GROUP = 32  # turns in one transaction at most: a bigger group only delays its first reply


class DatabaseThreads:
    def __init__(self, service: FeedbackService, dialect: str) -> None:
        self.service = service
        self._grouped = dialect == "sqlite"
        self._pool = ThreadPoolExecutor(1 if self._grouped else 8,
                                        thread_name_prefix="prayas-db")
        self._lock = threading.Lock()
        self._waiting: list[tuple[TurnRequest, asyncio.Future[Turn]]] = []
        self._draining = False

    async def run(self, func: Callable[..., T], *args: object) -> T:
        """Any other blocking database call (an officer's command, a delivery report)."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, func, *args)

    async def turn(self, request: TurnRequest) -> Turn:
        """A citizen's turn, committed when this returns."""
        if not self._grouped:
            return await self.run(self.service.handle_one, request)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Turn] = loop.create_future()
        with self._lock:
            self._waiting.append((request, future))
            start = not self._draining
            self._draining = True
        if start:
            self._pool.submit(self._drain, loop)
        return await future

    def _drain(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the database thread: one group of what waits. If more waits, the next group
        queues behind the officers' and reports' calls that came meanwhile."""
        with self._lock:
            group, self._waiting = self._waiting[:GROUP], self._waiting[GROUP:]
        results: list[Turn | Exception]
        try:
            results = self.service.handle_together([request for request, _ in group])
        except Exception as exc:  # a group of one failed: that turn's error
            results = [exc] * len(group)
        finally:
            with self._lock:
                self._draining = bool(self._waiting)
                more = self._draining
        try:
            loop.call_soon_threadsafe(_settle, group, results)
            if more:
                self._pool.submit(self._drain, loop)
        except RuntimeError:  # the loop or the pool closed: the service is stopping
            with self._lock:
                self._draining = False

    def close(self) -> None:
        self._pool.shutdown(wait=False)


def _settle(group: list[tuple[TurnRequest, asyncio.Future[Turn]]],
            results: list[Turn | Exception]) -> None:
    for (_, future), result in zip(group, results, strict=True):
        if future.cancelled():
            continue  # the request went away; its turn is stored all the same
        if isinstance(result, Exception):
            future.set_exception(result)
        else:
            future.set_result(result)
