"""Alerts and the outbox: raised in the transaction of the feedback that caused them,
acknowledged by officers, escalated when nobody does. Callers own the transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlmodel import Session as Db
from sqlmodel import col

from storage.db import upsert
from storage.models import Alert, AlertEvent, Officer, Outbox, Station

# Sending order: red alerts, alerts, follow-ups, digests.
PRIORITY = {"red_alert": 0, "alert": 1, "escalation": 1, "follow_up": 2, "digest": 3}


def officers_for(db: Db, roles: Iterable[str], station_code: str) -> list[Officer]:
    """The in-charges of the station and/or the SP office of its district."""
    district = _district_of(db, station_code)
    wanted: list[ColumnElement[bool]] = []
    if "in_charge" in roles:
        wanted.append((col(Officer.role) == "in_charge") & (col(Officer.scope) == station_code))
    if "sp_office" in roles:
        wanted.append((col(Officer.role) == "sp_office") & (col(Officer.scope) == district))
    if not wanted:
        return []
    return list(db.execute(select(Officer).where(col(Officer.active), or_(*wanted))).scalars())


def _district_of(db: Db, station_code: str) -> str:
    return db.execute(select(col(Station.district_code)).where(
        col(Station.code) == station_code)).scalar_one()


def officers_of_district(db: Db, district: str) -> list[Officer]:
    return list(db.execute(select(Officer).where(
        col(Officer.active), col(Officer.role) == "sp_office",
        col(Officer.scope) == district)).scalars())


def in_charges(db: Db) -> list[Officer]:
    return list(db.execute(select(Officer).where(col(Officer.active),
                                                 col(Officer.role) == "in_charge")).scalars())


def queue(db: Db, kind: str, recipient: str, key: str, payload: dict[str, Any],
          now: datetime) -> None:
    """One proactive message; the idempotency key makes queueing it twice harmless."""
    db.execute(upsert(db, Outbox).values(
        idempotency_key=key, kind=kind, priority=PRIORITY[kind], recipient=recipient,
        payload=payload, status="pending", attempts=0, next_attempt_at=now, created_at=now,
    ).on_conflict_do_nothing(index_elements=["idempotency_key"]))


def raise_alert(db: Db, feedback_id: int, station_code: str, rule: str, severity: str,
                notify: Iterable[str], now: datetime) -> Alert | None:
    """The alert for this feedback and rule, and a message to each officer it goes to.

    None when the feedback already had it open (a second feedback within a day updated
    it: the officers' message is built when sent, so it shows the latest answers). One
    acknowledged already is reopened: the citizen came back still unhappy, and the same
    officers hear of it again.
    """
    existing = db.execute(select(Alert).where(col(Alert.feedback_id) == feedback_id,
                                              col(Alert.rule) == rule)).scalar_one_or_none()
    if existing is not None and existing.status != "acknowledged":
        return None
    if existing is None:
        alert = Alert(feedback_id=feedback_id, station_code=station_code, rule=rule,
                      severity=severity, status="open", created_at=now)
        db.add(alert)
        db.flush()
        assert alert.id is not None  # the flush gave it its id
        event = AlertEvent(alert_id=alert.id, event="raised", at=now)
    else:
        # Open again from now: its time to be acknowledged starts over.
        alert = existing
        alert.status, alert.created_at, alert.escalated_at = "open", now, None
        event = AlertEvent(alert_id=alert.id, event="reopened", at=now)
    db.add(event)
    db.flush()
    kind = "red_alert" if severity == "red" else "alert"
    for officer in officers_for(db, notify, station_code):
        queue(db, kind, officer.urn, f"alert:{alert.id}:{event.id}:officer:{officer.id}",
              {"alert_id": alert.id, "officer_id": officer.id,
               "reopened": existing is not None}, now)
    return alert


def may_act_on(db: Db, officer: Officer, alert: Alert) -> bool:
    if officer.role == "in_charge":
        # A red alert may be about the station itself: it is the SP office's alone.
        return officer.scope == alert.station_code and alert.severity != "red"
    return officer.scope == _district_of(db, alert.station_code)


def is_red(db: Db, feedback_id: int) -> bool:
    """Whether the feedback has a red alert: then it is the SP office's alone."""
    return db.execute(select(col(Alert.id)).where(
        col(Alert.feedback_id) == feedback_id,
        col(Alert.severity) == "red").limit(1)).first() is not None


def supersede(db: Db, feedback_id: int, now: datetime) -> None:
    """The feedback now reports a demand: its other open alerts are withdrawn, so the
    station neither lists them nor is blamed for them by escalation; the red alert
    tells the SP office everything."""
    for alert in db.execute(select(Alert).where(
            col(Alert.feedback_id) == feedback_id, col(Alert.severity) != "red",
            col(Alert.status).in_(["open", "escalated"]))).scalars():
        alert.status = "superseded"
        db.add(AlertEvent(alert_id=alert.id, event="superseded", at=now))


def acknowledge(db: Db, alert_id: int, officer: Officer, now: datetime,
                note: str | None = None) -> str:
    """'acknowledged', 'already', 'withdrawn' or 'not_yours'."""
    alert = db.get(Alert, alert_id, with_for_update=True)
    if alert is None or not may_act_on(db, officer, alert):
        return "not_yours"
    if alert.status == "acknowledged":
        return "already"
    if alert.status == "superseded":  # a stale button: the feedback is the SP office's now
        return "withdrawn"
    alert.status, alert.acknowledged_at, alert.acknowledged_by = "acknowledged", now, officer.id
    alert.note = note or alert.note
    db.add(AlertEvent(alert_id=alert_id, event="acknowledged", at=now, officer_id=officer.id,
                      note=note))
    return "acknowledged"


def escalate_overdue(db: Db, now: datetime, window: timedelta) -> int:
    """Open alerts nobody acknowledged within `window` go to the SP office."""
    overdue = db.execute(select(Alert).where(col(Alert.status) == "open",
                                             col(Alert.created_at) <= now - window)
                         .with_for_update()).scalars().all()
    for alert in overdue:
        alert.status, alert.escalated_at = "escalated", now
        db.add(AlertEvent(alert_id=alert.id, event="escalated", at=now))
        for officer in officers_for(db, ["sp_office"], alert.station_code):
            # once per time it was open: a reopened alert can be overdue again
            queue(db, "escalation", officer.urn,
                  f"escalation:{alert.id}:{alert.created_at.isoformat()}:officer:{officer.id}",
                  {"alert_id": alert.id, "officer_id": officer.id}, now)
    return len(overdue)


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
        _forget_texts(db, [message_id])


def _forget_texts(db: Db, ids: list[int]) -> None:
    """A long message's text kept for its retry repeats what citizens wrote (a weekly
    digest quotes them): once the message is settled it goes, so no copy outlives the
    comments' retention."""
    for message in db.execute(select(Outbox).where(col(Outbox.id).in_(ids))).scalars():
        if "text_parts" in message.payload:
            message.payload = {k: v for k, v in message.payload.items() if k != "text_parts"}


def forget_personal_data(db: Db, before: datetime) -> dict[str, int]:
    """Comments, voice notes, contacts and conversation state older than `before` go;
    the anonymous scores stay. Returns how many of each were removed."""
    from sqlalchemy import delete

    from storage.models import (
        Answer,
        Contact,
        ContactWindow,
        Conversation,
        Delivery,
        Feedback,
        ProcessedMessage,
    )

    old = select(col(Feedback.id)).where(col(Feedback.started_at) < before)
    # exec, not execute: SQLModel types its result as the CursorResult that has a rowcount
    words = db.exec(update(Answer).where(
        col(Answer.feedback_id).in_(old),
        or_(col(Answer.text).is_not(None), col(Answer.voice_ref).is_not(None)))
        .values(text=None, voice_ref=None)).rowcount
    contacts = db.exec(delete(Contact).where(col(Contact.created_at) < before)).rowcount
    # A conversation's saved state repeats the answers, comment included.
    talks = db.exec(delete(Conversation).where(col(Conversation.updated_at) < before)).rowcount
    db.execute(delete(ProcessedMessage).where(col(ProcessedMessage.received_at) < before))
    # When a (hashed) sender last wrote, and Twilio's reports on what we sent them.
    db.execute(delete(ContactWindow).where(col(ContactWindow.last_inbound_at) < before))
    db.execute(delete(Delivery).where(col(Delivery.updated_at) < before))
    # Settled messages: their recipients include citizens asked a follow-up.
    db.execute(delete(Delivery).where(col(Delivery.outbox_id).in_(
        select(col(Outbox.id)).where(col(Outbox.created_at) < before))))
    db.execute(delete(Outbox).where(col(Outbox.created_at) < before,
                                    col(Outbox.status).not_in(["pending", "held"])))
    left = db.execute(select(col(Outbox.id)).where(col(Outbox.created_at) < before)).scalars()
    _forget_texts(db, list(left))  # held for an officer who has not written since
    return {"comments": words, "contacts": contacts, "conversations": talks}
