"""The `prayas` command. Thin: read config, build the app, call one function.

Operator mistakes (a bad config, an unwritable path, an unknown station) end with
one line on stderr naming the file, key or value and the fix, and exit code 2.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.case_cli import case
from bot.cli_common import ENV, command_env, load_config, operator_errors
from bot.environment import Environment
from bot.office_cli import console
from bot.report_cli import report
from scheduler.errors import ConfigError

if TYPE_CHECKING:
    from scheduler.app import App
    from scheduler.config import Config



@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_file", metavar="FILE", envvar="PRAYAS_CONFIG",
              help="The district's config.yaml (default: $PRAYAS_CONFIG, else ./config.yaml).")
@click.option("-v", "--verbose", is_flag=True, help="Log what the app does, to stderr.")
@click.pass_context
def main(ctx: click.Context, config_file: str | None, verbose: bool) -> None:
    """Prayas: citizen feedback on police stations, by QR code, Hindi first."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL, and Telegram's URLs carry the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    ctx.obj = Path(config_file or "config.yaml")  # click reads $PRAYAS_CONFIG
    ctx.meta[ENV] = Environment.read()  # once; everything else is handed this


def _env(ctx: click.Context) -> Environment:
    return command_env(ctx)


def _app(ctx: click.Context) -> App:
    from bot.app import build_app

    return build_app(ctx.obj, _env(ctx))


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
    from bot.app import run_console
    from bot.console import console_urn

    app = _app(ctx)
    if app.config.station(station) is None:
        codes = ", ".join(s.code for _, s in list(app.config.stations())[:5])
        raise ConfigError(f"{ctx.obj}: no station with code {station!r}; "
                          f"codes look like {codes} (see `prayas stations`)")
    interactive = sys.stdin.isatty()

    def prompt() -> None:
        click.echo("> ", nl=False)

    lines = _terminal_lines() if interactive else sys.stdin
    done = run_console(app, _env(ctx), console_urn(sender), station, lang, lines, sys.stdout,
                       prompt if interactive else None, echo=not interactive)
    if not done:
        click.echo("feedback not completed; the answers given so far are saved as incomplete",
                   err=True)
    sys.exit(0 if done else 1)


def _terminal_lines() -> Iterator[str]:
    click.echo("> ", nl=False)
    while True:
        try:
            yield input()
        except (EOFError, KeyboardInterrupt):
            click.echo()
            return


@main.command()
@click.argument("reference")
@click.pass_context
@operator_errors
def contact(ctx: click.Context, reference: str) -> None:
    """How the SP office can reach the citizen of feedback REFERENCE (FB-26-000123).

    Only when they said yes to "May the SP office contact you?": a WhatsApp citizen's
    number; a Telegram citizen has only a chat id, which nobody can call. This is the
    one place the address leaves the database: never in an officer's message, an export
    or a log. Exits 1 when there is no number to give: the citizen did not agree,
    retention removed it, or they wrote on Telegram.
    """
    from sqlmodel import Session as Db

    from storage.feedback import contact_of

    app = _app(ctx)
    with Db(app.engine) as db:
        found = contact_of(db, reference)
    if found is None:
        raise ConfigError(f"no feedback numbered {reference!r}; copy the number from the "
                          "alert or the export, like FB-26-000123")
    feedback, kept = found
    if kept is None or not kept.may_contact:
        click.echo(f"{feedback.reference}: the citizen did not agree to be contacted")
        sys.exit(1)
    channel, _, address = kept.urn.partition(":")
    logging.getLogger(__name__).info("the contact of %s was read", feedback.reference)
    if channel != "whatsapp":
        click.echo(f"{feedback.reference}: a {channel.title()} user; no phone number is "
                   "known, so they can be reached only through the bot")
        sys.exit(1)
    click.echo(f"{feedback.reference}: {address} (WhatsApp)")


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
    from bot.app import check_quick_replies, district_survey
    from scheduler.alerts.rules import check_rules
    from scheduler.catalogs import Catalogs

    config = load_config(ctx.obj)
    survey = district_survey(config, Catalogs.load(config.languages, _env(ctx).locale_folder()))
    check_rules(config, survey)
    check_quick_replies(config, survey, Path(ctx.obj))
    logo = Path(ctx.obj).parent / config.campaign.logo if config.campaign.logo else None
    if logo is not None and not logo.is_file():  # the posters need it; say so now
        raise ConfigError(f"{ctx.obj}: campaign.logo: no file {logo}; give a PNG or JPEG "
                          "path relative to the config file, or leave it empty")
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
    from storage.db import open_engine, upgrade

    config = load_config(ctx.obj)
    engine = open_engine(_env(ctx).database(config))
    before, after = upgrade(engine)
    click.echo(f"database at revision {after}" + (f" (was {before or 'empty'})"
                                                  if before != after else " (up to date)"))


@db.command("current")
@click.pass_context
@operator_errors
def db_current(ctx: click.Context) -> None:
    """Show the database's schema revision and the newest one this version knows."""
    from storage.db import current_revision, head_revision, open_engine

    config = load_config(ctx.obj)
    engine = open_engine(_env(ctx).database(config))
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
    from scheduler import export as exporter
    from storage.export import count_rows, export_rows

    fmt = fmt or out.suffix.lstrip(".").lower()
    if fmt not in ("csv", "xlsx"):
        raise click.BadParameter("give --format csv|xlsx or an --out ending in .csv/.xlsx",
                                 param_hint="--format")
    first, last = _day(since, "--since"), _day(until, "--until")
    if first and last and first > last:
        raise click.BadParameter(f"{since} is after --until {until}; swap them",
                                 param_hint="--since")
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


@main.command()
@click.pass_context
@operator_errors
def poll(ctx: click.Context) -> None:
    """Run the Telegram bot by long polling (one small deployment, or development).

    Needs TELEGRAM_BOT_TOKEN; TELEGRAM_BASE_URL points at a self-hosted Bot API server.
    """
    from bot.app import run_polling

    _env(ctx).bot_token()  # fail before opening the database when the token is missing
    run_polling(_app(ctx), _env(ctx))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=int, help="Port to listen on.")
@click.pass_context
@operator_errors
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Run the web app: the channels' webhooks, /healthz and the scheduler.

    Telegram (telegram.webhook_path) when TELEGRAM_BOT_TOKEN is set; it also needs
    TELEGRAM_WEBHOOK_SECRET and registers the webhook at telegram.public_url on start.
    WhatsApp (whatsapp.webhook_path, whatsapp.status_path) when whatsapp.number is set;
    it needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.
    """
    from bot.web import serve as run_server

    config, env = load_config(ctx.obj), _env(ctx)
    telegram = bool(env.telegram_token)
    whatsapp = bool(config.whatsapp.number)
    if not telegram and not whatsapp:
        raise ConfigError(f"{ctx.obj}: no channel to serve; set TELEGRAM_BOT_TOKEN in the "
                          "environment and/or whatsapp.number in the config")
    if telegram:
        env.webhook_secret()
    if whatsapp:
        env.twilio()
    _can_listen(host, port)
    app = _app(ctx)
    channels = " and ".join(name for name, on in (("Telegram", telegram), ("WhatsApp", whatsapp))
                            if on)
    click.echo(f"serving {channels} on http://{_url_host(host)}:{port} (/healthz); "
               "Ctrl+C stops",
               err=True)
    run_server(app, env, host, port, telegram=telegram, whatsapp=whatsapp)


def _can_listen(host: str, port: int) -> None:
    """A port already taken fails here, in one line, not in uvicorn after the start-up.
    Bound as asyncio's server will bind: every address of the host, IPv6 on its own."""
    import socket

    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                       flags=socket.AI_PASSIVE)
        for family, kind, proto, _, address in addresses:
            with socket.socket(family, kind, proto) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                probe.bind(address)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {_url_host(host)}:{port} "
                          f"({exc.strerror or exc}); stop what uses that port or pass "
                          "another with --port") from None


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _can_send(config: Config, env: Environment, path: Path) -> None:
    """Fail before any work when no channel can send: one line saying what to set."""
    if config.whatsapp.number:
        env.twilio()
    elif not env.telegram_token:
        raise ConfigError(f"{path}: nothing can send; set TELEGRAM_BOT_TOKEN in the "
                          "environment and/or whatsapp.number in the config (with "
                          "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)")


@main.group()
def officer() -> None:
    """Officers: invite by one-time link, list, remove."""


@officer.command("invite")
@click.option("--role", required=True, type=click.Choice(["in_charge", "sdop", "sp_office"]))
@click.option("--station", metavar="CODE", help="The station (for an in-charge).")
@click.option("--subdivision", metavar="CODE", help="The subdivision (for an SDOP).")
@click.option("--district", metavar="CODE", help="The district (for the SP office; default: "
              "the station's district, or the only district).")
@click.option("--name", default="", help="The officer's name, shown in their welcome.")
@click.option("--channel", type=click.Choice(["telegram", "whatsapp"]), default="telegram",
              show_default=True, help="Where the officer will receive alerts and digests.")
@click.pass_context
@operator_errors
def officer_invite(ctx: click.Context, role: str, station: str | None,
                   subdivision: str | None, district: str | None, name: str,
                   channel: str) -> None:
    """Print a one-time, expiring link; opening it enrols that Telegram or WhatsApp account.

    WhatsApp: the link opens a chat with the token typed in; the officer presses send.
    """
    from datetime import UTC, datetime, timedelta

    from sqlmodel import Session as Db

    from bot.app import open_database
    from bot.posters.links import whatsapp_link
    from storage import officers as store
    from storage.db import writer

    config = load_config(ctx.obj)
    if channel == "telegram" and not config.telegram.bot_username:
        raise ConfigError(f"{ctx.obj}: telegram.bot_username is empty; set it to the bot's "
                          "username from @BotFather")
    if channel == "whatsapp" and not config.whatsapp.number:
        raise ConfigError(f"{ctx.obj}: whatsapp.number is empty; set it to the WhatsApp "
                          "sender number of your Twilio account")
    scope = _officer_scope(config, role, station, district, ctx.obj, subdivision)
    engine = open_database(config, _env(ctx))
    valid = timedelta(hours=config.telegram.invite_valid_hours)
    with Db(writer(engine)) as db, db.begin():
        token = store.invite(db, role, scope, name, datetime.now(UTC), valid)
    if channel == "whatsapp":
        click.echo(whatsapp_link(config.whatsapp.number, token))
    else:
        click.echo(f"https://t.me/{config.telegram.bot_username}?start={token}")
    click.echo(f"one use, valid for {config.telegram.invite_valid_hours} hours; "
               f"role {role}, scope {scope}", err=True)


def _officer_scope(config: Config, role: str, station: str | None, district: str | None,
                   path: Path, subdivision: str | None = None) -> str:
    if role == "sdop":
        codes = [s.code for d in config.districts for s in d.subdivisions]
        if subdivision not in codes:
            given = f"no subdivision {subdivision!r}" if subdivision else "no --subdivision"
            raise ConfigError(f"{path}: an SDOP needs --subdivision CODE, one of the "
                              f"districts' subdivisions ({given}; they are: "
                              f"{', '.join(codes) or 'none yet'})")
        return str(subdivision)
    if role == "in_charge":
        found = config.station(station or "")
        if found is None:
            given = f"no station {station!r}" if station else "no --station given"
            raise ConfigError(f"{path}: an in-charge needs --station CODE of a known station "
                              f"({given}; see `prayas stations`)")
        return found.code
    if district is None and station:
        district = config.district_of(station)
    if district is None and len(config.districts) == 1:
        district = config.districts[0].code
    codes = [d.code for d in config.districts]
    if district not in codes:
        raise ConfigError(f"{path}: the SP office needs --district, one of {', '.join(codes)}")
    return str(district)


@officer.command("list")
@click.pass_context
@operator_errors
def officer_list(ctx: click.Context) -> None:
    """Enrolled officers: id, role, scope, name, language, enrolled (UTC)."""
    from sqlalchemy import select
    from sqlmodel import Session as Db
    from sqlmodel import col

    from bot.app import open_database
    from storage.models import Officer

    engine = open_database(load_config(ctx.obj), _env(ctx))
    with Db(engine) as db:
        officers = db.execute(select(Officer).where(col(Officer.active))).scalars().all()
    for o in officers:
        click.echo(f"{o.id}\t{o.role}\t{o.scope}\t{o.name}\t{o.language}\t"
                   f"{o.enrolled_at:%Y-%m-%d %H:%M}")
    if not officers:  # on stderr: a script reading the list still gets an empty one
        click.echo("No officer is enrolled yet: an officer enrols by opening the link "
                   "`prayas officer invite` gives them.", err=True)


@officer.command("remove")
@click.argument("officer_id", type=int)
@click.pass_context
@operator_errors
def officer_remove(ctx: click.Context, officer_id: int) -> None:
    """Stop an officer's access (keeps the record of what they did)."""
    from sqlmodel import Session as Db

    from bot.app import open_database
    from storage.db import writer
    from storage.models import Officer

    engine = open_database(load_config(ctx.obj), _env(ctx))
    with Db(writer(engine)) as db, db.begin():
        found = db.get(Officer, officer_id)
        if found is None:
            raise ConfigError(f"no officer with id {officer_id} (see `prayas officer list`)")
        found.active = False
    click.echo(f"officer {officer_id} removed")


def _names(value: str | None, allowed: tuple[str, ...], option: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    names = tuple(v.strip().lower() for v in value.split(",") if v.strip())
    if bad := [n for n in names if n not in allowed]:
        raise click.BadParameter(f"{bad[0]!r}; use any of {', '.join(allowed)}",
                                 param_hint=option)
    return names


@main.command()
@click.option("--station", "stations", multiple=True, metavar="CODE",
              help="Only this station (repeat for more; default: every station).")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the posters and index.csv.")
@click.option("--format", "formats", default="png,pdf", show_default=True,
              help="png (300 dpi), pdf (vector) and/or svg (vector), comma-separated.")
@click.option("--channel", "channels", default=None,
              help="telegram and/or whatsapp (default: every channel the config sets up).")
@click.pass_context
@operator_errors
def qr(ctx: click.Context, stations: tuple[str, ...], out: Path, formats: str,
       channels: str | None) -> None:
    """Print-ready A4 posters with the station's QR codes, in Hindi and English."""
    from bot.posters.make import CHANNELS, FORMATS, configured_channels, make_posters
    from scheduler.catalogs import Catalogs

    config = load_config(ctx.obj)
    chosen_formats = _names(formats, FORMATS, "--format") or ("png", "pdf")
    chosen_channels = _names(channels, CHANNELS, "--channel")
    for channel in chosen_channels or ():
        if channel not in configured_channels(config):
            key = "telegram.bot_username" if channel == "telegram" else "whatsapp.number"
            raise ConfigError(f"{ctx.obj}: {key} is empty; set it to put {channel} on posters")
    catalogs = Catalogs.load(["hi", "en"], _env(ctx).locale_folder())
    total = len(stations) or sum(1 for _ in config.stations())
    with click.progressbar(length=total, label="posters", file=sys.stderr) as bar:
        logo = (Path(ctx.obj).parent / config.campaign.logo) if config.campaign.logo else None
        made = make_posters(config, catalogs, list(stations) or None, chosen_channels,
                            chosen_formats, out, lambda: bar.update(1), logo)
    click.echo(f"wrote {made} posters and index.csv to {out}")


@main.command()
@click.option("--print", "to_print", is_flag=True, help="Print the digest here.")
@click.option("--send", "to_send", is_flag=True,
              help="Send it now to the enrolled SP office (or, with --station, the station's "
                   "in-charges) on Telegram (TELEGRAM_BOT_TOKEN) and/or WhatsApp "
                   "(whatsapp.number, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN).")
@click.option("--date", "day", metavar="YYYY-MM-DD",
              help="The day to report (district time; default: yesterday).")
@click.option("--district", metavar="CODE", help="Default: the only district.")
@click.option("--station", metavar="CODE",
              help="The in-charge's weekly digest for this station instead (the 7 days "
                   "up to --date).")
@click.option("--lang", type=click.Choice(["hi", "en"]), default="hi", show_default=True)
@click.pass_context
@operator_errors
def digest(ctx: click.Context, to_print: bool, to_send: bool, day: str | None,
           district: str | None, station: str | None, lang: str) -> None:
    """The SP office's daily digest (the day, 7-day trend, rankings, silent stations, alerts),
    or with --station an in-charge's weekly one. Sent on schedule by poll/serve."""
    from datetime import UTC, datetime, timedelta

    from scheduler.digests.digest import Digest

    if not (to_print or to_send):
        raise click.UsageError("give --print, --send or both")
    if to_send:
        _can_send(load_config(ctx.obj), _env(ctx), ctx.obj)
    app = _app(ctx)
    codes = [d.code for d in app.config.districts]
    chosen = district or (codes[0] if len(codes) == 1 else None)
    found = next((d for d in app.config.districts if d.code == chosen), None)
    if found is None:
        given = f"no district {district!r}" if district else "several districts"
        raise ConfigError(f"{ctx.obj}: {given}; give --district, one of {', '.join(codes)}")
    now = datetime.now(UTC)
    when = _day(day, "--date") or (now.astimezone(app.config.zone).date() - timedelta(days=1))
    digests = Digest(app.engine, app.config, app.catalogs)
    known = None
    if station:
        known = app.config.station(station)
        if known is None:
            raise ConfigError(f"{ctx.obj}: no station with code {station!r} "
                              "(see `prayas stations`)")
        reply = digests.weekly(known.code, when, lang, now)
    else:
        reply = digests.daily(found, when, lang, now)
    if to_print:
        click.echo(app.catalogs.render(reply))
    if to_send:
        from bot.app import send_digests_now

        sent = send_digests_now(app, _env(ctx), found.code, known.code if known else None,
                                when, now)
        click.echo(f"sent to {sent} officer(s)", err=True)


main.add_command(case)
main.add_command(report)
main.add_command(console)
