"""Shared fixtures: the sample config, a fixed clock, SQLite and a throwaway PostgreSQL.

The PostgreSQL cluster is started by the tests themselves from the machine's
initdb/pg_ctl (as the `postgres` user when running as root, since PostgreSQL
refuses root). Under CI it must run: a missing server fails the suite, never skips.
"""

from __future__ import annotations

import itertools
import os
import queue
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.pg import pg_bindir, throwaway_postgres

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CONFIG = ROOT / "config.yaml"
# A fixed instant: 28 Nov 2026, 10:30 IST.
T0 = datetime(2026, 11, 28, 5, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches the developer's data directory or inherits their secrets."""
    monkeypatch.setenv("PRAYAS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PRAYAS_HMAC_KEY", "test-key-" + "0" * 40)
    for name in ("DATABASE_URL", "PRAYAS_CONFIG", "PRAYAS_LOCALE_DIR"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL cluster on 127.0.0.1 for this test session; yields its admin URL."""
    if pg_bindir() is None:
        message = "PostgreSQL server programs not found (pg_config --bindir has no initdb)"
        if os.environ.get("CI"):
            pytest.fail(message + "; .ci/run must install postgresql")
        pytest.skip(message)
    with throwaway_postgres() as url:
        yield url


_db_names = itertools.count(1)


class _Dropper:
    """Each test's database dropped behind it, on a thread while the next tests run. Left
    to the end, two hundred databases' files took 13 s to remove after the last test."""

    def __init__(self, server: str) -> None:
        self._admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
        self._names: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="drop-test-databases",
                                        daemon=True)
        self._thread.start()

    def drop(self, name: str) -> None:
        self._names.put(name)

    def _run(self) -> None:
        while (name := self._names.get()) is not None:
            try:
                with self._admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            except Exception:  # what is left goes with the cluster's directory
                pass

    def close(self) -> None:
        self._names.put(None)
        self._thread.join(timeout=60)
        self._admin.dispose()


@pytest.fixture(scope="session")
def _postgres_dropper(postgres_server: str) -> Iterator[_Dropper]:
    dropper = _Dropper(postgres_server)
    yield dropper
    dropper.close()


@pytest.fixture
def postgres_url(postgres_server: str, _postgres_dropper: _Dropper) -> Iterator[str]:
    """A fresh, empty database in the session's cluster."""
    name = f"prayas_test_{os.getpid()}_{next(_db_names)}_{int(time.time() * 1000) % 100000}"
    admin = create_engine(f"{postgres_server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    yield f"{postgres_server}/{name}"
    _postgres_dropper.drop(name)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'prayas.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Every storage test runs on both backends."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def make_app(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Build the real app from the sample config on the given database URL."""
    from bot.app import build_app

    def _make(url: str, config: Path = SAMPLE_CONFIG):  # type: ignore[no-untyped-def]
        monkeypatch.setenv("DATABASE_URL", url)
        return build_app(config)

    return _make


@pytest.fixture
def app(make_app, database_url: str):  # type: ignore[no-untyped-def]
    """The app on each storage backend."""
    built = make_app(database_url)
    yield built
    built.engine.dispose()


@pytest.fixture
def fake_telegram():  # type: ignore[no-untyped-def]
    """A fake Telegram Bot API on 127.0.0.1 for this test."""
    from tests.fakes.telegram_api import FakeTelegram

    fake = FakeTelegram().start()
    yield fake
    fake.stop()


def telegram_sender(app, fake):  # type: ignore[no-untyped-def]
    """The process's parts as `prayas digest --send` has them: Telegram sending only,
    to the fake Bot API."""
    from bot.app import Runtime
    from bot.environment import Environment

    env = Environment(telegram_token=fake.token, telegram_base_url=fake.url)
    return Runtime(app, env, telegram=True, receive=False)


async def dispatched(runtime, now) -> int:  # type: ignore[no-untyped-def]
    """Start the runtime, send what the outbox has due at `now`, stop."""
    await runtime.start(scheduler=False)
    try:
        return int(await runtime.dispatcher.run_once(now))
    finally:
        await runtime.stop()


@pytest.fixture(scope="session")
def catalogs():  # type: ignore[no-untyped-def]
    """The Hindi and English catalogs as the app loads them."""
    from scheduler.catalogs import Catalogs

    return Catalogs.load(["hi", "en"])


@pytest.fixture(scope="session")
def survey(catalogs):  # type: ignore[no-untyped-def]
    """The survey as the sample district asks it (stations, limits, translated labels)."""
    from bot.app import district_survey
    from scheduler.config import load_config

    return district_survey(load_config(SAMPLE_CONFIG), catalogs)
