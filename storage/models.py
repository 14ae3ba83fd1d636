"""The tables. Times are stored in UTC; a citizen appears only as a keyed hash.

Schema changes go through Alembic (`storage/migrations`); a test checks that these
models and the migrations describe the same schema.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UtcDateTime


def _utc(**kwargs: Any) -> Any:
    return Field(sa_column=Column(UtcDateTime(), **kwargs))


class Station(SQLModel, table=True):
    """Copied from config.yaml on start, so stored feedback keeps a station's names."""

    code: str = Field(primary_key=True, max_length=64)
    district_code: str = Field(max_length=64, index=True)
    name_hi: str
    name_en: str
    kind: str = Field(max_length=16)
    active: bool = True
    subdivision_code: str | None = Field(default=None, max_length=64)  # its SDOP's


class Conversation(SQLModel, table=True):
    """One sender's current dialogue: the engine's session as JSON, one row per sender."""

    id: int | None = Field(default=None, primary_key=True)
    sender: str = Field(max_length=64, unique=True)  # HMAC of the URN, never the URN
    channel: str = Field(max_length=16)
    stage: str = Field(max_length=16)
    state: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    feedback_id: int | None = Field(default=None, foreign_key="feedback.id")
    updated_at: datetime = _utc(nullable=False)
    blocked_at: datetime | None = _utc(nullable=True)  # the citizen blocked the bot


class Feedback(SQLModel, table=True):
    """A visit's feedback. Created at the first answer; `complete` once all are in."""

    __table_args__ = (
        Index("ix_feedback_station_started", "station_code", "started_at"),
        # A citizen's earlier feedback for a station (updated, not counted twice), and the
        # stations a sender gave feedback at in a week (read from the index alone).
        Index("ix_feedback_sender_station_started", "sender", "station_code", "started_at"),
        # the digest's day by day: which feedback began that day, where, how far they
        # got and their last change, read from the index alone
        Index("ix_feedback_day", "started_at", "station_code", "status", "updated_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=16, unique=True)
    station_code: str = Field(foreign_key="station.code", max_length=64)
    sender: str = Field(max_length=64)
    channel: str = Field(max_length=16)
    language: str = Field(max_length=8)
    # incomplete | complete | merged | throttled (left incomplete by a sender past the
    # hourly limit of new feedback: kept, not counted)
    status: str = Field(default="incomplete", max_length=16)
    started_at: datetime = _utc(nullable=False)
    updated_at: datetime = _utc(nullable=False)
    completed_at: datetime | None = _utc(nullable=True, index=True)  # follow-ups due
    merged_into: int | None = Field(default=None, foreign_key="feedback.id")


class Answer(SQLModel, table=True):
    """One answer by stable ids; `value` holds the number of a 1-5 scale for averages."""

    feedback_id: int = Field(foreign_key="feedback.id", primary_key=True)
    question_id: str = Field(max_length=40, primary_key=True)
    option_id: str | None = Field(default=None, max_length=40)
    value: int | None = None
    text: str | None = None
    voice_ref: str | None = None
    skipped: bool = False


class AnswerVersion(SQLModel, table=True):
    """An answer that a later feedback of the same visit replaced (storage.feedback
    .complete), kept as the evidence of what the citizen said first: never deleted, its
    words forgotten only by the retention rule. `feedback_id` is the feedback that holds
    the visit; `version` 1 the first answers replaced, 2 the next, and so on."""

    __tablename__ = "answer_version"

    feedback_id: int = Field(foreign_key="feedback.id", primary_key=True)
    version: int = Field(primary_key=True)
    question_id: str = Field(max_length=40, primary_key=True)
    option_id: str | None = Field(default=None, max_length=40)
    value: int | None = None
    text: str | None = None
    voice_ref: str | None = None
    skipped: bool = False
    given_in: int = Field(foreign_key="feedback.id")  # the feedback row they were given in
    replaced_at: datetime = _utc(nullable=False)


class ReferenceCounter(SQLModel, table=True):
    """The last reference number handed out per year: numbers are never reused."""

    __tablename__ = "reference_counter"

    year: int = Field(primary_key=True)
    last: int = 0


class Contact(SQLModel, table=True):
    """A citizen's reachable address, kept only when they agreed; SP office eyes only."""

    id: int | None = Field(default=None, primary_key=True)
    feedback_id: int = Field(foreign_key="feedback.id", unique=True)
    urn: str = Field(max_length=128)
    may_contact: bool = False
    may_follow_up: bool = False
    created_at: datetime = _utc(nullable=False)


class Officer(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("urn", "role", "scope"),)

    id: int | None = Field(default=None, primary_key=True)
    urn: str = Field(max_length=128, index=True)
    name: str = ""
    role: str = Field(max_length=16)  # in_charge | sp_office
    scope: str = Field(max_length=64)  # a station code, or a district code for the SP office
    language: str = Field(default="hi", max_length=8)
    active: bool = True
    enrolled_at: datetime = _utc(nullable=False)
    # A step on a case waiting for this officer's words ("report:12"): scheduler/cases/chat.py
    pending: str | None = Field(default=None, max_length=80)
    pending_at: datetime | None = _utc(nullable=True)


class Enrolment(SQLModel, table=True):
    """A one-time officer invitation; only the token's hash is stored."""

    token_hash: str = Field(primary_key=True, max_length=64)
    role: str = Field(max_length=16)
    scope: str = Field(max_length=64)
    name: str = ""
    created_at: datetime = _utc(nullable=False)
    expires_at: datetime = _utc(nullable=False)
    used_at: datetime | None = _utc(nullable=True)
    officer_id: int | None = Field(default=None, foreign_key="officer.id")


class Alert(SQLModel, table=True):
    """A feedback that matched an alert rule; one per feedback and rule."""

    __table_args__ = (UniqueConstraint("feedback_id", "rule"),
                      Index("ix_alert_status_station", "status", "station_code"))

    id: int | None = Field(default=None, primary_key=True)
    feedback_id: int = Field(foreign_key="feedback.id", index=True)
    station_code: str = Field(foreign_key="station.code", max_length=64)
    rule: str = Field(max_length=64)
    severity: str = Field(default="normal", max_length=16)
    # open | acknowledged | escalated | superseded (the feedback turned red: scheduler/service.py)
    status: str = Field(default="open", max_length=16)
    created_at: datetime = _utc(nullable=False)
    acknowledged_at: datetime | None = _utc(nullable=True)
    acknowledged_by: int | None = Field(default=None, foreign_key="officer.id")
    note: str | None = None
    escalated_at: datetime | None = _utc(nullable=True)


class AlertEvent(SQLModel, table=True):
    """Every change of an alert's state: what, when, and which officer (None: the system)."""

    __tablename__ = "alert_event"

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    event: str = Field(max_length=16)  # raised | acknowledged | escalated | superseded
    at: datetime = _utc(nullable=False)
    officer_id: int | None = Field(default=None, foreign_key="officer.id")
    note: str | None = None


class FeedbackCase(SQLModel, table=True):
    """A feedback that raised alerts, followed until the SP office closes it: one per
    feedback, whatever rules it matched (scheduler/cases). Its reasons are its alerts."""

    __tablename__ = "feedback_case"
    __table_args__ = (Index("ix_feedback_case_state_due", "state", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    feedback_id: int = Field(foreign_key="feedback.id", unique=True)
    station_code: str = Field(foreign_key="station.code", max_length=64, index=True)
    red: bool = False  # it reports a demand: the SP office's alone
    # new | instructed | reported | returned | closed
    state: str = Field(default="new", max_length=16)
    opened_at: datetime = _utc(nullable=False)
    updated_at: datetime = _utc(nullable=False)
    due_at: datetime = _utc(nullable=False)  # the deadline of its present state
    # How many levels above its owner an overdue case has gone (config cases.escalate_to).
    level: int = 0


class CaseEvent(SQLModel, table=True):
    """Every step of a case: what, when, who (None: the system), and what was written.
    Never deleted; the retention rule forgets its words."""

    __tablename__ = "case_event"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="feedback_case.id", index=True)
    event: str = Field(max_length=16)  # opened | reopened | instructed | reported | ...
    at: datetime = _utc(nullable=False)
    officer_id: int | None = Field(default=None, foreign_key="officer.id")
    # or the SP office's console account that took it (bot/office); a console_user id,
    # not declared a foreign key: SQLite could not drop the column again on a downgrade
    console_user_id: int | None = None
    preset: str | None = Field(default=None, max_length=40)
    text: str | None = None
    media_ref: str | None = None  # a Telegram file id, or a file kept under data_dir
    media_kind: str | None = Field(default=None, max_length=8)  # voice | photo


class Outbox(SQLModel, table=True):
    """Every proactive message, written in the transaction of its cause."""

    __table_args__ = (Index("ix_outbox_due", "status", "priority", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=128, unique=True)
    kind: str = Field(max_length=16)  # red_alert | alert | follow_up | digest
    priority: int = 5
    recipient: str = Field(max_length=128)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    # pending | sent | failed | stale | held | withheld (must not go out any more)
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = _utc(nullable=False)
    created_at: datetime = _utc(nullable=False)
    sent_at: datetime | None = _utc(nullable=True)
    last_error: str | None = None
    # Held: outside WhatsApp's 24-hour window only a template notice went out; the full
    # message waits for the officer's next message, and its age counts from then.
    released_at: datetime | None = _utc(nullable=True)


class ProcessedMessage(SQLModel, table=True):
    """Provider message ids already handled, so a redelivery is answered only once."""

    __tablename__ = "processed_message"

    channel: str = Field(max_length=16, primary_key=True)
    provider_id: str = Field(max_length=128, primary_key=True)
    received_at: datetime = _utc(nullable=False)


class CitizenPace(SQLModel, table=True):
    """How many messages a citizen sent in the minute since `since` (the per-citizen limit)."""

    __tablename__ = "citizen_pace"

    sender: str = Field(primary_key=True, max_length=64)  # HMAC of the URN, never the URN
    since: datetime = _utc(nullable=False)
    messages: int


class ContactWindow(SQLModel, table=True):
    """When a WhatsApp sender last wrote to us: free text may be sent for 24 hours after."""

    __tablename__ = "contact_window"

    sender: str = Field(primary_key=True, max_length=64)  # HMAC of the URN, never the URN
    last_inbound_at: datetime = _utc(nullable=False)


class Delivery(SQLModel, table=True):
    """Twilio's delivery reports for the messages we sent, by Twilio's message sid."""

    sid: str = Field(primary_key=True, max_length=64)
    outbox_id: int | None = Field(default=None, foreign_key="outbox.id", index=True)
    status: str = Field(max_length=16)  # queued | sent | delivered | read | failed | undelivered
    error_code: int | None = None
    updated_at: datetime = _utc(nullable=False)


class FollowUp(SQLModel, table=True):
    """A citizen asked, days later, about a feedback; the answers are stored with it."""

    __tablename__ = "follow_up"

    feedback_id: int = Field(foreign_key="feedback.id", primary_key=True)
    asked_at: datetime = _utc(nullable=False, index=True)
    answered_at: datetime | None = _utc(nullable=True, index=True)


class StationDay(SQLModel, table=True):
    """A station's numbers for one local day (storage/rollup.py keeps them current)."""

    __tablename__ = "station_day"

    day: date = Field(primary_key=True)
    station_code: str = Field(primary_key=True, max_length=64)
    complete: int = 0
    incomplete: int = 0
    behaviour_sum: int = 0
    behaviour_count: int = 0
    satisfaction_sum: int = 0
    satisfaction_count: int = 0
    negative: int = 0
    burst: int = 0  # most feedback within digests.burst_minutes (storage/integrity.py)
    top_streak: int = 0  # longest run of identical all-top feedback


class RolledUpDay(SQLModel, table=True):
    """When a day was rolled up: its feedback's count and latest change then, and the
    time zone its day was cut in; a different fingerprint now means roll it up again."""

    __tablename__ = "rolled_up_day"

    day: date = Field(primary_key=True)
    zone: str = Field(max_length=64)
    burst_minutes: int = 10  # the window bursts were counted in
    feedback: int
    last_change: datetime | None = _utc(nullable=True)


class Media(SQLModel, table=True):
    """A file Twilio fetches to deliver on WhatsApp (a digest's chart or table): served
    by `prayas serve` at an unguessable address until it expires."""

    token: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=128)
    content_type: str = Field(max_length=128)
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    expires_at: datetime = _utc(nullable=False, index=True)


class Recording(SQLModel, table=True):
    """A voice note or photo fetched from Telegram or Twilio, kept so that an officer on
    either channel receives it: a citizen's under the retention rule (its body deleted
    with their other personal data), an officer's as the case's record."""

    ref_hash: str = Field(primary_key=True, max_length=64)  # sha256 of the platform's ref
    kind: str = Field(max_length=8)  # voice | photo
    citizen: bool = False
    content_type: str = Field(default="", max_length=128)
    body: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    # None while kept; why it could not be fetched ("twilio 404"), or that it was forgotten
    missing: str | None = Field(default=None, max_length=200)
    fetched_at: datetime = _utc(nullable=False, index=True)


class ConsoleUser(SQLModel, table=True):
    """An account of the SP office's web console (bot/office): a reader reads, the SP
    office acts too; with a district, only that district. Only the password's Argon2
    hash is kept."""

    __tablename__ = "console_user"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    role: str = Field(max_length=16)  # sp_office | reader
    district: str | None = Field(default=None, max_length=64)  # None: every district
    password_hash: str = Field(max_length=200)
    failed_logins: int = 0
    locked_until: datetime | None = _utc(nullable=True)
    active: bool = True
    created_at: datetime = _utc(nullable=False)


class ConsoleSession(SQLModel, table=True):
    """A signed-in browser: only the hash of its cookie is kept, so a copy of the
    database lets nobody in; ended by signing out, by its age, or by revoking."""

    __tablename__ = "console_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="console_user.id", index=True)
    csrf: str = Field(max_length=64)  # every form of the session carries it
    created_at: datetime = _utc(nullable=False)
    expires_at: datetime = _utc(nullable=False)
    revoked_at: datetime | None = _utc(nullable=True)


class AuditEntry(SQLModel, table=True):
    """Who in the console did or read what, when: the SP office reads it; never deleted."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _utc(nullable=False, index=True)
    user_id: int | None = Field(default=None, foreign_key="console_user.id")
    action: str = Field(max_length=40)  # signed_in | refused | locked | viewed | ...
    target: str = Field(default="", max_length=120)  # a feedback's reference, a name
