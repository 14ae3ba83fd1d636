"""An alert nobody acknowledged in time (`alerts.acknowledge_within_hours`) goes up to
the SP office."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from sqlmodel import Session as Db
from sqlmodel import col

from scheduler.config import Config
from storage import outbox
from storage.db import writer
from storage.models import Alert, AlertEvent
from storage.officers import officers_for


def escalate(engine: Engine, config: Config, now: datetime) -> int:
    """Escalate what is overdue at `now`; how many alerts went up."""
    window = timedelta(hours=config.alerts.acknowledge_within_hours)
    with Db(writer(engine)) as db, db.begin():
        return escalate_overdue(db, now, window)


def escalate_overdue(db: Db, now: datetime, window: timedelta) -> int:
    """Open alerts nobody acknowledged within `window` go to the SP office. Not a red
    one: it is the SP office's already, and "passed to the SP office" would be untrue;
    it stays open and first in the SP office's digest."""
    overdue = db.execute(select(Alert).where(col(Alert.status) == "open",
                                             col(Alert.severity) != "red",
                                             col(Alert.created_at) <= now - window)
                         .with_for_update()).scalars().all()
    for alert in overdue:
        alert.status, alert.escalated_at = "escalated", now
        db.add(AlertEvent(alert_id=alert.id, event="escalated", at=now))
        for officer in officers_for(db, ["sp_office"], alert.station_code):
            # once per time it was open: a reopened alert can be overdue again
            outbox.queue(db, "escalation", officer.urn,
                  f"escalation:{alert.id}:{alert.created_at.isoformat()}:officer:{officer.id}",
                  {"alert_id": alert.id, "officer_id": officer.id}, now)
    return len(overdue)
