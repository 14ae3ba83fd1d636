"""Each station's numbers per local day, kept so that a digest reads a few rows a station
instead of every answer of the week, whatever the size of the history.

A day is rolled up again whenever its feedback changed: its fingerprint (how many
feedback began that day, and their latest change) is kept beside the numbers. So a
late completion, an update within the window or a merge is never missed, and a day
nobody touched is never read twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, and_, delete, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session as Db
from sqlmodel import col

from storage import integrity
from storage.db import writer
from storage.digest import StationNumbers, Sums, from_sums, sums
from storage.models import Feedback, RolledUpDay, Station, StationDay


def _bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return (datetime.combine(day, time(0), zone),
            datetime.combine(day + timedelta(days=1), time(0), zone))


def _fingerprint(db: Db, day: date, zone: ZoneInfo) -> tuple[int, datetime | None]:
    start, end = _bounds(day, zone)
    count, last = db.execute(select(func.count(), func.max(col(Feedback.updated_at))).where(
        col(Feedback.started_at) >= start, col(Feedback.started_at) < end)).one()
    return int(count), last


def _fingerprints(engine: Engine, days: list[date],
                  zone: ZoneInfo) -> list[tuple[int, datetime | None]]:
    """The days' fingerprints, two at a time: each is one scan the database does without
    Python's lock, so the two cores share a week's seven (0.28 s at a state's size).
    Taken before the days are summed: a change in between is seen at the next refresh."""
    def one(day: date) -> tuple[int, datetime | None]:
        with Db(engine) as db:
            return _fingerprint(db, day, zone)

    if len(days) < 3:
        return [one(day) for day in days]
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="rollup") as pool:
        return list(pool.map(one, days))


Stale = tuple[date, tuple[int, datetime | None], dict[str, Sums], dict[str, tuple[int, int]]]


def refresh(engine: Engine, first: date, last: date, zone: ZoneInfo,
            burst_minutes: int = 10) -> int:
    """Roll up the days first..last that changed since (or were cut in another zone, or
    their bursts counted in another window); returns how many were."""
    stale: list[Stale] = []
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    marks = _fingerprints(engine, days, zone)
    with Db(engine) as db:  # computed without the write lock: citizens never wait on it
        kept = {r.day: r for r in db.execute(select(RolledUpDay).where(
            col(RolledUpDay.day) >= first, col(RolledUpDay.day) <= last)).scalars()}
        for day, mark in zip(days, marks, strict=True):
            known = kept.get(day)
            if known is None or (known.zone, known.burst_minutes, known.feedback,
                                 known.last_change) != (zone.key, burst_minutes, *mark):
                bounds = _bounds(day, zone)
                stale.append((day, mark, sums(db, *bounds), integrity.day_flags(
                    db, *bounds, timedelta(minutes=burst_minutes))))
    if not stale:
        return 0
    try:
        with Db(writer(engine)) as db, db.begin():
            for day, (count, change), numbers, flags in stale:
                db.execute(delete(StationDay).where(col(StationDay.day) == day))
                db.execute(delete(RolledUpDay).where(col(RolledUpDay.day) == day))
                if numbers:  # Core's executemany: the ORM's bulk insert took 0.3 s a day
                    # SQLModel sets a table model's __table__ but does not declare it
                    db.connection().execute(insert(StationDay.__table__), [  # type: ignore[attr-defined]
                        {"day": day, "station_code": code, **vars(n),
                         "burst": flags.get(code, (0, 0))[0],
                         "top_streak": flags.get(code, (0, 0))[1]}
                        for code, n in numbers.items()])
                db.add(RolledUpDay(day=day, zone=zone.key, burst_minutes=burst_minutes,
                                   feedback=count, last_change=change))
    except IntegrityError:
        pass  # another process rolled the same day up at the same moment: its rows stand
    return len(stale)


def station_numbers(engine: Engine, first: date, last: date, zone: ZoneInfo,
                    district: str, burst_minutes: int = 10) -> dict[str, StationNumbers]:
    """A district's stations over the local days first..last, from the daily rollups."""
    return days_and_last(engine, first, last, zone, district, burst_minutes)[0]


def days_and_last(engine: Engine, first: date, last: date, zone: ZoneInfo, district: str,
                  burst_minutes: int = 10) -> tuple[dict[str, StationNumbers], StationNumbers]:
    """A district's stations over the days first..last, and its active stations together
    on the last day: the daily digest's week and day."""
    refresh(engine, first, last, zone, burst_minutes)
    s = StationDay
    columns = [col(c) for c in (s.complete, s.incomplete, s.behaviour_sum, s.behaviour_count,
                                s.satisfaction_sum, s.satisfaction_count, s.negative)]
    station = col(s.station_code)
    ours = and_(col(Station.code) == station, col(Station.district_code) == district)
    with engine.connect() as connection:  # plain rows: no ORM loading for 17,000 of them
        rows = connection.execute(
            select(station, *(func.sum(c) for c in columns)).join(Station, ours)
            .where(col(s.day) >= first, col(s.day) <= last).group_by(station)).all()
        # Seven sums (SQLAlchemy's stubs count a select of unpacked columns as ten or more)
        day: Sequence[int] = connection.execute(
            select(*(func.coalesce(func.sum(c), 0) for c in columns)).join(Station, ours)
            .where(col(s.day) == last, col(Station.active))).one()
    # 17,000 stations in a state: built without detours
    return {code: from_sums(code, *sums_) for code, *sums_ in rows}, from_sums("all", *day)


def day_flags(engine: Engine, day: date, district: str, burst_count: int,
              streak: int) -> tuple[dict[str, int], dict[str, int]]:
    """The district's bursts and streaks on a rolled-up day, those worth flagging."""
    s = StationDay
    with engine.connect() as connection:
        rows = connection.execute(
            select(col(s.station_code), col(s.burst), col(s.top_streak))
            .join(Station, col(Station.code) == col(s.station_code))
            .where(col(Station.district_code) == district, col(s.day) == day,
                   or_(col(s.burst) >= burst_count, col(s.top_streak) >= streak))).all()
    return ({code: b for code, b, _ in rows if b >= burst_count},
            {code: t for code, _, t in rows if t >= streak})

