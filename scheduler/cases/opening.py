"""A feedback that raises alerts opens its case, in the same transaction: one case per
feedback, whatever rules it matched. A closed case whose citizen comes back still
unhappy is opened again; every step is an event, never deleted."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session as Db
from sqlmodel import col

from storage.models import CaseEvent, FeedbackCase


def open_case(db: Db, feedback_id: int, station: str, red: bool, now: datetime,
              due: timedelta) -> FeedbackCase:
    """The feedback's case, opened (or reopened) now; `due`: how long it may stay new."""
    case = db.execute(select(FeedbackCase).where(
        col(FeedbackCase.feedback_id) == feedback_id)).scalar_one_or_none()
    if case is not None and case.state != "closed":
        case.red = case.red or red  # a demand added by an update: the SP office's now
        return case
    event = "reopened" if case is not None else "opened"
    if case is None:
        case = FeedbackCase(feedback_id=feedback_id, station_code=station, opened_at=now,
                            updated_at=now, due_at=now + due)
        db.add(case)
    case.red, case.state, case.updated_at, case.due_at = case.red or red, "new", now, now + due
    db.flush()
    assert case.id is not None  # the flush gave it its id
    db.add(CaseEvent(case_id=case.id, event=event, at=now))
    return case


def flag_pressure(db: Db, feedback_id: int, now: datetime) -> bool:
    """An update with nothing negative left, while the feedback's case is open: the
    station may have pressed the citizen to "correct" it. The case says so, and stays
    as it was (red stays red); the SP office's digest lists it first."""
    case = db.execute(select(FeedbackCase).where(
        col(FeedbackCase.feedback_id) == feedback_id)).scalar_one_or_none()
    if case is None or case.state == "closed" or case.id is None:
        return False
    db.add(CaseEvent(case_id=case.id, event="pressure", at=now))
    return True
