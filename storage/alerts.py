"""Alerts: the queries the alert feature (scheduler/alerts) and the digests need."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session as Db
from sqlmodel import col

from storage.models import Alert


def is_red(db: Db, feedback_id: int) -> bool:
    """Whether the feedback has a red alert: then it is the SP office's alone."""
    return db.execute(select(col(Alert.id)).where(
        col(Alert.feedback_id) == feedback_id,
        col(Alert.severity) == "red").limit(1)).first() is not None
