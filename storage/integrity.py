"""Patterns worth a second look in the digest: flagged, never silently dropped.

Bursts and streaks belong to one station's day: they are worked out when the day is
rolled up (storage/rollup.py) and kept beside its numbers, so the morning digest reads
them instead of the day's every answer. Roaming senders span a week and a district,
and are counted when the digest is built.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import and_, case, distinct, func, or_, select
from sqlmodel import Session as Db
from sqlmodel import col

from storage.digest import joined, scores
from storage.models import Answer, Feedback, Station


def day_flags(db: Db, start: datetime, end: datetime,
              burst_window: timedelta) -> dict[str, tuple[int, int]]:
    """Per station, over the completed feedback begun in [start, end): the most within
    `burst_window`, and the longest run of identical all-top feedback."""
    b, s, _ = scores()
    # Only all-top feedback can make a streak, so only their answers are read. A score
    # question skipped (no value) breaks it; one never asked does not.
    top = and_(or_(b.value == 5, s.value == 5),
               or_(b.value == 5, b.feedback_id.is_(None)),
               or_(s.value == 5, s.feedback_id.is_(None)))
    rows = db.connection().execute(
        select(col(Feedback.id), col(Feedback.station_code), col(Feedback.started_at),
               case((top, True), else_=False))
        .outerjoin(b, joined(b, "behaviour")).outerjoin(s, joined(s, "satisfaction"))
        .where(col(Feedback.started_at) >= start, col(Feedback.started_at) < end,
               col(Feedback.status) == "complete")
        .order_by(col(Feedback.started_at), col(Feedback.id))).all()
    tops = [fid for fid, _, _, is_top in rows if is_top]
    answers: dict[int, list[tuple[str, str | None]]] = defaultdict(list)
    for chunk in range(0, len(tops), 500):  # within every database's parameter limit
        for fid, question, option in db.execute(
                select(col(Answer.feedback_id), col(Answer.question_id), col(Answer.option_id))
                .where(col(Answer.feedback_id).in_(tops[chunk:chunk + 500]))):
            answers[fid].append((question, option))
    by_station: dict[str, list[tuple[int, datetime]]] = defaultdict(list)
    for fid, station, started, _ in rows:
        by_station[station].append((fid, started))
    return {station: (_burst(items, burst_window), _streak(items, answers))
            for station, items in by_station.items()}


def _burst(items: list[tuple[int, datetime]], window: timedelta) -> int:
    most, first = 0, 0
    for last in range(len(items)):
        while items[last][1] - items[first][1] > window:
            first += 1
        most = max(most, last - first + 1)
    return most


def _streak(items: list[tuple[int, datetime]],
            answers: dict[int, list[tuple[str, str | None]]]) -> int:
    longest = run = 0
    previous = None
    for fid, _ in items:
        signature = tuple(sorted(answers[fid])) if fid in answers else None
        run = run + 1 if signature and signature == previous else (1 if signature else 0)
        previous = signature
        longest = max(longest, run)
    return longest


def roaming_senders(db: Db, district: str, day: tuple[datetime, datetime],
                    week_start: datetime, many_stations: int) -> int:
    """The district's senders of the day who gave feedback at `many_stations` or more of
    its stations in the week up to the day's end: reported the day it happens, like a
    burst. Every feedback begun counts, complete or not (starting at station after
    station is as unusual as finishing), so the index alone answers."""
    start, end = day
    sender, started = col(Feedback.sender), col(Feedback.started_at)
    ours = and_(col(Station.code) == col(Feedback.station_code),
                col(Station.district_code) == district)
    of_the_day = select(sender).join(Station, ours).where(started >= start, started < end)
    return int(db.execute(select(func.count()).select_from(
        select(sender).join(Station, ours)
        .where(started >= week_start, started < end, sender.in_(of_the_day))
        .group_by(sender)
        .having(func.count(distinct(col(Feedback.station_code))) >= many_stations)
        .subquery())).scalar_one())
