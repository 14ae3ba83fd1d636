"""The outbox: every proactive message, queued in the transaction of its cause and
settled by the dispatcher. Callers own the transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session as Db
from sqlmodel import col

from storage.db import upsert
from storage.models import Outbox

# Sending order: red alerts, alerts, follow-ups, digests.
PRIORITY = {"red_alert": 0, "alert": 1, "escalation": 1, "case": 1, "follow_up": 2,
            "closure_check": 2, "digest": 3, "report": 3}


def queue(db: Db, kind: str, recipient: str, key: str, payload: dict[str, Any],
          now: datetime) -> None:
    """One proactive message; the idempotency key makes queueing it twice harmless."""
    db.execute(upsert(db, Outbox).values(
        idempotency_key=key, kind=kind, priority=PRIORITY[kind], recipient=recipient,
        payload=payload, status="pending", attempts=0, next_attempt_at=now, created_at=now,
    ).on_conflict_do_nothing(index_elements=["idempotency_key"]))


def due(db: Db, now: datetime, limit: int = 50) -> list[Outbox]:
    return list(db.execute(
        select(Outbox).where(col(Outbox.status) == "pending",
                             col(Outbox.next_attempt_at) <= now)
        .order_by(col(Outbox.priority), col(Outbox.id)).limit(limit)).scalars())


def settle(db: Db, message_id: int, status: str, now: datetime, error: str | None = None,
           retry_at: datetime | None = None) -> None:
    """Record how a send went: sent, failed, stale, or pending again at `retry_at`."""
    values: dict[str, Any] = {"status": status, "last_error": error}
    if status == "sent":
        values["sent_at"] = now
    if retry_at is not None:
        values["next_attempt_at"] = retry_at
    db.execute(update(Outbox).where(col(Outbox.id) == message_id)
               .values(attempts=col(Outbox.attempts) + 1, **values))
    if status not in ("pending", "held"):
        forget_texts(db, [message_id])


def forget_texts(db: Db, ids: list[int]) -> None:
    """A long message's text kept for its retry repeats what citizens wrote (a weekly
    digest quotes them): once the message is settled it goes, so no copy outlives the
    comments' retention."""
    for message in db.execute(select(Outbox).where(col(Outbox.id).in_(ids))).scalars():
        if "text_parts" in message.payload:
            message.payload = {k: v for k, v in message.payload.items() if k != "text_parts"}


