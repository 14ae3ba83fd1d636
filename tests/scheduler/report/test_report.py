"""The monthly report for the crime review meeting: every number of the workbook checked
against feedback and cases seeded through the service and the officers' desk on a fixed
clock (December 2026 against November), the PDF's pages and fonts, the month with no
feedback, and the SP office's copy queued on the first of the month."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlmodel import Session as Db

from conversations.effects import Start, Text
from scheduler.config import CaseDeadlines
from scheduler.follow_ups.closure import ask_citizens
from scheduler.report.cases import count_cases
from scheduler.report.monthly import monthly_reply, queue_monthly_reports
from scheduler.report.numbers import Month, monthly_report
from scheduler.report.pdf import render
from scheduler.report.score import adjusted_score, ranks
from scheduler.report.words import Words
from scheduler.report.xlsx import workbook
from storage.cases import case_file
from storage.digest import StationNumbers
from storage.models import Outbox
from storage.report import CaseStep
from tests.conftest import T0
from tests.scheduler.alerts.test_alerts import BRIBE, feedback, with_digests

DECEMBER, NOVEMBER = Month(2026, 12), Month(2026, 11)
D0 = datetime(2026, 12, 1, 4, 30, tzinfo=UTC)  # 1 Dec 2026, 10:00 in the district
READ_AT = datetime(2027, 1, 1, 4, 30, tzinfo=UTC)  # the report is made on 1 January
SP, IN_CHARGE = "telegram:900", "telegram:801"
_citizens = iter(range(1000, 2000))


def other_work(behaviour: int, satisfaction: int, ask_again: bool = False) -> list[str]:
    """A visit for other work: purpose, heard, behaviour, guidance, demand, satisfaction,
    comment, contact, ask again."""
    return ["5", "1", str(behaviour), "हाँ", "नहीं", str(satisfaction), "नहीं", "नहीं",
            "हाँ" if ask_again else "नहीं"]


def given(app, station: str, behaviour: int, satisfaction: int, at: datetime,  # type: ignore[no-untyped-def]
          ask_again: bool = False) -> str:
    return str(feedback(app, f"telegram:{next(_citizens)}",
                        other_work(behaviour, satisfaction, ask_again), start=at,
                        station=station))


def case_of(app, reference: str) -> tuple[int, datetime]:  # type: ignore[no-untyped-def]
    with Db(app.engine) as db:
        found = case_file(db, reference)
    assert found is not None and found.case.id is not None
    return found.case.id, found.case.opened_at


def instruct(desk, case: int, at: datetime) -> None:  # type: ignore[no-untyped-def]
    desk.case_tap(SP, f"instruct-{case}", at)
    desk.case_tap(SP, f"preset-{case}-inquire", at)
    desk.case_tap(SP, f"send-{case}-inquire", at)


def seeded(app, desk) -> None:  # type: ignore[no-untyped-def]
    """November (the month before) and December, with four cases:
    A at BLB05, every step in time, its citizen asked and satisfied (4);
    B at BLB06, instructed in time, never reported: the station's deadline missed;
    C at BLB05, red, closed by the SP office after its 24 hours;
    D at BLB05 in November, never instructed: missed in November, overdue ever since."""
    day = timedelta(days=1)
    # November, after the officers enrolled (T0, 28 Nov)
    given(app, "BLB05", 3, 3, T0 + timedelta(hours=1))
    given(app, "BLB05", 3, 2, T0 + timedelta(hours=2))
    given(app, "BLB06", 5, 5, T0 + timedelta(hours=3))
    given(app, "BLB06", 5, 5, T0 + timedelta(hours=4))
    given(app, "BLB16", 3, 4, T0 + day)
    given(app, "BLB16", 3, 4, T0 + day + timedelta(hours=1))
    # December
    for n, (b, s) in enumerate([(5, 5), (4, 4), (5, 4)], start=1):
        given(app, "BLB05", b, s, D0 + n * day)
    for n in range(1, 4):
        given(app, "BLB01", 4, 5, D0 + n * day + timedelta(hours=1))
    given(app, "BLB06", 3, 3, D0 + day)
    given(app, "BLB16", 5, 5, D0 + 2 * day)
    given(app, "BLB16", 4, 4, D0 + 3 * day)
    given(app, "BLB17", 5, 5, D0 + 2 * day)
    left = "telegram:1999"  # begun, never finished: counts against completion
    app.service.handle(left, "telegram", Start("BLB05"), D0 + 4 * day)
    for answer in ("5", "1"):
        app.service.handle(left, "telegram", Text(answer), D0 + 4 * day + timedelta(seconds=9))

    b, opened = case_of(app, given(app, "BLB06", 2, 3, D0 + 5 * day))
    instruct(desk, b, opened + timedelta(hours=1))

    unhappy = "telegram:2500"  # agreed to be asked again
    a, opened = case_of(app, feedback(app, unhappy, other_work(1, 2, ask_again=True),
                                      start=D0 + 10 * day, station="BLB05"))
    instruct(desk, a, opened + timedelta(hours=2))
    reported = opened + timedelta(hours=32)
    desk.case_tap(IN_CHARGE, f"report-{a}", reported)
    desk.message(IN_CHARGE, Text("मुंशी को समझाइश दी"), reported)
    closed = reported + timedelta(hours=1)  # 19:0x in the district: citizens may be asked
    desk.case_tap(SP, f"close-{a}", closed)
    desk.message(SP, Text("थाने ने कार्रवाई की"), closed)
    assert ask_citizens(app, closed) == 1
    app.service.handle(unhappy, "telegram", Text("4"), closed + timedelta(minutes=30))

    red = feedback(app, f"telegram:{next(_citizens)}", BRIBE, start=D0 + 20 * day)
    c, opened = case_of(app, red)
    desk.case_tap(SP, f"close-{c}", opened + timedelta(hours=30))
    desk.message(SP, Text("एसपी कार्यालय ने जाँच की"), opened + timedelta(hours=30))


def rows_of(xlsx: bytes) -> dict[str, dict[str, object]]:
    sheet = load_workbook(io.BytesIO(xlsx))["stations"]
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    return {str(r[header.index("code")]): dict(zip(header, r, strict=True)) for r in rows}


@pytest.fixture
def ranked_on_two(app):  # type: ignore[no-untyped-def]
    """The sample district, a station ranked on two feedback (and pulled by two)."""
    return with_digests(app, min_responses_to_rank=2)


def test_the_workbook_holds_each_stations_month_against_the_month_before(  # type: ignore[no-untyped-def]
        ranked_on_two, officers_enrolled) -> None:
    app = ranked_on_two
    seeded(app, officers_enrolled)
    report = monthly_report(app.engine, app.config, app.config.districts[0], DECEMBER,
                            READ_AT)
    rows = rows_of(workbook(report))
    assert len(rows) == 22 and list(rows)[-1] == "BLB"  # 21 stations, then the district
    assert [c for c, r in rows.items() if r["kind"] == "thana"][:3] == ["BLB01", "BLB05",
                                                                         "BLB06"]
    simga, suhela, kotwali = rows["BLB05"], rows["BLB06"], rows["BLB01"]
    assert simga["station_hi"] == "थाना सिमगा" and simga["district"] == "BLB"
    # Feedback: five completed (one a demand, with top scores), one left half-way.
    assert (simga["responses"], simga["incomplete"], simga["negative"]) == (5, 1, 2)
    assert simga["completion"] == pytest.approx(5 / 6, abs=1e-4)
    assert simga["behaviour"] == pytest.approx((5 + 4 + 5 + 1 + 5) / 5)
    assert simga["satisfaction"] == pytest.approx((5 + 4 + 4 + 2 + 5) / 5)
    assert simga["negative_share"] == pytest.approx(0.4)
    assert simga["negative_share_prev"] == pytest.approx(0.5)
    # The score: pulled towards the district's average by two feedback at it.
    december = (5 + 4 + 5 + 1 + 5 + 5 + 4 + 4 + 2 + 5 + 4 * 3 + 5 * 3 + 3 + 3 + 2 + 3
                + 5 + 5 + 4 + 4 + 5 + 5) / 26
    november = (3 + 3 + 3 + 2 + 5 + 5 + 5 + 5 + 3 + 4 + 3 + 4) / 12
    assert rows["BLB"]["score"] == pytest.approx(december, abs=1e-4)
    assert simga["score"] == pytest.approx((4.0 * 5 + december * 2) / 7, abs=1e-4)
    assert simga["score_prev"] == pytest.approx((2.75 * 2 + november * 2) / 4, abs=1e-4)
    assert simga["score_change"] == pytest.approx(
        (4.0 * 5 + december * 2) / 7 - (2.75 * 2 + november * 2) / 4, abs=2e-4)
    assert suhela["score"] == pytest.approx((2.75 * 2 + december * 2) / 4, abs=1e-4)
    assert kotwali["score"] == pytest.approx((4.5 * 3 + december * 2) / 5, abs=1e-4)
    # Ranks among thanas and among chowkis, and against November.
    assert [(r["rank"], r["rank_prev"], r["rank_change"]) for r in (kotwali, simga, suhela)] \
        == [(1, None, None), (2, 2, 0), (3, 1, -2)]
    assert (rows["BLB16"]["rank"], rows["BLB16"]["rank_prev"]) == (1, 1)
    assert rows["BLB17"]["rank"] is None and rows["BLB17"]["responses"] == 1  # one: too few
    assert rows["BLB02"]["responses"] == 0 and rows["BLB02"]["score"] is None
    # Cases: opened and closed in December; D, from November, still open and overdue.
    assert {k: simga[k] for k in ("cases_opened", "red_cases_opened", "cases_closed",
                                  "cases_open_at_end", "cases_overdue_at_end")} == {
        "cases_opened": 2, "red_cases_opened": 1, "cases_closed": 2,
        "cases_open_at_end": 1, "cases_overdue_at_end": 1}
    assert (suhela["cases_opened"], suhela["cases_closed"], suhela["cases_open_at_end"]) \
        == (1, 0, 1)
    # The printed report, read with the in-charges present, leaves the red case out of
    # Simga's row (the district's lines count it).
    printed = next(card for card in report.cards if card.code == "BLB05").shown_cases
    assert (printed.opened, printed.red_opened, printed.closed) == (1, 0, 1)
    assert report.whole.shown_cases.red_opened == 1
    # Deadlines: the station's report in time at Simga, none at Suhela; the SP office
    # late once (the red case), D's missed deadline counted in November, not again.
    assert (simga["station_deadlines_kept"], simga["station_deadlines_due"]) == (1, 1)
    assert (suhela["station_deadlines_kept"], suhela["station_deadlines_due"]) == (0, 1)
    assert (simga["sp_office_deadlines_kept"], simga["sp_office_deadlines_due"]) == (2, 3)
    assert (simga["citizens_asked"], simga["citizens_answered"],
            simga["citizens_satisfied"]) == (1, 1, 1)
    district = rows["BLB"]
    assert (district["kind"], district["responses"], district["responses_prev"],
            district["incomplete"], district["negative"]) == ("district", 13, 6, 1, 3)
    assert {k: district[k] for k in ("cases_opened", "cases_closed", "cases_open_at_end",
                                     "station_deadlines_kept", "station_deadlines_due",
                                     "sp_office_deadlines_kept", "sp_office_deadlines_due",
                                     "citizens_satisfied")} == {
        "cases_opened": 3, "cases_closed": 2, "cases_open_at_end": 2,
        "station_deadlines_kept": 1, "station_deadlines_due": 2,
        "sp_office_deadlines_kept": 3, "sp_office_deadlines_due": 4,
        "citizens_satisfied": 1}
    november_report = monthly_report(app.engine, app.config, app.config.districts[0],
                                     NOVEMBER, READ_AT)
    before = rows_of(workbook(november_report))["BLB05"]
    assert (before["cases_opened"], before["sp_office_deadlines_kept"],
            before["sp_office_deadlines_due"], before["cases_overdue_at_end"]) == (1, 0, 1, 1)


def test_the_workbook_never_names_a_citizen(ranked_on_two, officers_enrolled) -> None:  # type: ignore[no-untyped-def]
    app = ranked_on_two
    seeded(app, officers_enrolled)
    xlsx = workbook(monthly_report(app.engine, app.config, app.config.districts[0],
                                   DECEMBER, READ_AT))
    book = load_workbook(io.BytesIO(xlsx))
    cells = [str(v) for sheet in book for row in sheet.iter_rows(values_only=True)
             for v in row if v is not None]
    with Db(app.engine) as db:
        from storage.models import Feedback
        senders = set(db.execute(select(Feedback.sender)).scalars())
    for secret in (*senders, "telegram:", "पैसे मांगे", "मुंशी", "FB-26-"):
        assert not any(secret in cell for cell in cells), secret


def test_the_pdf_is_a4_landscape_with_its_fonts_embedded(ranked_on_two,  # type: ignore[no-untyped-def]
                                                         officers_enrolled) -> None:
    app = ranked_on_two
    seeded(app, officers_enrolled)
    report = monthly_report(app.engine, app.config, app.config.districts[0], DECEMBER,
                            READ_AT)
    pdf = render(report, Words(app.catalogs, "hi"), READ_AT)
    assert pdf.startswith(b"%PDF-")
    pages = re.findall(rb"/Type /Page\b(?!s)", pdf)
    assert len(pages) == 2  # the district and 15 thanas; then chowkis and offices
    assert set(re.findall(rb"/MediaBox \[([^\]]*)\]", pdf)) == {b"0 0 841.89 595.28"}
    fonts = set(re.findall(rb"/BaseFont /[A-Z]{6}\+([A-Za-z-]+)", pdf))
    assert {b"NotoSansDevanagari", b"NotoSansDevanagariBold", b"NotoSans"} <= fonts
    assert pdf.count(b"/FontFile2") == len(fonts)  # every font embedded


def test_a_month_without_feedback_still_makes_a_report_saying_so(app) -> None:  # type: ignore[no-untyped-def]
    report = monthly_report(app.engine, app.config, app.config.districts[0],
                            Month(2026, 9), READ_AT)
    assert report.quiet and not report.under_way
    assert all(c.rank is None and c.numbers.complete == 0 for c in report.cards)
    rows = rows_of(workbook(report))
    assert rows["BLB"]["responses"] == 0 and rows["BLB"]["score"] is None
    assert render(report, Words(app.catalogs, "en"), READ_AT).startswith(b"%PDF-")
    reply = monthly_reply(app, {"district": "BLB", "month": "2026-09", "officer_id": 1},
                          "en", READ_AT)
    assert reply is not None
    said = app.catalogs.render(reply)
    assert "No feedback at any station in September 2026." in said
    assert [name for name, _ in reply.documents] == ["prayas-report-BLB-2026-09.pdf",
                                                     "prayas-report-BLB-2026-09.xlsx"]


def test_a_negative_feedback_taken_back_is_counted_as_possible_pressure(app) -> None:  # type: ignore[no-untyped-def]
    """Rude at Suhela, then "corrected" to all fives the same day: one feedback counted,
    with its latest answers, and the station named in the workbook's pressure column."""
    feedback(app, "telegram:7", other_work(1, 1), start=T0, station="BLB06")
    feedback(app, "telegram:7", other_work(5, 5), start=T0 + timedelta(hours=2),
             station="BLB06")
    report = monthly_report(app.engine, app.config, app.config.districts[0], NOVEMBER,
                            READ_AT)
    suhela = rows_of(workbook(report))["BLB06"]
    assert (suhela["responses"], suhela["behaviour"], suhela["negative"]) == (1, 5, 0)
    assert (suhela["cases_opened"], suhela["possible_pressure"]) == (1, 1)
    assert report.whole.cases.possible_pressure == 1


def test_the_month_under_way_is_read_so_far(app) -> None:  # type: ignore[no-untyped-def]
    given(app, "BLB05", 4, 4, T0)
    report = monthly_report(app.engine, app.config, app.config.districts[0], NOVEMBER,
                            T0 + timedelta(hours=1))
    assert report.under_way and report.whole.numbers.complete == 1
    with pytest.raises(ValueError, match="has not begun"):
        monthly_report(app.engine, app.config, app.config.districts[0], DECEMBER, T0)


def test_the_sp_office_gets_last_months_report_on_the_first(  # type: ignore[no-untyped-def]
        app, officers_enrolled) -> None:
    given(app, "BLB05", 4, 5, T0)
    first = datetime(2026, 12, 1, 3, 30, tzinfo=UTC)  # 09:00 in the district
    assert queue_monthly_reports(app, first - timedelta(days=1)) == 0  # 30 November
    assert queue_monthly_reports(app, first) == 1  # the SP office's one officer
    assert queue_monthly_reports(app, first + timedelta(hours=3)) == 1  # the same one again
    with Db(app.engine) as db:
        [queued] = db.execute(select(Outbox).where(Outbox.kind == "report")).scalars()
    assert queued.recipient == SP and queued.priority == 3
    assert queued.idempotency_key == f"report:BLB:2026-11:officer:{queued.payload['officer_id']}"
    assert queued.payload["district"] == "BLB" and queued.payload["month"] == "2026-11"
    reply = monthly_reply(app, queued.payload, "en", first)
    assert reply is not None
    assert app.catalogs.render(reply).splitlines() == [
        "📊 Monthly report: Balodabazar-Bhatapara, November 2026",
        "1 feedback (100% of those begun); behaviour 4.0, experience 5.0 (out of 5); "
        "negative 0%.",
        "Cases: 0 opened, 0 closed; the stations kept 0 of 0 deadlines.",
        "Attached: the report for the crime review meeting (PDF, to print) and every "
        "station's numbers (spreadsheet)."]
    pdf, xlsx = (body for _, body in reply.documents)
    assert pdf.startswith(b"%PDF-") and rows_of(xlsx)["BLB05"]["responses"] == 1
    assert monthly_reply(app, {**queued.payload, "district": "GONE"}, "en", first) is None


def _steps(*events: tuple[str, str, str | None]) -> list[CaseStep]:
    return [CaseStep(1, "S", False, event, datetime.fromisoformat(at + "+00:00"), text)
            for event, at, text in events]


def test_each_deadline_is_judged_once_in_the_month_it_was_kept_or_missed() -> None:
    hours = CaseDeadlines()  # new 24, instructed 72, reported 48, returned 72
    steps = _steps(
        ("opened", "2027-01-01T00:00", None),
        ("report", "2027-01-01T10:00", None),  # before any instruction: judges nothing
        ("close", "2027-01-03T10:00", None),  # at the report's 48 hours exactly: kept
        ("citizen_asked", "2027-01-03T11:00", None),
        ("citizen_unhappy", "2027-01-03T12:00", "1"),  # opens it again
        ("instruct", "2027-01-05T12:00", None),  # a day late: missed on 4 January
    )  # then no report: the station's 72 hours pass on 8 January
    january = count_cases(steps, hours, *Month(2027, 1).bounds(UTC))["S"]
    assert (january.opened, january.reopened, january.closed) == (1, 1, 1)
    assert (january.open_at_end, january.overdue_at_end) == (1, 1)
    assert (january.sp_office_kept, january.sp_office_judged) == (1, 2)
    assert (january.station_kept, january.station_judged) == (0, 1)
    assert (january.citizens_asked, january.citizens_answered,
            january.citizens_satisfied) == (1, 1, 0)
    february = count_cases(steps, hours, *Month(2027, 2).bounds(UTC))["S"]
    assert (february.opened, february.sp_office_judged, february.station_judged) == (0, 0, 0)
    assert (february.open_at_end, february.overdue_at_end) == (1, 1)
    # Opened late on the last day: its deadline passes in the next month, counted there.
    late = _steps(("opened", "2027-01-31T23:00", None), ("instruct", "2027-02-02T09:00", None))
    january = count_cases(late, hours, *Month(2027, 1).bounds(UTC))["S"]
    assert (january.open_at_end, january.overdue_at_end, january.sp_office_judged) == (1, 0, 0)
    february = count_cases(late, hours, *Month(2027, 2).bounds(UTC))["S"]
    assert (february.sp_office_kept, february.sp_office_judged) == (0, 1)
    # A 3 is an answer, not a satisfied citizen: satisfied is 4 or 5, as the digests say.
    okay = _steps(("opened", "2027-01-10T00:00", None), ("close", "2027-01-10T05:00", None),
                  ("citizen_asked", "2027-01-10T06:00", None),
                  ("citizen_answered", "2027-01-10T09:00", "3"))
    january = count_cases(okay, hours, *Month(2027, 1).bounds(UTC))["S"]
    assert (january.citizens_answered, january.citizens_satisfied) == (1, 0)
    assert (january.sp_office_kept, january.sp_office_judged, january.open_at_end) == (1, 1, 0)


def test_a_busy_station_is_not_outranked_by_two_delighted_visitors() -> None:
    busy = StationNumbers("BUSY", complete=50, behaviour=4.6, satisfaction=4.6)
    tiny = StationNumbers("TINY", complete=2, behaviour=5.0, satisfaction=5.0)
    numbers = {"BUSY": busy, "TINY": tiny}
    scores = {code: adjusted_score(n, 4.0, weight=2) for code, n in numbers.items()}
    assert scores["TINY"] == pytest.approx((5.0 * 2 + 4.0 * 2) / 4)
    assert ranks({"BUSY": "thana", "TINY": "thana"}, numbers, scores, minimum=2) == {
        "BUSY": 1, "TINY": 2}


@pytest.mark.parametrize("text", ["2026-13", "2026-1", "foo", "", "1999-12"])
def test_a_month_is_written_yyyy_mm(text: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        Month.parse(text)
    assert Month.parse(" 2026-12 ").previous() == NOVEMBER
    assert Month(2026, 12).next() == Month(2027, 1) and Month(2027, 1).previous() == DECEMBER


def test_the_report_goes_out_as_its_two_files(app, officers_enrolled, fake_telegram) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from tests.conftest import dispatched, telegram_sender

    given(app, "BLB05", 4, 5, T0)
    first = datetime(2026, 12, 1, 3, 30, tzinfo=UTC)
    assert queue_monthly_reports(app, first) == 1
    asyncio.run(dispatched(telegram_sender(app, fake_telegram), first))
    [text] = [s for s in fake_telegram.sent(900) if s.text.startswith("📊")]
    assert text.text.startswith("📊 मासिक रिपोर्ट: बलौदाबाजार-भाटापारा, नवंबर 2026")
    files = [s.params["document:filename"] for s in fake_telegram.sent(900, "sendDocument")]
    assert files == ["prayas-report-BLB-2026-11.pdf", "prayas-report-BLB-2026-11.xlsx"]
