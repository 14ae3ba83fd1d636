"""Queueing the digests in the outbox: the SP office's daily one, each in-charge's weekly
one. The dispatcher builds and sends them; the key makes queueing one twice harmless."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import Session as Db

from scheduler.app import App
from storage import outbox, rollup
from storage.db import writer
from storage.models import Officer
from storage.officers import in_charges, officers_of_district


def queue_digest(db: Db, officer: Officer, about: dict[str, str], day: date, kind: str,
                  now: datetime) -> str:
    """One digest for one officer; the key makes queueing the same one twice harmless."""
    scope = about.get("station") or about["district"]
    key = f"{kind}:{scope}:{day.isoformat()}:officer:{officer.id}"
    outbox.queue(db, "digest", officer.urn, key,
                 {**about, "date": day.isoformat(), "officer_id": officer.id}, now)
    return key


def queue_daily_digests(app: App, now: datetime) -> int:
    """Yesterday's digest for each district's SP office."""
    day = now.astimezone(app.config.zone).date() - timedelta(days=1)
    with Db(writer(app.engine)) as db, db.begin():
        chosen = [(o, d.code) for d in app.config.districts
                  for o in officers_of_district(db, d.code)]
        for officer, district in chosen:
            queue_digest(db, officer, {"district": district}, day, "digest", now)
    return len(chosen)


def queue_weekly_digests(app: App, now: datetime) -> int:
    """Each in-charge's week, up to yesterday."""
    day = now.astimezone(app.config.zone).date() - timedelta(days=1)
    with Db(writer(app.engine)) as db, db.begin():
        chosen = in_charges(db)
        for officer in chosen:
            queue_digest(db, officer, {"station": officer.scope}, day, "weekly", now)
    return len(chosen)


def queue_digests_now(app: App, district: str, station: str | None, day: date,
                      now: datetime) -> set[str]:
    """`prayas digest --send`: the digest for `day`, queued for its officers now; the
    keys of what was queued, for the dispatcher to send these alone."""
    with Db(writer(app.engine)) as db, db.begin():
        officers = ([o for o in in_charges(db) if o.scope == station] if station
                    else officers_of_district(db, district))
        about = {"station": station} if station else {"district": district}
        # "manual" + the time: sending again on purpose is allowed
        return {queue_digest(db, officer, about, day, f"manual@{now.isoformat()}", now)
                for officer in officers}


def roll_up(app: App, now: datetime) -> int:
    """Keep yesterday and today rolled up, so the morning digest finds them ready (at a
    state's size, rolling a day up takes longer than the digest itself)."""
    today = now.astimezone(app.config.zone).date()
    return rollup.refresh(app.engine, today - timedelta(days=1), today, app.config.zone,
                          app.config.digests.burst_minutes)
