"""The web console's accounts, sessions and audit log: queries; the rules (hashing,
locking, how long a session lasts) are bot/office/accounts.py's."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select, update
from sqlmodel import Session as Db
from sqlmodel import col

from storage.models import AuditEntry, ConsoleSession, ConsoleUser


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_named(db: Db, name: str) -> ConsoleUser | None:
    return db.execute(select(ConsoleUser).where(
        col(ConsoleUser.name) == name.strip(), col(ConsoleUser.active))).scalar_one_or_none()


def users(db: Db) -> list[ConsoleUser]:
    return list(db.execute(select(ConsoleUser).where(col(ConsoleUser.active))
                           .order_by(col(ConsoleUser.name))).scalars())


def session_of(db: Db, token: str, now: datetime) -> tuple[ConsoleSession, ConsoleUser] | None:
    """The live session this cookie names, and its account."""
    found = db.get(ConsoleSession, token_hash(token))
    if found is None or found.revoked_at is not None or found.expires_at <= now:
        return None
    user = db.get(ConsoleUser, found.user_id)
    return (found, user) if user is not None and user.active else None


def revoke_all(db: Db, user_id: int, now: datetime) -> None:
    db.execute(update(ConsoleSession).where(col(ConsoleSession.user_id) == user_id,
                                            col(ConsoleSession.revoked_at).is_(None))
               .values(revoked_at=now))


def audit(db: Db, now: datetime, user_id: int | None, action: str, target: str = "") -> None:
    db.add(AuditEntry(at=now, user_id=user_id, action=action, target=target[:120]))
