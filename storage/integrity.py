"""Patterns worth a second look in the digest: flagged, never silently dropped."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, case, distinct, exists, func, or_, select
from sqlmodel import Session as Db

from storage.models import Answer, Feedback, Station


@dataclass(frozen=True)
class Flags:
    bursts: dict[str, int]  # station -> most feedback within the burst window
    top_streaks: dict[str, int]  # station -> longest run of identical all-top feedback
    roaming_senders: int  # senders who gave feedback at many stations


def flags(db: Db, district: str, day: tuple[datetime, datetime], week_start: datetime,
          burst_count: int, burst_window: timedelta, streak: int,
          many_stations: int) -> Flags:
    """Bursts and streaks within the day reported (so one burst is not reported seven
    mornings running); senders of that day who gave feedback at `many_stations` or more
    in the week up to its end."""
    start, end = day
    ours = and_(Feedback.station_code == Station.code, Station.district_code == district,
                Feedback.status == "complete")
    # Only all-top feedback can make a streak: their answers are read, not the day's
    # every answer (a state's day has tens of thousands).
    score = and_(Answer.feedback_id == Feedback.id,
                 Answer.question_id.in_(["behaviour", "satisfaction"]))  # type: ignore[attr-defined]
    top = and_(exists().where(score, Answer.value == 5),
               ~exists().where(score, or_(Answer.value.is_(None), Answer.value != 5)))  # type: ignore[union-attr]
    rows = db.connection().execute(
        select(Feedback.id, Feedback.station_code, Feedback.started_at,
               case((top, True), else_=False))
        .where(ours, Feedback.started_at >= start, Feedback.started_at < end)
        .order_by(Feedback.started_at)).all()
    tops = [fid for fid, _, _, is_top in rows if is_top]
    answers: dict[int, list[tuple[str, str | None]]] = defaultdict(list)
    for chunk in range(0, len(tops), 500):  # within every database's parameter limit
        for fid, question, option in db.execute(
                select(Answer.feedback_id, Answer.question_id, Answer.option_id)
                .where(Answer.feedback_id.in_(tops[chunk:chunk + 500]))):  # type: ignore[attr-defined]
            answers[fid].append((question, option))
    # Senders of the day reported whose week reaches many stations: reported the day it
    # happens, like bursts, and only that day's senders' weeks are read.
    of_the_day = (select(Feedback.sender)
                  .join(Station, Station.code == Feedback.station_code)
                  .where(Station.district_code == district, Feedback.started_at >= start,
                         Feedback.started_at < end))
    # Every feedback begun counts, complete or not: a sender who starts at station after
    # station is as unusual as one who finishes.
    roaming = db.execute(select(func.count()).select_from(
        select(Feedback.sender)
        .join(Station, Station.code == Feedback.station_code)
        .where(Station.district_code == district, Feedback.started_at >= week_start,
               Feedback.started_at < end, Feedback.sender.in_(of_the_day))  # type: ignore[attr-defined]
        .group_by(Feedback.sender)
        .having(func.count(distinct(Feedback.station_code)) >= many_stations)
        .subquery())).scalar_one()
    by_station: dict[str, list[tuple[int, datetime]]] = defaultdict(list)
    for fid, station, started, _ in rows:
        by_station[station].append((fid, started))
    bursts, streaks = {}, {}
    for station, items in by_station.items():
        most, first = 0, 0
        for last in range(len(items)):
            while items[last][1] - items[first][1] > burst_window:
                first += 1
            most = max(most, last - first + 1)
        if most >= burst_count:
            bursts[station] = most
        longest = run = 0
        previous = None
        for fid, _ in items:
            signature = tuple(sorted(answers[fid])) if fid in answers else None
            run = run + 1 if signature and signature == previous else (1 if signature else 0)
            previous = signature
            longest = max(longest, run)
        if longest >= streak:
            streaks[station] = longest
    return Flags(bursts, streaks, roaming)
