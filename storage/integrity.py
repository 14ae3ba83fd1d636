"""Patterns worth a second look in the digest: flagged, never silently dropped."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session as Db

from storage.models import Answer, Feedback


@dataclass(frozen=True)
class Flags:
    bursts: dict[str, int]  # station -> most feedback within the burst window
    top_streaks: dict[str, int]  # station -> longest run of identical all-top feedback
    roaming_senders: int  # senders who gave feedback at many stations


def flags(db: Db, stations: list[str], start: datetime, end: datetime, burst_count: int,
          burst_window: timedelta, streak: int, many_stations: int) -> Flags:
    rows = db.execute(
        select(Feedback.id, Feedback.station_code, Feedback.sender, Feedback.started_at)
        .where(Feedback.station_code.in_(stations), Feedback.started_at >= start,  # type: ignore[attr-defined]
               Feedback.started_at < end, Feedback.status == "complete")
        .order_by(Feedback.started_at)).all()
    answers: dict[int, list[tuple[str, str | None, int | None]]] = defaultdict(list)
    for fid, question, option, value in db.execute(
            select(Answer.feedback_id, Answer.question_id, Answer.option_id, Answer.value)
            .where(Answer.feedback_id.in_([r[0] for r in rows]))):  # type: ignore[attr-defined]
        answers[fid].append((question, option, value))
    by_station: dict[str, list[tuple[int, datetime]]] = defaultdict(list)
    stations_of: dict[str, set[str]] = defaultdict(set)
    for fid, station, sender, started in rows:
        by_station[station].append((fid, started))
        stations_of[sender].add(station)
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
    roaming = sum(1 for s in stations_of.values() if len(s) >= many_stations)
    return Flags(bursts, streaks, roaming)
