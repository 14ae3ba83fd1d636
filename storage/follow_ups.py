"""Follow-ups: which feedbacks are due one, which were asked and answered.
Callers own the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlmodel import Session as Db

from storage.db import upsert
from storage.models import Answer, Contact, Conversation, Feedback, FollowUp


@dataclass(frozen=True)
class Due:
    feedback_id: int
    sender: str
    urn: str


def due(db: Db, now: datetime, after: timedelta, late: timedelta, limit: int = 200) -> list[Due]:
    """Completed feedbacks `after` old whose author agreed to be asked, not asked yet.

    One that could not be asked for `late` after it fell due (the citizen was busy
    giving another feedback every time) is not asked at all: the visit is too far back.
    """
    query = (
        select(Feedback.id, Feedback.sender, Contact.urn)
        .join(Contact, Contact.feedback_id == Feedback.id)
        .outerjoin(FollowUp, FollowUp.feedback_id == Feedback.id)
        .outerjoin(Conversation, Conversation.sender == Feedback.sender)
        .where(Contact.may_follow_up, Feedback.status == "complete",
               Feedback.completed_at <= now - after,  # type: ignore[operator]
               Feedback.completed_at > now - after - late,  # type: ignore[operator]
               FollowUp.feedback_id.is_(None),  # type: ignore[attr-defined]
               Conversation.blocked_at.is_(None))  # type: ignore[union-attr]
        .order_by(Feedback.completed_at).limit(limit)
    )
    return [Due(*row) for row in db.execute(query)]


def mark_asked(db: Db, feedback_id: int, now: datetime) -> bool:
    """False when it was asked already (by another process a moment ago)."""
    inserted = db.execute(upsert(db, FollowUp).values(feedback_id=feedback_id, asked_at=now)
                          .on_conflict_do_nothing(index_elements=["feedback_id"])
                          .returning(FollowUp.feedback_id)).first()
    return inserted is not None


def answered(db: Db, feedback_id: int, now: datetime) -> None:
    db.execute(update(FollowUp).where(FollowUp.feedback_id == feedback_id)
               .values(answered_at=now))


@dataclass(frozen=True)
class Summary:
    asked: int
    answered: int
    action_taken: int  # of those answered
    kept_informed: int


def summary(db: Db, stations: list[str], start: datetime, end: datetime) -> Summary:
    """Follow-ups asked and answered in [start, end) about these stations' feedback."""
    about = select(Feedback.id).where(Feedback.station_code.in_(stations))  # type: ignore[attr-defined]
    asked = db.execute(select(func.count()).select_from(FollowUp).where(
        FollowUp.feedback_id.in_(about), FollowUp.asked_at >= start,  # type: ignore[attr-defined]
        FollowUp.asked_at < end)).scalar_one()
    answered_ids = select(FollowUp.feedback_id).where(
        FollowUp.feedback_id.in_(about), FollowUp.answered_at >= start,  # type: ignore[attr-defined]
        FollowUp.answered_at < end)  # type: ignore[operator]
    rows = db.execute(select(Answer.question_id, Answer.option_id).where(
        Answer.feedback_id.in_(answered_ids),  # type: ignore[attr-defined]
        Answer.question_id.in_(["fu_action", "fu_informed"]))).all()  # type: ignore[attr-defined]
    count = db.execute(select(func.count()).select_from(answered_ids.subquery())).scalar_one()
    return Summary(asked, count,
                   sum(1 for q, o in rows if q == "fu_action" and o == "done"),
                   sum(1 for q, o in rows if q == "fu_informed" and o == "yes"))
