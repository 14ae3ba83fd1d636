"""Raising a completed feedback's alerts, in the same transaction as the feedback itself:
an alert is never lost, nor sent twice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session as Db

from scheduler.config import AlertRule
from storage import alerts


def raise_alerts(db: Db, feedback_id: int, station: str, rules: Sequence[AlertRule],
                 now: datetime) -> None:
    """One alert per rule matched, to whom the rule says. Once a feedback reported a
    demand it is the SP office's alone, even if an update takes the demand back: the
    station's alerts about it are withdrawn and only red rules raise."""
    if any(r.severity == "red" for r in rules) or alerts.is_red(db, feedback_id):
        rules = [r for r in rules if r.severity == "red"]
        alerts.supersede(db, feedback_id, now)
    for rule in rules:
        alerts.raise_alert(db, feedback_id, station, rule.id, rule.severity, rule.notify,
                           now)
