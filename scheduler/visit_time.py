"""When a feedback was given, as an officer may read it. At a station with few visitors
the minute can tell the in-charge who it was, so he reads the date and the part of the
day; the SP office reads the minute."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlmodel import Session as Db
from sqlmodel import col

from conversations.effects import Msg
from conversations.messages import N_
from storage.models import Feedback

WEEK = timedelta(days=7)
# The local hour each part of the day begins at, latest first.
PARTS = ((20, N_("night")), (16, N_("evening")), (12, N_("afternoon")), (5, N_("morning")),
         (0, N_("night")))
DAY_PART = N_("{date}, {part}")


def busy(db: Db, station: str, at: datetime, visitors: int) -> bool:
    """Did the station have at least `visitors` completed feedback in the week before?"""
    seen = db.execute(select(func.count()).select_from(Feedback).where(
        col(Feedback.station_code) == station, col(Feedback.status) == "complete",
        col(Feedback.completed_at) >= at - WEEK, col(Feedback.completed_at) <= at)
    ).scalar_one()
    return int(seen) >= visitors


def when(at: datetime, zone: ZoneInfo, exact: bool) -> str | Msg:
    local = at.astimezone(zone)
    if exact:
        return local.strftime("%d-%m-%Y %H:%M")
    part = next(name for hour, name in PARTS if local.hour >= hour)
    return Msg.of(DAY_PART, date=local.strftime("%d-%m-%Y"), part=Msg(part))
