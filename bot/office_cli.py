"""`prayas console user …`: the web console's accounts, on the SP office's computer. A
password comes from a prompt (typed twice) or, with --password-stdin, from a pipe;
never from the command line, where the shell's history would keep it."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click

from bot.cli_common import command_env, load_config, operator_errors


@click.group()
def console() -> None:
    """The SP office's web console (`prayas serve`, at console.path)."""


@console.group()
def user() -> None:
    """Console accounts: add, list, remove, reset a password."""


def _password(from_stdin: bool) -> str:
    from bot.office.accounts import MIN_PASSWORD

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD:
        click.echo(f"error: the password needs at least {MIN_PASSWORD} characters", err=True)
        sys.exit(2)
    return password


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["sp_office", "reader"]),
              help="sp_office reads and acts; reader only reads.")
@click.option("--district", metavar="CODE", help="Only this district (default: every one).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_context
@operator_errors
def user_add(ctx: click.Context, name: str, role: str, district: str | None,
             password_stdin: bool) -> None:
    """Add an account NAME."""
    from sqlmodel import Session as Db

    from bot.app import open_database
    from bot.office.accounts import add_user
    from storage import console as store
    from storage.db import writer

    config = load_config(ctx.obj)
    if district is not None and district not in [d.code for d in config.districts]:
        codes = ", ".join(d.code for d in config.districts)
        click.echo(f"error: --district {district}: no such district; the config has {codes}",
                   err=True)
        ctx.exit(2)
    if not name.strip() or len(name) > 64:
        click.echo("error: NAME: 1 to 64 characters", err=True)
        ctx.exit(2)
    password = _password(password_stdin)
    engine = writer(open_database(config, command_env(ctx)))
    with Db(engine) as db, db.begin():
        if store.user_named(db, name) is not None:
            click.echo(f"error: an account {name!r} exists; `prayas console user "
                       "reset-password` changes its password", err=True)
            ctx.exit(2)
        add_user(db, name, role, district, password, datetime.now(UTC))
    click.echo(f"account {name} added: {role}" + (f", district {district}" if district else ""))


@user.command("list")
@click.pass_context
@operator_errors
def user_list(ctx: click.Context) -> None:
    """The accounts: name, role, district, whether locked now."""
    from sqlmodel import Session as Db

    from bot.app import open_database
    from storage import console as store

    engine = open_database(load_config(ctx.obj), command_env(ctx))
    now = datetime.now(UTC)
    with Db(engine) as db:
        for found in store.users(db):
            locked = "locked" if found.locked_until and found.locked_until > now else ""
            click.echo(f"{found.name}\t{found.role}\t{found.district or 'all'}\t{locked}")


@user.command("remove")
@click.argument("name")
@click.pass_context
@operator_errors
def user_remove(ctx: click.Context, name: str) -> None:
    """End an account and its sessions (what it did stays in the audit log)."""
    _change(ctx, name, None)


@user.command("reset-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_context
@operator_errors
def user_reset(ctx: click.Context, name: str, password_stdin: bool) -> None:
    """A new password for NAME; its sessions end and a lock is lifted."""
    _change(ctx, name, _password(password_stdin))


def _change(ctx: click.Context, name: str, password: str | None) -> None:
    from sqlmodel import Session as Db

    from bot.app import open_database
    from bot.office.accounts import hashed
    from storage import console as store
    from storage.db import writer

    engine = writer(open_database(load_config(ctx.obj), command_env(ctx)))
    now = datetime.now(UTC)
    with Db(engine) as db, db.begin():
        found = store.user_named(db, name)
        if found is None or found.id is None:
            click.echo(f"error: no account {name!r}; `prayas console user list` shows them",
                       err=True)
            ctx.exit(2)
        assert found is not None and found.id is not None
        store.revoke_all(db, found.id, now)
        if password is None:
            found.active = False
            store.audit(db, now, None, "user_removed", name)
        else:
            found.password_hash, found.failed_logins, found.locked_until = (
                hashed(password), 0, None)
            store.audit(db, now, None, "password_reset", name)
    click.echo(f"account {name} " + ("removed" if password is None else "has a new password"))
