"""Shared fixtures: the sample config, a fixed clock, SQLite and a throwaway PostgreSQL.

The PostgreSQL cluster is started by the tests themselves from the machine's
initdb/pg_ctl (as the `postgres` user when running as root, since PostgreSQL
refuses root). Under CI it must run: a missing server fails the suite, never skips.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

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


def _pg_bindir() -> Path | None:
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    bindir = Path(out.stdout.strip())
    return bindir if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists() else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL cluster on 127.0.0.1 for this test session; yields its admin URL."""
    bindir = _pg_bindir()
    if bindir is None:
        message = "PostgreSQL server programs not found (pg_config --bindir has no initdb)"
        if os.environ.get("CI"):
            pytest.fail(message + "; .ci/run must install postgresql")
        pytest.skip(message)
    base = Path(tempfile.mkdtemp(prefix="prayas-pg-"))
    base.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    data, port = base / "data", _free_port()
    subprocess.run(
        _as_postgres([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                      "-E", "UTF8", "--locale=C", "--no-sync"]),
        check=True, capture_output=True,
    )
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off " \
              "-c synchronous_commit=off -c full_page_writes=off"
    subprocess.run(
        _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-o", options,
                      "-l", str(base / "log"), "-w", "-t", "60", "start"]),
        check=True, capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                     "stop"]), capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


_db_names = itertools.count(1)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database in the session's cluster."""
    name = f"prayas_test_{os.getpid()}_{next(_db_names)}_{int(time.time() * 1000) % 100000}"
    admin = create_engine(f"{postgres_server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    yield f"{postgres_server}/{name}"


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
