"""One turn of a conversation, in one transaction: the only place that opens one.

The router (bot/router.py) hands it a citizen's message, through the process's
database work; the channel sends back the replies it returns — after it returns, so
every answer is committed before the citizen sees the next question.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo

from sqlalchemy import Engine, select
from sqlmodel import Session as Db
from sqlmodel import col

from conversations import messages as M
from conversations.effects import Closed, Completed, Effect, Event, Msg, Reply, Start, Tick
from conversations.engine import follow_up_thanks, new_session, resume, step, thanks
from conversations.session import Session
from conversations.survey import Survey
from scheduler.alerts.raising import raise_alerts
from scheduler.alerts.rules import matching
from scheduler.cases.citizen import answered as citizen_answered
from scheduler.cases.opening import flag_pressure
from scheduler.config import AlertRule
from scheduler.identity import Identity
from storage import feedback as store
from storage import follow_ups, outbox, window
from storage.db import writer
from storage.feedback import LIVE_STAGES
from storage.models import Conversation, Feedback
from storage.turn import TurnStore, transaction

# Channels where free text may be sent only within 24 hours of the person's last message.
WINDOWED = frozenset({"whatsapp"})
CONTACT_QUESTION, FOLLOW_UP_QUESTION = "contact", "followup"  # the consents, in survey.yaml
# A citizen's window is stored again only when this much older than their message: one
# statement less on most turns, and the window we count closes at most this much early,
# well inside storage.window.MARGIN.
WINDOW_PRECISION = timedelta(minutes=1)


MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)


@dataclass(frozen=True)
class CitizenLimits:
    """How fast one citizen may write, and how many feedbacks they may open in an hour:
    past either, a polite word and nothing stored (officers' messages never come here)."""

    messages_per_minute: int
    feedback_per_hour: int


@dataclass(frozen=True)
class CitizenMessage:
    urn: str
    channel: str
    event: Event
    now: datetime
    provider_id: str | None = None


@dataclass(frozen=True)
class Turn:
    replies: list[Reply]
    completed_reference: str | None = None
    duplicate: bool = False


class FeedbackService:
    def __init__(self, engine: Engine, survey: Survey, identity: Identity,
                 default_language: str, update_window: timedelta, zone: tzinfo = UTC,
                 alert_rules: Sequence[AlertRule] = (),
                 unasked: Mapping[str, Collection[str]] | None = None,
                 limits: CitizenLimits | None = None,
                 case_due: timedelta = timedelta(hours=24)) -> None:
        """`unasked`: per channel, questions not asked there (a promise it cannot keep);
        `case_due`: how long a new case may wait for the SP office's instruction."""
        self.engine = writer(engine)
        self.limits = limits
        self.alert_rules = list(alert_rules)
        self.zone = zone
        self.survey = survey
        self._by_channel = {
            channel: replace(survey, questions=tuple(
                q for q in survey.questions if q.id not in questions))
            for channel, questions in (unasked or {}).items()}
        self.identity = identity
        self.default_language = default_language
        self.update_window = update_window
        self.case_due = case_due
        self._values = {
            q.id: {o.id: o.value for o in q.options}
            for q in survey.every_question
        }

    def handle(self, urn: str, channel: str, event: Event, now: datetime,
               provider_id: str | None = None) -> Turn:
        """Run one event through the engine and store the outcome atomically.

        `provider_id` (Telegram's update_id, Twilio's MessageSid) makes a redelivered
        message change nothing: the citizen is shown where they are instead.
        """
        return self.handle_one(CitizenMessage(urn, channel, event, now, provider_id))

    def handle_one(self, request: CitizenMessage) -> Turn:
        with transaction(self.engine) as tx:
            return self._turn(tx, request)

    def handle_together(self, requests: Sequence[CitizenMessage]) -> list[Turn | Exception]:
        """Several citizens' turns in one transaction: SQLite commits once for all of them.

        If anything fails, nothing of the group is kept and each turn is run again on
        its own, so one citizen's failure is theirs alone (returned in its place).
        """
        try:
            return list(self.handle_all_or_none(requests))
        except Exception:
            if len(requests) == 1:
                raise
        results: list[Turn | Exception] = []
        for request in requests:
            try:
                results.append(self.handle_one(request))
            except Exception as exc:
                results.append(exc)
        return results

    def handle_all_or_none(self, requests: Sequence[CitizenMessage],
                           engine: Engine | None = None) -> list[Turn]:
        """Several citizens' turns in one transaction (on `engine`, a variant of this
        service's database); if anything fails, it raises and nothing of them is kept."""
        with transaction(engine or self.engine) as tx:
            return [self._turn(tx, request) for request in requests]

    def _turn(self, tx: TurnStore, request: CitizenMessage) -> Turn:
        urn, channel, now = request.urn, request.channel, request.now
        sender = self.identity.sender(urn)
        tx.lock_sender(sender)
        row = tx.conversation(sender)
        if channel in WINDOWED and not tx.seen_since(row, now - WINDOW_PRECISION):
            # Only the window: held messages are officers', released by their desk
            # messages (seen()), so a citizen's turn does not pay for that query.
            tx.seen(sender, now)
        before = row.session if row else new_session(self.default_language)
        if self.limits is not None and (refused := self._past_limits(
                tx, self.limits, sender, before, request)) is not None:
            return refused
        if request.provider_id is not None and not tx.first_delivery(
                channel, request.provider_id, now):
            return Turn(resume(before, self.survey_for(channel)), duplicate=True)
        session, effects = step(before, request.event, now, self.survey_for(channel))
        if session.follow_up is not None:
            replies = self._follow_up(tx, before, session, effects, now)
            tx.save_conversation(row.id if row else None, sender=sender, channel=channel,
                                 session=session, feedback_id=None, now=now)
            return Turn(replies)
        previous = row.feedback_id if row else None
        feedback_id = self._store_answers(tx, before, session, effects, previous, sender,
                                          channel, now)
        replies = [e for e in effects if isinstance(e, Reply)]
        reference = None
        if feedback_id is not None and any(isinstance(e, Completed) for e in effects):
            session, reply, reference = self._complete(tx, feedback_id, session, urn, now)
            replies.append(reply)
            feedback_id = None  # the next answers start a new feedback
        tx.save_conversation(row.id if row else None, sender=sender, channel=channel,
                             session=session, feedback_id=feedback_id, now=now)
        if previous is not None and previous != feedback_id:
            tx.discard_if_empty(previous)
        return Turn(replies, reference)

    @staticmethod
    def _past_limits(tx: TurnStore, limits: CitizenLimits, sender: str, before: Session,
                     request: CitizenMessage) -> Turn | None:
        """A citizen writing faster than anyone answers questions, or opening feedback
        after feedback (for station after station): a polite word, nothing stored. On
        WhatsApp every reply is a billed message, so past the first word, silence."""
        now = request.now
        sent = tx.pace(sender, now, now - MINUTE)
        if sent > limits.messages_per_minute:
            first = sent == limits.messages_per_minute + 1
            return Turn([Reply(before.lang, (Msg(M.SLOW_DOWN),))] if first else [])
        opening = isinstance(request.event, Start) or before.stage in ("new", "pick_station")
        if opening and tx.opened_since(sender, now - HOUR) >= limits.feedback_per_hour:
            # What they left half-done this hour is not counted as "left incomplete".
            tx.throttle(sender, now - HOUR, now)
            return Turn([Reply(before.lang, (Msg(M.TOO_MANY_FEEDBACK),))])
        return None

    def survey_for(self, channel: str) -> Survey:
        return self._by_channel.get(channel, self.survey)

    def seen(self, urn: str, now: datetime) -> None:
        """A message that is not a turn (an officer's): the window opens all the same."""
        with Db(self.engine) as db, db.begin():
            window.seen(db, self.identity.sender(urn), now)
            window.release_held(db, urn, now)  # what waited for them goes out in the window

    def window_open(self, urn: str, now: datetime) -> bool:
        with Db(self.engine) as db:
            return window.is_open(db, self.identity.sender(urn), now)

    def in_feedback(self, urn: str) -> bool:
        """Whether this sender is in the middle of a feedback (picking or answering)."""
        with Db(self.engine) as db:
            state = db.execute(select(col(Conversation.state)).where(
                col(Conversation.sender) == self.identity.sender(urn))).scalar_one_or_none()
            return state is not None and Session.from_json(state).stage not in ("new", "ended")

    def _store_answers(self, tx: TurnStore, before: Session, session: Session,
                       effects: list[Effect],
                       previous: int | None, sender: str, channel: str,
                       now: datetime) -> int | None:
        """Write this turn's answers; returns the feedback they belong to, if any yet."""
        feedback_id, stored = previous, before.answers
        if any(isinstance(e, Closed) for e in effects) or before.station != session.station:
            # What was answered stays stored, as incomplete; and one station's answers
            # never go into another station's feedback.
            feedback_id, stored = None, {}
        # A new feedback only while answers are being given: an ended conversation keeps
        # its answers in the session, and a "thanks" after the last answer, or a "stop",
        # must not copy them into a second, incomplete feedback.
        collecting = session.stage == "asking" or any(isinstance(e, Completed) for e in effects)
        if feedback_id is None and session.answers and session.station and collecting:
            feedback_id = tx.open_feedback(
                sender=sender, station=session.station, channel=channel,
                language=session.lang, now=now, year=now.astimezone(self.zone).year)
            stored = {}
        if feedback_id is not None:
            tx.write_answers(feedback_id, stored, session.answers, self._values, now,
                             session.lang)
        return feedback_id

    def _follow_up(self, tx: TurnStore, before: Session, session: Session,
                   effects: list[Effect], now: datetime) -> list[Reply]:
        """A follow-up's answers go with the feedback it follows up, as they come."""
        assert session.follow_up is not None
        stored = before.answers if before.follow_up == session.follow_up else {}
        if stored != session.answers:
            tx.write_answers(session.follow_up, stored, session.answers, self._values, now,
                             session.lang)
        replies = [e for e in effects if isinstance(e, Reply)]
        if any(isinstance(e, Completed) for e in effects):
            with tx.orm() as db:
                if session.closure:
                    score = next((self._values.get(q, {}).get(a.option or "")
                                  for q, a in session.answers.items()), None)
                    citizen_answered(db, session.follow_up, score, now, self.case_due)
                else:
                    follow_ups.answered(db, session.follow_up, now)
            replies.append(follow_up_thanks(session))
        return replies

    def _complete(self, tx: TurnStore, feedback_id: int, session: Session, urn: str,
                  now: datetime) -> tuple[Session, Reply, str]:
        def agreed(question: str) -> bool:
            answer = session.answers.get(question)
            return answer is not None and answer.option == "yes"

        rules = matching(self.alert_rules, session.answers)
        alone = None if rules else tx.complete_alone(
            feedback_id, urn=urn, may_contact=agreed(CONTACT_QUESTION),
            may_follow_up=agreed(FOLLOW_UP_QUESTION), now=now, since=now - self.update_window)
        if alone is not None:  # most feedback: no alert, not an update
            reference, started = alone
            # Until then, a new feedback for this station updates this one (storage.feedback).
            session = session.evolve(reference=reference,
                                     update_until=started + self.update_window)
            return session, thanks(session, reference, False), reference
        with tx.orm() as db:
            feedback = db.get(Feedback, feedback_id)
            assert feedback is not None
            store.keep_contact(db, feedback, urn, agreed(CONTACT_QUESTION),
                               agreed(FOLLOW_UP_QUESTION), now)
            kept, updated = store.complete(db, feedback, now, self.update_window)
            assert kept.id is not None
            raise_alerts(db, kept.id, kept.station_code, rules, now, self.case_due)
            if updated and not rules:  # negative, now "corrected" within the window
                flag_pressure(db, kept.id, now)
        session = session.evolve(reference=kept.reference,
                                 update_until=kept.started_at + self.update_window)
        return session, thanks(session, kept.reference, updated), kept.reference

    def expire_idle(self, now: datetime) -> int:
        """Close conversations silent for longer than the idle timeout (the scheduler's sweep).

        Their answers stay stored, counted as incomplete; returns how many were closed.
        """
        closed = 0
        with transaction(self.engine) as tx:
            with tx.orm() as db:
                idle = [(r.id, r.sender, r.channel, r.state, r.feedback_id, r.updated_at)
                        for r in store.idle_conversations(db, now - self.survey.idle_timeout)]
            for row_id, sender, channel, state, feedback_id, updated_at in idle:
                session, effects = step(Session.from_json(state), Tick(), now,
                                        self.survey_for(channel))
                if not any(isinstance(e, Closed) for e in effects):
                    continue
                tx.save_conversation(row_id, sender=sender, channel=channel, session=session,
                                     feedback_id=None, now=updated_at, by_citizen=False)
                if feedback_id is not None:
                    tx.discard_if_empty(feedback_id)
                closed += 1
        return closed

    def ask_follow_up(self, sender: str, urn: str, feedback_id: int, now: datetime,
                      opening: Callable[[Feedback], Session], kind: str = "follow_up",
                      mark: Callable[[Db], bool] | None = None) -> bool:
        """Set the citizen's conversation to a follow-up's questions (`opening`) and queue
        its first message, together. False when the citizen is giving another feedback
        right now (they are not interrupted) or it was asked already (`mark`: records
        that it is asked, False if it was; by default the follow-up's)."""
        with transaction(self.engine) as tx:
            tx.lock_sender(sender)
            row = tx.conversation(sender)
            if row is not None and row.session.stage in LIVE_STAGES:
                return False
            with tx.orm() as db:
                asked = mark(db) if mark else follow_ups.mark_asked(db, feedback_id, now)
                if not asked:
                    return False
                feedback = db.get(Feedback, feedback_id)
                assert feedback is not None
                session = opening(feedback)
                key = f"{kind}:{feedback_id}" + (f":{now.isoformat()}" if mark else "")
                outbox.queue(db, kind, urn, key, {"feedback_id": feedback_id}, now)
            tx.save_conversation(row.id if row else None, sender=sender,
                                 channel=urn.split(":", 1)[0], session=session,
                                 feedback_id=None, now=now, by_citizen=False)
        return True

    def mark_blocked(self, urn: str, now: datetime) -> None:
        """The citizen blocked the bot: remember it, so nothing is sent to them again."""
        sender = self.identity.sender(urn)
        with Db(self.engine) as db, db.begin():
            store.mark_blocked(db, sender, now)
