"""`prayas case`: the SP office's cases on its computer, read with the same queries as
the chat and, later, the console. Never the citizen's identity."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from bot.cli_common import command_env, load_config, operator_errors

STATES = ["new", "instructed", "reported", "returned", "closed"]


@click.group()
def case() -> None:
    """Cases: a feedback that raised alerts, from the alert to its closure."""


@case.command("list")
@click.option("--station", metavar="CODE", help="Only this station's cases.")
@click.option("--state", type=click.Choice(STATES), help="Only cases in this state.")
@click.option("--overdue", is_flag=True, help="Only cases past their state's deadline.")
@click.pass_context
@operator_errors
def case_list(ctx: click.Context, station: str | None, state: str | None,
              overdue: bool) -> None:
    """The cases, red first, then by deadline: reference, station, state, opened and due
    (district time), reasons."""
    from sqlmodel import Session as Db

    from bot.app import open_database
    from storage.cases import list_cases

    config = load_config(ctx.obj)
    if station is not None and config.station(station.upper()) is None:
        click.echo(f"error: --station {station}: no such station in the config; "
                   "`prayas stations` lists them", err=True)
        ctx.exit(2)
    engine = open_database(config, command_env(ctx))
    with Db(engine) as db:
        rows = list_cases(db, station, state, datetime.now(UTC) if overdue else None)
    reasons = {rule.id: rule.label("en") for rule in config.alerts.rules}
    for row in rows:
        click.echo("\t".join([
            row.reference, row.station_code, row.state + (" (red)" if row.red else ""),
            row.opened_at.astimezone(config.zone).strftime("%Y-%m-%d %H:%M"),
            row.due_at.astimezone(config.zone).strftime("%Y-%m-%d %H:%M"),
            ", ".join(reasons.get(rule, rule) for rule in row.rules)]))
    if not rows:
        click.echo("no cases", err=True)


@case.command("show")
@click.argument("reference")
@click.pass_context
@operator_errors
def case_show(ctx: click.Context, reference: str) -> None:
    """One case: its feedback, reasons, state and deadline, and every step so far."""
    from sqlalchemy import select
    from sqlmodel import Session as Db

    from bot.app import open_database
    from storage.cases import case_file
    from storage.models import Officer

    config = load_config(ctx.obj)
    engine = open_database(config, command_env(ctx))
    with Db(engine) as db:
        found = case_file(db, reference)
        if found is None:
            click.echo(f"error: no case for feedback {reference}; `prayas case list` shows "
                       "them", err=True)
            ctx.exit(2)
        assert found is not None
        names = {o.id: o.name or o.role for o in db.execute(select(Officer)).scalars()}
    zone = config.zone
    reasons = {rule.id: rule.label("en") for rule in config.alerts.rules}
    c = found.case
    click.echo(f"case of {found.feedback.reference} · {c.station_code} · {c.state}"
               + (" · red: the SP office's alone" if c.red else ""))
    click.echo(f"opened {c.opened_at.astimezone(zone):%Y-%m-%d %H:%M}, "
               f"due {c.due_at.astimezone(zone):%Y-%m-%d %H:%M}")
    click.echo("reasons: " + ", ".join(f"{reasons.get(a.rule, a.rule)} ({a.status})"
                                       for a in found.alerts))
    for event in found.events:
        who = names.get(event.officer_id, "system") if event.officer_id else "system"
        said = f" — {event.text}" if event.text else ""
        click.echo(f"{event.at.astimezone(zone):%Y-%m-%d %H:%M}  {event.event}  {who}{said}")
