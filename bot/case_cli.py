"""`prayas case`: the SP office's cases on its computer, read with the same queries as
the chat and, later, the console. Never the citizen's identity."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from bot.cli_common import command_env, load_config, operator_errors

if TYPE_CHECKING:
    from collections.abc import Iterable

    from scheduler.cases.steps import Verb
    from storage.models import Answer, AnswerVersion

STATES = ["new", "instructed", "reported", "returned", "closed"]
REFUSED = {  # scheduler/cases/steps.py's outcomes, for the operator
    "closed": "the case is closed already",
    "not_yours": "that officer is not of the SP office of this case's district",
    "red": "a red case is the SP office's alone: the in-charge is told nothing of it; "
           "close it with what the SP office did",
    "nothing_to_return": "no report to return yet (`prayas case show` has its steps)",
    "no_preset": "no such preset; config cases.presets lists them",
    "no_words": "give --text with a few words",
}


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
    from sqlmodel import col

    from bot.app import open_database
    from storage.cases import case_file
    from storage.feedback import versions_of
    from storage.models import Answer, Officer

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
        reference = found.feedback.reference
        now = answer_line(db.execute(select(Answer).where(
            col(Answer.feedback_id) == found.feedback.id)).scalars(), reference)
        earlier = {n: answer_line(rows, reference)
                   for n, rows in versions_of(db, found.feedback.id or 0).items()}
    zone = config.zone
    reasons = {rule.id: rule.label("en") for rule in config.alerts.rules}
    c = found.case
    click.echo(f"case of {found.feedback.reference} · {c.station_code} · {c.state}"
               + (" · red: the SP office's alone" if c.red else ""))
    click.echo(f"opened {c.opened_at.astimezone(zone):%Y-%m-%d %H:%M}, "
               f"due {c.due_at.astimezone(zone):%Y-%m-%d %H:%M}")
    click.echo("reasons: " + ", ".join(f"{reasons.get(a.rule, a.rule)} ({a.status})"
                                       for a in found.alerts))
    click.echo(f"answers: {now}")
    for n, line in earlier.items():  # what an update replaced: never deleted
        click.echo(f"answers before update {n}: {line}")
    for event in found.events:
        who = names.get(event.officer_id, "system") if event.officer_id else "system"
        said = f" — {event.text}" if event.text else ""
        sent = f" [{event.media_kind}]" if event.media_kind else ""
        click.echo(f"{event.at.astimezone(zone):%Y-%m-%d %H:%M}  {event.event}  {who}{said}"
                   f"{sent}")


def answer_line(answers: Iterable[Answer | AnswerVersion], reference: str) -> str:
    """question=answer pairs by their stable ids; a voice note by its file's name."""
    cells = []
    for a in answers:
        said = ("(skipped)" if a.skipped else a.option_id or a.text
                or (f"voice note {reference}-voice.ogg" if a.voice_ref else ""))
        cells.append(f"{a.question_id}={said}")
    return ", ".join(cells)


_AS = click.option("--as", "acting", required=True, metavar="NAME",
                   help="The SP-office officer acting: their enrolled name, or their id "
                        "(`prayas officer list`).")


@case.command("instruct")
@click.argument("reference")
@click.option("--preset", required=True, metavar="ID",
              help="The instruction, one of config cases.presets (`--preset help` lists them).")
@click.option("--text", default="", help="A few words more for the in-charge.")
@_AS
@click.pass_context
@operator_errors
def case_instruct(ctx: click.Context, reference: str, preset: str, text: str,
                  acting: str) -> None:
    """Send the station's in-charge an instruction on this case."""
    config = load_config(ctx.obj)
    if config.cases.preset(preset) is None:
        names = ", ".join(f"{p.id} ({p.label_en})" for p in config.cases.presets)
        click.echo(f"error: --preset {preset}: no such preset; the presets are {names}",
                   err=True)
        ctx.exit(2)
    _step(ctx, reference, acting, "instruct", preset, text)


@case.command("close")
@click.argument("reference")
@click.option("--text", required=True, help="What was done: why the case can close.")
@_AS
@click.pass_context
@operator_errors
def case_close(ctx: click.Context, reference: str, text: str, acting: str) -> None:
    """Close the case; its citizen, if they agreed, is asked whether they are satisfied."""
    _step(ctx, reference, acting, "close", text=text)


@case.command("return")
@click.argument("reference")
@click.option("--text", required=True, help="What more the station must do.")
@_AS
@click.pass_context
@operator_errors
def case_return(ctx: click.Context, reference: str, text: str, acting: str) -> None:
    """Return a reported case to the in-charge for more action."""
    _step(ctx, reference, acting, "return", text=text)


def _step(ctx: click.Context, reference: str, acting: str, verb: Verb, preset: str = "",
          text: str = "") -> None:
    """The step through the same domain code as the chat's, in one transaction."""
    from sqlalchemy import select
    from sqlmodel import Session as Db
    from sqlmodel import col

    from bot.app import open_database
    from scheduler.cases.steps import Step, take
    from storage.cases import case_file
    from storage.db import writer
    from storage.models import FeedbackCase, Officer

    config = load_config(ctx.obj)
    engine = writer(open_database(config, command_env(ctx)))
    with Db(engine) as db, db.begin():
        found = case_file(db, reference)
        if found is None:
            _refuse(ctx, f"no case for feedback {reference}; `prayas case list` shows them")
        assert found is not None
        officers = db.execute(select(Officer).where(
            col(Officer.active), col(Officer.role) == "sp_office")).scalars().all()
        officer = next((o for o in officers if str(o.id) == acting.strip()
                        or o.name.strip().casefold() == acting.strip().casefold()), None)
        if officer is None:
            _refuse(ctx, f"--as {acting}: no enrolled SP-office officer of that name or id; "
                         "`prayas officer list` shows them")
        assert officer is not None
        case = db.get(FeedbackCase, found.case.id, with_for_update=True)
        assert case is not None
        step = Step(verb, preset or None, text)
        outcome = take(db, case, officer, step, datetime.now(UTC), config.cases)
        reference, state = found.feedback.reference, case.state
        if outcome != "done":
            _refuse(ctx, f"{reference}: {REFUSED[outcome]}")
    click.echo(f"{reference}: {step.verb} done; the case is {state}")


def _refuse(ctx: click.Context, why: str) -> None:
    click.echo(f"error: {why}", err=True)
    ctx.exit(2)
