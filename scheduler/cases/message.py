"""The messages of a case's steps, built when sent: an instruction or a return for the
in-charge, an action report for the SP office, a closure, an overdue case. Plain text;
the feedback's reference, station and reasons, never the citizen."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from conversations.effects import Attached, Choice, Msg, Reply
from conversations.messages import N_
from scheduler.config import Cases
from scheduler.officer_lines import REASONS, REFERENCE, WHERE
from storage.models import CaseEvent, FeedbackCase, Officer

CASE_QUESTION = "_case"
INSTRUCTED = N_("📋 Instruction from the SP office")
RETURNED = N_("↩️ Returned by the SP office: more action is needed")
REPORTED = N_("📝 Action report from the station")
CLOSED = N_("✅ Closed by the SP office")
UNHAPPY = N_("🔁 The citizen is not satisfied: the case is open again")
CITIZEN_SAID = N_("The citizen's answer (1-5): {score}")
OVERDUE = N_("⏰ Past its deadline ({since}): {state}")
INSTRUCTION = N_("Instruction: {preset}")
SP_WORDS = N_("SP office: {text}")
ACTION_TAKEN = N_("Action taken: {text}")
VOICE_CAME = N_("A voice note came with it.")
PHOTO_CAME = N_("A photo came with it.")
BY = N_("By: {name}")
STATE_NAMES = {"new": N_("waiting for an instruction"),
               "instructed": N_("waiting for the station's report"),
               "reported": N_("waiting for the SP office to close or return it"),
               "returned": N_("returned, waiting for the station's report")}
REPORT_ACTION = N_("Report the action taken")
INSTRUCT = N_("Send an instruction")
CLOSE = N_("Close the case")
RETURN = N_("Return for more action")
_TITLES = {"instruct": INSTRUCTED, "return": RETURNED, "report": REPORTED, "close": CLOSED,
           "citizen_unhappy": UNHAPPY}


def case_option(verb: str, case_id: int | None, preset: str = "") -> str:
    """A button's option: `report-12`, `preset-12-inquire`; read back by chat.read_option."""
    return f"{verb}-{case_id}" + (f"-{preset}" if preset else "")


def actions(case: FeedbackCase, officer: Officer) -> tuple[Choice, ...]:
    """The buttons of what this officer may do next on this case."""
    if case.state == "closed" or officer.role == "sdop":  # an SDOP sees; the others act
        return ()
    if officer.role == "in_charge":
        return () if case.red else (Choice(case_option("report", case.id), 1,
                                           Msg(REPORT_ACTION)),)
    verbs = [("close", CLOSE)] if case.red else [("instruct", INSTRUCT), ("close", CLOSE)]
    if case.state == "reported":
        verbs.insert(0, ("return", RETURN))
    return tuple(Choice(case_option(verb, case.id), n, Msg(label))
                 for n, (verb, label) in enumerate(verbs, start=1))


def step_reply(event: CaseEvent, case: FeedbackCase, reference: str, station: str,
               reasons: Sequence[str], by: str, officer: Officer, cases: Cases) -> Reply:
    """What `officer` reads of one step someone else took."""
    lines = [Msg(_TITLES[event.event]), Msg.of(REFERENCE, reference=reference),
             Msg.of(WHERE, station=station), Msg.of(REASONS, reasons=", ".join(reasons))]
    if event.preset and (preset := cases.preset(event.preset)):
        lines.append(Msg.of(INSTRUCTION, preset=preset.label(officer.language)))
    if event.event == "citizen_unhappy":
        lines.append(Msg.of(CITIZEN_SAID, score=event.text or "?"))
    elif event.text:
        said = ACTION_TAKEN if event.event == "report" else SP_WORDS
        lines.append(Msg.of(said, text=event.text))
    attached: tuple[Attached, ...] = ()
    if event.media_kind and event.media_ref:
        voice = event.media_kind == "voice"
        lines.append(Msg(VOICE_CAME if voice else PHOTO_CAME))
        name = f"{reference}-{event.event}-{event.id}." + ("ogg" if voice else "jpg")
        attached = (Attached("voice" if voice else "photo", event.media_ref, name),)
    if by.strip():
        lines.append(Msg.of(BY, name=by))
    return Reply(officer.language, tuple(lines), actions(case, officer), CASE_QUESTION,
                 attached=attached)


def overdue_reply(case: FeedbackCase, reference: str, station: str, reasons: Sequence[str],
                  officer: Officer, zone: ZoneInfo) -> Reply:
    """An overdue case, for the level it went up to."""
    locale = "hi_IN" if officer.language == "hi" else "en_IN"
    since = format_datetime(case.due_at.astimezone(zone), "d MMM, HH:mm", locale=locale)
    lines = (Msg.of(OVERDUE, since=since, state=Msg(STATE_NAMES.get(case.state, ""))),
             Msg.of(REFERENCE, reference=reference), Msg.of(WHERE, station=station),
             Msg.of(REASONS, reasons=", ".join(reasons)))
    return Reply(officer.language, lines, actions(case, officer), CASE_QUESTION)
