"""The monthly report as a workbook: one row per station and one for the district, every
number as a number so the office can sort, filter and total them.

Column names are English and stable, as the digests' tables' are: formulas written
against last month's file must work on this month's. Nothing identifies a citizen.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.utils import get_column_letter

from scheduler.report.numbers import Card, MonthlyReport
from scheduler.report.score import plain_score

Column = tuple[str, Callable[[Card], Any], str]  # name, value, Excel's number format
TEXT, WHOLE, SCORE, SHARE = "@", "0", "0.00", "0.0%"


def _rank_change(card: Card) -> int | None:
    """Places gone up since last month (2nd -> 1st is +1)."""
    return card.rank_before - card.rank if card.rank and card.rank_before else None


COLUMNS: list[Column] = [
    ("district", lambda c: None, TEXT),  # filled per report
    ("kind", lambda c: c.kind, TEXT),
    ("code", lambda c: c.code, TEXT),
    ("station_hi", lambda c: c.name_hi, TEXT),
    ("station_en", lambda c: c.name_en, TEXT),
    ("rank", lambda c: c.rank, WHOLE),
    ("rank_prev", lambda c: c.rank_before, WHOLE),
    ("rank_change", _rank_change, WHOLE),
    ("responses", lambda c: c.numbers.complete, WHOLE),
    ("responses_prev", lambda c: c.before.complete, WHOLE),
    ("incomplete", lambda c: c.numbers.incomplete, WHOLE),
    ("completion", lambda c: c.numbers.completion, SHARE),
    ("behaviour", lambda c: c.numbers.behaviour, SCORE),
    ("satisfaction", lambda c: c.numbers.satisfaction, SCORE),
    ("score_plain", lambda c: plain_score(c.numbers), SCORE),
    ("score", lambda c: c.score, SCORE),
    ("score_prev", lambda c: c.score_before, SCORE),
    ("score_change", lambda c: c.score_change, SCORE),
    ("negative", lambda c: c.numbers.negative, WHOLE),
    ("negative_share", lambda c: c.numbers.negative_share, SHARE),
    ("negative_share_prev", lambda c: c.before.negative_share, SHARE),
    ("cases_opened", lambda c: c.cases.opened, WHOLE),
    ("red_cases_opened", lambda c: c.cases.red_opened, WHOLE),
    ("cases_reopened", lambda c: c.cases.reopened, WHOLE),
    ("cases_closed", lambda c: c.cases.closed, WHOLE),
    ("cases_open_at_end", lambda c: c.cases.open_at_end, WHOLE),
    ("cases_overdue_at_end", lambda c: c.cases.overdue_at_end, WHOLE),
    ("station_deadlines_kept", lambda c: c.cases.station_kept, WHOLE),
    ("station_deadlines_due", lambda c: c.cases.station_judged, WHOLE),
    ("sp_office_deadlines_kept", lambda c: c.cases.sp_office_kept, WHOLE),
    ("sp_office_deadlines_due", lambda c: c.cases.sp_office_judged, WHOLE),
    ("citizens_asked", lambda c: c.cases.citizens_asked, WHOLE),
    ("citizens_answered", lambda c: c.cases.citizens_answered, WHOLE),
    ("citizens_satisfied", lambda c: c.cases.citizens_satisfied, WHOLE),
    ("possible_pressure", lambda c: c.cases.possible_pressure, WHOLE),
]
WIDE = {"station_hi": 30, "station_en": 28}


def _cell(sheet: Any, value: Any, number_format: str) -> Cell:
    if isinstance(value, float):
        value = round(value, 4)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula, whatever a station's name starts with
    elif value is not None:
        cell.number_format = number_format
    return cell


def workbook(report: MonthlyReport) -> bytes:
    """Sheet "stations": every active station, thanas, chowkis, offices, the ranked first,
    then the district's row; sheet "about": what the numbers cover."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("stations")
    for n, (name, _, _) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(n)].width = WIDE.get(name, max(9, len(name)))
    sheet.freeze_panes = "F2"  # the station's name stays in view
    sheet.append([_cell(sheet, name, TEXT) for name, _, _ in COLUMNS])
    for card in [*report.cards, report.whole]:
        sheet.append([_cell(sheet, report.district.code if name == "district" else value(card),
                            number_format) for name, value, number_format in COLUMNS])
    _about(book, report)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _about(book: Workbook, report: MonthlyReport) -> None:
    sheet = book.create_sheet("about")
    sheet.column_dimensions["A"].width, sheet.column_dimensions["B"].width = 26, 60
    zone = report.zone
    rows: list[tuple[str, Any]] = [
        ("month", str(report.month)), ("district", report.district.code),
        ("district_hi", report.district.name_hi), ("district_en", report.district.name_en),
        ("from", report.start.isoformat(" ", "minutes")),
        ("until", report.until.astimezone(zone).isoformat(" ", "minutes")),
        ("month_complete", "no" if report.under_way else "yes"),
        ("ranked_at_least", report.minimum), ("score_weight", report.weight),
        ("score", "behaviour and satisfaction averaged (1-5), pulled towards the district's "
                  "average as if the station had score_weight more feedback at it"),
        ("deadlines", "a station's deadline is its report after an instruction or a return; "
                      "the SP office's, its instruction and its closing or return; each is "
                      "counted in the month it was kept or missed"),
    ]
    for key, value in rows:
        sheet.append([_cell(sheet, key, TEXT), _cell(sheet, value, WHOLE)])
