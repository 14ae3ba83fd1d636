"""Personal data goes by the retention rule (`retention.personal_data_days`): contacts
kept for a call-back, and the copies of digest files WhatsApp fetched. Nothing else."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session as Db

from scheduler.app import App
from storage import alerts, media
from storage.db import keep_statistics, writer


def forget(app: App, now: datetime) -> dict[str, int]:
    cutoff = now - timedelta(days=app.config.retention.personal_data_days)
    with Db(writer(app.engine)) as db, db.begin():
        removed = alerts.forget_personal_data(db, cutoff)
        removed["media"] = media.sweep(db, now)  # WhatsApp's copies of digest files
    keep_statistics(app.engine)  # the tables grew since the last six hours
    return removed
