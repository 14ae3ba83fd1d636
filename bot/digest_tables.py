"""The tables sent with a digest too big to read in full on a phone: every station, every
open alert, as spreadsheets open them (CSV, UTF-8 with a BOM, so Excel shows Hindi).

Column names are English and stable: offices sort and filter these files, and formulas
written against them must keep working. Nothing in them identifies a citizen.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, tzinfo

from storage.digest import OpenAlert, StationNumbers, StationRow


def _plain(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def stations(rows: list[StationRow], week: dict[str, StationNumbers],
             ranks: dict[str, int], lang: str) -> bytes:
    """Every active station: its rank among its kind, or why it has none."""
    kinds = {"thana": 0, "chowki": 1, "office": 2}  # as the digest ranks them
    keyed = []
    nothing = StationNumbers("")
    for s in rows:  # 17,000 in a state: kept to plain work per row
        n = week.get(s.code, nothing)
        rank = ranks.get(s.code)
        standing = ("ranked" if rank else "too_few" if n.complete
                    else "no_feedback" if n.incomplete == 0 else "only_incomplete")
        keyed.append(((kinds.get(s.kind, 3), rank is None, rank or 0, s.code), [
            s.kind, str(rank or ""), s.code, s.name_hi if lang == "hi" else s.name_en,
            standing, str(n.complete), str(n.incomplete), _plain(n.behaviour),
            _plain(n.satisfaction), _plain(n.negative_share, 3)]))
    keyed.sort(key=lambda pair: pair[0])
    table = [row for _, row in keyed]
    return _csv(["kind", "rank", "code", "station", "standing", "feedback_7_days",
                 "incomplete_7_days", "behaviour",
                 "experience", "negative_share"], table)


def alerts(rows: list[OpenAlert], name: dict[str, str], now: datetime,
           zone: tzinfo) -> bytes:
    """Every open alert, in the order the digest lists them."""
    table = [[a.reference, a.station_code, name.get(a.station_code, a.station_code),
              a.severity, a.status, a.rule,
              a.created_at.astimezone(zone).isoformat(" ", "minutes")[:16],
              str(int((now - a.created_at).total_seconds() // 3600))]
             for a in rows]
    return _csv(["reference", "code", "station", "severity", "status", "rule",
                 "opened_local_time", "hours_open"], table)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


NUMERIC = {"rank", "feedback_7_days", "incomplete_7_days", "behaviour", "experience",
           "negative_share", "hours_open"}


def as_xlsx(table: bytes) -> bytes:
    """A table as an Excel workbook, for WhatsApp, which delivers no CSV files; the
    numeric columns as numbers, so the office can sort by them (codes stay text: 0012)."""
    from openpyxl import Workbook  # only for WhatsApp: not loaded in every bot process
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("table")
    rows = csv.reader(io.StringIO(table.decode("utf-8-sig")))
    header = next(rows, [])
    sheet.append(header)
    numeric = [name in NUMERIC for name in header]
    for row in rows:
        cells = []
        for value, is_number in zip(row, numeric, strict=False):
            if is_number and NUMBER.fullmatch(value):
                cells.append(WriteOnlyCell(sheet, value=float(value) if "." in value
                                           else int(value)))
            else:
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"  # never a formula, whatever a name starts with
                cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
