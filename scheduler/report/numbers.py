"""The monthly report's numbers: each station's score card for a calendar month in the
district's time zone, the month before for the change, and the district as a whole.

Feedback numbers come from the daily rollups the digests read (storage/rollup.py), so
the report and the digests never disagree; the cases' from their steps. Nothing here
identifies a citizen: no sender, no comment, no reference is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session as Db

from scheduler.config import Config, District
from scheduler.report.cases import CaseCounts, count_cases
from scheduler.report.score import KINDS, adjusted_score, plain_score, ranks
from storage import rollup
from storage.digest import StationNumbers, StationRow, combined, stations
from storage.report import case_steps

_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """"2026-11"; ValueError saying how to write it otherwise."""
        found = _MONTH.fullmatch(text.strip())
        if found is None or not 1 <= int(found[2]) <= 12 or int(found[1]) < 2000:
            raise ValueError(f"{text!r} is not a month; write it as YYYY-MM, like 2026-11")
        return cls(int(found[1]), int(found[2]))

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last(self) -> date:
        return self.next().first - timedelta(days=1)

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month.of(self.first - timedelta(days=1))

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """Its first moment and the next month's, in the district's zone."""
        return (datetime.combine(self.first, time(0), zone),
                datetime.combine(self.next().first, time(0), zone))


@dataclass(frozen=True)
class Card:
    """One station's month (or the district's, with kind "district" and no rank)."""

    code: str
    kind: str
    name_hi: str
    name_en: str
    numbers: StationNumbers
    score: float | None  # volume-adjusted (scheduler/report/score.py)
    rank: int | None  # among its kind; None: too few feedback
    cases: CaseCounts
    before: StationNumbers  # the previous month
    cases_before: CaseCounts
    score_before: float | None
    rank_before: int | None
    # Its cases without the red ones, as the printed report shows them: it is read at the
    # crime review meeting, in the in-charges' presence, and a red case is the SP
    # office's alone (the workbook, the SP office's, has them all).
    shown_cases: CaseCounts = field(default_factory=CaseCounts)

    def name(self, lang: str) -> str:
        return self.name_hi if lang == "hi" else self.name_en

    @property
    def score_change(self) -> float | None:
        if self.score is None or self.score_before is None:
            return None
        return self.score - self.score_before

    @property
    def negative_change(self) -> float | None:
        """In points of the share: 0.10 -> 0.05 is -0.05."""
        now, then = self.numbers.negative_share, self.before.negative_share
        return None if now is None or then is None else now - then


@dataclass(frozen=True)
class MonthlyReport:
    district: District
    month: Month
    zone: ZoneInfo  # the district's
    start: datetime  # the month's first moment
    end: datetime  # the month's end
    until: datetime  # the month's end, or the moment read for a month under way
    cards: list[Card]  # thanas, chowkis, offices; each kind ranked first, best first
    whole: Card  # the district
    minimum: int  # complete feedback a station needs to be ranked
    weight: int  # feedback at the district's average each score is pulled by
    ranked: dict[str, int]  # per kind, how many stations were ranked
    due_hours: dict[str, int]  # config cases.due_hours, as the deadlines were judged

    @property
    def under_way(self) -> bool:
        """Read before the month ended: its numbers are so far."""
        return self.until < self.end

    @property
    def quiet(self) -> bool:
        """No feedback at all, begun or completed, at any station this month."""
        n = self.whole.numbers
        return n.complete == 0 and n.incomplete == 0


class _Month:
    """One month's feedback numbers, volume-adjusted scores and ranks for a district."""

    def __init__(self, engine: Engine, config: Config, rows: list[StationRow],
                 district: str, month: Month, today: date) -> None:
        last = min(month.last, today)
        read = rollup.station_numbers(engine, month.first, last, config.zone, district,
                                      config.digests.burst_minutes)
        codes = {row.code for row in rows}
        self.numbers = {code: n for code, n in read.items() if code in codes}
        whole = combined(list(self.numbers.values()))
        self.whole = whole._replace(code=district)
        # One setting for both: the feedback the district trusts a station's average on.
        weight = minimum = config.digests.min_responses_to_rank
        prior = plain_score(whole)
        self.scores = {code: adjusted_score(n, prior, weight) for code, n in self.numbers.items()}
        self.ranks = ranks({row.code: row.kind for row in rows}, self.numbers, self.scores,
                           minimum)


def monthly_report(engine: Engine, config: Config, district: District, month: Month,
                   now: datetime) -> MonthlyReport:
    """The district's report for `month`, read at `now` (the month must have begun)."""
    zone = config.zone
    start, end = month.bounds(zone)
    if now < start:
        raise ValueError(f"{month} has not begun yet")
    until = min(end, now)
    today = now.astimezone(zone).date()
    with Db(engine) as db:
        rows = stations(db, district.code)
        steps = case_steps(db, district.code, until)
    this = _Month(engine, config, rows, district.code, month, today)
    before = _Month(engine, config, rows, district.code, month.previous(), today)
    counted = count_cases(steps, config.cases.due_hours, start, until)
    counted_before = count_cases(steps, config.cases.due_hours, *month.previous().bounds(zone))
    shown = count_cases([s for s in steps if not s.red], config.cases.due_hours, start, until)
    cards = [Card(row.code, row.kind, row.name_hi, row.name_en,
                  this.numbers.get(row.code, StationNumbers(row.code)),
                  this.scores.get(row.code), this.ranks.get(row.code),
                  counted.get(row.code, CaseCounts()),
                  before.numbers.get(row.code, StationNumbers(row.code)),
                  counted_before.get(row.code, CaseCounts()),
                  before.scores.get(row.code), before.ranks.get(row.code),
                  shown.get(row.code, CaseCounts())) for row in rows]
    cards.sort(key=_order)
    total, total_before = CaseCounts(), CaseCounts()
    for card in cards:
        total.add(card.cases)
        total_before.add(card.cases_before)
    # The district's row counts every case, red ones too: no station is named by it.
    whole = Card(district.code, "district", district.name_hi, district.name_en, this.whole,
                 plain_score(this.whole), None, total, before.whole, total_before,
                 plain_score(before.whole), None, total)
    minimum = config.digests.min_responses_to_rank
    ranked = {kind: sum(1 for c in cards if c.kind == kind and c.rank) for kind in KINDS}
    return MonthlyReport(district, month, zone, start, end, until, cards, whole, minimum,
                         minimum, ranked, config.cases.due_hours.model_dump())


def _order(card: Card) -> tuple[int, bool, int, int, str]:
    """Kind by kind; the ranked best first, then the rest by how much feedback they had."""
    kind = KINDS.index(card.kind) if card.kind in KINDS else len(KINDS)
    return (kind, card.rank is None, card.rank or 0, -card.numbers.complete, card.code)
