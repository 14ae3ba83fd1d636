"""`prayas report` as an operator runs it: the real command in a subprocess, on both
databases, writing the PDF and the workbook for November 2026; its mistakes one line
and exit code 2."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

from openpyxl import load_workbook

from tests.bot.test_cli import _operator_error, run
from tests.conftest import SAMPLE_CONFIG, T0
from tests.scheduler.alerts.test_alerts import FINE, RUDE, feedback


def _rows(path: Path) -> dict[str, dict[str, object]]:
    sheet = load_workbook(io.BytesIO(path.read_bytes()))["stations"]
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    return {str(r[header.index("code")]): dict(zip(header, r, strict=True)) for r in rows}


def test_the_report_is_written_where_asked_and_its_paths_printed(app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    feedback(app, "telegram:1", FINE)  # behaviour 5, experience 5
    feedback(app, "telegram:2", RUDE, start=T0 + timedelta(minutes=5))  # 1 and 1
    feedback(app, "telegram:3", FINE, station="BLB16", start=T0 + timedelta(minutes=9))
    out = tmp_path / "for the meeting"  # made if missing
    done = run("report", "--month", "2026-11", "--district", "blb", "--out", str(out),
               "--lang", "en")
    assert done.returncode == 0, done.stderr
    pdf, xlsx = out / "prayas-report-BLB-2026-11.pdf", out / "prayas-report-BLB-2026-11.xlsx"
    assert done.stdout.splitlines() == [str(pdf), str(xlsx)]
    assert done.stderr == ""
    assert pdf.read_bytes().startswith(b"%PDF-")
    rows = _rows(xlsx)
    simga = rows["BLB05"]
    assert (simga["responses"], simga["behaviour"], simga["satisfaction"],
            simga["negative"], simga["cases_opened"], simga["cases_open_at_end"]) == (
        2, 3.0, 3.0, 1, 1, 1)
    assert simga["rank"] is None  # two feedback: fewer than the five a rank needs
    assert (rows["BLB16"]["kind"], rows["BLB16"]["responses"]) == ("chowki", 1)
    assert (rows["BLB"]["kind"], rows["BLB"]["responses"]) == ("district", 3)
    # Hindi by default, in the folder it is run from.
    here = tmp_path / "office"
    here.mkdir()
    hindi = run("report", "--month", "2026-11", cwd=here,
                env={"PRAYAS_CONFIG": str(SAMPLE_CONFIG)})
    assert hindi.returncode == 0, hindi.stderr
    assert hindi.stdout.splitlines() == ["prayas-report-BLB-2026-11.pdf",
                                         "prayas-report-BLB-2026-11.xlsx"]
    assert (here / "prayas-report-BLB-2026-11.pdf").stat().st_size > 10_000


def test_a_month_without_feedback_still_gets_its_report(tmp_path: Path) -> None:
    done = run("report", "--month", "2026-09", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stderr == "no feedback at any station in 2026-09: the report says so\n"
    rows = _rows(tmp_path / "prayas-report-BLB-2026-09.xlsx")
    assert rows["BLB"]["responses"] == 0 and len(rows) == 22


def test_mistakes_are_one_line_and_change_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    _operator_error(run("report", "--month", "2026-13", "--out", str(folder)),
                    "--month '2026-13' is not a month", "YYYY-MM")
    _operator_error(run("report", "--month", "foo", "--out", str(folder)),
                    "--month 'foo' is not a month")
    _operator_error(run("report", "--month", "2999-01", "--out", str(folder)),
                    "--month 2999-01 has not begun yet")
    _operator_error(run("report", "--month", "2026-11", "--district", "XX", "--out",
                        str(folder)), "--district XX: no such district", "BLB")
    a_file = folder / "not-a-folder"
    a_file.write_text("")
    _operator_error(run("report", "--month", "2026-11", "--out", str(a_file)),
                    f"cannot write the report to {a_file}", "--out")
    assert sorted(p.name for p in folder.iterdir()) == ["not-a-folder"]


def test_report_has_help() -> None:
    shown = run("report", "--help")
    assert shown.returncode == 0 and "Usage: prayas report" in shown.stdout
    assert "--month YYYY-MM" in shown.stdout and "--district CODE" in shown.stdout
