"""What officers do with a case, the same from the chat and from `prayas case`: the SP
office instructs the in-charge, the in-charge reports the action taken, the SP office
closes the case or returns it for more. Each step is a CaseEvent (who, when, what was
written) and the messages it sends, in the caller's transaction; a step refused
changes nothing and says why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from sqlmodel import Session as Db

from scheduler.config import Cases
from storage import outbox
from storage.models import CaseEvent, FeedbackCase
from storage.officers import district_of, officers_for

Verb = Literal["instruct", "report", "close", "return"]
# done, or why not: the case is closed; the officer is not of its station or district;
# a red case, which an in-charge never sees; nothing reported to return; no such
# preset; close and return need a few words.
Outcome = Literal["done", "closed", "not_yours", "red", "nothing_to_return", "no_preset",
                  "no_words"]
STATE_AFTER: dict[Verb, str] = {"instruct": "instructed", "report": "reported",
                                "close": "closed", "return": "returned"}
# Who hears of a step: the station's in-charge of what the SP office did, the SP office
# of what the in-charge reported.
TOLD: dict[Verb, str] = {"instruct": "in_charge", "return": "in_charge",
                         "close": "in_charge", "report": "sp_office"}


class Acting(Protocol):
    """Who takes a step: an enrolled officer, or a console account acting as the SP
    office of a district (bot/office: `ConsoleActor`)."""

    @property
    def role(self) -> str: ...
    @property
    def scope(self) -> str: ...
    @property
    def id(self) -> int | None: ...


@dataclass(frozen=True)
class ConsoleActor:
    """A console account of the SP office, acting on one district's case."""

    role: str
    scope: str
    console_user_id: int
    id: None = None  # no officer row: the event names the console account


@dataclass(frozen=True)
class Step:
    verb: Verb
    preset: str | None = None  # an instruction's, config cases.presets
    text: str | None = None
    media_ref: str | None = None  # a voice note or photo the officer sent with it
    media_kind: str | None = None  # voice | photo


def refusal(db: Db, case: FeedbackCase, officer: Acting, verb: Verb) -> Outcome | None:
    """Why this officer may not take such a step on this case now; None when they may
    (asked before the chat asks them for the words)."""
    if case.state == "closed":
        return "closed"
    if verb == "report":
        if officer.role != "in_charge" or officer.scope != case.station_code:
            return "not_yours"
        return "red" if case.red else None
    if officer.role != "sp_office" or officer.scope != district_of(db, case.station_code):
        return "not_yours"
    if verb == "instruct" and case.red:
        return "red"  # the station may be its subject: the SP office acts itself
    if verb == "return" and case.state != "reported":
        return "nothing_to_return"
    return None


def _incomplete(step: Step, cases: Cases) -> Outcome | None:
    if step.verb == "instruct" and cases.preset(step.preset or "") is None:
        return "no_preset"
    if step.verb in ("close", "return") and not (step.text or "").strip() \
            and step.media_ref is None:
        return "no_words"
    return None


def take(db: Db, case: FeedbackCase, officer: Acting, step: Step, now: datetime,
         cases: Cases) -> Outcome:
    """Take the step: the event, the case's new state and deadline, and the messages to
    whoever must act next."""
    why = refusal(db, case, officer, step.verb) or _incomplete(step, cases)
    if why is not None:
        return why
    assert case.id is not None
    console = officer.console_user_id if isinstance(officer, ConsoleActor) else None
    assert officer.id is not None or console is not None
    event = CaseEvent(case_id=case.id, event=step.verb, at=now, officer_id=officer.id,
                      console_user_id=console,
                      preset=step.preset if step.verb == "instruct" else None,
                      text=(step.text or "").strip() or None, media_ref=step.media_ref,
                      media_kind=step.media_kind)
    db.add(event)
    state = STATE_AFTER[step.verb]
    case.state, case.updated_at, case.level = state, now, 0
    if state != "closed":
        case.due_at = now + timedelta(hours=getattr(cases.due_hours, state))
    db.flush()
    if case.red and TOLD[step.verb] == "in_charge":
        return "done"  # a red case's station hears nothing of it
    for told in officers_for(db, [TOLD[step.verb]], case.station_code):
        if told.id == officer.id:
            continue
        outbox.queue(db, "case", told.urn, f"case:{event.id}:officer:{told.id}",
                     {"case_id": case.id, "event_id": event.id, "officer_id": told.id}, now)
    return "done"
