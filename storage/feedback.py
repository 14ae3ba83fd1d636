"""Conversations and feedback beyond a turn's hot path (that is storage/turn.py): stations,
completion, merging, contacts, the idle sweep. Callers own the transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, literal, select, update
from sqlmodel import Session as Db
from sqlmodel import col

from storage.db import upsert
from storage.models import (
    Answer,
    AnswerVersion,
    Contact,
    Conversation,
    Feedback,
    Station,
)
from storage.types import UtcDateTime


def sync_stations(db: Db, stations: Iterable[tuple[str, Any]]) -> None:
    """Make the station table match config.yaml; stations removed from it go inactive.

    An upsert, so several processes starting at once on one PostgreSQL do not collide.
    """
    rows = [{"code": s.code, "district_code": district, "name_hi": s.name_hi,
             "name_en": s.name_en, "kind": str(s.kind), "active": True,
             "subdivision_code": getattr(s, "subdivision", "") or None}
            for district, s in stations]
    table = Station.__table__  # type: ignore[attr-defined]
    # Every station inactive, then those in the file active again: one transaction, so
    # nobody sees the gap, and no statement names thousands of codes (a state has
    # 17,000 stations; PostgreSQL takes at most 65,535 parameters a statement).
    db.execute(update(table).values(active=False))
    for first in range(0, len(rows), 1000):
        statement = upsert(db, table).values(rows[first:first + 1000])
        db.execute(statement.on_conflict_do_update(
            index_elements=["code"],
            set_={c: statement.excluded[c] for c in ("district_code", "name_hi", "name_en",
                                                     "kind", "active", "subdivision_code")}))


def mark_blocked(db: Db, sender: str, now: datetime) -> None:
    db.execute(update(Conversation).where(col(Conversation.sender) == sender)
               .values(blocked_at=now))


LIVE_STAGES = ("pick_station", "confirm_switch", "asking")


def idle_conversations(db: Db, silent_since: datetime) -> list[Conversation]:
    query = select(Conversation).where(col(Conversation.stage).in_(LIVE_STAGES),
                                       col(Conversation.updated_at) < silent_since)
    if db.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)  # a citizen's turn in flight wins
    return list(db.execute(query).scalars())


def complete(db: Db, feedback: Feedback, now: datetime, window: timedelta) -> tuple[Feedback, bool]:
    """Mark complete; a feedback for the same station by the same citizen within `window`
    is updated instead of counted twice. Returns the feedback that holds the answers and
    whether it was an earlier, already completed one.
    """
    same_visit = list(db.execute(
        select(Feedback)
        .where(col(Feedback.sender) == feedback.sender,
               col(Feedback.station_code) == feedback.station_code,
               col(Feedback.id) != feedback.id, col(Feedback.status) != "merged",
               col(Feedback.started_at) >= now - window)
        .order_by(col(Feedback.started_at).desc())
    ).scalars())
    if not same_visit:
        feedback.status, feedback.completed_at, feedback.updated_at = "complete", now, now
        return feedback, False
    # The completed one is updated (its reference, its alerts), not an attempt begun and
    # left since; those attempts were the same visit, and are merged into it as well.
    earlier = next((f for f in same_visit if f.status == "complete"), same_visit[0])
    assert earlier.id is not None
    # Nothing the citizen said is lost: what this update replaces is kept as versions,
    # oldest first, before the visit's current answers are rewritten.
    for replaced in sorted(same_visit, key=lambda f: f.started_at):
        assert replaced.id is not None
        keep_as_version(db, earlier.id, replaced.id, now)
    for left in same_visit:
        if left is not earlier and left.status != "complete":
            db.execute(delete(Answer).where(col(Answer.feedback_id) == left.id))
            db.execute(delete(Contact).where(col(Contact.feedback_id) == left.id))
            left.status, left.merged_into, left.updated_at = "merged", earlier.id, now
    was_complete = earlier.status == "complete"
    db.execute(delete(Answer).where(col(Answer.feedback_id) == earlier.id))
    db.execute(update(Answer).where(col(Answer.feedback_id) == feedback.id)
               .values(feedback_id=earlier.id))
    db.execute(delete(Contact).where(col(Contact.feedback_id) == earlier.id))
    db.execute(update(Contact).where(col(Contact.feedback_id) == feedback.id)
               .values(feedback_id=earlier.id))
    earlier.status, earlier.updated_at = "complete", now
    earlier.completed_at = earlier.completed_at or now
    earlier.channel, earlier.language = feedback.channel, feedback.language
    feedback.status, feedback.merged_into, feedback.updated_at = "merged", earlier.id, now
    return earlier, was_complete


def keep_as_version(db: Db, visit: int, given_in: int, now: datetime) -> None:
    """Copy the answers of feedback `given_in` into the next version of the visit's."""
    if db.execute(select(func.count()).select_from(Answer)
                  .where(col(Answer.feedback_id) == given_in)).scalar_one() == 0:
        return
    version = 1 + int(db.execute(select(func.coalesce(func.max(AnswerVersion.version), 0))
                                 .where(col(AnswerVersion.feedback_id) == visit)).scalar_one())
    columns = ["question_id", "option_id", "value", "text", "voice_ref", "skipped"]
    db.execute(insert(AnswerVersion).from_select(
        ["feedback_id", "version", *columns, "given_in", "replaced_at"],
        select(literal(visit), literal(version), *(getattr(Answer, c) for c in columns),
               literal(given_in), literal(now, UtcDateTime()))
        .where(col(Answer.feedback_id) == given_in)))


def versions_of(db: Db, visit: int) -> dict[int, list[AnswerVersion]]:
    """The answers an update replaced, by version, oldest first."""
    found: dict[int, list[AnswerVersion]] = {}
    for row in db.execute(select(AnswerVersion).where(col(AnswerVersion.feedback_id) == visit)
                          .order_by(col(AnswerVersion.version))).scalars():
        found.setdefault(row.version, []).append(row)
    return found


def keep_contact(db: Db, feedback: Feedback, urn: str, may_contact: bool, may_follow_up: bool,
                 now: datetime) -> None:
    """Store the citizen's address only when they agreed to be contacted or followed up."""
    assert feedback.id is not None
    db.execute(delete(Contact).where(col(Contact.feedback_id) == feedback.id))
    if may_contact or may_follow_up:
        db.add(Contact(feedback_id=feedback.id, urn=urn, may_contact=may_contact,
                       may_follow_up=may_follow_up, created_at=now))


def by_reference(db: Db, reference: str) -> Feedback | None:
    """The feedback with this reference: the one kept, when it was merged into an update."""
    feedback = db.execute(select(Feedback).where(
        col(Feedback.reference) == reference.strip().upper())).scalar_one_or_none()
    while feedback is not None and feedback.merged_into is not None:
        feedback = db.get(Feedback, feedback.merged_into)
    return feedback


def contact_of(db: Db, reference: str) -> tuple[Feedback, Contact | None] | None:
    """The feedback with this reference (`by_reference`) and the address its citizen
    agreed to give; None when no feedback has the reference."""
    feedback = by_reference(db, reference)
    if feedback is None:
        return None
    return feedback, db.execute(select(Contact).where(
        col(Contact.feedback_id) == feedback.id)).scalar_one_or_none()


def count_feedback(db: Db, status: str | None = None) -> int:
    query = select(func.count()).select_from(Feedback)
    if status:
        query = query.where(col(Feedback.status) == status)
    return int(db.execute(query).scalar_one())
