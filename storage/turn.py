"""The statements of a citizen's turn, written once and run on the driver's cursor.

Every message a citizen sends runs these few statements, as plain SQL strings for
SQLite and PostgreSQL rather than built by SQLAlchemy (why: see bench/README.md), run on
the DB-API cursor of the turn's connection, inside the transaction SQLAlchemy began
(BEGIN IMMEDIATE on SQLite, see storage.db).
Completing a feedback is here too in the common case (no alert, no earlier feedback
to update); the rare rest of a turn (updating an earlier feedback, raising alerts) uses
the ORM on the same connection, in the same transaction: `TurnStore.orm()`.

Values are stored exactly as SQLAlchemy stores them, so either side reads the other's
rows: on SQLite, times as naive UTC text with microseconds and JSON as text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psycopg.types.json import Json
from sqlalchemy import Connection, Engine
from sqlmodel import Session as Db

from conversations.session import Answer as SessionAnswer
from conversations.session import Session

_SQL = {
    "lock": "SELECT pg_advisory_xact_lock(?)",
    "seen": "INSERT INTO contact_window (sender, last_inbound_at) VALUES (?, ?) "
            "ON CONFLICT (sender) DO UPDATE SET last_inbound_at = excluded.last_inbound_at",
    # With when the sender last wrote (WhatsApp's window), to skip rewriting it each turn.
    "load": "SELECT c.id, c.state, c.feedback_id, w.last_inbound_at FROM conversation AS c "
            "LEFT JOIN contact_window AS w ON w.sender = c.sender WHERE c.sender = ?",
    "processed": "INSERT INTO processed_message (channel, provider_id, received_at) "
                 "VALUES (?, ?, ?) ON CONFLICT (channel, provider_id) DO NOTHING",
    # Writing to us again means the citizen has not blocked the bot (any more).
    "insert_conversation": "INSERT INTO conversation (sender, channel, stage, state, "
                           "feedback_id, updated_at, blocked_at) VALUES (?, ?, ?, ?, ?, ?, NULL)",
    "update_conversation": "UPDATE conversation SET channel = ?, stage = ?, state = ?, "
                           "feedback_id = ?, updated_at = ?, blocked_at = NULL WHERE id = ?",
    # The idle sweep and the follow-up job: the citizen did not write, nothing unblocks.
    "update_quietly": "UPDATE conversation SET channel = ?, stage = ?, state = ?, "
                      "feedback_id = ?, updated_at = ? WHERE id = ?",
    "counter": "INSERT INTO reference_counter (year, last) VALUES (?, 0) "
               "ON CONFLICT (year) DO NOTHING",
    "bump": "UPDATE reference_counter SET last = last + 1 WHERE year = ? RETURNING last",
    "open": "INSERT INTO feedback (reference, station_code, sender, channel, language, status, "
            "started_at, updated_at, completed_at, merged_into) "
            "VALUES (?, ?, ?, ?, ?, 'incomplete', ?, ?, NULL, NULL) RETURNING id",
    "insert_answer": "INSERT INTO answer (feedback_id, question_id, option_id, value, text, "
                     "voice_ref, skipped) VALUES (?, ?, ?, ?, ?, ?, ?)",
    "touch": "UPDATE feedback SET updated_at = ?, language = ? WHERE id = ?",
    "any_answer": "SELECT 1 FROM answer WHERE feedback_id = ? LIMIT 1",
    "drop_empty": "DELETE FROM feedback WHERE id = ? AND status = 'incomplete'",
    # Completing a feedback, the common case (storage.feedback.complete is the whole):
    "same_visit": "SELECT 1 FROM feedback AS this, feedback AS other WHERE this.id = ? "
                  "AND other.sender = this.sender AND other.station_code = this.station_code "
                  "AND other.id <> this.id AND other.status <> 'merged' "
                  "AND other.started_at >= ? LIMIT 1",
    "keep_contact": "INSERT INTO contact (feedback_id, urn, may_contact, may_follow_up, "
                    "created_at) VALUES (?, ?, ?, ?, ?)",
    "complete": "UPDATE feedback SET status = 'complete', completed_at = ?, updated_at = ? "
                "WHERE id = ? RETURNING reference, started_at",
    # The per-citizen limits (scheduler.service): this minute's messages, the hour's feedback.
    # SET reads the row as it was, so both CASEs see the old `since`.
    "pace": "INSERT INTO citizen_pace (sender, since, messages) VALUES (?, ?, 1) "
            "ON CONFLICT (sender) DO UPDATE SET "
            "messages = CASE WHEN citizen_pace.since <= ? THEN 1 "
            "ELSE citizen_pace.messages + 1 END, "
            "since = CASE WHEN citizen_pace.since <= ? THEN excluded.since "
            "ELSE citizen_pace.since END RETURNING messages",
    "opened_since": "SELECT count(*) FROM feedback WHERE sender = ? AND started_at >= ?",
    "throttle": "UPDATE feedback SET status = 'throttled', updated_at = ? "
                "WHERE sender = ? AND status = 'incomplete' AND started_at >= ?",
}
_POSTGRES = {name: sql.replace("?", "%s") for name, sql in _SQL.items()}


@dataclass(frozen=True)
class Stored:
    """A sender's conversation row."""

    id: int
    session: Session
    feedback_id: int | None
    last_inbound: Any = None  # as stored: naive UTC text on SQLite, a datetime on PostgreSQL


class TurnStore:
    """One transaction's statements. Open it with `transaction(engine)`."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._pg = connection.dialect.name == "postgresql"
        self._sql = _POSTGRES if self._pg else _SQL
        self._cursor = connection.connection.cursor()

    def _run(self, name: str, *params: Any) -> Any:
        self._cursor.execute(self._sql[name], params)
        return self._cursor

    def _time(self, value: datetime) -> Any:
        utc = value.astimezone(UTC)
        # SQLite keeps naive UTC text, as SQLAlchemy writes it: the ISO form without its
        # "+00:00".
        return utc if self._pg else utc.isoformat(" ", "microseconds")[:-6]

    def _read_time(self, value: Any) -> datetime:
        # psycopg gives an aware datetime; SQLite the naive UTC text `_time` wrote.
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)

    def _state(self, session: Session) -> Any:
        # One writer for both backends (Session.dumps): JSON that SQLAlchemy's JSON type
        # reads, on either database.
        return Json(session, dumps=Session.dumps) if self._pg else session.dumps()

    def lock_sender(self, sender: str) -> None:
        """Serialise one citizen's turns across processes: on PostgreSQL an advisory lock
        held until commit; on SQLite the file's write lock (BEGIN IMMEDIATE) already does."""
        if self._pg:
            key = int.from_bytes(hashlib.sha256(sender.encode()).digest()[:8], "big", signed=True)
            self._run("lock", key)

    def seen(self, sender: str, now: datetime) -> None:
        """The sender wrote to us: WhatsApp's 24-hour window is open from now."""
        self._run("seen", sender, self._time(now))

    def seen_since(self, row: Stored | None, since: datetime) -> bool:
        """Whether the window stored with `row` was opened at or after `since`."""
        if row is None or row.last_inbound is None:
            return False
        stored = row.last_inbound
        if isinstance(stored, str):  # SQLite: UTC as naive text
            stored = datetime.fromisoformat(stored)
            stored = stored if stored.tzinfo else stored.replace(tzinfo=UTC)
        return bool(stored >= since)

    def conversation(self, sender: str) -> Stored | None:
        row = self._run("load", sender).fetchone()
        if row is None:
            return None
        state = row[1]  # a dict from psycopg; text from SQLite
        session = Session.from_json(state if isinstance(state, dict) else json.loads(state))
        return Stored(row[0], session, row[2], row[3])

    def first_delivery(self, channel: str, provider_id: str, now: datetime) -> bool:
        """Record a provider's message id; False when it was seen before (a redelivery)."""
        return self._run("processed", channel, provider_id, self._time(now)).rowcount == 1

    def save_conversation(self, conversation_id: int | None, *, sender: str, channel: str,
                          session: Session, feedback_id: int | None, now: datetime,
                          by_citizen: bool = True) -> None:
        """`by_citizen`: they wrote to us, so they have not blocked the bot (any more)."""
        values = (channel, session.stage, self._state(session), feedback_id, self._time(now))
        if conversation_id is None:
            self._run("insert_conversation", sender, *values)
        else:
            self._run("update_conversation" if by_citizen else "update_quietly", *values,
                      conversation_id)

    def next_reference(self, year: int) -> str:
        """`FB-YY-NNNNNN` from a per-year counter; `year` is the district's, not UTC's."""
        self._run("counter", year)  # two first feedbacks of a year may race: one wins
        bumped = self._run("bump", year).fetchone()[0]
        return f"FB-{year % 100:02d}-{bumped:06d}"

    def open_feedback(self, *, sender: str, station: str, channel: str, language: str,
                      now: datetime, year: int) -> int:
        at = self._time(now)
        row = self._run("open", self.next_reference(year), station, sender, channel, language,
                        at, at).fetchone()
        return int(row[0])

    def write_answers(self, feedback_id: int, stored: Mapping[str, SessionAnswer],
                      answers: Mapping[str, SessionAnswer],
                      values: Mapping[str, Mapping[str, int | None]], now: datetime,
                      language: str) -> None:
        """Bring the stored answers from `stored` to `answers`: usually one new row a turn."""
        # Answers carried from turn to turn are the same objects: `is` settles most of
        # them without the dataclass's field-by-field comparison.
        outdated = [q for q, a in stored.items() if not _same(a, answers.get(q))]
        if outdated:
            mark = "%s" if self._pg else "?"
            self._cursor.execute(f"DELETE FROM answer WHERE feedback_id = {mark} AND "
                                 f"question_id IN ({', '.join([mark] * len(outdated))})",
                                 (feedback_id, *outdated))
        fresh = [q for q, answer in answers.items() if not _same(stored.get(q), answer)]
        if fresh:
            self._cursor.executemany(self._sql["insert_answer"], [
                (feedback_id, q, answers[q].option,
                 values.get(q, {}).get(answers[q].option or ""), answers[q].text,
                 answers[q].voice, answers[q].skipped) for q in fresh])
        self._run("touch", self._time(now), language, feedback_id)

    def discard_if_empty(self, feedback_id: int) -> None:
        """An incomplete feedback left with no answer (restarted, switched) is not a feedback."""
        if self._run("any_answer", feedback_id).fetchone() is None:
            self._run("drop_empty", feedback_id)

    def complete_alone(self, feedback_id: int, *, urn: str, may_contact: bool,
                       may_follow_up: bool, now: datetime,
                       since: datetime) -> tuple[str, datetime] | None:
        """Complete a feedback that updates no earlier one (none by the same citizen for
        the same station since `since`): its reference and when it started. None, having
        written nothing, when there is one: then storage.feedback.complete merges them, on
        the ORM."""
        if self._run("same_visit", feedback_id, self._time(since)).fetchone() is not None:
            return None
        at = self._time(now)
        # The citizen's address only when they agreed (storage.feedback.keep_contact). A
        # feedback completes once, so it has no contact row yet to replace.
        if may_contact or may_follow_up:
            self._run("keep_contact", feedback_id, urn, may_contact, may_follow_up, at)
        reference, started = self._run("complete", at, at, feedback_id).fetchone()
        return str(reference), self._read_time(started)

    def pace(self, sender: str, now: datetime, minute_ago: datetime) -> int:
        """Count this message; how many the sender has sent in their current minute."""
        cutoff = self._time(minute_ago)
        return int(self._run("pace", sender, self._time(now), cutoff, cutoff).fetchone()[0])

    def opened_since(self, sender: str, since: datetime) -> int:
        return int(self._run("opened_since", sender, self._time(since)).fetchone()[0])

    def throttle(self, sender: str, since: datetime, now: datetime) -> None:
        """The sender's incomplete feedback since `since` stop counting as left incomplete
        (kept, as every feedback is: their status says why they are not counted)."""
        self._run("throttle", self._time(now), sender, self._time(since))

    @contextmanager
    def orm(self) -> Iterator[Db]:
        """The ORM on this turn's connection and transaction, for the rare statements."""
        with Db(bind=self.connection, join_transaction_mode="rollback_only") as db:
            yield db
            db.flush()


def _same(stored: SessionAnswer | None, answer: SessionAnswer | None) -> bool:
    return stored is answer or stored == answer


@contextmanager
def transaction(engine: Engine) -> Iterator[TurnStore]:
    """One turn's transaction: committed when the block ends, rolled back on an error."""
    with engine.connect() as connection, connection.begin():
        yield TurnStore(connection)
