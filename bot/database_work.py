"""Where a process's database work runs: citizens' turns, officers' commands, delivery
reports. One instance serves every channel of the process (`database_work` picks it).

SQLite takes one writer at a time, so its work runs on one thread, and the citizens'
turns that arrive while a group is being stored are stored together, in one
transaction, next (group commit: bench/README.md). Alone, a turn waits for nobody.
PostgreSQL takes several writers: eight threads, a transaction a turn (its per-citizen
advisory locks, taken in a group, could deadlock against another).

`DatabaseWork` is the plain version. `GroupsOnTheLoop` stores a group on the event loop
itself when SQLite's write lock is free at that instant, and hands it to the thread
otherwise; it is the one `prayas serve` and `prayas poll` use on a SQLite file, for the
gain bench/README.md measures.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import Engine

from scheduler.service import CitizenMessage, FeedbackService, Turn
from storage.db import checkpoint, impatient

log = logging.getLogger(__name__)
T = TypeVar("T")
GROUP = 32  # turns in one transaction at most: a bigger group only delays its first reply
Waiting = list[tuple[CitizenMessage, "asyncio.Future[Turn]"]]


def database_work(service: FeedbackService) -> DatabaseWork:
    """The process's database work: groups on the loop where SQLite's file allows it."""
    loop_engine = impatient(service.engine)
    if loop_engine is None:
        return DatabaseWork(service)
    return GroupsOnTheLoop(service, loop_engine)


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
            self._start(loop)
        return await future

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the event loop: the first group after a quiet spell."""
        self._submit(self._drain, loop)

    def _drain(self, loop: asyncio.AbstractEventLoop, group: Waiting | None = None) -> None:
        """On the database thread: one group (`group`, or the next of what waits)."""
        group = self._next_group() if group is None else group
        results: list[Turn | Exception]
        try:
            results = self.service.handle_together([request for request, _ in group])
        except Exception as exc:  # a group of one failed: that turn's error
            results = [exc] * len(group)
        self._from_thread(loop, lambda: _settle(group, results))

    def _from_thread(self, loop: asyncio.AbstractEventLoop,
                     settle: Callable[[], None] | None) -> None:
        """On the database thread, done: `settle` on the loop; then the next group, if
        any waits, behind the officers' commands and reports that came meanwhile."""
        more = self._still_waiting()
        try:
            if settle is not None:
                loop.call_soon_threadsafe(settle)
            if more:
                self._next_from_thread(loop)
        except RuntimeError:  # the loop or the pool closed: the service is stopping
            with self._lock:
                self._draining = False

    def _next_from_thread(self, loop: asyncio.AbstractEventLoop) -> None:
        self._pool.submit(self._drain, loop)

    def _next_group(self) -> Waiting:
        with self._lock:
            group, self._waiting = self._waiting[:GROUP], self._waiting[GROUP:]
        return group

    def _still_waiting(self) -> bool:
        """Whether turns wait: then the caller keeps the drain, else it is released."""
        with self._lock:
            self._draining = bool(self._waiting)
            return self._draining

    def _submit(self, func: Callable[..., object], *args: object,
                group: Waiting | None = None) -> None:
        """Give the drain (and `group`, if any) to the thread."""
        try:
            self._pool.submit(func, *args)
        except RuntimeError:  # the pool closed: the service is stopping
            self._give_up(group or [])

    def _give_up(self, group: Waiting) -> None:
        with self._lock:
            group, self._waiting = group + self._waiting, []
            self._draining = False
        _settle(group, [RuntimeError("the service is stopping")] * len(group))

    def close(self) -> None:
        """On the event loop, when the process stops: what still waits is told so."""
        self._closed = True
        self._pool.shutdown(wait=False)
        self._give_up([])


CHECKPOINT_EVERY = 64  # groups stored on the loop: the WAL stays within a few MB


class GroupsOnTheLoop(DatabaseWork):
    """Groups stored on the event loop while SQLite's write lock is free.

    No second thread then contends with the loop for Python's lock; on two cores that
    was a quarter of a saturated server's turns (bench/README.md). The loop never waits:
    its connections have no busy timeout, so if another writer (another process, an
    officer's command on the thread, a scheduled job) holds the lock, or anything else
    fails, the group goes to the thread, which waits and recovers turn by turn. One
    group at a time, wherever it runs, so a citizen's turns are stored in order.
    The loop's commits leave checkpointing the write-ahead log to the thread (its
    fsyncs would stall every channel), every CHECKPOINT_EVERY groups, holding the drain.
    """

    def __init__(self, service: FeedbackService, loop_engine: Engine) -> None:
        super().__init__(service)
        self._loop_engine = loop_engine
        self._since_checkpoint = 0

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.call_soon(self._drain_here, loop)  # after this round's other arrivals

    def _next_from_thread(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.call_soon_threadsafe(self._drain_here, loop)

    def _drain_here(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the event loop: one group, if the write lock is free now; else the thread's."""
        group = self._next_group()
        if self._closed:
            self._give_up(group)
            return
        try:
            results = self.service.handle_all_or_none([request for request, _ in group],
                                                      self._loop_engine)
        except Exception as exc:  # nothing of the group was kept: the thread does it again
            log.debug("a group of turns goes to the database thread (%s)", exc)
            self._submit(self._drain, loop, group, group=group)
            return
        _settle(group, results)
        self._since_checkpoint += 1
        if self._since_checkpoint >= CHECKPOINT_EVERY:
            # Checkpointed while no group is stored: a commit during the copy would keep
            # SQLite from starting its log afresh, and it would grow without end.
            self._since_checkpoint = 0
            self._submit(self._checkpoint, loop)
        elif self._still_waiting():
            loop.call_soon(self._drain_here, loop)

    def _checkpoint(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the database thread, holding the drain; then the loop goes on."""
        try:
            checkpoint(self.service.engine)
        except Exception as exc:  # busy or failing now: the next one
            log.warning("could not checkpoint the database's write-ahead log (%s)", exc)
        self._from_thread(loop, None)

    def close(self) -> None:
        super().close()
        self._loop_engine.dispose()


def _settle(group: Waiting, results: Sequence[Turn | Exception]) -> None:
    for (_, future), result in zip(group, results, strict=True):
        if future.cancelled():
            continue  # the request went away; its turn is stored all the same
        if isinstance(result, Exception):
            future.set_exception(result)
        else:
            future.set_result(result)
