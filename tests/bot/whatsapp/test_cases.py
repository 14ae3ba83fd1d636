"""A whole case over WhatsApp, in words and numbers through signed webhooks and the fake
Twilio REST API: the SP office instructs, the in-charge reports with a voice note, the
SP office closes it, and the citizen is asked by template and answers."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import Session as Db

from scheduler.cases.confirm import ask_citizens
from storage import officers
from storage.cases import case_file
from storage.db import writer
from tests.bot.whatsapp.conftest import TEMPLATES, Clock, Phone, whatsapp_runtime
from tests.conftest import T0
from tests.fakes.twilio_api import FakeTwilio

SP, IN_CHARGE, CITIZEN = "+919900000011", "+919900000012", "+919800000301"
RUDE_ASK_AGAIN = ["फीडबैक BLB05", "1", "1", "1", "हाँ", "2", "हाँ", "नहीं", "2", "और कुछ नहीं",
                  "नहीं", "हाँ"]


def _dispatch(app, now) -> int:  # type: ignore[no-untyped-def]
    async def go() -> int:
        runtime = whatsapp_runtime(app, lambda: now)
        await runtime.start(scheduler=False)
        try:
            return await runtime.dispatcher.run_once(now)
        finally:
            await runtime.stop()

    return asyncio.run(go())


def _enrol(client, app, number: str, role: str, scope: str) -> None:  # type: ignore[no-untyped-def]
    with Db(writer(app.engine)) as db, db.begin():
        token = officers.invite(db, role, scope, f"officer {number[-2:]}", T0, timedelta(days=1))
    Phone(client, number).say(token)


def _last(fake: FakeTwilio, number: str) -> str:
    return fake.to(f"whatsapp:{number}")[-1].body


def test_a_whole_case_in_words_and_numbers(wa_app, whatsapp_web,  # type: ignore[no-untyped-def]
                                           fake_twilio: FakeTwilio) -> None:
    clock = Clock(T0)
    with whatsapp_web(clock) as client:
        _enrol(client, wa_app, SP, "sp_office", "BLB")
        _enrol(client, wa_app, IN_CHARGE, "in_charge", "BLB05")
        clock.now = T0 + timedelta(minutes=5)
        for line in RUDE_ASK_AGAIN:
            Phone(client, CITIZEN).say(line)
    with Db(wa_app.engine) as db:
        [case] = [f for f in [case_file(db, "FB-26-000001")] if f is not None]
    number = case.case.id
    assert _dispatch(wa_app, clock.now) == 2
    alert = _last(fake_twilio, SP)
    # Each step names the word to send, with the case's number.
    assert f"निर्देश भेजें: “निर्देश {number}” भेजें" in alert
    assert f"केस बंद करें: “बंद {number}” भेजें" in alert
    assert f"की गई कार्रवाई बताएँ: “रिपोर्ट {number}” भेजें" in _last(fake_twilio, IN_CHARGE)

    clock.now += timedelta(minutes=30)
    with whatsapp_web(clock) as client:
        sp = Phone(client, SP)
        presets = sp.say(f"निर्देश {number}")[0]
        assert "जाँच करके रिपोर्ट दें: “3” भेजें" in presets
        assert "“भेजें”" in sp.say("3")[0]  # words may follow, or "send" as it is
        assert sp.say("भेजें") == ["प्रभारी को भेज दिया। अब उनकी रिपोर्ट का इंतज़ार है।"]
    assert _dispatch(wa_app, clock.now) == 1
    instruction = _last(fake_twilio, IN_CHARGE)
    assert instruction.startswith("📋 एसपी कार्यालय का निर्देश\n")
    assert "निर्देश: जाँच करके रिपोर्ट दें" in instruction
    assert CITIZEN[3:] not in instruction

    clock.now += timedelta(hours=5)
    with whatsapp_web(clock) as client:
        in_charge = Phone(client, IN_CHARGE)
        assert "वॉइस मैसेज या फ़ोटो भेजें" in in_charge.say(f"रिपोर्ट {number}")[0]
        voice = {"NumMedia": "1", "MediaContentType0": "audio/ogg",
                 "MediaUrl0": "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/"
                              "Media/ME1", "MessageType": "audio"}
        assert in_charge.say("", **voice) == ["आपकी रिपोर्ट एसपी कार्यालय पहुँच गई है। धन्यवाद।"]
    assert _dispatch(wa_app, clock.now) == 1
    report = _last(fake_twilio, SP)
    assert report.startswith("📝 थाने से कार्रवाई की रिपोर्ट\n")
    assert f"“वापस {number}” भेजें" in report and "साथ में एक वॉइस मैसेज भी है।" in report

    with whatsapp_web(clock) as client:
        sp = Phone(client, SP)
        assert "इन्हीं के साथ केस बंद होगा" in sp.say(f"बंद {number}")[0]
        assert sp.say("थाने ने मुंशी को समझाइश दी") == ["केस बंद हो गया।"]
    # Five hours after the citizen last wrote: free text; the SP office's words never.
    assert ask_citizens(wa_app, clock.now) == 1
    _dispatch(wa_app, clock.now)
    question = _last(fake_twilio, CITIZEN)
    assert "एसपी कार्यालय ने उस पर कार्रवाई की है।" in question and "मुंशी" not in question
    clock.now += timedelta(hours=1)
    with whatsapp_web(clock) as client:
        assert "एसपी कार्यालय तक पहुँच गया" in Phone(client, CITIZEN).say("2")[0]
    _dispatch(wa_app, clock.now)
    assert _last(fake_twilio, SP).startswith("🔁 नागरिक संतुष्ट नहीं है: केस फिर से खुला\n")
    with Db(wa_app.engine) as db:
        found = case_file(db, "FB-26-000001")
    assert found is not None and found.case.state == "new"
    assert [e.event for e in found.events] == ["opened", "instruct", "report", "close",
                                               "citizen_asked", "citizen_unhappy"]
    assert found.events[2].media_kind == "voice"


def test_a_closure_question_days_later_goes_by_template(wa_app, whatsapp_web,  # type: ignore[no-untyped-def]
                                                        fake_twilio: FakeTwilio) -> None:
    assert "closure_check" in TEMPLATES
    clock = Clock(T0)
    with whatsapp_web(clock) as client:
        _enrol(client, wa_app, SP, "sp_office", "BLB")
        for line in RUDE_ASK_AGAIN:
            Phone(client, CITIZEN).say(line)
        clock.now = T0 + timedelta(days=2)
        sp = Phone(client, SP)
        sp.say("बंद 1")
        sp.say("नागरिक से बात हुई")
    assert ask_citizens(wa_app, clock.now) == 1
    _dispatch(wa_app, clock.now)
    [template] = [m for m in fake_twilio.to(f"whatsapp:{CITIZEN}") if m.content_sid]
    assert template.content_sid == TEMPLATES["closure_check"]["hi"]
    assert "संतुष्ट" in template.variables["1"]
