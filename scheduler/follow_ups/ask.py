"""Asking citizens, days later, whether action was taken (config `follow_ups`).

A follow-up is due `after_days` after a completed feedback whose author agreed to
it. Asking sets the citizen's conversation to the follow-up's questions and queues
the opening message in the outbox, in one transaction of the service's: their next
message is read as the answer. A citizen in the middle of another feedback is not
interrupted; they are asked at the next run. Nobody is written to outside `send_from`-`send_until`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from babel.dates import format_date
from sqlmodel import Session as Db

from conversations.effects import Reply
from conversations.engine import begin_follow_up
from conversations.session import Session
from scheduler.app import App
from storage import follow_ups
from storage.models import Feedback

log = logging.getLogger(__name__)
LATE = timedelta(days=3)  # asked at most this long after it fell due


def opening(app: App, feedback: Feedback, now: datetime,
            closure: bool = False) -> tuple[Session, Reply]:
    """The follow-up's session and first message (the outbox builds the same again);
    `closure`: the question asked when its case closed."""
    assert feedback.id is not None and feedback.completed_at is not None
    lang = feedback.language if feedback.language in app.survey.languages \
        else app.config.default_language
    visited = feedback.completed_at.astimezone(app.config.zone).date()
    date = format_date(visited, format="d MMMM", locale="hi_IN" if lang == "hi" else "en_IN")
    return begin_follow_up(lang, feedback.id, feedback.reference, feedback.station_code, date,
                           now, app.survey, closure)


def ask_follow_ups(app: App, now: datetime) -> int:
    """Ask every follow-up that is due; returns how many were asked."""
    settings = app.config.follow_ups
    local = now.astimezone(app.config.zone).time()
    if not app.survey.follow_up or not settings.send_from <= local < settings.send_until:
        return 0
    with Db(app.engine) as db:
        due = follow_ups.due(db, now, timedelta(days=settings.after_days), LATE)
    asked = 0
    for one in due:
        try:
            asked += _ask(app, one, now)
        except Exception:  # one broken row must not stop the others; never the address
            log.exception("the follow-up of feedback %s could not be asked", one.feedback_id)
    return asked


def _reachable(app: App, due: follow_ups.Due, now: datetime) -> bool:
    """A week later a WhatsApp citizen's 24-hour window is closed: only the approved
    follow-up template reaches them. Without it they are not asked at all, rather than
    have their next message taken for an answer to a question they never saw."""
    if not due.urn.startswith("whatsapp:") or app.config.whatsapp.templates.get("follow_up"):
        return True
    return app.service.window_open(due.urn, now)


def _ask(app: App, due: follow_ups.Due, now: datetime) -> bool:
    if not _reachable(app, due, now):
        return False
    return app.service.ask_follow_up(due.sender, due.urn, due.feedback_id, now,
                                     lambda feedback: opening(app, feedback, now)[0])
