"""Opening the database: SQLite by default (WAL, foreign keys, busy timeout), PostgreSQL
by URL; migrations applied on start when that is safe.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

# Alembic is imported where migrations run, not here: every `prayas` command (even
# `--help`) imports this module, and most never touch the schema.
log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")


WRITER_OPTION = "prayas_writer"


def upsert(db: Session, table: Any) -> Any:
    """INSERT ... ON CONFLICT for the database in use (PostgreSQL or SQLite)."""
    if db.get_bind().dialect.name == "postgresql":
        return pg_insert(table)
    return sqlite_insert(table)


def writer(engine: Engine) -> Engine:
    """The same database, for transactions that will write (see _on_begin)."""
    return engine.execution_options(**{WRITER_OPTION: True})


def impatient(engine: Engine) -> Engine | None:
    """The same SQLite file, for writes run on the event loop (bot.database_work): its
    connections never wait for another writer's lock (busy timeout 0: the caller hands
    the work to a thread, which waits) and never checkpoint the WAL on commit (the
    checkpoint's fsyncs would stall every channel; `checkpoint` runs it in a thread).
    None for PostgreSQL, and for an in-memory SQLite, which a second engine would not see."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    loop_engine = create_engine(engine.url, hide_parameters=True)
    _sqlite_pragmas(loop_engine, busy_ms=0, checkpoints=False)
    return writer(loop_engine)


def checkpoint(engine: Engine) -> None:
    """Copy the WAL's pages into the database file, without waiting for its readers:
    for the writes of an `impatient` engine, which leave that to this."""
    connection = engine.raw_connection()
    try:
        connection.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        connection.close()


class DatabaseError(Exception):
    """A database problem an operator can fix; the message says how."""


BUSY_MS = 10000  # a writer waits this long for another's lock before it fails


def _sqlite_pragmas(engine: Engine, busy_ms: int = BUSY_MS, checkpoints: bool = True) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if not checkpoints:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A writer takes the write lock up front: a turn reads then writes, and two turns
        # for one citizen must not interleave (on SQLite the per-sender lock is the file
        # lock). Readers (exports, digests) begin deferred and never block a citizen.
        # On the driver's connection, as storage.turn runs a turn's statements.
        begin = "BEGIN IMMEDIATE" if connection.get_execution_options().get(WRITER_OPTION) \
            else "BEGIN"
        raw = connection.connection.dbapi_connection
        assert raw is not None  # None only once invalidated, and then nothing begins
        raw.execute(begin)


def open_engine(url: str) -> Engine:
    """An Engine for `url`; creates the SQLite file's directory if needed."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(
            f"database URL {url!r} is not valid; use sqlite:///PATH or postgresql://USER@HOST/DB"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database
        if path and path != ":memory:":
            folder = Path(path).expanduser().resolve().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseError(
                    f"cannot create the database folder {folder} ({exc.strerror}); "
                    "set PRAYAS_DATA_DIR or DATABASE_URL to a writable place"
                ) from None
        engine = create_engine(url, hide_parameters=True,  # values may be citizens' addresses
                               poolclass=NullPool if not path or path == ":memory:" else None)
        _sqlite_pragmas(engine)
        return engine
    try:
        return create_engine(url, pool_pre_ping=True, hide_parameters=True, pool_size=10,
                             max_overflow=20)
    except (ImportError, SQLAlchemyError) as exc:
        raise DatabaseError(f"cannot use database URL {parsed!r}: {exc}") from None


def keep_statistics(engine: Engine) -> None:
    """Refresh SQLite's table statistics, as its documentation asks of long-lived
    databases; PostgreSQL's autovacuum keeps its own. Without them, SQLite takes a
    district for a few rows and plans the digest's reads from the station table, a plan
    that gets worse as feedback grows (bench/README.md). Sampled (analysis_limit), so
    its own cost does not grow with the database."""
    if engine.dialect.name != "sqlite":
        return
    if sqlite3.sqlite_version_info < (3, 32):
        # No analysis_limit: a full ANALYZE of a big table would hold the writers.
        log.warning("SQLite %s is older than 3.32: its statistics are not refreshed",
                    sqlite3.sqlite_version)
        return
    try:
        with writer(engine).connect() as connection:
            connection.exec_driver_sql("PRAGMA analysis_limit=1000")
            connection.exec_driver_sql("ANALYZE")
            connection.commit()
    except OperationalError as exc:  # busy for longer than the timeout: next time, then
        log.warning("could not refresh the database's statistics (%s); will try again", exc)
        return
    # A connection reads the statistics when it opens, and ANALYZE does not tell the
    # others: the pool's connections are replaced so every one plans with the new ones.
    engine.dispose()


def _alembic(engine: Engine) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS))


def _head(script: ScriptDirectory) -> str:
    head = script.get_current_head()
    assert head is not None
    return head


def head_revision() -> str:
    """The newest migration's revision, as Alembic reads it from storage/migrations."""
    return _head(_scripts())


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _describe(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to the newest revision; returns (before, after). Nothing is done
    to a database already at the newest."""
    script = _scripts()
    head = _head(script)
    before = _check_upgradable(engine, script)
    if before != head:
        _backup_sqlite(engine, before, head)
        try:
            from alembic import command

            command.upgrade(_alembic(engine), "head")
        except SQLAlchemyError as exc:
            raise DatabaseError(
                f"{_describe(engine)}: migration failed and was rolled back "
                f"({exc.__class__.__name__}: {str(exc).splitlines()[0]})"
            ) from None
    return before, head


def _check_upgradable(engine: Engine, script: ScriptDirectory) -> str | None:
    try:
        tables = set(inspect(engine).get_table_names())
        revision = current_revision(engine)
    except OperationalError as exc:
        reason = str(exc.orig).splitlines()[0] if exc.orig else str(exc)
        raise DatabaseError(
            f"cannot open the database {_describe(engine)} ({reason}); "
            "check DATABASE_URL / PRAYAS_DATA_DIR and that the place is writable"
        ) from None
    if revision is None and tables - {"alembic_version"}:
        raise DatabaseError(
            f"{_describe(engine)} holds tables that Prayas did not create; "
            "point DATABASE_URL at an empty database"
        )
    if revision is not None and revision not in {r.revision for r in script.walk_revisions()}:
        raise DatabaseError(
            f"{_describe(engine)} has schema revision {revision}, newer than this version of "
            "Prayas knows; install the newer Prayas that wrote it"
        )
    return revision


def _backup_sqlite(engine: Engine, revision: str | None, head: str) -> None:
    """Before migrating an existing SQLite file, keep a copy beside it."""
    if revision is None or engine.url.get_backend_name() != "sqlite":
        return
    path = Path(engine.url.database or "")
    if path.is_file():
        backup = path.with_name(f"{path.name}.before-{head}")
        # SQLite's online backup: consistent even with a WAL file beside the database.
        raw = engine.raw_connection()
        try:
            with sqlite3.connect(backup) as target:
                raw.driver_connection.backup(target)  # type: ignore[union-attr]
            target.close()
        finally:
            raw.close()
        log.warning("database schema %s upgraded; a copy was kept at %s", revision, backup)
