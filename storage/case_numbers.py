"""A district's cases counted per station over a period, for the digests: opened,
closed, past their deadline now, the median time to close, and how many of the citizens
asked on closure were satisfied."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from statistics import median

from sqlalchemy import select
from sqlmodel import Session as Db
from sqlmodel import col

from storage.models import CaseEvent, FeedbackCase, Station

SATISFIED = 4  # a closure answer of at least this: "good" or "very good"


@dataclass
class CaseNumbers:
    opened: int = 0
    closed: int = 0
    overdue: int = 0  # open and past its deadline at `now`
    answered: int = 0  # citizens who answered the closure question
    satisfied: int = 0
    hours_to_close: list[float] = field(default_factory=list)

    @property
    def median_hours(self) -> float | None:
        return median(self.hours_to_close) if self.hours_to_close else None

    @property
    def satisfied_share(self) -> float | None:
        return self.satisfied / self.answered if self.answered else None

    def add(self, other: CaseNumbers) -> None:
        self.opened += other.opened
        self.closed += other.closed
        self.overdue += other.overdue
        self.answered += other.answered
        self.satisfied += other.satisfied
        self.hours_to_close += other.hours_to_close


def case_numbers(db: Db, district: str, start: datetime, end: datetime,
                 now: datetime) -> dict[str, CaseNumbers]:
    """Per station code, the cases of [start, end); a station without any is left out."""
    cases = {c.id: c for c in db.execute(
        select(FeedbackCase).join(Station, col(Station.code) == col(FeedbackCase.station_code))
        .where(col(Station.district_code) == district)).scalars()}
    numbers: dict[str, CaseNumbers] = {}
    for case in cases.values():
        if case.state != "closed" and case.due_at < now:
            numbers.setdefault(case.station_code, CaseNumbers()).overdue += 1
    events = db.execute(select(CaseEvent).where(
        col(CaseEvent.case_id).in_(list(cases)), col(CaseEvent.at) >= start,
        col(CaseEvent.at) < end,
        col(CaseEvent.event).in_(["opened", "reopened", "close", "citizen_answered",
                                  "citizen_unhappy"]))).scalars()
    for event in events:
        case = cases[event.case_id]
        counted = numbers.setdefault(case.station_code, CaseNumbers())
        if event.event in ("opened", "reopened"):
            counted.opened += 1
        elif event.event == "citizen_unhappy":  # answered, and opened again by it
            counted.opened += 1
            counted.answered += 1
        elif event.event == "close":
            counted.closed += 1
            counted.hours_to_close.append((event.at - case.opened_at).total_seconds() / 3600)
        elif event.text and event.text.isdecimal():
            counted.answered += 1
            counted.satisfied += int(event.text) >= SATISFIED
    return numbers
