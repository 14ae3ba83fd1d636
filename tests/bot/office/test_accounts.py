"""The console's accounts from the command line, as an operator runs it: add, list,
reset a password, remove; bad input is one line and exit code 2."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlmodel import Session as Db

from bot.office import accounts
from storage.models import AuditEntry, ConsoleUser
from tests.bot.test_cli import _operator_error, run


def test_accounts_are_added_listed_reset_and_removed(app) -> None:  # type: ignore[no-untyped-def]
    added = run("console", "user", "add", "reader.sahu", "--role", "reader", "--district",
                "BLB", "--password-stdin", stdin="pahla-password\n")
    assert added.returncode == 0, added.stderr
    assert added.stdout == "account reader.sahu added: reader, district BLB\n"
    assert run("console", "user", "list").stdout == "reader.sahu\treader\tBLB\t\n"
    with Db(app.engine) as db:
        user = db.execute(select(ConsoleUser)).scalar_one()
        assert user.password_hash.startswith("$argon2") and "pahla" not in user.password_hash
        signed = accounts.sign_in(db, "reader.sahu", "pahla-password", datetime.now(UTC))
        db.commit()
    assert signed.outcome == "signed_in"
    assert run("console", "user", "reset-password", "reader.sahu", "--password-stdin",
               stdin="doosra-password\n").returncode == 0
    with Db(app.engine) as db:
        assert accounts.sign_in(db, "reader.sahu", "pahla-password",
                                datetime.now(UTC)).outcome == "wrong"
        assert accounts.sign_in(db, "reader.sahu", "doosra-password",
                                datetime.now(UTC)).outcome == "signed_in"
    assert run("console", "user", "remove", "reader.sahu").returncode == 0
    assert run("console", "user", "list").stdout == ""
    with Db(app.engine) as db:
        actions = [e.action for e in db.execute(select(AuditEntry).order_by(AuditEntry.id))
                   .scalars()]
    assert actions == ["user_added", "signed_in", "password_reset", "user_removed"]


def test_bad_input_is_one_line(app) -> None:  # type: ignore[no-untyped-def]
    _operator_error(run("console", "user", "add", "x", "--role", "reader", "--password-stdin",
                        stdin="short\n"), "at least 10 characters")
    _operator_error(run("console", "user", "add", "x", "--role", "reader", "--district", "ZZ",
                        "--password-stdin", stdin="long-enough-pass\n"), "--district ZZ")
    assert run("console", "user", "add", "x", "--role", "reader", "--password-stdin",
               stdin="long-enough-pass\n").returncode == 0
    _operator_error(run("console", "user", "add", "x", "--role", "reader", "--password-stdin",
                        stdin="long-enough-pass\n"), "an account 'x' exists")
    _operator_error(run("console", "user", "remove", "nobody"), "no account 'nobody'")
