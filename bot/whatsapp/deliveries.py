"""Twilio's delivery reports: recorded, and acted on when a message could not go out.

A free-text proactive message that WhatsApp refuses after accepting it (63016: the
window had closed) is queued again as its template; 21610 (the person unsubscribed)
marks their conversation so nothing more is sent to them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session as Db

from bot.whatsapp.twilio_api import OPTED_OUT, OUTSIDE_WINDOW
from scheduler.identity import Identity
from storage import feedback, window
from storage.db import writer

FAILED = ("failed", "undelivered")


class Deliveries:
    def __init__(self, engine: Engine, identity: Identity) -> None:
        self.engine, self.identity = writer(engine), identity

    def sent(self, sid: str, outbox_id: int | None, now: datetime) -> None:
        with Db(self.engine) as db, db.begin():
            window.record_send(db, sid, outbox_id, now)

    def report(self, sid: str, status: str, error_code: int | None, recipient: str,
               now: datetime) -> None:
        with Db(self.engine) as db, db.begin():
            outbox_id = window.record_status(db, sid, status, error_code, now)
            if status not in FAILED:
                return
            if error_code == OUTSIDE_WINDOW and outbox_id is not None:
                window.resend_as_template(db, outbox_id, now)
            elif error_code == OPTED_OUT and recipient.startswith("whatsapp:"):
                feedback.mark_blocked(db, self.identity.sender(recipient), now)
