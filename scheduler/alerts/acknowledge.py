"""An officer acknowledges an alert: from the alert's button, or from their list of open
alerts. The button's option is `ack:<alert id>`, written and read only here."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session as Db
from sqlmodel import col

from conversations.effects import Msg, Reply
from conversations.messages import N_
from storage.models import Alert, AlertEvent, Officer
from storage.officers import district_of

ALERT_QUESTION = "_alert"
ACKNOWLEDGED = N_("Acknowledged. Thank you; the SP office can see it.")
ALREADY = N_("This alert was already acknowledged.")
WITHDRAWN = N_("This alert is no longer open.")
NOT_YOURS = N_("This alert is not for your station.")
# The alert table's id is PostgreSQL's INTEGER: a larger number is no alert, and asking
# the database for one fails the query. ASCII digits spelled out: str.isdigit() and \d
# also take '²' and '٣', which int() then refuses or reads.
MAX_ALERT_ID = 2**31 - 1
_OPTION = re.compile(r"ack:([1-9][0-9]{0,9})")


def ack_option(alert_id: int | None) -> str:
    return f"ack:{alert_id}"


def alert_of(option: str) -> int | None:
    """The alert an `ack:<id>` option names; None for anything else."""
    found = _OPTION.fullmatch(option)
    if found is None or int(found[1]) > MAX_ALERT_ID:
        return None
    return int(found[1])


def acknowledge(db: Db, alert_id: int, officer: Officer, now: datetime) -> Reply:
    """An officer's tap on an alert's button, answered in their language. The message
    named every reason of its feedback for this officer: the others are acknowledged too."""
    outcome = record(db, alert_id, officer, now)
    alert = db.get(Alert, alert_id)
    if outcome == "acknowledged" and alert is not None:
        for sibling in db.execute(select(Alert).where(
                col(Alert.feedback_id) == alert.feedback_id, col(Alert.id) != alert_id,
                col(Alert.status).in_(["open", "escalated"]))).scalars():
            if may_act_on(db, officer, sibling):
                record(db, sibling.id, officer, now)
    msgid = {"acknowledged": ACKNOWLEDGED, "already": ALREADY,
             "withdrawn": WITHDRAWN}.get(outcome, NOT_YOURS)
    return Reply(officer.language, (Msg(msgid),))


def record(db: Db, alert_id: int, officer: Officer, now: datetime,
                note: str | None = None) -> str:
    """'acknowledged', 'already', 'withdrawn' or 'not_yours'."""
    alert = db.get(Alert, alert_id, with_for_update=True)
    if alert is None or not may_act_on(db, officer, alert):
        return "not_yours"
    if alert.status == "acknowledged":
        return "already"
    if alert.status == "superseded":  # a stale button: the feedback is the SP office's now
        return "withdrawn"
    alert.status, alert.acknowledged_at, alert.acknowledged_by = "acknowledged", now, officer.id
    alert.note = note or alert.note
    db.add(AlertEvent(alert_id=alert_id, event="acknowledged", at=now, officer_id=officer.id,
                      note=note))
    return "acknowledged"


def may_act_on(db: Db, officer: Officer, alert: Alert) -> bool:
    if officer.role == "in_charge":
        # A red alert may be about the station itself: it is the SP office's alone.
        return officer.scope == alert.station_code and alert.severity != "red"
    return officer.scope == district_of(db, alert.station_code)
