"""Officer enrolment by one-time link, and the officers' menu, through the real bot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session as Db

from conversations.effects import Start, Text
from storage import officers as store
from storage.db import writer
from storage.models import Officer
from tests.bot.telegram.conftest import Citizen


def invite(app, role: str = "in_charge", scope: str = "BLB05", valid: float = 72) -> str:  # type: ignore[no-untyped-def]
    with Db(writer(app.engine)) as db, db.begin():
        return store.invite(db, role, scope, "उप निरीक्षक वर्मा", datetime.now(UTC),
                            timedelta(hours=valid))


def test_an_in_charge_enrols_once_and_sees_todays_numbers(telegram_bot, fake_telegram, app) -> None:  # type: ignore[no-untyped-def]
    token = invite(app)
    citizen = Citizen(fake_telegram, 601)
    for answer in ["/start BLB05", "1", "1", "1", "नहीं", "नहीं", "नहीं", "नहीं", "1", "नहीं",
                   "नहीं", "नहीं"]:
        citizen.say(answer)
    officer = Citizen(fake_telegram, 700)
    welcome, menu = officer.say(f"/start {token}", expect=2)
    assert "स्वागत है, उप निरीक्षक वर्मा। आप थाना सिमगा के लिए थाना प्रभारी" in welcome.text
    assert [label for label, _ in menu.buttons] == [
        "1. आज के आँकड़े", "2. खुले अलर्ट", "3. कार्रवाई वाले केस", "4. नागरिकों ने क्या लिखा",
        "5. भाषा: हिंदी / English"]
    today = officer.tap(1)[0].text
    assert "आज, थाना सिमगा:" in today and "पूरे फीडबैक: 1" in today
    assert "स्टाफ का व्यवहार (1-5): 1.0" in today and "नकारात्मक: 1" in today
    assert "601" not in today
    # the feedback above was negative (behaviour 1; no receipt): two rules matched, one
    # feedback, one line
    listed = officer.tap(2)[0]
    assert listed.text.startswith("खुले अलर्ट: 1") and listed.text.count("FB-26-000001") == 1
    assert "⚠️ FB-26-000001 · थाना सिमगा · " in listed.text
    # acknowledged from the list itself: both of its alerts
    assert [label for label, _ in listed.buttons] == ["1. FB-26-000001 देख लिया"]
    assert "दर्ज कर लिया" in officer.tap(1)[0].text
    edit = fake_telegram.wait_for(3, 700, "editMessageText")[-1]  # after the menu's two
    assert edit.text.endswith("✅ 1. FB-26-000001 देख लिया")
    assert officer.say("/alerts")[0].text == "कोई खुला अलर्ट नहीं है।"
    # the link is spent: a second person opening it gets only a polite no
    other = Citizen(fake_telegram, 701)
    assert "पहले ही इस्तेमाल" in other.say(f"/start {token}")[0].text
    with Db(app.engine) as db:
        officers = db.execute(select(Officer)).scalars().all()
    assert [(o.urn, o.role, o.scope) for o in officers] == [("telegram:700", "in_charge", "BLB05")]


def test_an_expired_or_unknown_link_does_nothing(telegram_bot, fake_telegram, app) -> None:  # type: ignore[no-untyped-def]
    token = invite(app, valid=-1)
    person = Citizen(fake_telegram, 702)
    assert "समय खत्म" in person.say(f"/start {token}")[0].text
    assert "सही नहीं" in person.say("/start enrol_made-up-token")[0].text
    with Db(app.engine) as db:
        assert db.execute(select(Officer)).scalars().all() == []


def test_a_citizen_cannot_use_officer_commands(telegram_bot, fake_telegram) -> None:  # type: ignore[no-untyped-def]
    citizen = Citizen(fake_telegram, 703)
    for command in ("/today", "/alerts", "/comments", "/menu"):
        assert "सिर्फ़ जुड़े हुए पुलिस अधिकारियों" in citizen.say(command)[0].text


def test_the_sp_office_sees_the_district_and_can_switch_language(telegram_bot, fake_telegram,  # type: ignore[no-untyped-def]
                                                                 app) -> None:
    token = invite(app, role="sp_office", scope="BLB")
    sp = Citizen(fake_telegram, 704)
    welcome, _ = sp.say(f"/start {token}", expect=2)
    assert "बलौदाबाजार-भाटापारा के लिए एसपी कार्यालय" in welcome.text
    changed, menu = sp.tap(5, expect=2)
    assert changed.text == "Okay, let us continue in English."
    assert menu.buttons[0][0] == "1. Today's numbers"
    assert "Today, Balodabazar-Bhatapara:" in sp.tap(1)[0].text


def test_officers_read_what_citizens_wrote_but_a_demand_stays_the_sp_offices(  # type: ignore[no-untyped-def]
        telegram_bot, fake_telegram, app) -> None:
    def feedback(chat: int, station: str, demand: str, comment: str) -> None:
        citizen = Citizen(fake_telegram, chat)
        confirmed = ["2"] if demand == "हाँ" else []  # a demand's "yes" is asked back
        for answer in [f"/start {station}", "1", "1", "2", "नहीं", "2", "नहीं", demand,
                       *confirmed, "2", comment, "नहीं", "नहीं"]:
            citizen.say(answer)

    feedback(611, "BLB05", "नहीं", "मुंशी ने दो घंटे बिठाए रखा")
    feedback(612, "BLB05", "हाँ", "रिपोर्ट लिखने के पैसे मांगे")  # a demand: the SP office's
    feedback(613, "BLB06", "नहीं", "दूसरे थाने की बात")
    in_charge = Citizen(fake_telegram, 710)
    in_charge.say(f"/start {invite(app)}", expect=2)
    seen = in_charge.say("/comments")[0].text
    assert seen.startswith("पिछले 7 दिनों में नागरिकों ने लिखा, थाना सिमगा:")
    assert "“मुंशी ने दो घंटे बिठाए रखा”" in seen
    assert "पैसे" not in seen and "दूसरे थाने" not in seen
    assert "611" not in seen and "612" not in seen  # never who wrote
    sp = Citizen(fake_telegram, 711)
    sp.say(f"/start {invite(app, role='sp_office', scope='BLB')}", expect=2)
    district = sp.tap_menu(4)
    assert "थाना सिमगा: “रिपोर्ट लिखने के पैसे मांगे”" in district
    assert "थाना सिमगा: “मुंशी ने दो घंटे बिठाए रखा”" in district
    assert "दूसरे थाने की बात" in district
    quiet = Citizen(fake_telegram, 712)
    quiet.say(f"/start {invite(app, scope='BLB07')}", expect=2)
    assert quiet.say("/comments")[0].text == "पिछले 7 दिनों में कोई टिप्पणी नहीं।"


def test_a_long_answer_to_an_officer_comes_in_parts_not_cut(  # type: ignore[no-untyped-def]
        telegram_bot, fake_telegram, app) -> None:
    now = datetime.now(UTC)
    for n in range(10):  # ten comments near the 1,000 characters kept: over 9,000 in all
        urn = f"telegram:{620 + n}"
        app.service.handle(urn, "telegram", Start("BLB05"), now - timedelta(minutes=30))
        for answer in ["1", "1", "2", "नहीं", "2", "नहीं", "नहीं", "2",
                       f"शिकायत {n}: " + "देर हुई। " * 100 + f"अंत {n}", "नहीं", "नहीं"]:
            app.service.handle(urn, "telegram", Text(answer), now - timedelta(minutes=29))
    in_charge = Citizen(fake_telegram, 720)
    in_charge.say(f"/start {invite(app)}", expect=2)
    parts = [m.text for m in in_charge.say("/comments", expect=3)]
    assert all(len(p) <= 4096 for p in parts)
    joined = "\n".join(parts)
    assert all(f"शिकायत {n}:" in joined and f"अंत {n}”" in joined for n in range(10))


def test_an_officer_is_not_held_to_the_citizens_pace(telegram_bot, fake_telegram, app) -> None:  # type: ignore[no-untyped-def]
    """Twenty-five messages in well under a minute: a citizen is asked to slow down at the
    twenty-first, an officer's commands are all answered."""
    limit = app.config.sessions.max_messages_per_minute
    citizen = Citizen(fake_telegram, 611)
    citizen.say("/start BLB05")
    for _ in range(limit - 1):
        citizen.say("मदद")
    assert "एक मिनट रुककर" in citizen.say("मदद")[0].text
    officer = Citizen(fake_telegram, 711)
    officer.say(f"/start {invite(app)}", expect=2)
    for _ in range(limit + 5):
        assert "आज, थाना सिमगा:" in officer.say("/today")[0].text
