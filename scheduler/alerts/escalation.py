"""An alert nobody acknowledged in time (`alerts.acknowledge_within_hours`) goes up to
the SP office."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session as Db

from scheduler.config import Config
from storage import alerts
from storage.db import writer


def escalate(engine: Engine, config: Config, now: datetime) -> int:
    """Escalate what is overdue at `now`; how many alerts went up."""
    window = timedelta(hours=config.alerts.acknowledge_within_hours)
    with Db(writer(engine)) as db, db.begin():
        return alerts.escalate_overdue(db, now, window)
