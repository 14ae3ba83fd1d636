"""`prayas report`: the monthly report for the crime review meeting, on the SP office's
computer: the same PDF and workbook the scheduler sends on the first of the month."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import click

from bot.cli_common import command_env, load_config, operator_errors


@click.command()
@click.option("--month", metavar="YYYY-MM",
              help="The calendar month, in district time (default: last month). The month "
                   "under way gives its numbers so far.")
@click.option("--district", metavar="CODE", help="The district (default: the only one).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("."),
              show_default=True, help="The folder to write the PDF and the XLSX to.")
@click.option("--lang", type=click.Choice(["hi", "en"]), default="hi", show_default=True,
              help="The PDF's language (the workbook's columns are always English).")
@click.pass_context
@operator_errors
def report(ctx: click.Context, month: str | None, district: str | None, out: Path,
           lang: str) -> None:
    """Write the month's report: each station's score card (feedback, completion,
    behaviour, experience, a score adjusted for how many feedback it rests on, share
    negative, cases and deadlines kept, citizens' answers on closure), ranked among
    thanas, chowkis and offices, against the month before, and the district's.

    Files: prayas-report-<DISTRICT>-<YYYY-MM>.pdf and .xlsx in --out; their paths are
    printed. Never a citizen's name, number or words.
    """
    from bot.app import build_app
    from scheduler.report.monthly import write_report
    from scheduler.report.numbers import Month

    config = load_config(ctx.obj)
    now = datetime.now(UTC)
    try:
        chosen = Month.parse(month) if month else Month.of(
            now.astimezone(config.zone).date()).previous()
    except ValueError as exc:
        _refuse(ctx, f"--month {exc}")
    if chosen.bounds(config.zone)[0] > now:
        _refuse(ctx, f"--month {chosen} has not begun yet; give a month up to this one")
    codes = [d.code for d in config.districts]
    wanted = district.upper() if district else (codes[0] if len(codes) == 1 else None)
    found = next((d for d in config.districts if d.code.upper() == wanted), None)
    if found is None:
        given = f"--district {district}: no such district" if district else \
            "several districts: give --district"
        _refuse(ctx, f"{given}; the config has {', '.join(codes)}")
    app = build_app(ctx.obj, command_env(ctx))
    try:
        out.mkdir(parents=True, exist_ok=True)
        written = write_report(app, found, chosen, lang, out, now)
    except OSError as exc:
        _refuse(ctx, f"cannot write the report to {out} ({exc.strerror or exc}); choose a "
                     "writable --out")
    click.echo(f"{written.pdf}\n{written.xlsx}")
    if written.quiet:
        click.echo(f"no feedback at any station in {chosen}: the report says so", err=True)


def _refuse(ctx: click.Context, why: str) -> NoReturn:
    click.echo(f"error: {why}", err=True)
    ctx.exit(2)
