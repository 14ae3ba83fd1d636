"""The monthly report for the crime review meeting: written by `prayas report`, and sent
to each district's SP office on the first of the month through the outbox, as a short
message with the PDF and the workbook attached."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from sqlmodel import Session as Db

from conversations.effects import Msg, Reply
from scheduler.app import App
from scheduler.config import District
from scheduler.report import words as msg
from scheduler.report.numbers import Month, MonthlyReport, monthly_report
from scheduler.report.pdf import render
from scheduler.report.words import Words
from scheduler.report.xlsx import workbook
from storage import outbox
from storage.db import writer
from storage.officers import officers_of_district


def file_stem(district: str, month: Month) -> str:
    return f"prayas-report-{district}-{month}"


def report_files(app: App, district: District, month: Month, lang: str,
                 now: datetime) -> tuple[MonthlyReport, bytes, bytes]:
    """The report read at `now`, as PDF and XLSX."""
    report = monthly_report(app.engine, app.config, district, month, now)
    return report, render(report, Words(app.catalogs, lang), now), workbook(report)


class Written(NamedTuple):
    pdf: Path
    xlsx: Path
    quiet: bool  # no feedback at all that month: the report says so


def write_report(app: App, district: District, month: Month, lang: str, folder: Path,
                 now: datetime) -> Written:
    """`prayas report`: both files in `folder`, named after the district and month."""
    report, pdf, xlsx = report_files(app, district, month, lang, now)
    stem = folder / file_stem(district.code, month)
    written = Written(stem.with_suffix(".pdf"), stem.with_suffix(".xlsx"), report.quiet)
    written.pdf.write_bytes(pdf)
    written.xlsx.write_bytes(xlsx)
    return written


def queue_monthly_reports(app: App, now: datetime) -> int:
    """On the first of the month (district time), last month's report for every enrolled
    SP-office officer of each district; how many were queued. Any other day, nothing:
    the job may run daily. The key makes a second run the same day harmless."""
    today = now.astimezone(app.config.zone).date()
    if today.day != 1:
        return 0
    month = Month.of(today).previous()
    queued = 0
    with Db(writer(app.engine)) as db, db.begin():
        for district in app.config.districts:
            for officer in officers_of_district(db, district.code):
                outbox.queue(db, "report", officer.urn,
                             f"report:{district.code}:{month}:officer:{officer.id}",
                             {"district": district.code, "month": str(month),
                              "officer_id": officer.id}, now)
                queued += 1
    return queued


def monthly_reply(app: App, payload: dict[str, Any], lang: str,
                  now: datetime | None = None) -> Reply | None:
    """The outbox message: a few lines and the two files. None when its district is no
    longer in the config. `now`: when it is built (default: the clock), for the
    footer's "made"; the month queued is over, so its numbers do not depend on it."""
    district = next((d for d in app.config.districts if d.code == payload["district"]), None)
    if district is None:
        return None
    month = Month.parse(payload["month"])
    report, pdf, xlsx = report_files(app, district, month, lang, now or datetime.now(UTC))
    words = Words(app.catalogs, lang)
    whole, cases = report.whole.numbers, report.whole.cases
    name = district.name_hi if lang == "hi" else district.name_en
    lines = [Msg.of(msg.MESSAGE_TITLE, district=name, month=words.month(month.first))]
    if report.quiet:
        lines.append(Msg.of(msg.NO_FEEDBACK, month=words.month(month.first)))
    else:
        lines.append(Msg.of(
            msg.MESSAGE_NUMBERS, complete=words.count(whole.complete),
            completion=words.share(whole.completion), behaviour=words.score(whole.behaviour),
            satisfaction=words.score(whole.satisfaction),
            negative=words.share(whole.negative_share)))
    lines.append(Msg.of(msg.MESSAGE_CASES, opened=words.count(cases.opened),
                        closed=words.count(cases.closed), kept=words.count(cases.station_kept),
                        due=words.count(cases.station_judged)))
    lines.append(Msg(msg.MESSAGE_FILES))
    stem = file_stem(district.code, month)
    return Reply(lang, tuple(lines), documents=((f"{stem}.pdf", pdf), (f"{stem}.xlsx", xlsx)))
