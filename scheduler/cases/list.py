"""An officer's cases to act on, from the menu: the SP office's district, an in-charge's
station (never a red case), red first and then by deadline, each with its next step."""

from __future__ import annotations

from babel.dates import format_datetime
from babel.numbers import format_decimal
from sqlmodel import Session as Db

from conversations.effects import Choice, Msg, Reply
from conversations.messages import N_
from scheduler.cases.message import CASE_QUESTION, CLOSE, INSTRUCT, REPORT_ACTION, case_option
from scheduler.config import Config
from scheduler.visit_time import when
from storage.cases import CaseRow, list_cases
from storage.models import Officer
from storage.officers import station_codes

LISTED = 10  # one phone screen
CASES = N_("Cases to act on: {count}")
NO_CASES = N_("No cases waiting for you.")
CASE_LINE = N_("{marker} {reference} · {station} · {state} · due {due}")
STATES = {"new": N_("new"), "instructed": N_("instructed"), "reported": N_("report in"),
          "returned": N_("returned")}
ACT_ON = N_("{action}: {reference}")


def open_cases(db: Db, officer: Officer, config: Config) -> Reply:
    lang = officer.language
    mine = set(station_codes(db, officer))
    rows = [row for row in list_cases(db, open_only=True)
            if row.station_code in mine and not (officer.role != "sp_office" and row.red)
            and _waits_for(row, officer)]
    if not rows:
        return Reply(lang, (Msg(NO_CASES),))
    locale = "hi_IN" if lang == "hi" else "en_IN"
    lines = [Msg.of(CASES, count=format_decimal(len(rows), locale=locale))]
    choices = []
    for n, row in enumerate(rows[:LISTED], start=1):
        station = config.station(row.station_code)
        name = (station.name_hi if lang == "hi" else station.name_en) if station else ""
        # An in-charge reads the part of the day: a new case's deadline to the minute
        # would give him the minute its feedback was given (scheduler/visit_time.py).
        due = (format_datetime(row.due_at.astimezone(config.zone), "d MMM HH:mm",
                               locale=locale) if officer.role == "sp_office"
               else when(row.due_at, config.zone, exact=False))
        lines.append(Msg.of(CASE_LINE, marker="🔴" if row.red else "•",
                            reference=row.reference, station=name or row.station_code,
                            state=Msg(STATES[row.state]), due=due))
        if officer.role != "sdop":  # an SDOP sees his subdivision's cases; others act
            verb, label = _next(row, officer)
            choices.append(Choice(case_option(verb, row.case_id), n,
                                  Msg.of(ACT_ON, action=Msg(label), reference=row.reference)))
    return Reply(lang, tuple(lines), tuple(choices), CASE_QUESTION)


def _waits_for(row: CaseRow, officer: Officer) -> bool:
    """The in-charge acts on a new, instructed or returned case; the SP office on any; an
    SDOP watches them all."""
    return officer.role != "in_charge" or row.state != "reported"


def _next(row: CaseRow, officer: Officer) -> tuple[str, str]:
    if officer.role == "in_charge":
        return "report", REPORT_ACTION
    if row.red or row.state == "reported":
        return "close", CLOSE
    return "instruct", INSTRUCT
