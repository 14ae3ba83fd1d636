"""Raising a completed feedback's alerts, in the same transaction as the feedback itself:
an alert is never lost, nor sent twice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session as Db
from sqlmodel import col

from scheduler.cases.opening import open_case
from scheduler.config import AlertRule
from storage import alerts, outbox
from storage.models import Alert, AlertEvent, Officer
from storage.officers import officers_for


def raise_alerts(db: Db, feedback_id: int, station: str, rules: Sequence[AlertRule],
                 now: datetime, case_due: timedelta = timedelta(hours=24)) -> None:
    """One alert per rule matched; one message per officer, naming every reason of this
    feedback that goes to them. Once a feedback reported a demand it is the SP office's
    alone, even if an update takes the demand back: the station's alerts about it are
    withdrawn and only red rules raise."""
    if any(r.severity == "red" for r in rules) or alerts.is_red(db, feedback_id):
        rules = [r for r in rules if r.severity == "red"]
        supersede(db, feedback_id, now)
    raised: list[tuple[Alert, AlertEvent, AlertRule]] = []
    for rule in rules:
        if (found := raise_alert(db, feedback_id, station, rule.id, rule.severity, now)):
            raised.append((*found, rule))
    if raised:  # the case the SP office follows it up in (scheduler/cases)
        open_case(db, feedback_id, station, any(rule.severity == "red" for *_, rule in raised),
                  now, case_due)
    officers: dict[int, tuple[Officer, list[tuple[Alert, AlertEvent]]]] = {}
    for alert, event, rule in raised:
        for officer in officers_for(db, rule.notify, station):
            assert officer.id is not None
            officers.setdefault(officer.id, (officer, []))[1].append((alert, event))
    for officer_id, (officer, theirs) in officers.items():
        red = any(alert.severity == "red" for alert, _ in theirs)
        events = "-".join(str(event.id) for _, event in theirs)
        outbox.queue(db, "red_alert" if red else "alert", officer.urn,
                     f"alerts:{feedback_id}:{events}:officer:{officer_id}",
                     {"alert_ids": [alert.id for alert, _ in theirs], "officer_id": officer_id,
                      "reopened": any(event.event == "reopened" for _, event in theirs)}, now)


def raise_alert(db: Db, feedback_id: int, station_code: str, rule: str, severity: str,
                now: datetime) -> tuple[Alert, AlertEvent] | None:
    """The alert for this feedback and rule, and its event.

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
    return alert, event


def supersede(db: Db, feedback_id: int, now: datetime) -> None:
    """The feedback now reports a demand: its other open alerts are withdrawn, so the
    station neither lists them nor is blamed for them by escalation; the red alert
    tells the SP office everything."""
    for alert in db.execute(select(Alert).where(
            col(Alert.feedback_id) == feedback_id, col(Alert.severity) != "red",
            col(Alert.status).in_(["open", "escalated"]))).scalars():
        alert.status = "superseded"
        db.add(AlertEvent(alert_id=alert.id, event="superseded", at=now))
