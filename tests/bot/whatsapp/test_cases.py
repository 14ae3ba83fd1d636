"""A whole case over WhatsApp, in words and numbers through signed webhooks and the fake
Twilio REST API: the SP office instructs, the in-charge reports with a voice note, the
SP office closes it, and the citizen is asked by template and answers."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import Session as Db

from scheduler.follow_ups.closure import ask_citizens
from storage import officers
from storage.cases import case_file
from storage.db import writer
from tests.bot.whatsapp.conftest import (
    PUBLIC,
    TEMPLATES,
    Clock,
    Phone,
    dispatched_at,
)
from tests.conftest import T0
from tests.fakes.twilio_api import FakeTwilio

VOICE = b"OggS\x00\x02" + bytes(200)  # enough of an Ogg file for the test
SP, IN_CHARGE, CITIZEN = "+919900000011", "+919900000012", "+919800000301"
RUDE_ASK_AGAIN = ["फीडबैक BLB05", "1", "1", "1", "हाँ", "2", "हाँ", "नहीं", "2", "और कुछ नहीं",
                  "नहीं", "हाँ"]


def _dispatch(app, now) -> int:  # type: ignore[no-untyped-def]
    return dispatched_at(app, now)


def _enrol(client, app, number: str, role: str, scope: str) -> None:  # type: ignore[no-untyped-def]
    with Db(writer(app.engine)) as db, db.begin():
        token = officers.invite(db, role, scope, f"officer {number[-2:]}", T0, timedelta(days=1))
    Phone(client, number).say(token)


def _last(fake: FakeTwilio, number: str) -> str:
    return fake.to(f"whatsapp:{number}")[-1].body


def test_a_whole_case_in_words_and_numbers(wa_app, whatsapp_web,  # type: ignore[no-untyped-def]
                                           fake_twilio: FakeTwilio) -> None:
    clock = Clock(T0)
    fake_twilio.media["ME9"] = ("audio/ogg", b"OggS-citizen" + bytes(64))
    with whatsapp_web(clock) as client:
        _enrol(client, wa_app, SP, "sp_office", "BLB")
        _enrol(client, wa_app, IN_CHARGE, "in_charge", "BLB05")
        clock.now = T0 + timedelta(minutes=5)
        citizen = Phone(client, CITIZEN)
        for line in RUDE_ASK_AGAIN[:9]:
            citizen.say(line)
        citizen.say("", NumMedia="1", MediaContentType0="audio/ogg",  # the comment, spoken
                    MediaUrl0=fake_twilio.media_url("ME9"), MessageType="audio")
        for line in RUDE_ASK_AGAIN[10:]:
            citizen.say(line)
    with Db(wa_app.engine) as db:
        [case] = [f for f in [case_file(db, "FB-26-000001")] if f is not None]
    number = case.case.id
    assert _dispatch(wa_app, clock.now) == 2
    # One alert each, with its reasons, and the citizen's voice note as a file after it.
    for officer in (SP, IN_CHARGE):
        *_, alert_text, heard = fake_twilio.to(f"whatsapp:{officer}")
        assert "कारण: खराब व्यवहार या अनुभव" in alert_text.body
        assert heard.media_url.endswith("/FB-26-000001-voice.ogg")
    alert = fake_twilio.to(f"whatsapp:{SP}")[-2].body
    # Each step names the word to send, with the case's number.
    assert f"निर्देश भेजें: “निर्देश {number}” भेजें" in alert
    assert f"केस बंद करें: “बंद {number}” भेजें" in alert
    assert f"की गई कार्रवाई बताएँ: “रिपोर्ट {number}” भेजें" in fake_twilio.to(
        f"whatsapp:{IN_CHARGE}")[-2].body

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
    fake_twilio.media["ME1"] = ("audio/ogg", VOICE)
    with whatsapp_web(clock) as client:
        in_charge = Phone(client, IN_CHARGE)
        assert "वॉइस मैसेज या फ़ोटो भेजें" in in_charge.say(f"रिपोर्ट {number}")[0]
        voice = {"NumMedia": "1", "MediaContentType0": "audio/ogg",
                 "MediaUrl0": fake_twilio.media_url("ME1"), "MessageType": "audio"}
        assert in_charge.say("", **voice) == ["आपकी रिपोर्ट एसपी कार्यालय पहुँच गई है। धन्यवाद।"]
    assert _dispatch(wa_app, clock.now) == 1
    *_, report, audio = fake_twilio.to(f"whatsapp:{SP}")
    assert report.body.startswith("📝 थाने से कार्रवाई की रिपोर्ट\n")
    assert f"“वापस {number}” भेजें" in report.body and "साथ में एक वॉइस मैसेज भी है।" in report.body
    # The voice note itself: fetched from Twilio with the account's credentials (its
    # store without them), kept, and sent from our address for Twilio to fetch.
    assert [auth != "" for _, auth in fake_twilio.media_requests] == [True, False] * 2
    assert audio.media_url.startswith(f"{PUBLIC}/whatsapp/media/")
    assert audio.media_url.endswith("/FB-26-000001-report-3.ogg")
    with whatsapp_web(clock) as client:
        served = client.get(audio.media_url.removeprefix(PUBLIC))
    assert served.status_code == 200 and served.content == VOICE

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
    # The export names the voice note's file as the officers got it; never Twilio's URL.
    from scheduler import export
    from storage.export import export_rows

    header = export.header(wa_app.survey)
    [row] = list(export.table(export_rows(wa_app.engine, None, None, None), wa_app.survey,
                              wa_app.catalogs, wa_app.config.zone))
    cells = dict(zip(header, row, strict=True))
    assert cells["comment_voice"] == "FB-26-000001-voice.ogg"
    assert not any("twilio" in cell or "ME9" in cell for cell in row)


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


def test_a_voice_note_twilio_will_not_serve_leaves_the_report_in_words(  # type: ignore[no-untyped-def]
        wa_app, whatsapp_web, fake_twilio: FakeTwilio) -> None:
    from sqlalchemy import select

    from storage.models import Recording

    clock = Clock(T0)
    with whatsapp_web(clock) as client:
        _enrol(client, wa_app, SP, "sp_office", "BLB")
        _enrol(client, wa_app, IN_CHARGE, "in_charge", "BLB05")
        for line in RUDE_ASK_AGAIN:
            Phone(client, CITIZEN).say(line)
        in_charge = Phone(client, IN_CHARGE)
        in_charge.say("रिपोर्ट 1")
        gone = {"NumMedia": "1", "MediaContentType0": "audio/ogg",
                "MediaUrl0": fake_twilio.media_url("ME404"), "MessageType": "audio"}
        assert "पहुँच गई" in in_charge.say("", **gone)[0]
    _dispatch(wa_app, clock.now)
    sent = fake_twilio.to(f"whatsapp:{SP}")
    assert sent[-1].body.startswith("📝 थाने से कार्रवाई की रिपोर्ट\n")
    assert not any(m.media_url for m in sent)
    with Db(wa_app.engine) as db:
        kept = db.execute(select(Recording)).scalar_one()
    assert kept.body is None and kept.missing == "twilio media 404"
    # Asked once: the next round does not ask Twilio again.
    asked = len(fake_twilio.media_requests)
    _dispatch(wa_app, clock.now)
    assert len(fake_twilio.media_requests) == asked


def test_a_citizens_voice_note_reaches_officers_on_either_channel(  # type: ignore[no-untyped-def]
        wa_app, whatsapp_web, fake_twilio: FakeTwilio, fake_telegram, monkeypatch) -> None:
    """A WhatsApp citizen's voice note goes to an in-charge on Telegram as the file; a
    Telegram citizen's goes to the SP office on WhatsApp as the file, fetched by the bot."""
    from bot.app import Runtime
    from bot.environment import Environment
    from conversations.effects import Media, Start, Text
    from scheduler.officers.desk import OfficerDesk

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", fake_telegram.token)
    monkeypatch.setenv("TELEGRAM_BASE_URL", fake_telegram.url)
    desk = OfficerDesk(wa_app.engine, wa_app.config)
    with Db(writer(wa_app.engine)) as db, db.begin():
        token = officers.invite(db, "in_charge", "BLB05", "SI Verma", T0, timedelta(days=1))
    desk.enrol("telegram:801", token, T0)
    clock = Clock(T0)
    fake_twilio.media["ME7"] = ("audio/ogg", VOICE)
    with whatsapp_web(clock) as client:
        _enrol(client, wa_app, SP, "sp_office", "BLB")
        citizen = Phone(client, CITIZEN)
        for line in RUDE_ASK_AGAIN[:9]:
            citizen.say(line)
        citizen.say("", NumMedia="1", MediaContentType0="audio/ogg",
                    MediaUrl0=fake_twilio.media_url("ME7"), MessageType="audio")
        for line in RUDE_ASK_AGAIN[10:]:
            citizen.say(line)
    # A Telegram citizen, the same complaint, a voice note the bot can download.
    fake_telegram.files["tg-comment-9"] = b"OggS-telegram" + bytes(100)
    urn, now = "telegram:555", T0 + timedelta(minutes=30)
    wa_app.service.handle(urn, "telegram", Start("BLB05"), now)
    for line in RUDE_ASK_AGAIN[1:9]:
        wa_app.service.handle(urn, "telegram", Text(line), now)
    wa_app.service.handle(urn, "telegram", Media("voice", "tg-comment-9"), now)
    for line in RUDE_ASK_AGAIN[10:]:
        turn = wa_app.service.handle(urn, "telegram", Text(line), now)
    assert turn.completed_reference == "FB-26-000002"

    async def both() -> int:
        runtime = Runtime(wa_app, Environment.read(), telegram=True, receive=False,
                          whatsapp=True, retry_backoff=0.01, clock=lambda: now)
        await runtime.start(scheduler=False)
        try:
            return await runtime.dispatcher.run_once(now)
        finally:
            await runtime.stop()

    assert asyncio.run(both()) == 4  # each officer: two alerts, each with its voice note
    voices = fake_telegram.sent(801, "sendVoice")
    assert [v.params["voice"] for v in voices] == [VOICE, "tg-comment-9"]
    assert voices[0].params["voice:filename"] == "FB-26-000001-voice.ogg"
    media = [m.media_url for m in fake_twilio.to(f"whatsapp:{SP}") if m.media_url]
    assert [url.rsplit("/", 1)[1] for url in media] == ["FB-26-000001-voice.ogg",
                                                        "FB-26-000002-voice.ogg"]
    with whatsapp_web(clock) as client:
        assert client.get(media[1].removeprefix(PUBLIC)).content == fake_telegram.files[
            "tg-comment-9"]


def test_an_officer_giving_feedback_stops_it_with_the_citizens_word(  # type: ignore[no-untyped-def]
        wa_app, whatsapp_web, fake_twilio: FakeTwilio) -> None:
    """"रद्द" is the officers' cancel word, and a citizen's stop word: an officer who
    scanned a poster is a citizen until that feedback ends."""
    clock = Clock(T0)
    with whatsapp_web(clock) as client:
        _enrol(client, wa_app, SP, "sp_office", "BLB")
        sp = Phone(client, SP)
        assert "थाना सिमगा" in sp.say("फीडबैक BLB05")[0]
        sp.say("1")
        assert sp.say("रद्द")[0].startswith("ठीक है, फीडबैक रोक दिया गया")


def test_a_voice_note_twilio_cannot_give_for_now_holds_the_report_a_little(  # type: ignore[no-untyped-def]
        wa_app, whatsapp_web, fake_twilio: FakeTwilio) -> None:
    """Twilio's store down: the report waits half a minute, three times, then goes in
    words alone; nothing is lost, and the alert is not held for a day."""
    clock = Clock(T0)
    fake_twilio.media["ME11"] = ("audio/ogg", VOICE)
    fake_twilio.media_down = True
    with whatsapp_web(clock) as client:
        _enrol(client, wa_app, SP, "sp_office", "BLB")
        _enrol(client, wa_app, IN_CHARGE, "in_charge", "BLB05")
        for line in RUDE_ASK_AGAIN:
            Phone(client, CITIZEN).say(line)
        _dispatch(wa_app, clock.now)  # the alerts
        in_charge = Phone(client, IN_CHARGE)
        in_charge.say("रिपोर्ट 1")
        in_charge.say("", NumMedia="1", MediaContentType0="audio/ogg",
                      MediaUrl0=fake_twilio.media_url("ME11"), MessageType="audio")
    sent_before = len(fake_twilio.to(f"whatsapp:{SP}"))
    for n in range(3):
        assert _dispatch(wa_app, clock.now + timedelta(seconds=31 * n)) == 0
    assert len(fake_twilio.to(f"whatsapp:{SP}")) == sent_before
    assert _dispatch(wa_app, clock.now + timedelta(seconds=100)) == 1
    [report] = fake_twilio.to(f"whatsapp:{SP}")[sent_before:]
    assert report.body.startswith("📝 थाने से कार्रवाई की रिपोर्ट\n") and not report.media_url
