"""Voice notes and photos, kept by the hash of the platform's reference (a Telegram
file id, Twilio's media URL): fetched once, sent to any officer on any channel."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session as Db
from sqlmodel import col

from storage.models import Recording

FORGOTTEN = "forgotten by the retention rule"


def ref_hash(ref: str) -> str:
    return hashlib.sha256(ref.encode()).hexdigest()


def find(db: Db, ref: str) -> Recording | None:
    return db.get(Recording, ref_hash(ref))


def keep(db: Db, ref: str, kind: str, citizen: bool, now: datetime, content_type: str = "",
         body: bytes | None = None, missing: str | None = None) -> None:
    """The file fetched (or why it could not be); kept once, whoever fetched it first."""
    if find(db, ref) is None:
        db.add(Recording(ref_hash=ref_hash(ref), kind=kind, citizen=citizen,
                         content_type=content_type, body=body, missing=missing,
                         fetched_at=now))


def forget_before(db: Db, before: datetime) -> int:
    """Delete the bodies of recordings fetched before `before`, citizens' and officers'
    alike (an officer's voice note may name the citizen, as his words may); how many."""
    return db.exec(update(Recording).where(  # exec: typed as a result with a rowcount
        col(Recording.fetched_at) < before,
        col(Recording.body).is_not(None)).values(body=None, missing=FORGOTTEN)).rowcount
