"""Citizens are stored as a keyed hash of their URN, never the URN itself."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sys
from pathlib import Path

from scheduler.config import ConfigError

KEY_ENV = "PRAYAS_HMAC_KEY"
KEY_FILE = "hmac.key"


class Identity:
    def __init__(self, key: bytes) -> None:
        # Keyed once; each pseudonym starts from a copy (hmac's documented way to hash
        # many messages with one key).
        self._keyed = hmac.new(key, digestmod=hashlib.sha256)

    def sender(self, urn: str) -> str:
        """A stable pseudonym for `telegram:123` etc.; the same citizen, the same hash."""
        mac = self._keyed.copy()
        mac.update(urn.encode("utf-8"))
        return mac.hexdigest()


def load_identity(data_dir: Path, database_url: str = "sqlite://",
                  from_env: str = "") -> Identity:
    """The key from PRAYAS_HMAC_KEY (`from_env`); on a dev machine, one generated once
    beside the database.

    Losing or changing the key breaks the "same citizen within 24 h" link, so a
    production deployment sets it in the environment and keeps it safe.
    """
    if from_env:
        if len(from_env) < 32:
            raise ConfigError(f"{KEY_ENV}: too short; use at least 32 random characters "
                              "(e.g. python -c 'import secrets; print(secrets.token_hex(32))')")
        return Identity(from_env.encode("utf-8"))
    if not database_url.startswith("sqlite"):
        # Several hosts share a PostgreSQL database: each generating its own key would
        # give one citizen several hashes.
        raise ConfigError(f"{KEY_ENV} is not set; with PostgreSQL every process must use the "
                          "same key: set it in the environment (32+ random characters)")
    path = data_dir / KEY_FILE
    if not path.exists():
        _generate(path)
    return Identity(path.read_text(encoding="utf-8").strip().encode("utf-8"))


def _generate(path: Path) -> None:
    """Write a new key atomically: a second process never reads a half-written file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{KEY_FILE}.{os.getpid()}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(temporary, path)  # fails if another process got there first
        except FileExistsError:
            return
        finally:
            temporary.unlink()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot create the identity key ({exc.strerror}); set "
                          f"{KEY_ENV} or PRAYAS_DATA_DIR to a writable place") from None
    print(f"warning: {KEY_ENV} is not set; generated a key in {path}. "
          "Set it in the environment for production.", file=sys.stderr)
