"""Where the config file is, and the error an operator fixes in it: apart from the
config's models (scheduler/config.py, pydantic), so that `prayas --help` answers at once."""

from __future__ import annotations

import os
from pathlib import Path


class ConfigError(Exception):
    """A problem an operator can fix by editing the config file or the environment."""


def config_path(option: str | None) -> Path:
    """--config wins, then PRAYAS_CONFIG, then ./config.yaml."""
    return Path(option or os.environ.get("PRAYAS_CONFIG") or "config.yaml")
