"""The monthly report's words (English message ids for the catalogs) and its numbers as
people read them: Babel's hi_IN / en_IN, as the digests write them."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent

from conversations.effects import Msg
from conversations.messages import N_
from scheduler.catalogs import Catalogs

TITLE = N_("Monthly feedback report: {district}")
SUBTITLE = N_("{month} · for the crime review meeting")
UNDER_WAY = N_("The month is not over: numbers up to {moment}.")
NO_FEEDBACK = N_("No feedback at any station in {month}.")
THE_DISTRICT = N_("The district")
KIND_HEADINGS = {"thana": N_("Thanas"), "chowki": N_("Chowkis"), "office": N_("Offices")}
CHANGE = N_("Change")
RANK = N_("Rank")
RANK_BEFORE = N_("Last month")
STATION = N_("Station")
CODE = N_("Code")
FEEDBACK = N_("Feedback")
COMPLETED = N_("Completed")
BEHAVIOUR = N_("Behaviour")
EXPERIENCE = N_("Experience")
SCORE = N_("Score")
NEGATIVE = N_("Negative")
OPENED = N_("Cases opened")
CLOSED = N_("Cases closed")
DEADLINES = N_("Deadlines kept")
SATISFIED = N_("Citizens satisfied")
POINTS = N_("{n} pts")
NO_DATA = N_("–")
RANKED_OF = N_("{ranked} of {total} ranked: at least {minimum} feedback this month.")
CASES_LINE = N_("Cases: {opened} opened ({red} red), {closed} closed, {reopened} reopened; "
                "{open} open at the month's end, {overdue} of them past their deadline.")
SP_OFFICE_LINE = N_("The SP office kept {kept} of {due} of its deadlines (instruct within "
                    "{new} hours, close or return a report within {reported} hours).")
CITIZENS_LINE = N_("Citizens asked when their case closed: {asked}; answered: {answered}; "
                   "satisfied (4 or 5): {satisfied}.")
PRESSURE_LINE = N_("Possible pressure: {count} negative feedback taken back by an update "
                   "while its case was open; the workbook names the stations.")
HOW_SCORE = N_("Score: behaviour and experience averaged (1 to 5), pulled towards the "
               "district's average as if the station had {weight} more feedback at it, so "
               "that a few feedback cannot put a station first or last. Thanas, chowkis and "
               "offices are ranked separately.")
HOW_REST = N_("Negative: a score of 2 or less, or an improper demand. Deadlines kept: the "
              "station's reports made in time ({instructed} hours after an instruction, "
              "{returned} after a return), of those due this month. Citizens satisfied: those "
              "who answered 4 or 5 when their case closed, of all who answered.")
FOOTER = N_("Prayas · made {moment} · page {page}")
PRIVATE = N_("No citizen's name, number or words are in this report.")

MESSAGE_TITLE = N_("📊 Monthly report: {district}, {month}")
MESSAGE_NUMBERS = N_("{complete} feedback ({completion} of those begun); behaviour "
                     "{behaviour}, experience {satisfaction} (out of 5); negative {negative}.")
MESSAGE_CASES = N_("Cases: {opened} opened, {closed} closed; the stations kept {kept} of "
                   "{due} deadlines.")
MESSAGE_FILES = N_("Attached: the report for the crime review meeting (PDF, to print) and "
                   "every station's numbers (spreadsheet).")


class Words:
    """Text and numbers in one language."""

    def __init__(self, catalogs: Catalogs, lang: str) -> None:
        self.catalogs, self.lang = catalogs, lang
        self.locale = "hi_IN" if lang == "hi" else "en_IN"

    def __call__(self, msgid: str, **params: str | Msg) -> str:
        return self.catalogs.text(self.lang, Msg.of(msgid, **params) if params else msgid)

    def count(self, value: int) -> str:
        return format_decimal(value, locale=self.locale)

    def score(self, value: float | None) -> str:
        if value is None:
            return self(NO_DATA)
        return format_decimal(value, format="0.0", locale=self.locale)

    def share(self, value: float | None) -> str:
        if value is None:
            return self(NO_DATA)
        return format_percent(value, format="#,##0%", locale=self.locale)

    def change(self, value: float | None, digits: str = "0.0", scale: int = 1) -> str:
        """+0.3, −0.2, 0.0: a minus sign, not a hyphen, as printed tables have it."""
        if value is None:
            return self(NO_DATA)
        text = format_decimal(abs(value) * scale, format=digits, locale=self.locale)
        if text.strip("0.,") == "":
            return text  # no change, without a sign
        return ("+" if value > 0 else "\u2212") + text

    def points(self, value: float | None) -> str:
        """A change of a share, in percentage points: 10% -> 15% is +5 pts."""
        if value is None:
            return self(NO_DATA)
        return self(POINTS, n=self.change(value, digits="0", scale=100))

    def month(self, first: date) -> str:
        return format_date(first, format="MMMM yyyy", locale=self.locale)

    def moment(self, at: datetime, zone: ZoneInfo) -> str:
        return format_datetime(at.astimezone(zone), "d MMMM yyyy, HH:mm", locale=self.locale)
