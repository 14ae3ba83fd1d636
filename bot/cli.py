"""The `prayas` command. Thin: read config, build the app, call one function.

Operator mistakes (a bad config, an unwritable path, an unknown station) end with
one line on stderr naming the file, key or value and the fix, and exit code 2.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click

from bot.config import ConfigError, config_path, load_config

F = TypeVar("F", bound=Callable[..., Any])


def operator_errors(func: F) -> F:
    """Turn the errors an operator can fix into one line and exit code 2."""
    from conversations.survey import SurveyError
    from storage.db import DatabaseError

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (ConfigError, SurveyError, DatabaseError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_file", metavar="FILE", envvar="PRAYAS_CONFIG",
              help="The district's config.yaml (default: $PRAYAS_CONFIG, else ./config.yaml).")
@click.option("-v", "--verbose", is_flag=True, help="Log what the app does, to stderr.")
@click.pass_context
def main(ctx: click.Context, config_file: str | None, verbose: bool) -> None:
    """Prayas: citizen feedback on police stations, by QR code, Hindi first."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = config_path(config_file)


def _app(ctx: click.Context):  # type: ignore[no-untyped-def]
    from bot.app import build_app

    return build_app(ctx.obj)


@main.command()
@click.option("--station", required=True, metavar="CODE", help="Station code, as on its QR poster.")
@click.option("--lang", type=click.Choice(["hi", "en"]), default=None,
              help="Start in this language (default: the config's default_language).")
@click.option("--sender", metavar="ID", default=None,
              help="Act as this console citizen (default: a new one each run).")
@click.pass_context
@operator_errors
def chat(ctx: click.Context, station: str, lang: str | None, sender: str | None) -> None:
    """Give a feedback on the console, as a citizen would on Telegram.

    In a terminal, type the number of an option. Piped, each input line is one
    message; the exit code is 0 when the feedback was completed.
    """
    from bot.console import ConsoleChat, console_urn

    app = _app(ctx)
    if app.config.station(station) is None:
        codes = ", ".join(s.code for _, s in list(app.config.stations())[:5])
        raise ConfigError(f"{ctx.obj}: no station with code {station!r}; "
                          f"codes look like {codes} (see `prayas stations`)")
    interactive = sys.stdin.isatty()
    console = ConsoleChat(app.service, app.catalogs, console_urn(sender), sys.stdout)

    def prompt() -> None:
        click.echo("> ", nl=False)

    lines = _terminal_lines() if interactive else sys.stdin
    done = console.run(station, lang, lines, prompt if interactive else None,
                       echo=not interactive)
    if not done:
        click.echo("feedback not completed; the answers given so far are saved as incomplete",
                   err=True)
    sys.exit(0 if done else 1)


def _terminal_lines():  # type: ignore[no-untyped-def]
    click.echo("> ", nl=False)
    while True:
        try:
            yield input()
        except (EOFError, KeyboardInterrupt):
            click.echo()
            return


@main.command()
@click.pass_context
@operator_errors
def stations(ctx: click.Context) -> None:
    """List the stations of the config: code, kind, Hindi and English name."""
    config = load_config(ctx.obj)
    for district, station in config.stations():
        click.echo(f"{station.code}\t{district.code}\t{station.kind}\t{station.name_hi}\t"
                   f"{station.name_en}")


@main.command()
@click.pass_context
@operator_errors
def check(ctx: click.Context) -> None:
    """Check the config file and the survey; print a summary."""
    from bot.app import district_survey
    from bot.i18n import Catalogs

    config = load_config(ctx.obj)
    survey = district_survey(config, Catalogs.load(config.languages))
    count = sum(1 for _ in config.stations())
    click.echo(f"{ctx.obj}: ok — {len(config.districts)} district(s), {count} stations, "
               f"{len(survey.questions)} questions, languages {', '.join(config.languages)}")


@main.group()
def db() -> None:
    """Database schema: upgrade, show the current revision."""


@db.command("upgrade")
@click.pass_context
@operator_errors
def db_upgrade(ctx: click.Context) -> None:
    """Apply the migrations (also done automatically on start)."""
    from bot.config import database_url
    from storage.db import open_engine, upgrade

    config = load_config(ctx.obj)
    engine = open_engine(database_url(config))
    before, after = upgrade(engine)
    click.echo(f"database at revision {after}" + (f" (was {before or 'empty'})"
                                                  if before != after else " (up to date)"))


@db.command("current")
@click.pass_context
@operator_errors
def db_current(ctx: click.Context) -> None:
    """Show the database's schema revision and the newest one this version knows."""
    from bot.config import database_url
    from storage.db import current_revision, head_revision, open_engine

    config = load_config(ctx.obj)
    engine = open_engine(database_url(config))
    click.echo(f"database: {current_revision(engine) or 'empty'}; newest: {head_revision()}")


def _day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; write YYYY-MM-DD",
                                 param_hint=name) from None


@main.command()
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default=None,
              help="File format (default: from the --out file's extension).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The file to write.")
@click.option("--since", metavar="YYYY-MM-DD", help="First day (district time), inclusive.")
@click.option("--until", metavar="YYYY-MM-DD", help="Last day (district time), inclusive.")
@click.option("--station", metavar="CODE", help="Only this station.")
@click.pass_context
@operator_errors
def export(ctx: click.Context, fmt: str | None, out: Path, since: str | None,
           until: str | None, station: str | None) -> None:
    """Write every feedback as one row: answers as ids and Hindi/English labels.

    Never contains a citizen's number, chat id or hash.
    """
    from bot import export as exporter
    from storage.export import count_rows, export_rows

    fmt = fmt or out.suffix.lstrip(".").lower()
    if fmt not in ("csv", "xlsx"):
        raise click.BadParameter("give --format csv|xlsx or an --out ending in .csv/.xlsx",
                                 param_hint="--format")
    first, last = _day(since, "--since"), _day(until, "--until")
    folder = out.resolve().parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise ConfigError(f"{out}: cannot write the export (no writable folder {folder}); "
                          "choose a writable --out")
    app = _app(ctx)
    if station and app.config.station(station) is None:
        raise ConfigError(f"{ctx.obj}: no station with code {station!r} (see `prayas stations`)")
    start, end = exporter.day_bounds(first, last, app.config.zone)
    total = count_rows(app.engine, start, end, station)
    rows = exporter.table(export_rows(app.engine, start, end, station), app.survey,
                          app.catalogs, app.config.zone)
    try:
        with click.progressbar(length=total, label="exporting", file=sys.stderr) as bar:
            count = exporter.write(out, fmt, exporter.header(app.survey), rows,
                                   lambda: bar.update(1))
    except OSError as exc:
        raise ConfigError(f"{out}: cannot write the export ({exc.strerror}); "
                          "choose a writable --out") from None
    click.echo(f"wrote {count} feedback rows to {out}")
