"""Files kept for Twilio to fetch: WhatsApp sends media only from a public URL, so a
digest's chart and tables are stored here and served by `prayas serve` until they expire.

The address is a random token, as unguessable as a password, and the row is deleted when
it expires: what Twilio fetched stays with WhatsApp, not on our server for ever.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session as Db
from sqlmodel import col

from storage.models import Media

KEPT = timedelta(days=2)  # Twilio fetches at once; a retry of the message may come later


def keep(db: Db, name: str, content_type: str, body: bytes, now: datetime) -> str:
    """Store a file; returns the token of its address."""
    token = secrets.token_urlsafe(32)
    db.add(Media(token=token, name=name, content_type=content_type, body=body,
                 expires_at=now + KEPT))
    return token


def find(db: Db, token: str, now: datetime) -> Media | None:
    media = db.get(Media, token)
    return media if media is not None and media.expires_at > now else None


def sweep(db: Db, now: datetime) -> int:
    """Delete expired files; returns how many."""
    # exec, not execute: SQLModel types its result as the CursorResult that has a rowcount
    return db.exec(delete(Media).where(col(Media.expires_at) <= now)).rowcount
