"""Reading and writing conversations and feedback. Callers own the transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, text, update
from sqlmodel import Session as Db

from conversations.session import Answer as SessionAnswer
from storage.db import upsert
from storage.models import (
    Answer,
    Contact,
    Conversation,
    Feedback,
    ProcessedMessage,
    ReferenceCounter,
    Station,
)


def lock_sender(db: Db, sender: str) -> None:
    """Serialise one citizen's turns across processes.

    On PostgreSQL a transaction-scoped advisory lock; on SQLite the file's write
    lock, taken by BEGIN IMMEDIATE when the transaction started, already does it.
    """
    if db.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(sender.encode()).digest()[:8], "big", signed=True)
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def sync_stations(db: Db, stations: Iterable[tuple[str, Any]]) -> None:
    """Make the station table match config.yaml; stations removed from it go inactive.

    An upsert, so several processes starting at once on one PostgreSQL do not collide.
    """
    rows = [{"code": s.code, "district_code": district, "name_hi": s.name_hi,
             "name_en": s.name_en, "kind": str(s.kind), "active": True}
            for district, s in stations]
    table = Station.__table__  # type: ignore[attr-defined]
    if rows:
        statement = upsert(db, table).values(rows)
        db.execute(statement.on_conflict_do_update(
            index_elements=["code"],
            set_={c: statement.excluded[c] for c in ("district_code", "name_hi", "name_en",
                                                     "kind", "active")}))
    db.execute(update(table).where(table.c.code.not_in([r["code"] for r in rows]))
               .values(active=False))


# The hot path of every turn talks to the tables directly (SQLAlchemy Core on the
# session's connection): the ORM's bookkeeping costs more than the SQL itself.
_conversation = Conversation.__table__  # type: ignore[attr-defined]
_answer = Answer.__table__  # type: ignore[attr-defined]
_feedback = Feedback.__table__  # type: ignore[attr-defined]
_processed = ProcessedMessage.__table__  # type: ignore[attr-defined]


def load_conversation(db: Db, sender: str) -> Row[Any] | None:
    """The sender's conversation row (id, state, feedback_id)."""
    c = _conversation.c
    query = select(c.id, c.state, c.feedback_id).where(c.sender == sender)
    return db.connection().execute(query).first()


def save_conversation(db: Db, conversation_id: int | None, *, sender: str, channel: str,
                      stage: str, state: dict[str, Any], feedback_id: int | None,
                      now: datetime) -> None:
    values = {"channel": channel, "stage": stage, "state": state, "feedback_id": feedback_id,
              "updated_at": now, "blocked_at": None}  # writing to us again: not blocked
    if conversation_id is None:
        db.connection().execute(insert(_conversation).values(sender=sender, **values))
    else:
        db.connection().execute(update(_conversation).where(
            _conversation.c.id == conversation_id).values(**values))


def mark_blocked(db: Db, sender: str, now: datetime) -> None:
    db.execute(update(Conversation).where(Conversation.sender == sender)
               .values(blocked_at=now))


def first_delivery(db: Db, channel: str, provider_id: str, now: datetime) -> bool:
    """Record a provider's message id; False when it was seen before (a redelivery)."""
    inserted = db.connection().execute(
        upsert(db, _processed).values(channel=channel, provider_id=provider_id, received_at=now)
        .on_conflict_do_nothing(index_elements=["channel", "provider_id"])
        .returning(_processed.c.provider_id)
    ).first()
    return inserted is not None


LIVE_STAGES = ("pick_station", "confirm_switch", "asking")


def idle_conversations(db: Db, silent_since: datetime) -> list[Conversation]:
    query = select(Conversation).where(Conversation.stage.in_(LIVE_STAGES),  # type: ignore[attr-defined]
                                       Conversation.updated_at < silent_since)
    if db.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)  # a citizen's turn in flight wins
    return list(db.execute(query).scalars())


def next_reference(db: Db, year: int) -> str:
    """`FB-YY-NNNNNN`, from a per-year counter bumped inside the caller's transaction.

    `year` is the district's calendar year, not UTC's.
    """
    # Two first feedbacks of a year may race to create the row: let one win quietly.
    db.execute(upsert(db, ReferenceCounter).values(year=year, last=0)
               .on_conflict_do_nothing(index_elements=["year"]))
    bumped = db.execute(
        update(ReferenceCounter).where(ReferenceCounter.year == year)
        .values(last=ReferenceCounter.last + 1).returning(ReferenceCounter.last)
    ).scalar_one()
    return f"FB-{year % 100:02d}-{bumped:06d}"


def open_feedback(db: Db, *, sender: str, station: str, channel: str, language: str,
                  now: datetime, year: int) -> Feedback:
    feedback = Feedback(reference=next_reference(db, year), station_code=station, sender=sender,
                        channel=channel, language=language, started_at=now, updated_at=now)
    db.add(feedback)
    db.flush()
    return feedback


def _row(feedback_id: int, question: str, answer: SessionAnswer,
         values: Mapping[str, Mapping[str, int | None]]) -> dict[str, Any]:
    return {
        "feedback_id": feedback_id, "question_id": question, "option_id": answer.option,
        "value": values.get(question, {}).get(answer.option or ""),
        "text": answer.text, "voice_ref": answer.voice, "skipped": answer.skipped,
    }


def write_answers(db: Db, feedback_id: int, stored: Mapping[str, SessionAnswer],
                  answers: Mapping[str, SessionAnswer],
                  values: Mapping[str, Mapping[str, int | None]], now: datetime,
                  language: str) -> None:
    """Bring the stored answers from `stored` to `answers`: usually one new row a turn."""
    conn, a = db.connection(), _answer.c
    outdated = [q for q in stored if stored[q] != answers.get(q)]  # removed or changed
    if outdated:
        conn.execute(delete(_answer).where(a.feedback_id == feedback_id,
                                           a.question_id.in_(outdated)))
    fresh = [q for q, ans in answers.items() if stored.get(q) != ans]
    if fresh:
        conn.execute(insert(_answer), [_row(feedback_id, q, answers[q], values) for q in fresh])
    conn.execute(update(_feedback).where(_feedback.c.id == feedback_id)
                 .values(updated_at=now, language=language))


def discard_if_empty(db: Db, feedback_id: int) -> None:
    """An incomplete feedback left with no answer (restarted, switched) is not a feedback."""
    has_answers = db.execute(select(Answer.question_id).where(
        Answer.feedback_id == feedback_id).limit(1)).first()
    if not has_answers:
        db.execute(delete(Feedback).where(Feedback.id == feedback_id,
                                          Feedback.status == "incomplete"))


def complete(db: Db, feedback: Feedback, now: datetime, window: timedelta) -> tuple[Feedback, bool]:
    """Mark complete; a feedback for the same station by the same citizen within `window`
    is updated instead of counted twice. Returns the feedback that holds the answers and
    whether it was an earlier, already completed one.
    """
    earlier = db.execute(
        select(Feedback)
        .where(Feedback.sender == feedback.sender, Feedback.station_code == feedback.station_code,
               Feedback.id != feedback.id, Feedback.status != "merged",
               Feedback.started_at >= now - window)
        .order_by(Feedback.started_at.desc()).limit(1)  # type: ignore[union-attr]
    ).scalar_one_or_none()
    if earlier is None:
        feedback.status, feedback.completed_at, feedback.updated_at = "complete", now, now
        return feedback, False
    was_complete = earlier.status == "complete"
    db.execute(delete(Answer).where(Answer.feedback_id == earlier.id))
    db.execute(update(Answer).where(Answer.feedback_id == feedback.id)
               .values(feedback_id=earlier.id))
    db.execute(delete(Contact).where(Contact.feedback_id == earlier.id))
    db.execute(update(Contact).where(Contact.feedback_id == feedback.id)
               .values(feedback_id=earlier.id))
    earlier.status, earlier.updated_at = "complete", now
    earlier.completed_at = earlier.completed_at or now
    earlier.channel, earlier.language = feedback.channel, feedback.language
    feedback.status, feedback.merged_into, feedback.updated_at = "merged", earlier.id, now
    return earlier, was_complete


def keep_contact(db: Db, feedback: Feedback, urn: str, may_contact: bool, may_follow_up: bool,
                 now: datetime) -> None:
    """Store the citizen's address only when they agreed to be contacted or followed up."""
    assert feedback.id is not None
    db.execute(delete(Contact).where(Contact.feedback_id == feedback.id))
    if may_contact or may_follow_up:
        db.add(Contact(feedback_id=feedback.id, urn=urn, may_contact=may_contact,
                       may_follow_up=may_follow_up, created_at=now))


def count_feedback(db: Db, status: str | None = None) -> int:
    query = select(func.count()).select_from(Feedback)
    if status:
        query = query.where(Feedback.status == status)
    return int(db.execute(query).scalar_one())
