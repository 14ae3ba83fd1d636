"""Where the channels' database work runs: citizens' turns, officers' commands, reports.

SQLite takes one writer at a time. The citizens' turns that wait while a group of them is
being stored are run together, in one transaction, when it is done (group commit): under
load a turn costs half as much (bench/README.md), and alone it waits for nobody.

A group runs on the event loop itself when SQLite's write lock is free at that instant:
no second thread contends with the loop for Python's lock, which on two cores shared with
other work was a sixth of the throughput (bench/README.md). It never waits there. If
another writer (another process, an officer's command, a scheduled job) holds the lock,
or anything else goes wrong, the group is handed to the database thread, which waits for
the lock and recovers turn by turn; then the loop takes the next group. One group at a
time, wherever it runs: a citizen's turns are stored in order. Checkpoints of SQLite's
write-ahead log, which fsync, run in the thread too, holding the same turn.

PostgreSQL takes several writers: eight threads, a transaction a turn (its per-citizen
advisory locks, taken in a group, could deadlock against another).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from scheduler.service import FeedbackService, Turn, TurnRequest
from storage.db import checkpoint, impatient

log = logging.getLogger(__name__)
T = TypeVar("T")
GROUP = 32  # turns in one transaction at most: a bigger group only delays its first reply
CHECKPOINT_EVERY = 64  # groups stored on the loop: the WAL stays within a few MB
Waiting = list[tuple[TurnRequest, "asyncio.Future[Turn]"]]


class DatabaseThreads:
    def __init__(self, service: FeedbackService, dialect: str) -> None:
        self.service = service
        self._grouped = dialect == "sqlite"
        self._pool = ThreadPoolExecutor(1 if self._grouped else 8,
                                        thread_name_prefix="prayas-db")
        self._on_loop = impatient(service.engine) if self._grouped else None
        self._lock = threading.Lock()
        self._waiting: Waiting = []
        self._draining = False  # a group is being stored, on the loop or in the thread
        self._since_checkpoint = 0
        self._closed = False

    async def run(self, func: Callable[..., T], *args: object) -> T:
        """Any other blocking database call (an officer's command, a delivery report)."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, func, *args)

    async def turn(self, request: TurnRequest) -> Turn:
        """A citizen's turn, committed when this returns."""
        if self._closed:
            raise RuntimeError("the service is stopping")
        if not self._grouped:
            return await self.run(self.service.handle_one, request)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Turn] = loop.create_future()
        with self._lock:
            self._waiting.append((request, future))
            start = not self._draining
            self._draining = True
        if start:
            if self._on_loop is not None:
                loop.call_soon(self._drain_here, loop)  # after this round's other arrivals
            else:
                self._pool.submit(self._drain, loop)
        return await future

    def _next_group(self) -> Waiting:
        with self._lock:
            group, self._waiting = self._waiting[:GROUP], self._waiting[GROUP:]
        return group

    def _drain_here(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the event loop: one group, if the write lock is free now; else the thread's."""
        assert self._on_loop is not None
        group = self._next_group()
        if self._closed:
            self._give_up(group)
            return
        try:
            results = self.service.handle_all_or_none([request for request, _ in group],
                                                      self._on_loop)
        except Exception as exc:  # nothing of the group was kept: the thread does it again
            log.debug("a group of turns goes to the database thread (%s)", exc)
            self._hand_over(group, self._drain, loop, group)
            return
        _settle(group, list(results))
        self._since_checkpoint += 1
        if self._since_checkpoint >= CHECKPOINT_EVERY:
            # The thread checkpoints while it holds the drain: a commit during the copy
            # would keep SQLite from starting the log afresh, and it would grow without
            # end under steady load (a review measured 11 MB in 8 s, and growing).
            self._since_checkpoint = 0
            self._hand_over([], self._checkpoint, loop)
            return
        if self._still_waiting():
            loop.call_soon(self._drain_here, loop)

    def _drain(self, loop: asyncio.AbstractEventLoop, group: Waiting | None = None) -> None:
        """On the database thread: one group (`group`, or the next of what waits), waiting
        for the write lock."""
        group = self._next_group() if group is None else group
        results: list[Turn | Exception]
        try:
            results = self.service.handle_together([request for request, _ in group])
        except Exception as exc:  # a group of one failed: that turn's error
            results = [exc] * len(group)
        finally:
            more = self._still_waiting()
        self._from_thread(loop, more, functools.partial(_settle, group, results))

    def _checkpoint(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the database thread, holding the drain; then the loop goes on."""
        try:
            checkpoint(self.service.engine)
        except Exception as exc:  # busy or failing now: the next one
            log.warning("could not checkpoint the database's write-ahead log (%s)", exc)
        self._from_thread(loop, self._still_waiting())

    def _still_waiting(self) -> bool:
        """Whether turns wait: then the caller keeps the drain, else it is released."""
        with self._lock:
            self._draining = bool(self._waiting)
            return self._draining

    def _from_thread(self, loop: asyncio.AbstractEventLoop, more: bool,
                     settle: Callable[[], None] | None = None) -> None:
        """On the database thread, done: `settle` on the loop, then, if `more` waits, the
        next group: on the loop when it can, else here, behind the officers' and reports'
        calls that came meanwhile."""
        try:
            if settle is not None:
                loop.call_soon_threadsafe(settle)
            if more and self._on_loop is not None:
                loop.call_soon_threadsafe(self._drain_here, loop)
            elif more:
                self._pool.submit(self._drain, loop)
        except RuntimeError:  # the loop or the pool closed: the service is stopping
            with self._lock:
                self._draining = False

    def _hand_over(self, group: Waiting, func: Callable[..., object], *args: object) -> None:
        """Give the drain (and `group`, if any) to the thread."""
        try:
            self._pool.submit(func, *args)
        except RuntimeError:  # the pool closed: the service is stopping
            self._give_up(group)

    def _give_up(self, group: Waiting) -> None:
        with self._lock:
            group, self._waiting = group + self._waiting, []
            self._draining = False
        _settle(group, [RuntimeError("the service is stopping")] * len(group))

    def close(self) -> None:
        self._closed = True
        self._pool.shutdown(wait=False)
        if self._on_loop is not None:
            self._on_loop.dispose()


def _settle(group: Waiting, results: Sequence[Turn | Exception]) -> None:
    for (_, future), result in zip(group, results, strict=True):
        if future.cancelled():
            continue  # the request went away; its turn is stored all the same
        if isinstance(result, Exception):
            future.set_exception(result)
        else:
            future.set_result(result)
