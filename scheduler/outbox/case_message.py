"""An outbox message about a case, built when it is sent: one step someone took, or a
case gone past its deadline. Payload: case_id, officer_id, and event_id or overdue."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import Session as Db
from sqlmodel import col

from conversations.effects import Reply
from scheduler.cases.message import overdue_reply, step_reply
from scheduler.config import Config
from scheduler.outbox.message import Withheld
from storage.models import (
    Alert,
    CaseEvent,
    ConsoleUser,
    Feedback,
    FeedbackCase,
    Officer,
    Station,
)


def case_message(db: Db, config: Config, payload: dict[str, Any]) -> Reply | None:
    case = db.get(FeedbackCase, payload["case_id"])
    officer = db.get(Officer, payload["officer_id"])
    if case is None or officer is None:
        return None
    if officer.role != "sp_office" and case.red:
        # Since this was queued, the feedback reported a demand: the station hears nothing.
        raise Withheld("its case is red now: the SP office's alone")
    feedback = db.get(Feedback, case.feedback_id)
    station = db.get(Station, case.station_code)
    assert feedback is not None and station is not None
    lang = officer.language
    labels = {rule.id: rule.label(lang) for rule in config.alerts.rules}
    reasons = [labels.get(rule, rule) for rule in db.execute(
        select(col(Alert.rule)).where(col(Alert.feedback_id) == case.feedback_id)
        .order_by(col(Alert.id))).scalars()]
    name = station.name_hi if lang == "hi" else station.name_en
    if payload.get("overdue"):
        return overdue_reply(case, feedback.reference, name, reasons, officer, config.zone)
    event = db.get(CaseEvent, payload["event_id"])
    if event is None:
        return None
    by = db.get(Officer, event.officer_id) if event.officer_id else None
    # or the SP office's console account (bot/office) that took the step
    at_console = db.get(ConsoleUser, event.console_user_id) if event.console_user_id else None
    return step_reply(event, case, feedback.reference, name, reasons,
                      by.name if by else at_console.name if at_console else "", officer,
                      config.cases)
