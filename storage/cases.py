"""Reading cases: the SP office's queue, and one case with everything that happened."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlmodel import Session as Db
from sqlmodel import col

from storage.feedback import by_reference
from storage.models import Alert, CaseEvent, Feedback, FeedbackCase


class CaseRow(NamedTuple):
    reference: str
    station_code: str
    state: str
    red: bool
    opened_at: datetime
    due_at: datetime
    rules: tuple[str, ...]


def list_cases(db: Db, station: str | None = None, state: str | None = None,
               overdue_at: datetime | None = None) -> list[CaseRow]:
    """Cases, red first, then the oldest deadline first; `overdue_at`: only those past
    their deadline at that moment and not closed."""
    query = (select(FeedbackCase, col(Feedback.reference))
             .join(Feedback, col(Feedback.id) == col(FeedbackCase.feedback_id))
             .order_by(col(FeedbackCase.red).desc(), col(FeedbackCase.due_at)))
    if station is not None:
        query = query.where(col(FeedbackCase.station_code) == station.upper())
    if state is not None:
        query = query.where(col(FeedbackCase.state) == state)
    if overdue_at is not None:
        query = query.where(col(FeedbackCase.due_at) < overdue_at,
                            col(FeedbackCase.state) != "closed")
    found = db.execute(query).all()
    rules: dict[int, list[str]] = {}
    for feedback_id, rule in db.execute(
            select(col(Alert.feedback_id), col(Alert.rule))
            .where(col(Alert.feedback_id).in_([c.feedback_id for c, _ in found]))
            .order_by(col(Alert.id))).all():
        rules.setdefault(feedback_id, []).append(rule)
    return [CaseRow(reference, c.station_code, c.state, c.red, c.opened_at, c.due_at,
                    tuple(rules.get(c.feedback_id, ()))) for c, reference in found]


class CaseFile(NamedTuple):
    case: FeedbackCase
    feedback: Feedback
    alerts: list[Alert]
    events: list[CaseEvent]


def case_file(db: Db, reference: str) -> CaseFile | None:
    """The case of the feedback with this reference (or of the one it was merged into)."""
    feedback = by_reference(db, reference)
    if feedback is None:
        return None
    case = db.execute(select(FeedbackCase).where(
        col(FeedbackCase.feedback_id) == feedback.id)).scalar_one_or_none()
    if case is None:
        return None
    alerts = list(db.execute(select(Alert).where(col(Alert.feedback_id) == feedback.id)
                             .order_by(col(Alert.id))).scalars())
    events = list(db.execute(select(CaseEvent).where(col(CaseEvent.case_id) == case.id)
                             .order_by(col(CaseEvent.id))).scalars())
    return CaseFile(case, feedback, alerts, events)
