"""Personal data goes by the retention rule (`retention.personal_data_days`): comments and
voice notes, contacts kept for a call-back, what officers wrote on a case, and the copies
of digest files WhatsApp fetched. The numbers and the steps of cases stay."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlmodel import Session as Db
from sqlmodel import col

from scheduler.app import App
from storage import media, outbox, recordings
from storage.db import keep_statistics, writer
from storage.models import (
    Answer,
    AnswerVersion,
    CaseEvent,
    Contact,
    ContactWindow,
    Conversation,
    Delivery,
    Feedback,
    FeedbackCase,
    Outbox,
    ProcessedMessage,
)


def forget(app: App, now: datetime) -> dict[str, int]:
    cutoff = now - timedelta(days=app.config.retention.personal_data_days)
    with Db(writer(app.engine)) as db, db.begin():
        removed = forget_personal_data(db, cutoff)
        removed["media"] = media.sweep(db, now)  # WhatsApp's copies of digest files
    keep_statistics(app.engine)  # the tables grew since the last six hours
    return removed


def forget_personal_data(db: Db, before: datetime) -> dict[str, int]:
    """Comments, voice notes, contacts and conversation state older than `before` go;
    the anonymous scores stay. Returns how many of each were removed."""
    old = select(col(Feedback.id)).where(col(Feedback.started_at) < before)
    # exec, not execute: SQLModel types its result as the CursorResult that has a rowcount
    words = db.exec(update(Answer).where(
        col(Answer.feedback_id).in_(old),
        or_(col(Answer.text).is_not(None), col(Answer.voice_ref).is_not(None)))
        .values(text=None, voice_ref=None)).rowcount
    # The answers an update replaced, kept as versions: their words go by the same rule.
    words += db.exec(update(AnswerVersion).where(
        col(AnswerVersion.feedback_id).in_(old),
        or_(col(AnswerVersion.text).is_not(None), col(AnswerVersion.voice_ref).is_not(None)))
        .values(text=None, voice_ref=None)).rowcount
    # What officers wrote on a case may name the citizen (a call-back): its words go too,
    # the steps (who, when, which instruction) stay. Voice notes and photos go likewise.
    words += db.exec(update(CaseEvent).where(
        col(CaseEvent.case_id).in_(select(col(FeedbackCase.id)).where(
            col(FeedbackCase.feedback_id).in_(old))), col(CaseEvent.text).is_not(None),
        col(CaseEvent.event).not_in(["citizen_answered", "citizen_unhappy"]))
        .values(text=None)).rowcount
    recorded = recordings.forget_before(db, before)
    contacts = db.exec(delete(Contact).where(col(Contact.created_at) < before)).rowcount
    # A conversation's saved state repeats the answers, comment included.
    talks = db.exec(delete(Conversation).where(col(Conversation.updated_at) < before)).rowcount
    db.execute(delete(ProcessedMessage).where(col(ProcessedMessage.received_at) < before))
    # When a (hashed) sender last wrote, and Twilio's reports on what we sent them.
    db.execute(delete(ContactWindow).where(col(ContactWindow.last_inbound_at) < before))
    db.execute(delete(Delivery).where(col(Delivery.updated_at) < before))
    # Settled messages: their recipients include citizens asked a follow-up.
    db.execute(delete(Delivery).where(col(Delivery.outbox_id).in_(
        select(col(Outbox.id)).where(col(Outbox.created_at) < before))))
    db.execute(delete(Outbox).where(col(Outbox.created_at) < before,
                                    col(Outbox.status).not_in(["pending", "held"])))
    left = db.execute(select(col(Outbox.id)).where(col(Outbox.created_at) < before)).scalars()
    outbox.forget_texts(db, list(left))  # held for an officer who has not written since
    return {"comments": words, "contacts": contacts, "conversations": talks,
            "recordings": recorded}
