"""Follow-ups: which feedbacks are due one, which were asked and answered.
Callers own the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlmodel import Session as Db
from sqlmodel import col

from storage.db import upsert
from storage.models import Answer, Contact, Conversation, Feedback, FollowUp, Station


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
        select(col(Feedback.id), col(Feedback.sender), col(Contact.urn))
        .join(Contact, col(Contact.feedback_id) == col(Feedback.id))
        .outerjoin(FollowUp, col(FollowUp.feedback_id) == col(Feedback.id))
        .outerjoin(Conversation, col(Conversation.sender) == col(Feedback.sender))
        .where(col(Contact.may_follow_up), col(Feedback.status) == "complete",
               col(Feedback.completed_at) <= now - after,
               col(Feedback.completed_at) > now - after - late,
               col(FollowUp.feedback_id).is_(None),
               col(Conversation.blocked_at).is_(None))
        .order_by(col(Feedback.completed_at)).limit(limit)
    )
    return [Due(*row) for row in db.execute(query)]


def mark_asked(db: Db, feedback_id: int, now: datetime) -> bool:
    """False when it was asked already (by another process a moment ago)."""
    inserted = db.execute(upsert(db, FollowUp).values(feedback_id=feedback_id, asked_at=now)
                          .on_conflict_do_nothing(index_elements=["feedback_id"])
                          .returning(col(FollowUp.feedback_id))).first()
    return inserted is not None


def answered(db: Db, feedback_id: int, now: datetime) -> None:
    db.execute(update(FollowUp).where(col(FollowUp.feedback_id) == feedback_id)
               .values(answered_at=now))


@dataclass(frozen=True)
class Summary:
    asked: int
    answered: int
    action_taken: int  # of those answered
    kept_informed: int


def summary(db: Db, district: str, start: datetime, end: datetime) -> Summary:
    """Follow-ups asked and answered in [start, end) about a district's feedback."""
    ours = (select(col(FollowUp.feedback_id))
            .join(Feedback, col(Feedback.id) == col(FollowUp.feedback_id))
            .join(Station, col(Station.code) == col(Feedback.station_code))
            .where(col(Station.district_code) == district))
    asked = db.execute(select(func.count()).select_from(ours.where(
        col(FollowUp.asked_at) >= start, col(FollowUp.asked_at) < end).subquery())).scalar_one()
    answered = ours.where(col(FollowUp.answered_at) >= start,
                          col(FollowUp.answered_at) < end).subquery()
    count = db.execute(select(func.count()).select_from(answered)).scalar_one()
    rows = db.execute(select(col(Answer.question_id), col(Answer.option_id))
                      .join(answered, answered.c.feedback_id == col(Answer.feedback_id))
                      .where(col(Answer.question_id).in_(["fu_action", "fu_informed"]))).all()
    return Summary(asked, count,
                   sum(1 for q, o in rows if q == "fu_action" and o == "done"),
                   sum(1 for q, o in rows if q == "fu_informed" and o == "yes"))
