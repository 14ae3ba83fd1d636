"""Reading cases: the SP office's queue, and one case with everything that happened."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlmodel import Session as Db
from sqlmodel import col

from storage.feedback import by_reference
from storage.models import (
    Alert,
    CaseEvent,
    Contact,
    Conversation,
    Feedback,
    FeedbackCase,
    Station,
)


class CaseRow(NamedTuple):
    case_id: int
    reference: str
    station_code: str
    state: str
    red: bool
    opened_at: datetime
    due_at: datetime
    rules: tuple[str, ...]
    level: int = 0  # levels it went up past its deadline
    pressure: bool = False  # an update took the negative back (scheduler/cases/opening.py)
    seen: bool = False  # every alert of it acknowledged


def list_cases(db: Db, station: str | None = None, state: str | None = None,
               overdue_at: datetime | None = None, district: str | None = None,
               open_only: bool = False) -> list[CaseRow]:
    """Cases, red first, then the oldest deadline first; `overdue_at`: only those past
    their deadline at that moment and not closed."""
    query = (select(FeedbackCase, col(Feedback.reference))
             .join(Feedback, col(Feedback.id) == col(FeedbackCase.feedback_id))
             .order_by(col(FeedbackCase.red).desc(), col(FeedbackCase.due_at)))
    if station is not None:
        query = query.where(col(FeedbackCase.station_code) == station.upper())
    if district is not None:
        query = query.join(Station, col(Station.code) == col(FeedbackCase.station_code)).where(
            col(Station.district_code) == district)
    if state is not None:
        query = query.where(col(FeedbackCase.state) == state)
    if open_only or overdue_at is not None:
        query = query.where(col(FeedbackCase.state) != "closed")
    if overdue_at is not None:
        query = query.where(col(FeedbackCase.due_at) < overdue_at)
    found = db.execute(query).all()
    rules: dict[int, list[str]] = {}
    waiting: set[int] = set()
    for feedback_id, rule, status in db.execute(
            select(col(Alert.feedback_id), col(Alert.rule), col(Alert.status))
            .where(col(Alert.feedback_id).in_([c.feedback_id for c, _ in found]))
            .order_by(col(Alert.id))).all():
        rules.setdefault(feedback_id, []).append(rule)
        if status in ("open", "escalated"):
            waiting.add(feedback_id)
    pressed = set(db.execute(select(col(CaseEvent.case_id)).where(
        col(CaseEvent.event) == "pressure",
        col(CaseEvent.case_id).in_([c.id for c, _ in found]))).scalars())
    return [CaseRow(c.id or 0, reference, c.station_code, c.state, c.red, c.opened_at,
                    c.due_at, tuple(rules.get(c.feedback_id, ())), c.level, c.id in pressed,
                    c.feedback_id not in waiting) for c, reference in found]


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


def case_of(db: Db, feedback_id: int) -> FeedbackCase | None:
    return db.execute(select(FeedbackCase).where(col(FeedbackCase.feedback_id) == feedback_id)
                      .with_for_update()).scalar_one_or_none()


class ToAsk(NamedTuple):
    case_id: int
    feedback_id: int
    sender: str
    urn: str


def citizens_to_ask(db: Db, since: datetime, limit: int = 200) -> list[ToAsk]:
    """Cases closed since `since` whose citizen agreed to be asked again and was not
    asked since the closure (scheduler/follow_ups/closure.py)."""
    asked = (select(col(CaseEvent.id)).where(
        col(CaseEvent.case_id) == col(FeedbackCase.id), col(CaseEvent.event) == "citizen_asked",
        col(CaseEvent.at) >= col(FeedbackCase.updated_at)).exists())
    query = (select(col(FeedbackCase.id), col(Feedback.id), col(Feedback.sender),
                    col(Contact.urn))
             .join(Feedback, col(Feedback.id) == col(FeedbackCase.feedback_id))
             .join(Contact, col(Contact.feedback_id) == col(Feedback.id))
             .outerjoin(Conversation, col(Conversation.sender) == col(Feedback.sender))
             .where(col(FeedbackCase.state) == "closed", col(FeedbackCase.updated_at) >= since,
                    col(Contact.may_follow_up), col(Conversation.blocked_at).is_(None), ~asked)
             .order_by(col(FeedbackCase.updated_at)).limit(limit))
    return [ToAsk(*row) for row in db.execute(query)]


def mark_citizen_asked(db: Db, case_id: int, now: datetime) -> bool:
    """The citizen is asked about this closure now; False if they were already (by
    another process a moment ago) or it is no longer closed."""
    case = db.get(FeedbackCase, case_id, with_for_update=True)
    if case is None or case.state != "closed":
        return False
    if db.execute(select(col(CaseEvent.id)).where(
            col(CaseEvent.case_id) == case_id, col(CaseEvent.event) == "citizen_asked",
            col(CaseEvent.at) >= case.updated_at)).first() is not None:
        return False
    db.add(CaseEvent(case_id=case_id, event="citizen_asked", at=now))
    return True


def last_instructions(db: Db, case_ids: list[int]) -> dict[int, str]:
    """Each case's latest instruction's preset."""
    found: dict[int, str] = {}
    for case_id, preset in db.execute(
            select(col(CaseEvent.case_id), col(CaseEvent.preset))
            .where(col(CaseEvent.case_id).in_(case_ids), col(CaseEvent.event) == "instruct")
            .order_by(col(CaseEvent.id))).all():
        found[case_id] = preset or ""
    return found
