"""What we send through Twilio's REST API (a fake on 127.0.0.1): quick replies, officers'
alerts inside and outside the 24-hour window, and Twilio's refusals."""

from __future__ import annotations

import io
from datetime import timedelta

from openpyxl import load_workbook
from sqlalchemy import select
from sqlmodel import Session as Db
from sqlmodel import col

from scheduler import retention
from scheduler.digests import queue
from storage import officers
from storage.db import writer
from storage.models import Alert, Conversation, Delivery, Outbox
from tests.bot.whatsapp.conftest import (
    PUBLIC,
    TEMPLATES,
    Clock,
    Phone,
    dispatched_at,
    whatsapp_config,
    whatsapp_runtime,
)
from tests.conftest import T0
from tests.fakes.twilio_api import FakeTwilio
from tests.scheduler.alerts.test_alerts import six_alike_stations, with_digests

OFFICER = "+919900000001"
RUDE = ["फीडबैक BLB05", "1", "1", "1", "हाँ", "2", "हाँ", "नहीं", "2", "और कुछ नहीं", "नहीं",
        "नहीं"]  # behaviour 1 and satisfaction 2: an alert for the in-charge and SP office


def _invite(app, role: str = "in_charge", scope: str = "BLB05") -> str:  # type: ignore[no-untyped-def]
    with Db(writer(app.engine)) as db, db.begin():
        return officers.invite(db, role, scope, "S. Verma", T0 - timedelta(hours=1),
                               timedelta(hours=72))


def _dispatch(app, now) -> int:  # type: ignore[no-untyped-def]
    return dispatched_at(app, now)


def _outbox(app) -> list[tuple[str, str, str | None]]:  # type: ignore[no-untyped-def]
    with Db(app.engine) as db:
        return [(m.kind, m.status, m.last_error) for m in db.execute(
            select(Outbox).where(col(Outbox.recipient) == f"whatsapp:{OFFICER}")
            .order_by(col(Outbox.id))).scalars()]


def _enrol_and_complain(wa_app, whatsapp_web, clock: Clock, complain_at) -> None:  # type: ignore[no-untyped-def]
    token = _invite(wa_app)
    with whatsapp_web(clock) as client:
        welcome = Phone(client, OFFICER).say(token)
        assert "S. Verma" in welcome[0] and "थाना सिमगा" in welcome[0]
        assert "“आज” भेजें" in welcome[-1]  # the menu names words, not numbers
        clock.now = complain_at
        citizen = Phone(client, "+919800000201")
        for line in RUDE:
            citizen.say(line)


def test_an_alert_inside_the_window_is_free_text(wa_app, whatsapp_web,  # type: ignore[no-untyped-def]
                                                 fake_twilio: FakeTwilio) -> None:
    clock = Clock()
    _enrol_and_complain(wa_app, whatsapp_web, clock, T0 + timedelta(minutes=5))
    assert _dispatch(wa_app, T0 + timedelta(minutes=6)) >= 1
    sent = fake_twilio.to(f"whatsapp:{OFFICER}")
    assert len(sent) == 1 and sent[0].content_sid == ""
    assert "थाना सिमगा" in sent[0].body and "FB-26-000001" in sent[0].body
    assert "9800000201" not in sent[0].body  # never the citizen's number
    assert "स्वीकार: “ठीक" in sent[0].body or "“ठीक " in sent[0].body
    assert sent[0].sender == "whatsapp:+917700012345"
    assert _outbox(wa_app) == [("alert", "sent", None)]
    with Db(wa_app.engine) as db:
        delivery = db.execute(select(Delivery)).scalar_one()
        assert delivery.sid == sent[0].sid and delivery.outbox_id is not None


def test_outside_the_window_a_template_then_the_message_when_the_officer_writes(  # type: ignore[no-untyped-def]
        wa_app, whatsapp_web, fake_twilio: FakeTwilio) -> None:
    clock = Clock()
    later = T0 + timedelta(hours=30)  # the officer last wrote 30 hours ago
    _enrol_and_complain(wa_app, whatsapp_web, clock, later)
    _dispatch(wa_app, later + timedelta(minutes=1))
    notice = fake_twilio.to(f"whatsapp:{OFFICER}")
    assert len(notice) == 1 and notice[0].content_sid == TEMPLATES["alert"]["hi"]
    variable = notice[0].variables["1"]
    assert "थाना सिमगा" in variable and "\n" not in variable and len(variable) <= 200
    assert _outbox(wa_app) == [("alert", "held", "outside the 24-hour window: a template "
                                                   "notice was sent")]
    # Held messages are not sent again by the next rounds.
    _dispatch(wa_app, later + timedelta(minutes=2))
    assert len(fake_twilio.to(f"whatsapp:{OFFICER}")) == 1
    # The officer answers the notice, a day and a half later: the alert follows.
    clock.now = later + timedelta(hours=36)
    with whatsapp_web(clock) as client:
        Phone(client, OFFICER).say("ठीक है")
    _dispatch(wa_app, clock.now + timedelta(seconds=5))
    full = fake_twilio.to(f"whatsapp:{OFFICER}")
    assert len(full) == 2 and full[1].content_sid == "" and "FB-26-000001" in full[1].body
    assert _outbox(wa_app)[0][1] == "sent"


def test_63016_from_twilio_falls_back_to_the_template(wa_app, whatsapp_web,  # type: ignore[no-untyped-def]
                                                      fake_twilio: FakeTwilio) -> None:
    clock = Clock()
    _enrol_and_complain(wa_app, whatsapp_web, clock, T0 + timedelta(minutes=5))
    fake_twilio.fail_next(400, 63016)  # WhatsApp's clock says the window is closed
    _dispatch(wa_app, T0 + timedelta(minutes=6))
    sent = fake_twilio.to(f"whatsapp:{OFFICER}")
    assert [s.content_sid for s in sent] == [TEMPLATES["alert"]["hi"]]
    assert _outbox(wa_app)[0][1] == "held"


def test_63016_in_a_delivery_report_sends_the_template(wa_app, whatsapp_web,  # type: ignore[no-untyped-def]
                                                       fake_twilio: FakeTwilio) -> None:
    clock = Clock()
    _enrol_and_complain(wa_app, whatsapp_web, clock, T0 + timedelta(minutes=5))
    _dispatch(wa_app, T0 + timedelta(minutes=6))
    free_text = fake_twilio.to(f"whatsapp:{OFFICER}")[0]
    assert free_text.status_callback == "https://prayas.example.in/whatsapp/status"
    with whatsapp_web(clock) as client:
        officer = Phone(client, OFFICER)
        report = officer.report(free_text.sid, "undelivered", ErrorCode="63016")
        answer = officer.post(report, path="/whatsapp/status")
        assert answer.status_code == 204
    assert _outbox(wa_app)[0][:2] == ("alert", "pending")
    _dispatch(wa_app, T0 + timedelta(minutes=7))
    assert fake_twilio.to(f"whatsapp:{OFFICER}")[-1].content_sid == TEMPLATES["alert"]["hi"]
    assert _outbox(wa_app)[0][1] == "held"
    # The officer writes: the alert itself follows, as free text this time.
    clock.now = T0 + timedelta(minutes=30)
    with whatsapp_web(clock) as client:
        Phone(client, OFFICER).say("ठीक है")
    _dispatch(wa_app, clock.now + timedelta(seconds=5))
    last = fake_twilio.to(f"whatsapp:{OFFICER}")[-1]
    assert last.content_sid == "" and "FB-26-000001" in last.body
    assert _outbox(wa_app)[0][1] == "sent"
    with Db(wa_app.engine) as db:
        first = db.get(Delivery, free_text.sid)
        assert first is not None and (first.status, first.error_code) == ("undelivered", 63016)


def test_21610_opted_out_stops_sending(wa_app, whatsapp_web, fake_twilio: FakeTwilio) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    _enrol_and_complain(wa_app, whatsapp_web, clock, T0 + timedelta(minutes=5))
    fake_twilio.fail_next(400, 21610)
    _dispatch(wa_app, T0 + timedelta(minutes=6))
    assert _outbox(wa_app) == [("alert", "failed", "twilio 21610: the recipient opted out")]
    assert fake_twilio.to(f"whatsapp:{OFFICER}") == []


def test_5xx_and_429_are_retried(wa_app, whatsapp_web, fake_twilio: FakeTwilio) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    _enrol_and_complain(wa_app, whatsapp_web, clock, T0 + timedelta(minutes=5))
    fake_twilio.fail_next(503, 20500)
    fake_twilio.fail_next(429, 20429)
    _dispatch(wa_app, T0 + timedelta(minutes=6))
    assert [code for code, _ in fake_twilio.refused] == [20500, 20429]
    assert len(fake_twilio.to(f"whatsapp:{OFFICER}")) == 1
    assert _outbox(wa_app)[0][1] == "sent"
    # Twilio down for longer: the outbox tries again later, nothing is lost.
    fake_twilio.fail_next(503, 20500, times=3)
    with Db(writer(wa_app.engine)) as db, db.begin():
        db.execute(Outbox.__table__.update().values(status="pending"))  # type: ignore[attr-defined]
    _dispatch(wa_app, T0 + timedelta(minutes=8))
    assert _outbox(wa_app)[0][1] == "pending"


def test_officer_words_and_acknowledging(wa_app, whatsapp_web,  # type: ignore[no-untyped-def]
                                         fake_twilio: FakeTwilio) -> None:
    clock = Clock()
    _enrol_and_complain(wa_app, whatsapp_web, clock, T0 + timedelta(minutes=5))
    with Db(wa_app.engine) as db:
        alert = db.execute(select(Alert)).scalar_one()
    with whatsapp_web(clock) as client:
        officer = Phone(client, OFFICER)
        today = officer.say("आज")[0]
        assert "पूरे फीडबैक: 1" in today
        listed = officer.say("alerts")[0]
        assert "FB-26-000001 · थाना सिमगा" in listed
        assert f"FB-26-000001 देख लिया: “ठीक {alert.id}” भेजें" in listed
        assert "पिछले 7 दिनों" in officer.say("टिप्पणी")[0]  # what citizens wrote
        assert "दर्ज कर लिया" in officer.say(f"ठीक {alert.id}")[0]
        assert "पहले ही" in officer.say(f"ack {alert.id}")[0]
        assert "पहले ही" not in officer.say("ack 999999999999")[0]  # not an alert: the menu
        assert officer.say("", ButtonPayload="_alert:ack:²")  # odd digits: no error
        assert officer.say("", NumMedia="²")
        menu = officer.say("नमस्ते")  # anything else: the menu, not the citizens' picker
        assert "“अलर्ट” भेजें" in menu[-1] and "“टिप्पणी” भेजें" in menu[-1]
        # An officer scanning a poster tries the citizens' side.
        assert "थाना सिमगा" in officer.say("फीडबैक BLB05")[0]
        assert officer.say("1")[-1].startswith("सवाल 2/11:")
    with Db(wa_app.engine) as db:
        assert db.get(Alert, alert.id).status == "acknowledged"  # type: ignore[union-attr]


def test_quick_reply_buttons_where_configured(make_app, sqlite_url, tmp_path,  # type: ignore[no-untyped-def]
                                              fake_twilio: FakeTwilio) -> None:
    from starlette.testclient import TestClient

    from bot.web import create_web_app

    purpose = {"hi": "HX" + "a" * 32, "en": "HX" + "b" * 32}
    app = make_app(sqlite_url, whatsapp_config(tmp_path, quick_replies={"purpose": purpose}))
    web = create_web_app(whatsapp_runtime(app, Clock()))
    with TestClient(web) as client:
        phone = Phone(client, "+919800000301")
        assert phone.say("फीडबैक BLB05") == []  # by REST, not TwiML
        sent = fake_twilio.wait_for(1, phone.urn)
        assert sent[0].content_sid == purpose["hi"]
        assert "सवाल 1: आप किस काम से आए थे?" in sent[0].variables["1"]
        assert "1. शिकायत" not in sent[0].variables["1"]  # the buttons carry the options
        tapped = phone.say("शिकायत / एफआईआर", ButtonPayload="purpose:complaint_fir",
                           ButtonText="शिकायत / एफआईआर")
        assert tapped[-1].startswith("सवाल 2/11:")
        # A template Twilio refuses: the numbered list instead, nothing lost.
        fake_twilio.fail_next(400, 21656)
        assert Phone(client, "+919800000302").say("फीडबैक BLB05") == []
        fallback = fake_twilio.wait_for(1, "whatsapp:+919800000302")
        assert fallback[0].content_sid == "" and "\n1. शिकायत / एफआईआर" in fallback[0].body
    with Db(app.engine) as db:
        states = [c.state["answers"] for c in db.execute(select(Conversation)).scalars()]
        assert {"option": "complaint_fir"} in [s.get("purpose") for s in states]
    app.engine.dispose()


def test_a_follow_up_outside_the_window_is_its_template_and_the_reply_its_answer(  # type: ignore[no-untyped-def]
        wa_app, whatsapp_web, fake_twilio: FakeTwilio) -> None:
    from scheduler.follow_ups.ask import ask_follow_ups

    citizen = "+919800000202"
    visit = T0.replace(hour=4, minute=30)  # 10:00 in Chhattisgarh
    with whatsapp_web(Clock(visit)) as client:
        phone = Phone(client, citizen)
        for line in [*RUDE[:-2], "हाँ", "हाँ"]:  # may contact, may follow up
            phone.say(line)
    week = visit + timedelta(days=7)
    assert ask_follow_ups(wa_app, week) == 1
    _dispatch(wa_app, week)
    [notice] = fake_twilio.to(f"whatsapp:{citizen}")
    assert notice.content_sid == TEMPLATES["follow_up"]["hi"]
    question = notice.variables["1"]  # the question and its options, on one line
    assert "क्या तब से आपका काम हुआ?" in question and "\n" not in question
    assert "1. हाँ, काम हो गया" in question and "3. अभी नहीं हुआ" in question
    with Db(wa_app.engine) as db:
        assert db.execute(select(col(Outbox.status)).where(
            col(Outbox.kind) == "follow_up")).scalar_one() == "sent"  # nothing held for later
    with whatsapp_web(Clock(week + timedelta(hours=3))) as client:
        phone = Phone(client, citizen)
        assert "सवाल 2/2:" in phone.say("1")[0]
        assert "FB-26-000001" in phone.say("हाँ")[-1]


def test_a_big_digest_on_whatsapp_brings_its_chart_and_tables(  # type: ignore[no-untyped-def]
        wa_app, whatsapp_web, fake_twilio: FakeTwilio) -> None:
    big = with_digests(wa_app, listed_per_kind=4, min_responses_to_rank=1)
    six_alike_stations(big)
    clock = Clock(T0.replace(hour=3))
    token = _invite(big, role="sp_office", scope="BLB")
    with whatsapp_web(clock, app=big) as client:
        Phone(client, OFFICER).say(token)  # the SP office wrote at 08:30: inside the window
    at_nine = T0.replace(hour=3, minute=30)
    queue.queue_daily_digests(big, at_nine)
    assert _dispatch(big, at_nine + timedelta(minutes=5)) == 1
    sent = fake_twilio.to(f"whatsapp:{OFFICER}")
    text = [s.body for s in sent if not s.media_url]
    assert text[0].startswith("📊 दैनिक रिपोर्ट") and all(len(t) <= 1600 for t in text)
    urls = [s.media_url for s in sent if s.media_url]
    assert [u.rsplit("/", 1)[1] for u in urls] == ["chart.png", "stations-BLB-2026-11-27.xlsx"]
    assert sent[-2].media_url and sent[-1].media_url  # after the text, in order
    clock.now = at_nine + timedelta(minutes=6)  # Twilio fetches them a moment later
    with whatsapp_web(clock, app=big) as client:
        chart = client.get(urls[0].removeprefix(PUBLIC))
        assert chart.status_code == 200 and chart.headers["content-type"] == "image/png"
        assert chart.content.startswith(b"\x89PNG")
        assert client.head(urls[1].removeprefix(PUBLIC)).status_code == 200
        table = client.get(urls[1].removeprefix(PUBLIC))
        assert table.headers["content-disposition"] == \
            'inline; filename="stations-BLB-2026-11-27.xlsx"'
        sheet = load_workbook(io.BytesIO(table.content)).active
        assert sheet is not None
        rows = list(sheet.values)
        assert rows[0][:5] == ("kind", "rank", "code", "station", "standing")
        assert rows[1][:4] == ("thana", 1, "BLB01", "थाना सिटी कोतवाली बलौदाबाजार")
        assert len(rows) == 22
        guessed = urls[0].removeprefix(PUBLIC).rsplit("/", 2)[0] + "/guess/chart.png"
        assert client.get(guessed).status_code == 404
        clock.now = at_nine + timedelta(days=3)  # kept two days, then gone
        assert client.get(urls[0].removeprefix(PUBLIC)).status_code == 404
    assert retention.forget(big, at_nine + timedelta(days=3))["media"] == 2
