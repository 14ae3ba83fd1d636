"""A case from the alert to the citizen's answer, taken from the officers' chats (the
desk, as every channel calls it) and sent through the real python-telegram-bot to the
fake Bot API, on a fixed clock: the SP office instructs, the in-charge reports, the SP
office returns it and then closes it, the citizen is asked and a poor answer reopens it.
Every refusal changes nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select
from sqlmodel import Session as Db

from conversations.effects import Media, Start, Text
from scheduler.cases.escalation import escalate_cases
from scheduler.catalogs import Catalogs
from scheduler.follow_ups.closure import ask_citizens
from storage.cases import case_file
from storage.models import Answer, CaseEvent
from tests.conftest import T0, dispatched, telegram_sender
from tests.fakes.telegram_api import FakeTelegram
from tests.scheduler.alerts.test_alerts import BRIBE, RUDE, feedback

CATALOGS = Catalogs.load(["hi", "en"])
ASK_AGAIN = [*RUDE[:-1], "हाँ"]  # rude, and the citizen may be asked again
SP, IN_CHARGE, OTHER_IN_CHARGE = "telegram:900", "telegram:801", "telegram:802"


def _dispatch(app, fake: FakeTelegram, now) -> int:  # type: ignore[no-untyped-def]
    return asyncio.run(dispatched(telegram_sender(app, fake), now))


def _text(reply) -> str:  # type: ignore[no-untyped-def]
    return str(CATALOGS.render(reply, numbered=True))


def _said(replies) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(_text(reply) for reply in replies)


def _case_id(app, reference: str) -> int:  # type: ignore[no-untyped-def]
    with Db(app.engine) as db:
        found = case_file(db, reference)
    assert found is not None and found.case.id is not None
    return found.case.id


def _events(app, reference: str) -> list[tuple[str, int | None]]:  # type: ignore[no-untyped-def]
    with Db(app.engine) as db:
        found = case_file(db, reference)
    assert found is not None
    return [(e.event, e.officer_id) for e in found.events]


def test_a_whole_case_from_the_alert_to_the_citizens_answer(  # type: ignore[no-untyped-def]
        app, officers_enrolled, fake_telegram: FakeTelegram) -> None:
    desk, now = officers_enrolled, T0 + timedelta(minutes=5)
    # Rude, the comment a voice note, and the citizen may be asked again.
    app.service.handle("telegram:5", "telegram", Start("BLB05"), T0)
    for answer in ASK_AGAIN[:6]:
        app.service.handle("telegram:5", "telegram", Text(answer), T0)
    app.service.handle("telegram:5", "telegram", Media("voice", "tg-citizen-voice"), T0)
    for answer in ASK_AGAIN[7:]:
        turn = app.service.handle("telegram:5", "telegram", Text(answer), T0)
    reference = turn.completed_reference
    assert reference is not None
    case = _case_id(app, reference)
    assert _dispatch(app, fake_telegram, now) == 2
    # One alert each, its reasons named, the citizen's voice note after it.
    assert [v.params["voice"] for v in fake_telegram.sent(801, "sendVoice")] == [
        "tg-citizen-voice"]
    assert [v.params["voice"] for v in fake_telegram.sent(900, "sendVoice")] == [
        "tg-citizen-voice"]
    # The alert carries the case's next steps, each officer's own.
    [alert] = fake_telegram.sent(900)
    assert "\nकारण: खराब व्यवहार या अनुभव\n" in alert.text
    assert [label for label, _ in alert.buttons] == [
        "1. देख लिया", "2. निर्देश भेजें", "3. केस बंद करें"]
    [alert] = fake_telegram.sent(801)
    assert [label for label, _ in alert.buttons] == ["1. देख लिया", "2. की गई कार्रवाई बताएँ"]

    # The SP office instructs: a preset, then its own words.
    [presets] = desk.case_tap(SP, f"instruct-{case}", now)
    assert _text(presets).splitlines() == [
        "प्रभारी को कौन-सा निर्देश भेजें?", "1. एसपी कार्यालय के ज़रिए नागरिक से बात करें",
        "2. एफ़आईआर दर्ज करें", "3. जाँच करके रिपोर्ट दें", "4. स्टाफ़ को समझाइश दें", "5. रद्द करें"]
    [asked] = desk.case_tap(SP, f"preset-{case}-inquire", now)
    assert "कुछ शब्द लिखें" in _text(asked)
    [sent] = desk.message(SP, Text("मुंशी से लिखित जवाब लेकर 2 दिन में बताएँ"), now)
    assert _text(sent) == "प्रभारी को भेज दिया। अब उनकी रिपोर्ट का इंतज़ार है।"
    assert _dispatch(app, fake_telegram, now) == 1
    instruction = fake_telegram.sent(801)[-1]
    assert instruction.text.splitlines() == [
        "📋 एसपी कार्यालय का निर्देश", f"फीडबैक नंबर: {reference}", "स्थान: थाना सिमगा",
        "कारण: खराब व्यवहार या अनुभव", "निर्देश: जाँच करके रिपोर्ट दें",
        "एसपी कार्यालय: मुंशी से लिखित जवाब लेकर 2 दिन में बताएँ", "द्वारा: officer 900"]
    assert [label for label, _ in instruction.buttons] == ["1. की गई कार्रवाई बताएँ"]

    # The in-charge reports with a voice note; the SP office sees it, and returns it.
    later = now + timedelta(hours=26)  # 12:35 in the district: citizens may be written to
    assert "लिखें कि क्या कार्रवाई" in _said(desk.case_tap(IN_CHARGE, f"report-{case}", later))
    [sent] = desk.message(IN_CHARGE, Media("voice", "tg-voice-1"), later)
    assert _text(sent) == "आपकी रिपोर्ट एसपी कार्यालय पहुँच गई है। धन्यवाद।"
    assert _dispatch(app, fake_telegram, later) == 1
    report = fake_telegram.sent(900)[-1]
    assert report.text.startswith("📝 थाने से कार्रवाई की रिपोर्ट\n")
    assert "साथ में एक वॉइस मैसेज भी है।" in report.text
    assert [label for label, _ in report.buttons] == [
        "1. और कार्रवाई के लिए लौटाएँ", "2. निर्देश भेजें", "3. केस बंद करें"]
    voice = fake_telegram.sent(900, "sendVoice")[-1]  # sent again by its Telegram file id
    assert voice.params["voice"] == "tg-voice-1"
    desk.case_tap(SP, f"return-{case}", later)
    [sent] = desk.message(SP, Text("मुंशी का लिखित बयान भी भेजें"), later)
    assert "लौटा दिया" in _text(sent)
    assert _dispatch(app, fake_telegram, later) == 1
    assert fake_telegram.sent(801)[-1].text.startswith("↩️ एसपी कार्यालय ने लौटाया")

    # Reported again, in words; closed by the SP office with its reason.
    desk.case_tap(IN_CHARGE, f"report-{case}", later)
    desk.message(IN_CHARGE, Text("मुंशी को समझाइश दी, लिखित बयान लिया"), later)
    desk.case_tap(SP, f"close-{case}", later)
    [closed] = desk.message(SP, Text("थाने ने कार्रवाई की"), later)
    assert _text(closed) == "केस बंद हो गया।"
    _dispatch(app, fake_telegram, later)
    assert fake_telegram.sent(801)[-1].text.startswith("✅ एसपी कार्यालय ने केस बंद किया")

    # The citizen agreed to be asked again: asked once, with nothing of what was done.
    assert ask_citizens(app, later) == 1
    assert ask_citizens(app, later + timedelta(minutes=10)) == 0
    assert _dispatch(app, fake_telegram, later) == 1
    [question] = fake_telegram.sent(5)
    assert question.text.startswith(f"नमस्ते! आपने 28 नवंबर को थाना सिमगा के बारे में फीडबैक "
                                    f"नंबर {reference} दिया था। एसपी कार्यालय ने उस पर कार्रवाई "
                                    "की है।")
    assert "जो कार्रवाई हुई, उससे अब आप कितने संतुष्ट हैं? 1 से 5 में बताएँ।" in question.text
    for words in ("मुंशी", "समझाइश", "officer", "थाने ने"):
        assert words not in question.text
    # A poor answer: the case opens again at the SP office, which is told.
    turn = app.service.handle("telegram:5", "telegram", Text("1"), later + timedelta(hours=1))
    assert "एसपी कार्यालय तक पहुँच गया" in _said(turn.replies)
    assert _dispatch(app, fake_telegram, later + timedelta(hours=1)) == 1
    told = fake_telegram.sent(900)[-1].text
    assert told.startswith("🔁 नागरिक संतुष्ट नहीं है: केस फिर से खुला\n")
    assert "नागरिक का जवाब (1-5): 1" in told
    with Db(app.engine) as db:
        found = case_file(db, reference)
        kept = db.execute(select(Answer).where(Answer.question_id == "cl_satisfied")).scalar_one()
    assert found is not None and found.case.state == "new"
    assert kept.feedback_id == found.feedback.id and kept.value == 1
    sp, in_charge = found.events[1].officer_id, found.events[2].officer_id
    assert _events(app, reference) == [
        ("opened", None), ("instruct", sp), ("report", in_charge), ("return", sp),
        ("report", in_charge), ("close", sp), ("citizen_asked", None),
        ("citizen_unhappy", None)]
    assert found.events[2].media_kind == "voice" and found.events[2].media_ref == "tg-voice-1"


def test_a_satisfied_citizen_leaves_it_closed(app, officers_enrolled) -> None:  # type: ignore[no-untyped-def]
    desk, now = officers_enrolled, T0 + timedelta(minutes=5)
    reference = feedback(app, "telegram:6", ASK_AGAIN)
    case = _case_id(app, reference)
    desk.case_tap(SP, f"close-{case}", now)
    desk.message(SP, Text("नागरिक से बात हुई, काम हो गया"), now)
    assert ask_citizens(app, now) == 1
    app.service.handle("telegram:6", "telegram", Text("5"), now + timedelta(hours=1))
    with Db(app.engine) as db:
        found = case_file(db, reference)
    assert found is not None and found.case.state == "closed"
    assert [e.event for e in found.events][-2:] == ["citizen_asked", "citizen_answered"]


def test_a_citizen_who_said_no_is_never_asked(app, officers_enrolled) -> None:  # type: ignore[no-untyped-def]
    desk, now = officers_enrolled, T0 + timedelta(minutes=5)
    case = _case_id(app, feedback(app, "telegram:7", RUDE))  # "may we ask again?": no
    desk.case_tap(SP, f"close-{case}", now)
    desk.message(SP, Text("कार्रवाई हुई"), now)
    assert ask_citizens(app, now) == 0


def test_steps_not_allowed_change_nothing_and_say_why(app, officers_enrolled) -> None:  # type: ignore[no-untyped-def]
    desk, now = officers_enrolled, T0 + timedelta(minutes=5)
    rude = _case_id(app, feedback(app, "telegram:8", RUDE))
    red = _case_id(app, feedback(app, "telegram:9", BRIBE, start=T0 + timedelta(minutes=1)))

    def events() -> int:
        with Db(app.engine) as db:
            return int(db.execute(select(func.count()).select_from(CaseEvent)).scalar_one())

    before = events()
    refusals = [
        (OTHER_IN_CHARGE, f"report-{rude}", "इस केस पर कार्रवाई आपके ज़िम्मे नहीं है।"),
        (IN_CHARGE, f"report-{red}", "यह केस सिर्फ़ एसपी कार्यालय का है।"),
        (IN_CHARGE, f"instruct-{rude}", "इस केस पर कार्रवाई आपके ज़िम्मे नहीं है।"),
        (SP, f"instruct-{red}", "यह केस सिर्फ़ एसपी कार्यालय का है।"),
        (SP, f"return-{rude}", "अभी लौटाने के लिए कोई रिपोर्ट नहीं है।"),
        (SP, "report-99999", "ऐसा कोई केस नहीं है।"),
        (SP, "report-99999999999", "ऐसा कोई केस नहीं है।"),
        (SP, "close-1; drop table", "ऐसा कोई केस नहीं है।"),
    ]
    for urn, option, said in refusals:
        assert _said(desk.case_tap(urn, option, now)) == said, option
    # A closure needs its words: an empty message is asked again, and nothing closes.
    desk.case_tap(SP, f"close-{red}", now)
    assert "कृपया कुछ शब्द लिखें" in _said(desk.message(SP, Media("sticker"), now))
    assert "रद्द कर दिया" in _said(desk.case_tap(SP, f"cancel-{red}", now))
    assert events() == before
    # Closed: nothing more can be done to it, by anyone.
    desk.case_tap(SP, f"close-{red}", now)
    desk.message(SP, Text("एसपी कार्यालय ने जाँच की, आरोप सही नहीं"), now)
    assert events() == before + 1
    for urn, option in [(SP, f"instruct-{red}"), (SP, f"close-{red}")]:
        assert _said(desk.case_tap(urn, option, now)) == "यह केस पहले ही बंद हो चुका है।"
    assert events() == before + 1


def test_an_overdue_case_goes_up_once_on_a_fixed_clock(app, officers_enrolled,  # type: ignore[no-untyped-def]
                                                      fake_telegram: FakeTelegram) -> None:
    desk, now = officers_enrolled, T0 + timedelta(minutes=5)
    reference = feedback(app, "telegram:10", RUDE)
    case = _case_id(app, reference)
    for option in (f"instruct-{case}", f"preset-{case}-counsel_staff",
                   f"send-{case}-counsel_staff"):
        desk.case_tap(SP, option, now)
    _dispatch(app, fake_telegram, now)
    hours = app.config.cases.due_hours.instructed
    assert escalate_cases(app.engine, app.config, now + timedelta(hours=hours - 1)) == 0
    assert escalate_cases(app.engine, app.config, now + timedelta(hours=hours, minutes=1)) == 1
    assert escalate_cases(app.engine, app.config, now + timedelta(hours=3 * hours)) == 0
    assert _dispatch(app, fake_telegram, now + timedelta(hours=hours, minutes=2)) == 1
    overdue = fake_telegram.sent(900)[-1]
    assert overdue.text.startswith("⏰ समय सीमा (1 दिस॰, 10:35) निकल गई: थाने की रिपोर्ट का इंतज़ार\n")
    assert ("escalated", None) in _events(app, reference)
    # Reported at last: the deadline is the SP office's now, and the level starts over.
    desk.case_tap(IN_CHARGE, f"report-{case}", now + timedelta(hours=hours + 1))
    desk.message(IN_CHARGE, Text("स्टाफ़ को समझाइश दी"), now + timedelta(hours=hours + 1))
    with Db(app.engine) as db:
        found = case_file(db, reference)
    assert found is not None and found.case.state == "reported" and found.case.level == 0


def test_a_step_is_taken_once_however_often_it_is_tapped(app, officers_enrolled,  # type: ignore[no-untyped-def]
                                                        fake_telegram: FakeTelegram) -> None:
    """The case's buttons stay under its message: a second tap, or one Telegram delivers
    again, sends nothing twice; a menu command gives a waiting step up, and "रद्द"
    typed on any channel cancels it rather than closing the case with that word."""
    desk, now = officers_enrolled, T0 + timedelta(minutes=5)
    case = _case_id(app, feedback(app, "telegram:11", RUDE))
    _dispatch(app, fake_telegram, now)  # its alerts
    for option in (f"instruct-{case}", f"preset-{case}-inquire", f"send-{case}-inquire"):
        desk.case_tap(SP, option, now)
    assert _said(desk.case_tap(SP, f"send-{case}-inquire", now)).startswith(
        "यह काम हो चुका है या रद्द हो गया।")
    assert _said(desk.case_tap(SP, f"preset-{case}-inquire", now)).startswith("यह काम हो चुका")
    assert _dispatch(app, fake_telegram, now) == 1  # one instruction to the in-charge
    desk.case_tap(SP, f"close-{case}", now)
    assert "रद्द कर दिया" in _said(desk.message(SP, Text("रद्द"), now))
    desk.case_tap(SP, f"close-{case}", now)
    desk.command(SP, "today", now)  # looked at the numbers instead: the step is given up
    assert _said(desk.message(SP, Text("ठीक है"), now)).startswith("आप क्या देखना चाहेंगे?")
    with Db(app.engine) as db:
        found = case_file(db, f"FB-26-{1:06d}")
    assert found is not None and [e.event for e in found.events] == ["opened", "instruct"]
    assert found.case.state == "instructed"


def test_an_in_charge_who_is_also_the_sp_office_reports_as_the_in_charge(  # type: ignore[no-untyped-def]
        app, officers_enrolled) -> None:
    from storage import officers
    from storage.db import writer

    desk, now = officers_enrolled, T0 + timedelta(minutes=5)
    with Db(writer(app.engine)) as db, db.begin():  # chat 900 is an in-charge too
        token = officers.invite(db, "in_charge", "BLB05", "", T0, timedelta(days=1))
    desk.enrol(SP, token, T0)
    case = _case_id(app, feedback(app, "telegram:12", RUDE))
    assert "लिखें कि क्या कार्रवाई" in _said(desk.case_tap(SP, f"report-{case}", now))
    # A photo with its caption: the caption is the report's words.
    [sent] = desk.message(SP, Media("photo", "tg-photo-1", "FIR नं. 123 दर्ज"), now)
    assert _text(sent) == "आपकी रिपोर्ट एसपी कार्यालय पहुँच गई है। धन्यवाद।"
    with Db(app.engine) as db:
        found = case_file(db, f"FB-26-{1:06d}")
    assert found is not None
    report = found.events[-1]
    assert (report.event, report.text, report.media_kind) == ("report", "FIR नं. 123 दर्ज",
                                                             "photo")
