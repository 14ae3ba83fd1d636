"""`prayas export`: feedback as CSV or XLSX for the SP office, labels in Hindi and English."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell

from conversations.survey import Survey
from scheduler.catalogs import Catalogs
from storage.export import ExportRow
from storage.models import Answer

if TYPE_CHECKING:  # a private module of openpyxl: for the annotation alone
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

FIXED = ["reference", "station_code", "station_hi", "station_en", "district", "channel",
         "language", "status", "started_at", "completed_at", "updated_at",
         # "rule: status" of each alert; when the last was acknowledged; how many answer
         # sets an update replaced (kept, not shown here).
         "alerts", "acknowledged_at", "earlier_versions"]


def day_bounds(since: date | None, until: date | None,
               zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """Calendar days in the district's zone -> a half-open UTC range, `until` inclusive."""
    start = datetime.combine(since, time(0), zone) if since else None
    end = datetime.combine(until + timedelta(days=1), time(0), zone) if until else None
    return start, end


def header(survey: Survey) -> list[str]:
    columns = list(FIXED)
    for q in survey.every_question:
        if q.type == "text":
            columns += [q.id, f"{q.id}_voice"]
        else:
            columns += [q.id, f"{q.id}_hi", f"{q.id}_en"]
    return columns


def _answer_cells(survey: Survey, catalogs: Catalogs, answers: dict[str, Answer],
                  reference: str = "") -> list[str]:
    """`reference`: the feedback's, naming a voice note's file as the officers got it (the
    platform's reference would be a Telegram file id or a Twilio URL: never exported)."""
    cells: list[str] = []
    for q in survey.every_question:
        a = answers.get(q.id)
        if q.type == "text":
            if a is None:
                cells += ["", ""]
            else:
                said = "(skipped)" if a.skipped else (a.text or "")
                cells += [said, f"{reference}-voice.ogg" if a.voice_ref else ""]
            continue
        if a is None:
            cells += ["", "", ""]
        elif a.skipped or a.option_id is None:
            cells += ["(skipped)", "", ""]
        else:
            option = q.option(a.option_id)
            label = option.label if option else a.option_id
            cells += [a.option_id, catalogs.text("hi", label), catalogs.text("en", label)]
    return cells


def _stamp(value: datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""


def table(rows: Iterable[ExportRow], survey: Survey, catalogs: Catalogs,
          zone: ZoneInfo) -> Iterator[list[str]]:
    for r in rows:
        yield [
            r.reference, r.station_code, r.station_hi, r.station_en, r.district, r.channel,
            r.language, r.status, _stamp(r.started_at, zone), _stamp(r.completed_at, zone),
            _stamp(r.updated_at, zone),
            "; ".join(f"{rule}: {status}" for rule, status, _ in r.alerts),
            _stamp(max((at for _, _, at in r.alerts if at), default=None), zone),
            str(r.earlier_versions) if r.earlier_versions else "",
            *_answer_cells(survey, catalogs, r.answers, r.reference),
        ]


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(cell: str) -> str:
    """A citizen's comment must never run as a formula when the SP office opens the CSV."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


_SMALL_NUMBER = re.compile(r"[1-9][0-9]{0,2}")


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: str) -> Cell | int:
    # A score (1-5) as a number, so the SP office's spreadsheet can average it.
    if _SMALL_NUMBER.fullmatch(value):
        return int(value)
    # Anything else typed as a string, so openpyxl never stores "=..." as a formula.
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell


def write(path: Path, fmt: str, columns: list[str], lines: Iterable[list[str]],
          tick: Callable[[], None] = lambda: None) -> int:
    """Write the table; returns the number of feedback rows."""
    count = 0
    if fmt == "csv":
        # utf-8-sig: Excel on Windows opens Devanagari correctly only with the BOM.
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            for line in lines:
                writer.writerow([_safe(c) for c in line])
                count += 1
                tick()
        return count
    book = Workbook(write_only=True)
    sheet = book.create_sheet("feedback")
    sheet.append(columns)
    for line in lines:
        sheet.append([_xlsx_cell(sheet, c) for c in line])
        count += 1
        tick()
    book.save(path)
    return count
