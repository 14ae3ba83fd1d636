"""The outbox dispatcher: every proactive message leaves through here, in priority order.

Guarantee: at least once. A message is marked sent after Telegram accepted it; a crash
between the two sends it again when the process is back (the idempotency key stops the
same cause from being *queued* twice, not a resend after such a crash). A message older
than `too_old` is marked stale instead of sent: a day-old alert is read in the digest.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session as Db
from sqlmodel import col

from conversations.effects import Reply
from scheduler.alerts.message import alert_reply
from scheduler.app import App
from scheduler.cases.message import actions
from scheduler.digests.chart_process import ChartProcess
from scheduler.digests.digest import Digest
from scheduler.follow_ups.ask import opening
from scheduler.outbox.attachments import Attachments, stored
from scheduler.outbox.case_message import case_message
from scheduler.outbox.message import (
    Channel,
    Proactive,
    Refused,
    RetryLater,
    Withheld,
    text_pieces,
)
from scheduler.report.monthly import monthly_reply
from scheduler.visit_time import busy
from storage import alerts, outbox
from storage.db import writer
from storage.models import Alert, Answer, Feedback, FeedbackCase, Officer, Outbox, Station

log = logging.getLogger(__name__)
FETCH_TRIES = 3  # a voice note or photo the platform will not give: the text goes alone


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    recipient: str
    reply: Reply | None
    stale: bool
    attempts: int
    template: bool
    sent: frozenset[str] = frozenset()  # pieces an earlier attempt delivered
    texts: tuple[str, ...] = ()  # the text's parts as that attempt cut them
    withheld: str | None = None  # why it must not go out any more


class Dispatcher:
    def __init__(self, app: App, channels: Mapping[str, Channel],
                 too_old: timedelta = timedelta(hours=24), batch: int = 50) -> None:
        self.app, self.channels, self.too_old, self.batch = app, channels, too_old, batch
        self.engine = writer(app.engine)
        self.attachments = Attachments(app.engine, channels)
        # A state-sized district's digest draws its chart in a process of its own.
        self.charts = ChartProcess() if ChartProcess.pays_for(app.config) else None

    def warm(self) -> None:
        """Start what the digests will need (the chart process), before the first one."""
        if self.charts is not None:
            self.charts.warm()

    def idle(self) -> None:
        """Not the leader (any more): no digests to build here, no chart process kept."""
        if self.charts is not None:
            self.charts.stop_child()

    def close(self) -> None:
        if self.charts is not None:
            self.charts.close()

    async def run_once(self, now: datetime, keys: set[str] | None = None) -> int:
        """Send what is due (only `keys`, if given); returns how many messages went out."""
        sent = 0
        for job in await asyncio.to_thread(self._due, now, keys):
            try:
                if job.reply is not None and not job.stale:
                    job = replace(job, reply=await self.attachments.fetched(
                        job.reply, job.recipient, now))
            except Exception as exc:  # the platform's hiccup: the message waits a little
                log.warning("fetching a message's voice note or photo failed: %s",
                            type(exc).__name__)
                if job.attempts < FETCH_TRIES:
                    await asyncio.to_thread(self._settle, job.id, "pending", now,
                                            "fetching a file", now + timedelta(seconds=30))
                    continue
                # then it goes without: its text says a voice note or photo was sent
            outcome, retry_at, error = await self._try(job, now)
            await asyncio.to_thread(self._settle, job.id, outcome, now, error, retry_at)
            sent += outcome == "sent"
        return sent

    async def _try(self, job: Job, now: datetime) -> tuple[str, datetime | None, str | None]:
        if job.withheld:
            return "withheld", None, job.withheld
        if job.stale:
            return "stale", None, "older than the cut-off"
        if job.reply is None:
            return "failed", None, "nothing to send"
        channel = self.channels.get(job.recipient.partition(":")[0])
        if channel is None:  # `prayas poll` beside a `prayas serve` with WhatsApp, say
            name = job.recipient.partition(":")[0]
            return "pending", now + timedelta(minutes=5), f"{name} is not running in this process"
        try:
            outcome = await channel.send(Proactive(
                job.id, job.kind, job.recipient, job.reply, job.template, job.sent,
                job.texts,
                lambda pieces, texts: asyncio.to_thread(self._progress, job.id, pieces, texts)))
        except RetryLater as exc:
            return "pending", now + timedelta(seconds=exc.seconds), str(exc)[:200]
        except Refused as exc:
            return "failed", None, str(exc)[:200]  # blocked, or a message the platform refuses
        except Exception as exc:  # 5xx, timeouts, anything else: back off, an hour at most
            # One odd message must never hold up the rest of the outbox.
            log.warning("sending an outbox message failed: %s", type(exc).__name__)
            backoff = min(timedelta(seconds=10 * 2 ** job.attempts), timedelta(hours=1))
            return "pending", now + backoff, str(exc)[:200]
        if outcome == "held":
            return "held", None, "outside the 24-hour window: a template notice was sent"
        return "sent", None, None

    def _progress(self, message_id: int, pieces: list[str], texts: list[str]) -> None:
        """These pieces of a long message went out: a retry sends only the others, and
        the rest of these texts."""
        with Db(self.engine) as db, db.begin():
            message = db.get(Outbox, message_id)
            if message is not None:
                message.payload = {**message.payload, "pieces_sent": pieces,
                                   "text_parts": texts}

    def _settle(self, message_id: int, outcome: str, now: datetime, error: str | None,
                retry_at: datetime | None) -> None:
        with Db(self.engine) as db, db.begin():
            outbox.settle(db, message_id, outcome, now, error, retry_at)

    def _due(self, now: datetime, keys: set[str] | None) -> list[Job]:
        # Read without the write lock: building a digest must not keep citizens waiting.
        with Db(self.app.engine) as db:
            jobs = []
            # One for the batch: the in-charges of a district share its week's numbers.
            digest = Digest(self.app.engine, self.app.config, self.app.catalogs,
                            self.charts)
            for m in outbox.due(db, now, self.batch):
                if keys is not None and m.idempotency_key not in keys:
                    continue
                assert m.id is not None  # a stored row (None is for one not yet added)
                withheld = None
                try:
                    reply = self._reply(db, m, digest)
                    reply = stored(db, reply) if reply is not None else None
                except Withheld as why:
                    reply, withheld = None, str(why)
                except Exception:  # a broken row is marked failed, not retried forever
                    log.exception("cannot build outbox message %s", m.id)
                    reply = None
                # A held message's age counts from its release: the officer asked for it.
                age = now - (m.released_at or m.created_at)
                jobs.append(Job(m.id, m.kind, m.recipient, reply,
                                age > self.too_old, m.attempts,
                                # released: the officer just wrote, the window is open
                                bool(m.payload.get("template")) and m.released_at is None,
                                _sent(m.payload), tuple(m.payload.get("text_parts", ())),
                                withheld))
            return jobs

    def _reply(self, db: Db, message: Outbox, digest: Digest) -> Reply | None:
        if message.kind == "digest":
            return self._digest(db, message, digest)
        if message.kind == "case":
            return case_message(db, self.app.config, message.payload)
        if message.kind == "report":
            officer = db.get(Officer, message.payload["officer_id"])
            return monthly_reply(self.app, message.payload, officer.language,
                                 message.created_at) if officer else None
        if message.kind in ("follow_up", "closure_check"):
            feedback = db.get(Feedback, message.payload["feedback_id"])
            closure = message.kind == "closure_check"
            return opening(self.app, feedback, message.created_at, closure)[1] \
                if feedback else None
        if message.kind not in ("alert", "red_alert", "escalation"):
            return None
        # One alert (an escalation, or a message queued before alerts were grouped), or
        # every alert of one feedback for this officer.
        ids = message.payload.get("alert_ids") or [message.payload["alert_id"]]
        found = [a for a in (db.get(Alert, i) for i in ids) if a is not None]
        officer = db.get(Officer, message.payload["officer_id"])
        if not found or officer is None:
            return None
        first = found[0]
        feedback = db.get(Feedback, first.feedback_id)
        station = db.get(Station, first.station_code)
        assert feedback is not None and station is not None
        if officer.role == "in_charge" and alerts.is_red(db, first.feedback_id):
            # Updated since this was queued, the feedback now reports a demand: the
            # station may be the subject, and the message would show it the answers.
            raise Withheld("its feedback now reports a demand: the SP office's alone")
        answers = list(db.execute(select(Answer).where(
            col(Answer.feedback_id) == first.feedback_id)).scalars())
        rules = {rule.id: rule for rule in self.app.config.alerts.rules}
        reasons = [rules[a.rule].label(officer.language) if a.rule in rules else a.rule
                   for a in found]
        case = db.execute(select(FeedbackCase).where(
            col(FeedbackCase.feedback_id) == first.feedback_id)).scalar_one_or_none()
        return alert_reply(found, reasons, feedback, station, answers, self.app.survey,
                           officer.language, self.app.config.zone,
                           escalated=message.kind == "escalation",
                           reopened=bool(message.payload.get("reopened")),
                           steps=actions(case, officer) if case else (),
                           exact_time=self._exact_time(db, officer, feedback))

    def _exact_time(self, db: Db, officer: Officer, feedback: Feedback) -> bool:
        """The SP office reads the minute; an in-charge only where many visit."""
        if officer.role != "in_charge" or feedback.completed_at is None:
            return True
        return busy(db, feedback.station_code, feedback.completed_at,
                    self.app.config.alerts.exact_time_from_weekly)

    def _digest(self, db: Db, message: Outbox, digest: Digest) -> Reply | None:
        officer = db.get(Officer, message.payload["officer_id"])
        if officer is None:
            return None
        day = date.fromisoformat(message.payload["date"])
        if "station" in message.payload:  # an in-charge's weekly digest
            if self.app.config.station(message.payload["station"]) is None:
                return None
            return digest.weekly(message.payload["station"], day, officer.language,
                                 message.created_at)
        district = next((d for d in self.app.config.districts
                         if d.code == message.payload["district"]), None)
        if district is None:
            return None
        return digest.daily(district, day, officer.language, message.created_at)


def _sent(payload: dict[str, Any]) -> frozenset[str]:
    """The pieces already delivered; `parts_sent` (a count of text parts, before pieces
    had names) from an outbox written by an earlier version."""
    if "pieces_sent" in payload:
        return frozenset(payload["pieces_sent"])
    return frozenset(text_pieces(int(payload.get("parts_sent", 0))))
