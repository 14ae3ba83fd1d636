"""A throwaway PostgreSQL cluster on 127.0.0.1, for the tests and the benchmarks."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def pg_bindir() -> Path | None:
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


@contextmanager
def throwaway_postgres(*settings: str, keep: Path | None = None) -> Iterator[str]:
    """Start a cluster (without fsync: nothing here outlives it); yields its admin URL.

    `settings` are extra `name=value` server settings, such as "shared_buffers=1GB".
    `keep`: the cluster lives in that directory and is kept when stopped, so the next
    start finds its databases again (a benchmark's loaded history).
    """
    bindir = pg_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL server programs not found (pg_config --bindir has no "
                           "initdb): install postgresql")
    base = keep or Path(tempfile.mkdtemp(prefix="prayas-pg-"))
    base.mkdir(parents=True, exist_ok=True)
    base.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    data, port = base / "data", _free_port()
    if not (data / "PG_VERSION").exists():
        subprocess.run(
            _as_postgres([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A",
                          "trust", "-E", "UTF8", "--locale=C", "--no-sync"]),
            check=True, capture_output=True,
        )
    options = " ".join([f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off",
                        "-c synchronous_commit=off -c full_page_writes=off",
                        *(f"-c {s}" for s in settings)])
    subprocess.run(
        _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-o", options,
                      "-l", str(base / "log"), "-w", "-t", "60", "start"]),
        check=True, capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        # A kept cluster is stopped cleanly (its data must survive); a throwaway one fast.
        subprocess.run(_as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m",
                                     "fast" if keep else "immediate", "stop"]),
                       capture_output=True)
        if keep is None:
            shutil.rmtree(base, ignore_errors=True)
