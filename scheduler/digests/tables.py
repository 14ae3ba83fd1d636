"""The tables sent with a digest too big to read in full on a phone: every station, every
open alert or case, as spreadsheets open them (CSV, UTF-8 with a BOM, so Excel shows Hindi).

Column names are English and stable: offices sort and filter these files, and formulas
written against them must keep working. Nothing in them identifies a citizen.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, tzinfo
from operator import itemgetter

from storage.case_numbers import CaseNumbers
from storage.cases import CaseRow
from storage.digest import OpenAlert, StationNumbers, StationRow


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _plain(value: float | None, digits: str = "{:.2f}") -> str:
    return "" if value is None else digits.format(value)


KIND_ORDER = {"thana": 0, "chowki": 1, "office": 2}  # as the digest ranks them


def stations(rows: list[StationRow], week: dict[str, StationNumbers],
             ranks: dict[str, int], lang: str,
             cases: dict[str, CaseNumbers] | None = None) -> bytes:
    """Every active station: its rank among its kind, or why it has none; its cases."""
    keyed = []
    nothing, no_cases = StationNumbers(""), CaseNumbers()
    hindi = lang == "hi"
    for code, kind, name_hi, name_en in rows:  # 17,000 in a state: plain work per row
        n = week.get(code, nothing)
        rank = ranks.get(code)
        standing = ("ranked" if rank else "too_few" if n.complete
                    else "no_feedback" if n.incomplete == 0 else "only_incomplete")
        share = n.negative / n.complete if n.complete else None
        c = (cases or {}).get(code, no_cases)
        keyed.append(((KIND_ORDER.get(kind, 3), rank is None, rank or 0, code), [
            kind, str(rank or ""), code, name_hi if hindi else name_en, standing,
            str(n.complete), str(n.incomplete), _plain(n.behaviour), _plain(n.satisfaction),
            _plain(share, "{:.3f}"), str(c.opened), str(c.closed), str(c.overdue),
            _plain(c.median_hours, "{:.1f}"), _plain(c.satisfied_share, "{:.3f}")]))
    keyed.sort(key=itemgetter(0))
    return _csv(["kind", "rank", "code", "station", "standing", "feedback_7_days",
                 "incomplete_7_days", "behaviour", "experience", "negative_share",
                 "cases_opened_7_days", "cases_closed_7_days", "cases_overdue",
                 "median_hours_to_close", "closed_satisfied_share"],
                [row for _, row in keyed])


def alerts(rows: list[OpenAlert], name: dict[str, str], now: datetime,
           zone: tzinfo) -> bytes:
    """Every open alert, in the order the digest lists them."""
    table = [[reference, code, name.get(code, code), severity, status, rule,
              created.astimezone(zone).isoformat(" ", "minutes")[:16],
              str(int((now - created).total_seconds() // 3600))]
             for _, reference, code, severity, status, rule, created in rows]
    return _csv(["reference", "code", "station", "severity", "status", "rule",
                 "opened_local_time", "hours_open"], table)


def cases(rows: list[CaseRow], name: dict[str, str], now: datetime, zone: tzinfo) -> bytes:
    """Every open case waiting for the SP office, in the order the digest lists them."""
    table = [[r.reference, r.station_code, name.get(r.station_code, r.station_code), r.state,
              "yes" if r.red else "", "yes" if r.pressure else "", str(r.level),
              " ".join(r.rules), r.opened_at.astimezone(zone).isoformat(" ", "minutes")[:16],
              r.due_at.astimezone(zone).isoformat(" ", "minutes")[:16],
              str(int((now - r.opened_at).total_seconds() // 3600))] for r in rows]
    return _csv(["reference", "code", "station", "state", "red", "possible_pressure",
                 "levels_up", "rules", "opened_local_time", "due_local_time", "hours_open"],
                table)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


NUMERIC = {"rank", "feedback_7_days", "incomplete_7_days", "behaviour", "experience",
           "negative_share", "hours_open", "cases_opened_7_days", "cases_closed_7_days",
           "cases_overdue", "median_hours_to_close", "closed_satisfied_share", "levels_up"}


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
