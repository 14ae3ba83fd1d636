"""The numbers behind the digests: per station, over a window of days. Read-only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session as Db
from sqlmodel import col

from storage.models import Alert, Answer, Feedback, Station

# A negative feedback: a score of 2 or less, or an improper demand.
NEGATIVE_ANSWER = or_(
    and_(col(Answer.question_id).in_(["behaviour", "satisfaction"]), col(Answer.value) <= 2),
    and_(col(Answer.question_id) == "demand", col(Answer.option_id) == "yes"))


class StationNumbers(NamedTuple):
    """A station's numbers over some days; a tuple, as a state's digest makes 17,000."""

    code: str
    complete: int = 0
    incomplete: int = 0
    behaviour: float | None = None
    satisfaction: float | None = None
    negative: int = 0

    @property
    def completion(self) -> float | None:
        started = self.complete + self.incomplete
        return self.complete / started if started else None

    @property
    def negative_share(self) -> float | None:
        return self.negative / self.complete if self.complete else None


def combined(numbers: list[StationNumbers]) -> StationNumbers:
    """Several stations as one: counts added, averages weighted by completed feedback.
    One pass: a state's district has 17,000 stations."""
    complete = incomplete = negative = 0
    behaviour = satisfaction = 0.0
    behaviour_n = satisfaction_n = 0
    for n in numbers:
        complete += n.complete
        incomplete += n.incomplete
        negative += n.negative
        if n.behaviour is not None:
            behaviour += n.behaviour * n.complete
            behaviour_n += n.complete
        if n.satisfaction is not None:
            satisfaction += n.satisfaction * n.complete
            satisfaction_n += n.complete
    return StationNumbers("all", complete, incomplete,
                          behaviour / behaviour_n if behaviour_n else None,
                          satisfaction / satisfaction_n if satisfaction_n else None, negative)


@dataclass
class Sums:
    """What adds up across days: counts, and scores as sums and counts (not averages)."""

    complete: int = 0
    incomplete: int = 0
    behaviour_sum: int = 0
    behaviour_count: int = 0
    satisfaction_sum: int = 0
    satisfaction_count: int = 0
    negative: int = 0

    def numbers(self, code: str) -> StationNumbers:
        return from_sums(code, self.complete, self.incomplete, self.behaviour_sum,
                         self.behaviour_count, self.satisfaction_sum, self.satisfaction_count,
                         self.negative)


def from_sums(code: str, complete: int, incomplete: int, behaviour_sum: int,
              behaviour_count: int, satisfaction_sum: int, satisfaction_count: int,
              negative: int) -> StationNumbers:
    """A station's numbers from what adds up (Sums' fields, in their order)."""
    return StationNumbers(code, int(complete), int(incomplete),
                          behaviour_sum / behaviour_count if behaviour_count else None,
                          satisfaction_sum / satisfaction_count if satisfaction_count else None,
                          int(negative))


def scores() -> tuple[Any, Any, Any]:
    """The answers a digest counts, each joined to its feedback at most once: behaviour,
    satisfaction and demand, as three aliases of the answer table."""
    behaviour, satisfaction, demand = (aliased(Answer, name=q)
                                       for q in ("behaviour", "satisfaction", "demand"))
    return behaviour, satisfaction, demand


def joined(alias: Any, question: str) -> Any:
    """The ON clause joining one of `scores()` to its feedback."""
    return and_(alias.feedback_id == col(Feedback.id), alias.question_id == question)


def sums(db: Db, start: datetime, end: datetime) -> dict[str, Sums]:
    """Per station, the feedback begun in [start, end): counts, score sums, negatives.
    One pass over the day's index with three answer lookups a feedback: at a state's
    size, three grouped queries took far longer (bench/digest_scale.py)."""
    b, s, d = scores()
    negative = case((or_(b.value <= 2, s.value <= 2, d.option_id == "yes"), 1), else_=0)
    rows = db.connection().execute(
        select(col(Feedback.station_code), col(Feedback.status), func.count(), func.sum(b.value),
               func.count(b.value), func.sum(s.value), func.count(s.value), func.sum(negative))
        .outerjoin(b, joined(b, "behaviour")).outerjoin(s, joined(s, "satisfaction"))
        .outerjoin(d, joined(d, "demand"))
        .where(col(Feedback.started_at) >= start, col(Feedback.started_at) < end,
               col(Feedback.status).not_in(("merged", "throttled")))
        # Status first: grouped by station first, SQLite (with statistics) would skip
        # through the station index for its order, not read the day's range.
        .group_by(col(Feedback.status), col(Feedback.station_code)))
    found: dict[str, Sums] = {}
    for code, status, n, b_sum, b_n, s_sum, s_n, negatives in rows:
        station = found.setdefault(code, Sums())
        if status != "complete":  # scores and negatives count complete feedback only
            station.incomplete += n
            continue
        station.complete = n
        station.behaviour_sum, station.behaviour_count = int(b_sum or 0), int(b_n)
        station.satisfaction_sum, station.satisfaction_count = int(s_sum or 0), int(s_n)
        station.negative = int(negatives or 0)
    return found


def station_numbers(db: Db, start: datetime, end: datetime) -> dict[str, StationNumbers]:
    """Complete/incomplete counts, average scores and negatives per station in [start, end)."""
    return {code: s.numbers(code) for code, s in sums(db, start, end).items()}


class StationRow(NamedTuple):
    code: str
    kind: str
    name_hi: str
    name_en: str


def stations(db: Db, district: str) -> list[StationRow]:
    """A district's active stations; plain rows, as a state has thousands."""
    rows = db.connection().execute(
        select(col(Station.code), col(Station.kind), col(Station.name_hi), col(Station.name_en))
        .where(col(Station.district_code) == district, col(Station.active))
        .order_by(col(Station.code)))
    return list(map(StationRow._make, rows.all()))  # fetched at once: 17,000 in a state


class OpenAlert(NamedTuple):
    id: int
    reference: str
    station_code: str
    severity: str
    status: str
    rule: str
    created_at: datetime


def open_alerts(db: Db, station: str | None = None, district: str | None = None,
                red: bool = True) -> list[OpenAlert]:
    """Alerts nobody acknowledged, for one station or a whole district, the most urgent
    first: red, then escalated, then the rest, the oldest first in each. `red=False` for
    an in-charge, who never sees the SP office's red alerts. Plain rows, on the session's
    connection without ORM loading: a state's digest can have thousands."""
    urgency = case((col(Alert.severity) == "red", 0), (col(Alert.status) == "escalated", 1),
                   else_=2)
    query = (select(col(Alert.id), col(Feedback.reference), col(Alert.station_code),
                    col(Alert.severity), col(Alert.status), col(Alert.rule),
                    col(Alert.created_at))
             .join(Feedback, col(Feedback.id) == col(Alert.feedback_id))
             .where(col(Alert.status).in_(["open", "escalated"]))
             .order_by(urgency, col(Alert.created_at), col(Alert.id)))
    if station is not None:
        query = query.where(col(Alert.station_code) == station)
    if district is not None:
        query = query.join(Station, col(Station.code) == col(Alert.station_code)).where(
            col(Station.district_code) == district)
    if not red:
        query = query.where(col(Alert.severity) != "red")
    return list(map(OpenAlert._make, db.connection().execute(query).all()))


def comments(db: Db, station: str, start: datetime, end: datetime,
             limit: int = 5) -> list[str]:
    """The week's comments for a station, those of negative feedback first, newest first;
    never those of a feedback with a red alert, which is the SP office's alone."""
    return [text for _, text in station_comments(db, [station], start, end, limit)]


def station_comments(db: Db, stations: Sequence[str], start: datetime, end: datetime,
                     limit: int, red: bool = False) -> list[tuple[str, str]]:
    """(station, comment) of complete feedback begun in [start, end): negative first,
    newest first. A red feedback's comment only with `red` (for the SP office)."""
    negative = select(col(Answer.feedback_id)).where(NEGATIVE_ANSWER)
    query = (
        select(col(Feedback.station_code), col(Answer.text), col(Feedback.id).in_(negative),
               col(Feedback.started_at))
        .join(Feedback, col(Feedback.id) == col(Answer.feedback_id))
        .where(col(Feedback.station_code).in_(stations),
               col(Feedback.started_at) >= start, col(Feedback.started_at) < end,
               col(Feedback.status) == "complete",
               col(Answer.question_id) == "comment", col(Answer.text).is_not(None))
    )
    if not red:
        query = query.where(col(Feedback.id).not_in(
            select(col(Alert.feedback_id)).where(col(Alert.severity) == "red")))
    rows = sorted(db.execute(query).all(), key=lambda r: (not r[2], -r[3].timestamp()))
    return [(r[0], r[1]) for r in rows[:limit]]
