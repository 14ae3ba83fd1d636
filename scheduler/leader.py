"""Exactly one process runs the jobs: on PostgreSQL the holder of an advisory lock,
kept on a connection of its own for the life of the process. SQLite deployments are a
single process, which is always the leader."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)
LOCK_KEY = 0x50524159  # "PRAY"


class Leader:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._connection: Connection | None = None
        # Jobs check from the scheduler's threads while stop() releases from another:
        # one at a time on the lock's connection, and no lead taken again once released.
        self._lock = threading.Lock()
        self._released = False

    def check(self) -> bool:
        """True if this process leads; tries to take the lead when it does not."""
        if self.engine.dialect.name != "postgresql":
            return True
        with self._lock:
            return False if self._released else self._check()

    def _check(self) -> bool:
        if self._connection is not None:
            try:  # still connected, so still holding the lock?
                self._connection.execute(text("SELECT 1"))
                self._connection.commit()
                return True
            except Exception:
                log.warning("lost the scheduler lock's connection; trying to lead again")
                self._connection.invalidate()
                self._connection = None
        connection = self.engine.connect()
        connection.detach()  # ours alone: closing it must end the session and free the lock
        try:
            won = connection.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                     {"key": LOCK_KEY}).scalar_one()
            connection.commit()  # the lock is the session's, not the transaction's
        except Exception:
            connection.close()
            raise
        if not won:
            connection.close()
            return False
        log.info("this process now runs the scheduled jobs")
        self._connection = connection
        return True

    def release(self) -> None:
        with self._lock:
            self._released = True
            self._unlock()

    def _unlock(self) -> None:
        if self._connection is None:
            return
        try:  # unlock before closing: the server ends a closed session a moment later, and a
            # process restarting at once would otherwise find the lock still held
            self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
            self._connection.commit()
        except Exception:
            log.warning("could not unlock the scheduler lock; closing its session frees it")
        finally:
            self._connection.close()
            self._connection = None
