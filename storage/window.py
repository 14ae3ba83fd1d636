"""WhatsApp's 24-hour window, held proactive messages, and Twilio's delivery reports.

WhatsApp lets a business send free text only within 24 hours of the person's last
message; outside it, only an approved template. Callers own the transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlmodel import Session as Db
from sqlmodel import col

from storage.db import upsert
from storage.models import ContactWindow, Delivery, Outbox

WINDOW = timedelta(hours=24)
# Leave a margin: a message queued at 23:59:50 may reach WhatsApp after the window closed.
MARGIN = timedelta(minutes=5)


def seen(db: Db, sender: str, now: datetime) -> None:
    """The sender (an HMAC) wrote to us: the window is open for 24 hours from now."""
    db.execute(upsert(db, ContactWindow).values(sender=sender, last_inbound_at=now)
               .on_conflict_do_update(index_elements=["sender"], set_={"last_inbound_at": now}))


def is_open(db: Db, sender: str, now: datetime) -> bool:
    last = db.execute(select(col(ContactWindow.last_inbound_at))
                      .where(col(ContactWindow.sender) == sender)).scalar_one_or_none()
    return last is not None and now < last + WINDOW - MARGIN


def release_held(db: Db, recipient: str, now: datetime) -> int:
    """The officer wrote to us: what was held for them goes out now, in the window."""
    released = db.connection().execute(
        update(Outbox).where(col(Outbox.recipient) == recipient, col(Outbox.status) == "held")
        .values(status="pending", next_attempt_at=now, released_at=now))
    return released.rowcount


def record_send(db: Db, sid: str, outbox_id: int | None, now: datetime) -> None:
    """A message Twilio accepted; its delivery report will name it by `sid`."""
    db.execute(upsert(db, Delivery).values(sid=sid, outbox_id=outbox_id, status="accepted",
                                           updated_at=now)
               # the delivery report may have come first: keep its status, add the message
               .on_conflict_do_update(index_elements=["sid"], set_={"outbox_id": outbox_id}))


def record_status(db: Db, sid: str, status: str, error_code: int | None,
                  now: datetime) -> int | None:
    """Twilio's report on one of our messages; returns its outbox message, if any."""
    db.execute(upsert(db, Delivery).values(sid=sid, status=status[:16], error_code=error_code,
                                           updated_at=now)
               .on_conflict_do_update(index_elements=["sid"],
                                      set_={"status": status[:16], "error_code": error_code,
                                            "updated_at": now}))
    return db.execute(select(col(Delivery.outbox_id))
                      .where(col(Delivery.sid) == sid)).scalar_one()


def resend_as_template(db: Db, outbox_id: int, now: datetime) -> None:
    """Free text was refused (63016: outside the window): send it again as a template."""
    message = db.get(Outbox, outbox_id, with_for_update=True)
    if message is None or message.status not in ("sent", "pending"):
        return
    message.payload = {**message.payload, "template": True}
    message.status, message.next_attempt_at, message.last_error = "pending", now, "63016"
    message.released_at = None  # the template, then held until they write
