"""Raising a completed feedback's alerts, in the same transaction as the feedback itself:
an alert is never lost, nor sent twice."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session as Db
from sqlmodel import col

from scheduler.config import AlertRule
from storage import alerts, outbox
from storage.models import Alert, AlertEvent
from storage.officers import officers_for


def raise_alerts(db: Db, feedback_id: int, station: str, rules: Sequence[AlertRule],
                 now: datetime) -> None:
    """One alert per rule matched, to whom the rule says. Once a feedback reported a
    demand it is the SP office's alone, even if an update takes the demand back: the
    station's alerts about it are withdrawn and only red rules raise."""
    if any(r.severity == "red" for r in rules) or alerts.is_red(db, feedback_id):
        rules = [r for r in rules if r.severity == "red"]
        supersede(db, feedback_id, now)
    for rule in rules:
        raise_alert(db, feedback_id, station, rule.id, rule.severity, rule.notify, now)


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
        outbox.queue(db, kind, officer.urn, f"alert:{alert.id}:{event.id}:officer:{officer.id}",
              {"alert_id": alert.id, "officer_id": officer.id,
               "reopened": existing is not None}, now)
    return alert


def supersede(db: Db, feedback_id: int, now: datetime) -> None:
    """The feedback now reports a demand: its other open alerts are withdrawn, so the
    station neither lists them nor is blamed for them by escalation; the red alert
    tells the SP office everything."""
    for alert in db.execute(select(Alert).where(
            col(Alert.feedback_id) == feedback_id, col(Alert.severity) != "red",
            col(Alert.status).in_(["open", "escalated"]))).scalars():
        alert.status = "superseded"
        db.add(AlertEvent(alert_id=alert.id, event="superseded", at=now))
