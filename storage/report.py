"""What the monthly report reads beyond the daily rollups: the steps of a district's
cases. Read-only; never a citizen's identity (no feedback row is read at all)."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import case, select
from sqlmodel import Session as Db
from sqlmodel import col

from storage.models import CaseEvent, FeedbackCase, Station

CITIZEN_SCORED = ("citizen_answered", "citizen_unhappy")


class CaseStep(NamedTuple):
    """One event of a case, with the station and colour of its case."""

    case_id: int
    station_code: str
    red: bool
    event: str
    at: datetime
    text: str | None  # the citizen's 1-5 for citizen_answered / citizen_unhappy


def case_steps(db: Db, district: str, until: datetime) -> list[CaseStep]:
    """Every step before `until` of the cases at a district's stations, each case's in
    the order taken. All of them, not the month's: a case's deadlines depend on the step
    before, however long ago it was, and a district has hundreds of cases, not millions."""
    rows = db.connection().execute(
        select(col(CaseEvent.case_id), col(FeedbackCase.station_code), col(FeedbackCase.red),
               col(CaseEvent.event), col(CaseEvent.at),
               # the citizen's score alone: officers' words stay in `prayas case show`
               case((col(CaseEvent.event).in_(CITIZEN_SCORED), col(CaseEvent.text)),
                    else_=None))
        .join(FeedbackCase, col(FeedbackCase.id) == col(CaseEvent.case_id))
        .join(Station, col(Station.code) == col(FeedbackCase.station_code))
        .where(col(Station.district_code) == district, col(CaseEvent.at) < until)
        .order_by(col(CaseEvent.case_id), col(CaseEvent.at), col(CaseEvent.id)))
    return list(map(CaseStep._make, rows))
