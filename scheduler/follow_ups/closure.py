"""The citizen confirms: when the SP office closes a case and its citizen agreed to be
asked again, they are asked whether they are satisfied now (1-5), with nothing of what
was done or by whom. A poor answer reopens the case at the SP office."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel import Session as Db

from conversations.effects import Reply
from conversations.session import Session
from scheduler.app import App
from scheduler.follow_ups.ask import opening
from storage import cases as store
from storage.models import Feedback

log = logging.getLogger(__name__)
LATE = timedelta(days=3)  # a closure the citizen could not be asked about in time


def ask_citizens(app: App, now: datetime) -> int:
    """Ask the citizen of every case closed lately who agreed; how many were asked."""
    settings = app.config.follow_ups
    local = now.astimezone(app.config.zone).time()
    if not app.survey.closure or not settings.send_from <= local < settings.send_until:
        return 0
    with Db(app.engine) as db:
        due = store.citizens_to_ask(db, now - LATE)
    asked = 0
    for one in due:
        if one.urn.startswith("whatsapp:") and not app.config.whatsapp.templates.get(
                "closure_check") and not app.service.window_open(one.urn, now):
            continue  # a message they cannot be sent: not asked, rather than misread
        try:
            asked += _ask(app, one, now)
        except Exception:  # one broken row must not stop the others; never the address
            log.exception("the citizen of case %s could not be asked", one.case_id)
    return asked


def _ask(app: App, one: store.ToAsk, now: datetime) -> bool:
    def mark(db: Db) -> bool:
        return store.mark_citizen_asked(db, one.case_id, now)

    def session(feedback: Feedback) -> Session:
        return question(app, feedback, now)[0]

    return app.service.ask_follow_up(one.sender, one.urn, one.feedback_id, now, session,
                                     kind="closure_check", mark=mark)


def question(app: App, feedback: Feedback, now: datetime) -> tuple[Session, Reply]:
    """The closure question's session and message (the outbox builds the same again)."""
    return opening(app, feedback, now, closure=True)
