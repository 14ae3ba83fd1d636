"""What the SP office's daily digest opens with: the cases waiting for it, the most
urgent first (red, possible pressure, gone up past a deadline, past a deadline, new,
reported), each with its reasons and age; and the week's cases in one line."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from conversations.effects import Msg
from conversations.messages import N_
from scheduler.cases.list import STATES
from scheduler.config import Config
from scheduler.visit_time import when
from storage.case_numbers import CaseNumbers
from storage.cases import CaseRow

NEEDS_ACTION = N_("Needs action first: {count}")
NOTHING = N_("Nothing waiting for the SP office.")
ROW = N_("{marker} {reference} · {station} · {reasons} · {state} · {age}")
# A negative feedback its citizen changed to positive within the update window.
ROW_PRESSURE = N_("{marker} {reference} · {station} · {reasons} · changed to positive: "
                  "possible pressure · {state} · {age}")
HOURS = N_("{hours} hours")
UNDER_AN_HOUR = N_("less than an hour")
DAYS = N_("{days} days")
LATE = N_("{age}, {late} past its deadline")
MORE = N_("… and {count} more; the attached table lists them all.")
CASES = N_("Cases in 7 days: {opened} opened, {closed} closed (median {median} to close), "
           "{overdue} past their deadline now; citizens satisfied: {satisfied} of the "
           "{answered} who answered.")
CASES_OPEN = N_("Cases in 7 days: {opened} opened, none closed, {overdue} past their "
                "deadline now.")
SEEN = N_("{state}, acknowledged")  # every alert of it seen by whom it was sent to
STATION_TURN = ("instructed", "returned")  # the station's to act on, not yet late


def _urgency(row: CaseRow, now: datetime) -> tuple[int, datetime]:
    late = row.due_at < now
    rank = (0 if row.red else 1 if row.pressure else 2 if row.level else 3 if late
            else 4 if row.state == "new" else 5)
    return rank, row.opened_at


def waiting(rows: list[CaseRow], now: datetime) -> list[CaseRow]:
    """The open cases the SP office must act on, the most urgent first."""
    found = [r for r in rows if r.state != "closed" and (
        r.red or r.pressure or r.due_at < now or r.state not in STATION_TURN)]
    return sorted(found, key=lambda r: _urgency(r, now))


def _marker(row: CaseRow, now: datetime) -> str:
    return ("🔴" if row.red else "⚠️" if row.pressure else "⏫" if row.level
            else "⏰" if row.due_at < now else "🆕" if row.state == "new" else "📝")


def _span(hours: float, counted: Callable[[int], str]) -> Msg:
    whole = int(hours)
    if whole < 1:
        return Msg(UNDER_AN_HOUR)
    return Msg.of(HOURS, hours=counted(whole)) if whole < 48 else \
        Msg.of(DAYS, days=counted(whole // 24))


def action_lines(rows: list[CaseRow], now: datetime, config: Config, name: dict[str, str],
                 lang: str, most: int, counted: Callable[[int], str]) -> list[Msg]:
    """The heading and up to `most` cases; a last line when there are more."""
    if not rows:
        return [Msg(NOTHING)]
    labels = {rule.id: rule.label(lang) for rule in config.alerts.rules}
    lines = [Msg.of(NEEDS_ACTION, count=counted(len(rows)))]
    for row in rows[:most]:
        reasons = ", ".join(labels.get(rule, rule) for rule in row.rules)
        age = _span((now - row.opened_at).total_seconds() / 3600, counted)
        if row.due_at < now:
            age = Msg.of(LATE, age=age, late=_span(
                (now - row.due_at).total_seconds() / 3600, counted))
        lines.append(Msg.of(ROW_PRESSURE if row.pressure else ROW, marker=_marker(row, now),
                            reference=row.reference,
                            station=name.get(row.station_code, row.station_code),
                            reasons=reasons, state=_state(row), age=age))
    if len(rows) > most:
        lines.append(Msg.of(MORE, count=counted(len(rows) - most)))
    return lines


def _state(row: CaseRow) -> Msg:
    state = Msg(STATES.get(row.state, row.state))
    return Msg.of(SEEN, state=state) if row.seen else state


def cases_line(numbers: list[CaseNumbers], lang: str,
               counted: Callable[[int], str]) -> Msg | None:
    total = CaseNumbers()
    for n in numbers:
        total.add(n)
    if not (total.opened or total.closed or total.overdue):
        return None
    median = total.median_hours
    if median is None:
        return Msg.of(CASES_OPEN, opened=counted(total.opened), overdue=counted(total.overdue))
    return Msg.of(CASES, opened=counted(total.opened), closed=counted(total.closed),
                  median=_span(round(median), counted),
                  overdue=counted(total.overdue), satisfied=counted(total.satisfied),
                  answered=counted(total.answered))



INSTRUCTIONS = N_("Instructions waiting for your report: {count}")
INSTRUCTION_ROW = N_("📋 {reference} · {preset} · due {due}")
RETURNED_ROW = N_("↩️ {reference} · returned for more action · due {due}")


def instruction_lines(rows: list[CaseRow], presets: dict[int, str], config: Config,
                      lang: str, counted: Callable[[int], str]) -> list[Msg]:
    """An in-charge's open instructions, the earliest deadline first (never a red case:
    those are not his)."""
    mine = sorted((r for r in rows if r.state in STATION_TURN and not r.red),
                  key=lambda r: r.due_at)
    if not mine:
        return []
    lines = [Msg.of(INSTRUCTIONS, count=counted(len(mine)))]
    for row in mine:
        # The date and the part of the day: a new case's deadline to the minute would
        # give the in-charge the minute its feedback was given.
        due = when(row.due_at, config.zone, exact=False)
        preset = config.cases.preset(presets.get(row.case_id, ""))
        if row.state == "returned" or preset is None:
            lines.append(Msg.of(RETURNED_ROW, reference=row.reference, due=due))
        else:
            lines.append(Msg.of(INSTRUCTION_ROW, reference=row.reference,
                                preset=preset.label(lang), due=due))
    return lines
