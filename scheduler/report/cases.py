"""A month of a station's cases, from their steps: opened, closed, still open; deadlines
kept; the citizens' answers when their case closed.

A deadline belongs to whoever owes the next step: the SP office while a case is new
(instruct) or reported (close or return), the station while it is instructed or
returned (report). Each deadline is judged once, in one month: kept, in the month of
the step its owner took in time; missed, in the month it passed without that step. A
step by the other side first (the SP office instructs again, the in-charge reports
before any instruction) starts a new deadline and judges none.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from itertools import groupby

from scheduler.config import CaseDeadlines
from storage.case_numbers import SATISFIED  # as the digests count a satisfied citizen
from storage.report import CaseStep

# The state each step leaves a case in (scheduler/cases/steps.py, opening.py, citizen.py);
# the others (citizen_asked, citizen_answered, escalated, pressure) leave it as it was.
STATE_AFTER = {"opened": "new", "reopened": "new", "citizen_unhappy": "new",
               "instruct": "instructed", "report": "reported", "return": "returned",
               "close": "closed"}
STATION_OWES = ("instructed", "returned")
SP_OFFICE_STEPS = ("instruct", "close", "return")


@dataclass
class CaseCounts:
    """One station's cases in one month (or a district's, added up)."""

    opened: int = 0
    red_opened: int = 0  # of those, red: the SP office's alone
    reopened: int = 0  # a closed case opened again (the citizen came back unhappy)
    closed: int = 0
    open_at_end: int = 0
    overdue_at_end: int = 0  # open, and past its state's deadline when the month ended
    station_kept: int = 0  # the station's deadlines kept, of station_judged
    station_judged: int = 0
    sp_office_kept: int = 0
    sp_office_judged: int = 0
    citizens_asked: int = 0
    citizens_answered: int = 0
    citizens_satisfied: int = 0  # answered SATISFIED or better
    # a negative feedback taken back by an update while its case was open
    possible_pressure: int = 0

    def add(self, other: CaseCounts) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def station_share_kept(self) -> float | None:
        return self.station_kept / self.station_judged if self.station_judged else None

    @property
    def sp_office_share_kept(self) -> float | None:
        return self.sp_office_kept / self.sp_office_judged if self.sp_office_judged else None


def count_cases(steps: Iterable[CaseStep], due_hours: CaseDeadlines, start: datetime,
                end: datetime) -> dict[str, CaseCounts]:
    """Per station, its cases' month [start, end), as they stood at `end`; `steps` each
    case's in order (storage.report.case_steps)."""
    counts: dict[str, CaseCounts] = {}
    for _, one_case in groupby(steps, key=lambda s: s.case_id):
        case = [step for step in one_case if step.at < end]
        if not case:
            continue
        _count_one(case, counts.setdefault(case[0].station_code, CaseCounts()), due_hours,
                   start, end)
    return counts


def _count_one(case: list[CaseStep], counts: CaseCounts, due_hours: CaseDeadlines,
               start: datetime, end: datetime) -> None:
    def this_month(at: datetime) -> bool:
        return start <= at < end

    state, since = "", case[0].at
    for step in case:
        if this_month(step.at):
            _tally(step, counts)
        after = STATE_AFTER.get(step.event)
        if after is None:
            continue  # the state and its deadline stay
        if state and state != "closed":
            due = since + timedelta(hours=getattr(due_hours, state))
            if step.at <= due and _owners_step(state, step.event):
                if this_month(step.at):
                    _judge(counts, state, kept=True)
            elif step.at > due and this_month(due):
                _judge(counts, state, kept=False)
        state, since = after, step.at
    if state and state != "closed":
        counts.open_at_end += 1
        due = since + timedelta(hours=getattr(due_hours, state))
        if due < end:
            counts.overdue_at_end += 1
            if this_month(due):  # passed with no step at all (yet)
                _judge(counts, state, kept=False)


def _owners_step(state: str, event: str) -> bool:
    return event == "report" if state in STATION_OWES else event in SP_OFFICE_STEPS


def _tally(step: CaseStep, counts: CaseCounts) -> None:
    if step.event == "opened":
        counts.opened += 1
        counts.red_opened += step.red
    elif step.event in ("reopened", "citizen_unhappy"):
        counts.reopened += 1
    elif step.event == "close":
        counts.closed += 1
    elif step.event == "citizen_asked":
        counts.citizens_asked += 1
    elif step.event == "pressure":
        counts.possible_pressure += 1
    if step.event in ("citizen_answered", "citizen_unhappy"):
        counts.citizens_answered += 1
        score = int(step.text) if step.text and step.text.isdigit() else None
        counts.citizens_satisfied += score is not None and score >= SATISFIED


def _judge(counts: CaseCounts, state: str, kept: bool) -> None:
    if state in STATION_OWES:
        counts.station_judged += 1
        counts.station_kept += kept
    else:
        counts.sp_office_judged += 1
        counts.sp_office_kept += kept
