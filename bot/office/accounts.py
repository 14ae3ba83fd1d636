"""The console's accounts: Argon2 password hashes (argon2-cffi), an account locked for a
while after too many wrong passwords, sessions that end, and an audit log."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session as Db

from storage import console as store
from storage.models import ConsoleSession, ConsoleUser

ROLES = ("sp_office", "reader")
WRONG_BEFORE_LOCK = 5
LOCKED_FOR = timedelta(minutes=15)
SESSION_FOR = timedelta(hours=12)
MIN_PASSWORD = 10
_HASHER = PasswordHasher()
# Verified when the name is unknown, so a wrong name takes as long as a wrong password.
_NOBODY = _HASHER.hash(secrets.token_urlsafe(16))


def hashed(password: str) -> str:
    return _HASHER.hash(password)


def add_user(db: Db, name: str, role: str, district: str | None, password: str,
             now: datetime) -> ConsoleUser:
    user = ConsoleUser(name=name.strip(), role=role, district=district,
                       password_hash=hashed(password), created_at=now)
    db.add(user)
    db.flush()
    store.audit(db, now, None, "user_added", user.name)
    return user


@dataclass(frozen=True)
class SignIn:
    outcome: Literal["signed_in", "wrong", "locked"]
    token: str = ""
    session: ConsoleSession | None = None
    user: ConsoleUser | None = None


def sign_in(db: Db, name: str, password: str, now: datetime) -> SignIn:
    """A session for the right password; a wrong one counts towards locking."""
    user = store.user_named(db, name)
    if user is not None and user.locked_until is not None and user.locked_until > now:
        store.audit(db, now, user.id, "refused_locked")
        return SignIn("locked")
    try:
        _HASHER.verify(user.password_hash if user else _NOBODY, password)
        right = user is not None
    except (VerificationError, InvalidHashError):
        right = False
    if not right or user is None:
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= WRONG_BEFORE_LOCK:
                user.failed_logins, user.locked_until = 0, now + LOCKED_FOR
                store.audit(db, now, user.id, "locked")
                return SignIn("locked")
        store.audit(db, now, user.id if user else None, "refused", "" if user else "?")
        return SignIn("wrong")
    user.failed_logins, user.locked_until = 0, None
    token = secrets.token_urlsafe(32)
    session = ConsoleSession(token_hash=store.token_hash(token), user_id=user.id or 0,
                             csrf=secrets.token_urlsafe(24), created_at=now,
                             expires_at=now + SESSION_FOR)
    db.add(session)
    store.audit(db, now, user.id, "signed_in")
    return SignIn("signed_in", token, session, user)
