"""Patterns worth a second look in the digest: flagged, never silently dropped."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, distinct, func, select
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
    mornings running); senders roaming across stations over the week up to its end."""
    start, end = day
    ours = and_(Feedback.station_code == Station.code, Station.district_code == district,
                Feedback.status == "complete")
    rows = db.execute(
        select(Feedback.id, Feedback.station_code, Feedback.started_at)
        .where(ours, Feedback.started_at >= start, Feedback.started_at < end)
        .order_by(Feedback.started_at)).all()
    answers: dict[int, list[tuple[str, str | None, int | None]]] = defaultdict(list)
    for fid, question, option, value in db.execute(
            select(Answer.feedback_id, Answer.question_id, Answer.option_id, Answer.value)
            .join(Feedback, Feedback.id == Answer.feedback_id)
            .where(ours, Feedback.started_at >= start, Feedback.started_at < end)):
        answers[fid].append((question, option, value))
    roaming = db.execute(select(func.count()).select_from(
        select(Feedback.sender)
        .where(ours, Feedback.started_at >= week_start, Feedback.started_at < end)
        .group_by(Feedback.sender)
        .having(func.count(distinct(Feedback.station_code)) >= many_stations)
        .subquery())).scalar_one()
    by_station: dict[str, list[tuple[int, datetime]]] = defaultdict(list)
    for fid, station, started in rows:
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
            given = sorted(answers[fid], key=lambda a: a[0])
            scores = [v for q, _, v in given if q in ("behaviour", "satisfaction")]
            top = bool(scores) and all(v == 5 for v in scores)
            signature = tuple((q, o) for q, o, _ in given)
            run = run + 1 if top and signature == previous else (1 if top else 0)
            previous = signature if top else None
            longest = max(longest, run)
        if longest >= streak:
            streaks[station] = longest
    return Flags(bursts, streaks, roaming)
