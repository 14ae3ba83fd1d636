"""Each station's numbers per local day, kept so that a digest reads a few rows a station
instead of every answer of the week, whatever the size of the history.

A day is rolled up again whenever its feedback changed: its fingerprint (how many
feedback began that day, and their latest change) is kept beside the numbers. So a
late completion, an update within the window or a merge is never missed, and a day
nobody touched is never read twice.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session as Db

from storage.db import writer
from storage.digest import StationNumbers, Sums, sums
from storage.models import Feedback, RolledUpDay, Station, StationDay


def _bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return (datetime.combine(day, time(0), zone),
            datetime.combine(day + timedelta(days=1), time(0), zone))


def _fingerprint(db: Db, day: date, zone: ZoneInfo) -> tuple[int, datetime | None]:
    start, end = _bounds(day, zone)
    count, last = db.execute(select(func.count(), func.max(Feedback.updated_at)).where(
        Feedback.started_at >= start, Feedback.started_at < end)).one()
    return int(count), last


def refresh(engine: Engine, first: date, last: date, zone: ZoneInfo) -> int:
    """Roll up the days first..last that changed since; returns how many were."""
    stale: list[tuple[date, tuple[int, datetime | None], dict[str, Sums]]] = []
    with Db(engine) as db:  # computed without the write lock: citizens never wait on it
        kept = {r.day: r for r in db.execute(select(RolledUpDay).where(
            RolledUpDay.day >= first, RolledUpDay.day <= last)).scalars()}
        day = first
        while day <= last:
            mark = _fingerprint(db, day, zone)
            known = kept.get(day)
            if known is None or (known.zone, known.feedback, known.last_change) != (
                    zone.key, *mark):
                stale.append((day, mark, sums(db, *_bounds(day, zone))))
            day += timedelta(days=1)
    if not stale:
        return 0
    try:
        with Db(writer(engine)) as db, db.begin():
            for day, (count, change), numbers in stale:
                db.execute(delete(StationDay).where(StationDay.day == day))  # type: ignore[arg-type]
                db.execute(delete(RolledUpDay).where(RolledUpDay.day == day))  # type: ignore[arg-type]
                if numbers:
                    db.execute(insert(StationDay), [
                        {"day": day, "station_code": code, **vars(n)}
                        for code, n in numbers.items()])
                db.add(RolledUpDay(day=day, zone=zone.key, feedback=count, last_change=change))
    except IntegrityError:
        pass  # another process rolled the same day up at the same moment: its rows stand
    return len(stale)


def station_numbers(engine: Engine, first: date, last: date, zone: ZoneInfo,
                    district: str) -> dict[str, StationNumbers]:
    """A district's stations over the local days first..last, from the daily rollups."""
    refresh(engine, first, last, zone)
    s = StationDay
    with Db(engine) as db:
        rows = db.execute(
            select(s.station_code, func.sum(s.complete), func.sum(s.incomplete),
                   func.sum(s.behaviour_sum), func.sum(s.behaviour_count),
                   func.sum(s.satisfaction_sum), func.sum(s.satisfaction_count),
                   func.sum(s.negative))
            .join(Station, Station.code == s.station_code)
            .where(Station.district_code == district, s.day >= first, s.day <= last)
            .group_by(s.station_code)).all()
    return {row[0]: Sums(*(int(v) for v in row[1:])).numbers(row[0]) for row in rows}
