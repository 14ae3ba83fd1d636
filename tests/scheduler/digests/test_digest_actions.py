"""The digests say what to do first: the SP office's daily digest opens with the cases
waiting for it (red, possible pressure, past a deadline, new) and fits one Telegram
message, the rest attached; the in-charge's weekly digest lists his open instructions."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from sqlmodel import Session as Db

from conversations.effects import Text
from scheduler.digests import queue
from scheduler.digests.digest import Digest
from storage.cases import case_file
from tests.conftest import T0, dispatched, telegram_sender
from tests.scheduler.alerts.test_alerts import BRIBE, FINE, RUDE, feedback, with_digests

STATIONS = ["BLB01", "BLB02", "BLB03", "BLB04", "BLB05", "BLB06", "BLB07", "BLB08", "BLB09",
            "BLB10"]


def _daily(app, now, lang: str = "hi", day: date = date(2026, 11, 28)) -> str:  # type: ignore[no-untyped-def]
    reply = Digest(app.engine, app.config, app.catalogs).daily(
        app.config.districts[0], day, lang, now)
    return str(app.catalogs.render(reply))


def test_a_busy_day_opens_with_what_to_act_on_in_one_message(  # type: ignore[no-untyped-def]
        app, officers_enrolled, fake_telegram) -> None:
    busy = with_digests(app, min_responses_to_rank=1, listed_per_kind=40)
    for n in range(60):  # sixty unhappy citizens at ten stations, and two demands
        feedback(busy, f"telegram:{1000 + n}", RUDE, station=STATIONS[n % 10],
                 start=T0 - timedelta(hours=20) + timedelta(minutes=n))
    for n in range(2):
        feedback(busy, f"telegram:{2000 + n}", BRIBE, station=STATIONS[n],
                 start=T0 - timedelta(hours=2) + timedelta(minutes=n))
    asyncio.run(dispatched(telegram_sender(busy, fake_telegram), T0))  # the alerts
    at_nine = T0.replace(day=29, hour=3, minute=30)
    queue.queue_daily_digests(busy, at_nine)
    before = len(fake_telegram.sent(900))
    asyncio.run(dispatched(telegram_sender(busy, fake_telegram), at_nine + timedelta(minutes=1)))
    digest = fake_telegram.sent(900)[before:]  # the text, then the chart and the tables
    assert len(digest) == 1 and len(digest[0].text) <= 4096  # one message
    lines = digest[0].text.splitlines()
    assert lines[1] == "पहले इन पर कार्रवाई करें: 62"
    assert lines[2].startswith("🔴 FB-26-0000") and lines[3].startswith("🔴 ")
    # Sixty cases waited a day for an instruction: past their deadline, the oldest first.
    assert lines[4].startswith("⏰ FB-26-000001 · ") and "समय सीमा" in lines[4]
    assert "… और 32; सभी साथ लगी तालिका में हैं।" in digest[0].text
    assert "पिछले 7 दिनों में केस: 62 खुले, कोई बंद नहीं, 62 की समय सीमा निकल चुकी है।" in lines
    files = {s.params["document:filename"]: s.params["document"]
             for s in fake_telegram.sent(900, "sendDocument")}
    cases = files["open-cases-BLB-2026-11-28.csv"].decode("utf-8-sig").splitlines()
    assert len(cases) == 63 and cases[1].split(",")[4] == "yes"  # every case, red first
    stations = files["stations-BLB-2026-11-28.csv"].decode("utf-8-sig").splitlines()
    header = stations[0].split(",")
    simga = dict(zip(header, next(r for r in stations if ",BLB05," in r).split(","),
                     strict=True))
    assert (simga["cases_opened_7_days"], simga["cases_overdue"]) == ("6", "6")


def test_a_negative_feedback_turned_positive_is_flagged_and_red_stays_red(  # type: ignore[no-untyped-def]
        app, officers_enrolled) -> None:
    rude = feedback(app, "telegram:5", RUDE)
    again = feedback(app, "telegram:5", [*FINE[:2], "5", *FINE[3:]],
                     start=T0 + timedelta(hours=2))  # the same visit, now all fine
    assert again == rude
    red = feedback(app, "telegram:6", BRIBE, start=T0 + timedelta(minutes=5))
    feedback(app, "telegram:6", FINE, start=T0 + timedelta(hours=3))
    with Db(app.engine) as db:
        pressed = case_file(db, rude)
        still_red = case_file(db, red)
    assert pressed is not None and [e.event for e in pressed.events] == ["opened", "pressure"]
    assert still_red is not None and still_red.case.red and still_red.case.state == "new"
    lines = _daily(app, T0 + timedelta(hours=4)).splitlines()
    assert lines[1] == "पहले इन पर कार्रवाई करें: 2"
    assert lines[2].startswith(f"🔴 {red} · थाना सिमगा · पैसे या गलत चीज़ माँगी गई")
    assert "बाद में अच्छा कर दिया: दबाव की आशंका" in lines[2]
    assert lines[3].startswith(f"⚠️ {rude} · थाना सिमगा · खराब व्यवहार या अनुभव · "
                               "बाद में अच्छा कर दिया: दबाव की आशंका · नया · ")
    english = _daily(app, T0 + timedelta(hours=4), "en")
    assert "changed to positive: possible pressure" in english
    # The in-charge acknowledged the rude one's alert: the digest says so.
    with Db(app.engine) as db:
        alert = next(a for a in case_file(db, rude).alerts)  # type: ignore[union-attr]
    officers_enrolled.acknowledge("telegram:801", alert.id, T0 + timedelta(hours=5))
    assert " · नया, देख लिया गया · " in _daily(app, T0 + timedelta(hours=6)).splitlines()[3]


def test_closed_cases_and_the_citizens_answers_are_counted(app, officers_enrolled) -> None:  # type: ignore[no-untyped-def]
    from scheduler.follow_ups.closure import ask_citizens

    desk = officers_enrolled
    for n, answer in enumerate(["5", "1"]):
        reference = feedback(app, f"telegram:{30 + n}", [*RUDE[:-1], "हाँ"],
                             start=T0 + timedelta(minutes=n))
        with Db(app.engine) as db:
            found = case_file(db, reference)
        assert found is not None
        closing = T0 + timedelta(hours=30)
        desk.case_tap("telegram:900", f"close-{found.case.id}", closing)
        desk.message("telegram:900", Text("नागरिक से बात हुई"), closing)
        assert ask_citizens(app, closing) == 1
        app.service.handle(f"telegram:{30 + n}", "telegram", Text(answer),
                           closing + timedelta(hours=1))
    text = _daily(app, T0 + timedelta(hours=40), day=date(2026, 11, 29))
    # One closed and satisfied; one reopened by its citizen's 1: opened twice, closed twice.
    assert ("पिछले 7 दिनों में केस: 3 खुले, 2 बंद (आधे केस 30 घंटे में बंद), 0 की समय सीमा "
            "निकल चुकी है; जवाब देने वाले 2 नागरिकों में से 1 संतुष्ट।") in text


def test_the_in_charges_week_lists_his_open_instructions(app, officers_enrolled) -> None:  # type: ignore[no-untyped-def]
    desk = officers_enrolled
    reference = feedback(app, "telegram:40", RUDE)
    with Db(app.engine) as db:
        found = case_file(db, reference)
    assert found is not None
    for option in (f"instruct-{found.case.id}", f"preset-{found.case.id}-register_fir",
                   f"send-{found.case.id}-register_fir"):
        desk.case_tap("telegram:900", option, T0 + timedelta(hours=1))
    reply = Digest(app.engine, app.config, app.catalogs).weekly(
        "BLB05", date(2026, 11, 28), "hi", T0 + timedelta(hours=5))
    lines = app.catalogs.render(reply).splitlines()
    at = lines.index("निर्देश, जिन पर आपकी रिपोर्ट बाकी है: 1")
    # The deadline by the part of the day: to the minute it could point at the visit.
    assert lines[at + 1] == f"📋 {reference} · एफ़आईआर दर्ज करें · समय सीमा 01-12-2026, सुबह"
