"""What every `prayas` subcommand shares: the config read per command, the environment
read once, and operator errors as one line and exit code 2."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import click

from bot.environment import Environment
from scheduler.errors import ConfigError

if TYPE_CHECKING:
    from scheduler.config import Config

ENV = "prayas.environment"  # ctx.meta: the environment, read once
P = ParamSpec("P")
R = TypeVar("R")


def load_config(path: Path) -> Config:
    # The config's models (pydantic) and everything else load per command, not at start:
    # `prayas --help` answers at once.
    from scheduler.config import load_config as load

    return load(path)


def _an_operators_error(exc: Exception) -> bool:
    from bot.posters.fonts import PosterError
    from conversations.survey import SurveyError
    from storage.db import DatabaseError

    return isinstance(exc, ConfigError | SurveyError | DatabaseError | PosterError)


def operator_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn the errors an operator can fix into one line and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            if not _an_operators_error(exc):
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)

    return wrapper


def command_env(ctx: click.Context) -> Environment:
    env = ctx.meta[ENV]
    assert isinstance(env, Environment)
    return env
