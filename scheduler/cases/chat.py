"""A case's steps taken from an officer's chat: a button (or, on WhatsApp, a word and the
case's number) starts a step, and the officer's next message gives its words, voice
note or photo. The step waiting for them is kept on the officer (`Officer.pending`),
so it survives a restart and any process takes the next message."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlmodel import Session as Db

from conversations.effects import Choice, Event, Media, Msg, Reply, Text
from conversations.messages import N_
from conversations.text import normalize, whole_number
from scheduler.cases.message import CASE_QUESTION, case_option
from scheduler.cases.steps import Outcome, Step, Verb, refusal, take
from scheduler.config import Cases
from storage.models import FeedbackCase, Officer

PENDING_FOR = timedelta(hours=2)  # a step left waiting longer is forgotten
CHOOSE_PRESET = N_("Which instruction should go to the in-charge?")
ADD_WORDS = N_("Add a few words or a voice note for the in-charge, or send it as it is.")
SEND_AS_IS = N_("Send as it is")
WRITE_REPORT = N_("Write what action was taken, or send a voice note or photo.")
WRITE_CLOSE = N_("In a few words: what was done? The case closes with them; the "
                 "station reads them too.")
WRITE_RETURN = N_("In a few words for the station: what more must be done?")
CANCEL = N_("Cancel")
CANCELLED = N_("Cancelled. Nothing was sent.")
WORDS_PLEASE = N_("Please write a few words, or send a voice note. Or send “cancel”.")
SENT = {"instruct": N_("Sent to the in-charge. The case waits for their report."),
        "report": N_("Your report has gone to the SP office. Thank you."),
        "close": N_("The case is closed."),
        "return": N_("Returned to the in-charge for more action.")}
REFUSED: dict[Outcome, str] = {
    "closed": N_("This case is already closed."),
    "not_yours": N_("This case is not for you to act on."),
    "red": N_("This case is the SP office's alone."),
    "nothing_to_return": N_("There is no report to return yet."),
    "no_preset": N_("That instruction is not in the list any more."),
    "no_words": N_("Please write a few words, or send a voice note. Or send “cancel”."),
}
NO_CASE = N_("There is no such case.")
DONE_ALREADY = N_("This step is done or was cancelled. To begin again, use the case's "
                  "message or “Cases to act on” in the menu.")
# Typed to give up a step, on every channel (WhatsApp also shows it as the word to send).
CANCEL_WORDS = frozenset({"cancel", "रद्द", "रद्द करें", "radd", "rad"})
# Options as the buttons carry them (scheduler/cases/message.py): ASCII digits spelled
# out, an id PostgreSQL's INTEGER holds.
_OPTION = re.compile(r"(instruct|preset|send|report|close|return|cancel)-([1-9][0-9]{0,9})"
                     r"(?:-([a-z][a-z0-9_]{0,29}))?")
MAX_CASE_ID = 2**31 - 1
_ASKS: dict[str, str] = {"report": WRITE_REPORT, "close": WRITE_CLOSE, "return": WRITE_RETURN}


def read_option(option: str) -> tuple[str, int, str] | None:
    """(verb, case id, preset) of a button's option; None for anything else."""
    found = _OPTION.fullmatch(option)
    if found is None or int(found[2]) > MAX_CASE_ID:
        return None
    return found[1], int(found[2]), found[3] or ""


def tapped(db: Db, officer: Officer, option: str, now: datetime, cases: Cases) -> Reply:
    """A button of a case's message, or the word typed for it."""
    lang = officer.language
    read = read_option(option)
    if read is not None and read[0] == "cancel":
        return forget(officer)
    case = db.get(FeedbackCase, read[1], with_for_update=True) if read else None
    if read is None or case is None:
        return Reply(lang, (Msg(NO_CASE),))
    verb, case_id, preset = read
    step_verb: Verb = "instruct" if verb in ("preset", "send") else verb  # type: ignore[assignment]
    if (why := refusal(db, case, officer, step_verb)) is not None:
        officer.pending = None
        return Reply(lang, (Msg(REFUSED[why]),))
    # A preset or "send as it is" only while that step waits: a second tap, or a tap
    # Telegram delivers again, finds it done and sends nothing twice.
    expected = {"preset": f"preset:{case_id}", "send": f"instruct:{case_id}:{preset}"}
    if verb in expected and not (waiting(officer, now) and officer.pending == expected[verb]):
        return Reply(lang, (Msg(DONE_ALREADY),))
    if verb == "send":
        return _take(db, case, officer, Step("instruct", preset), now, cases)
    if verb == "instruct":
        _wait(officer, f"preset:{case_id}", now)
        choices = [Choice(case_option("preset", case_id, p.id), n, Msg(p.label(lang)))
                   for n, p in enumerate(cases.presets, start=1)]
        choices.append(Choice(case_option("cancel", case_id), len(choices) + 1, Msg(CANCEL)))
        return Reply(lang, (Msg(CHOOSE_PRESET),), tuple(choices), CASE_QUESTION)
    if verb == "preset":
        if cases.preset(preset) is None:
            return Reply(lang, (Msg(REFUSED["no_preset"]),))
        _wait(officer, f"instruct:{case_id}:{preset}", now)
        return Reply(lang, (Msg(ADD_WORDS),), (
            Choice(case_option("send", case_id, preset), 1, Msg(SEND_AS_IS)),
            Choice(case_option("cancel", case_id), 2, Msg(CANCEL))), CASE_QUESTION)
    _wait(officer, f"{verb}:{case_id}", now)
    return Reply(lang, (Msg(_ASKS[verb]),),
                 (Choice(case_option("cancel", case_id), 1, Msg(CANCEL)),), CASE_QUESTION)


def acting(db: Db, officers: list[Officer], option: str, now: datetime) -> Officer | None:
    """Of a chat's roles, the one this tap is for: the one whose step it continues, or
    else the first that may take it (an in-charge who is also the SP office's reports
    as the in-charge); the first role when none may, to be told why."""
    read = read_option(option)
    case = db.get(FeedbackCase, read[1]) if read else None
    if read is None or case is None or len(officers) < 2:
        return next(iter(officers), None)
    verb = "instruct" if read[0] in ("preset", "send") else read[0]
    for officer in officers:
        if waiting(officer, now) and (officer.pending or "").split(":")[1:2] == [str(read[1])]:
            return officer
    return next((o for o in officers if verb == "cancel"
                 or refusal(db, case, o, verb) is None),  # type: ignore[arg-type]
                officers[0])


def waiting(officer: Officer, now: datetime) -> bool:
    """Is a step of theirs waiting for this officer's next message?"""
    return bool(officer.pending) and officer.pending_at is not None \
        and now - officer.pending_at < PENDING_FOR


def wrote(db: Db, officer: Officer, event: Event, now: datetime, cases: Cases) -> Reply:
    """The officer's message, given to the step waiting for it (`waiting` is true)."""
    assert officer.pending
    if isinstance(event, Text) and normalize(event.text) in CANCEL_WORDS:
        return forget(officer)
    verb, _, rest = officer.pending.partition(":")
    case_id, _, preset = rest.partition(":")
    if verb == "preset":  # on WhatsApp, the instruction's number
        number = whole_number(event.text) if isinstance(event, Text) else None
        if number is None or not 1 <= number <= len(cases.presets):
            return tapped(db, officer, case_option("instruct", int(case_id)), now, cases)
        chosen = cases.presets[number - 1].id
        return tapped(db, officer, case_option("preset", int(case_id), chosen), now, cases)
    case = db.get(FeedbackCase, int(case_id), with_for_update=True)
    if case is None:
        return forget(officer)
    if isinstance(event, Text) and event.text.strip():
        step = Step(verb, preset or None, event.text.strip()[:2000])  # type: ignore[arg-type]
    elif isinstance(event, Media) and event.kind in ("voice", "photo") and event.ref:
        step = Step(verb, preset or None,  # type: ignore[arg-type]
                    (event.caption or "").strip()[:2000] or None, event.ref, event.kind)
    else:
        return Reply(officer.language, (Msg(WORDS_PLEASE),),
                     (Choice(case_option("cancel", case.id), 1, Msg(CANCEL)),), CASE_QUESTION)
    return _take(db, case, officer, step, now, cases)


def _take(db: Db, case: FeedbackCase, officer: Officer, step: Step, now: datetime,
          cases: Cases) -> Reply:
    outcome = take(db, case, officer, step, now, cases)
    officer.pending, officer.pending_at = None, None
    msgid = SENT[step.verb] if outcome == "done" else REFUSED[outcome]
    return Reply(officer.language, (Msg(msgid),))


def _wait(officer: Officer, pending: str, now: datetime) -> None:
    officer.pending, officer.pending_at = pending, now


def send_as_is(db: Db, officer: Officer, now: datetime, cases: Cases) -> Reply | None:
    """"Send" typed while an instruction waits for its words: it goes without them.
    None when no instruction is waiting."""
    verb, _, rest = (officer.pending or "").partition(":")
    case_id, _, preset = rest.partition(":")
    if verb != "instruct" or not waiting(officer, now):
        return None
    return tapped(db, officer, case_option("send", int(case_id), preset), now, cases)


def forget(officer: Officer) -> Reply:
    officer.pending, officer.pending_at = None, None
    return Reply(officer.language, (Msg(CANCELLED),))
