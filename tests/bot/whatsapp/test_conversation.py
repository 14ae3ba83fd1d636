"""Whole WhatsApp conversations through signed webhooks, answered by TwiML.

Golden transcripts (tests/golden/whatsapp_*.txt) show exactly what a citizen reads;
regenerate them with PRAYAS_UPDATE_GOLDEN=1 after a deliberate change, and read the diff.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlmodel import Session as Db
from sqlmodel import col

from storage.models import Answer, Conversation, Feedback, ProcessedMessage
from tests.bot.whatsapp.conftest import Phone, bodies, sign, whatsapp_runtime

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
HINDI = ["फीडबैक BLB05", "1", "1", "4", "हाँ", "2", "हाँ", "नहीं", "5", "धन्यवाद", "नहीं", "नहीं"]
ENGLISH = ["Feedback BLB05", "English", "complaint", "2", "very good", "yes", "1", "yes", "no",
           "4", "The munshi was helpful", "no", "no"]


def _transcript(phone: Phone, lines: list[str]) -> str:
    out = []
    for line in lines:
        out.append(f"> {line}")
        out += phone.say(line)
    return "\n".join(out) + "\n"


def _check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("PRAYAS_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def _stored(app) -> tuple[list[tuple[str, str, str]], dict[str, str | None]]:  # type: ignore[no-untyped-def]
    with Db(app.engine) as db:
        feedback = [(f.status, f.channel, f.station_code)
                    for f in db.execute(select(Feedback)).scalars()]
        answers = {a.question_id: a.option_id or a.text or a.voice_ref
                   for a in db.execute(select(Answer)).scalars()}
    return feedback, answers


def test_a_demand_typed_from_habit_is_asked_back_and_not_kept(wa_app, whatsapp_web) -> None:  # type: ignore[no-untyped-def]
    """"1" to everything, as on the questions before: the demand's "1. हाँ" is asked back,
    and "1" there is "no, by mistake"; nothing red is stored."""
    with whatsapp_web() as client:
        phone = Phone(client, "+919800000009")
        for answer in HINDI[:7]:  # ... guidance
            phone.say(answer)
        asked = phone.say("1")[-1]  # demand: "1. हाँ"
        assert asked.startswith("आप बता रहे हैं कि थाने में किसी ने आपसे पैसे")
        assert asked.endswith("1. नहीं, गलती से चुना\n2. हाँ, यह सही है")
        again = phone.say("1")[-1]
        assert again.startswith("ठीक है, यह दर्ज नहीं हुआ।")
        assert "सवाल 7/11: क्या किसी ने आपसे पैसे" in again
        for answer in ["नहीं", *HINDI[8:]]:
            phone.say(answer)
    feedback, answers = _stored(wa_app)
    assert feedback == [("complete", "whatsapp", "BLB05")] and answers["demand"] == "no"


def test_a_hindi_feedback_from_the_poster_link(wa_app, whatsapp_web) -> None:  # type: ignore[no-untyped-def]
    with whatsapp_web() as client:
        transcript = _transcript(Phone(client, "+919800000001"), HINDI)
    _check_golden("whatsapp_hi_complete.txt", transcript)
    assert "फीडबैक नंबर: FB-26-" in transcript
    feedback, answers = _stored(wa_app)
    assert feedback == [("complete", "whatsapp", "BLB05")]
    assert answers["purpose"] == "complaint_fir" and answers["comment"] == "धन्यवाद"
    assert "9800000001" not in transcript  # the bot never repeats the number


def test_without_a_follow_up_template_no_follow_up_is_offered(make_app, sqlite_url, tmp_path,  # type: ignore[no-untyped-def]
                                                              whatsapp_web) -> None:
    """A week later the window is closed: only the template could reach them."""
    from tests.bot.whatsapp.conftest import TEMPLATES, whatsapp_config

    without = {k: v for k, v in TEMPLATES.items() if k != "follow_up"}
    app = make_app(sqlite_url, whatsapp_config(tmp_path, templates=without))
    try:
        with whatsapp_web(app=app) as client:
            transcript = _transcript(Phone(client, "+919800000009"), HINDI[:-1])
        assert "10/10:" in transcript and "/11:" not in transcript
        assert "फीडबैक नंबर: FB-26-" in transcript
        feedback, answers = _stored(app)
        assert feedback == [("complete", "whatsapp", "BLB05")] and "followup" not in answers
    finally:
        app.engine.dispose()


def test_an_english_feedback_typed_in_words(wa_app, whatsapp_web) -> None:  # type: ignore[no-untyped-def]
    with whatsapp_web() as client:
        transcript = _transcript(Phone(client, "+919800000002"), ENGLISH)
    _check_golden("whatsapp_en_complete.txt", transcript)
    assert "Feedback number: FB-26-" in transcript
    feedback, answers = _stored(wa_app)
    assert feedback == [("complete", "whatsapp", "BLB05")]
    assert answers["behaviour"] == "5" and answers["comment"] == "The munshi was helpful"


def test_options_are_a_numbered_list_in_one_message(whatsapp_web) -> None:  # type: ignore[no-untyped-def]
    with whatsapp_web() as client:
        first = Phone(client, "+919800000003").say("फीडबैक BLB05")
    assert len(first) == 1 and len(first[0]) <= 1600
    assert "\n1. शिकायत / एफआईआर\n2. " in first[0]


def test_forged_or_missing_signatures_are_refused_and_nothing_is_stored(  # type: ignore[no-untyped-def]
        wa_app, whatsapp_web) -> None:
    with whatsapp_web() as client:
        phone = Phone(client, "+919800000004")
        form = phone.form("फीडबैक BLB05")
        assert phone.post(form, signature="").status_code == 403
        assert phone.post(form, signature="bm90IGEgc2lnbmF0dXJl").status_code == 403
        # Signed for another body: a changed answer is caught.
        assert phone.post({**form, "Body": "फीडबैक BLB06"},
                          signature=sign("/whatsapp/webhook", form)).status_code == 403
        # Signed with another account's token.
        from twilio.request_validator import RequestValidator
        other = RequestValidator("someone-elses-token").compute_signature(
            "https://prayas.example.in/whatsapp/webhook", form)
        assert phone.post(form, signature=other).status_code == 403
        assert phone.post(form, path="/whatsapp/status",
                          signature="").status_code == 403
    with Db(wa_app.engine) as db:
        assert db.execute(select(func.count()).select_from(Conversation)).scalar() == 0
        assert db.execute(select(func.count()).select_from(ProcessedMessage)).scalar() == 0


def test_an_oversized_or_garbled_body_is_refused_and_nothing_is_stored(  # type: ignore[no-untyped-def]
        wa_app, whatsapp_web) -> None:
    with whatsapp_web() as client:
        phone = Phone(client, "+919800000005")
        huge = phone.form("फीडबैक BLB05 " + "क" * 30_000)  # > 64 KB once encoded
        answer = phone.post(huge)
        assert answer.status_code == 413 and answer.content == b""
        garbled = client.post("/whatsapp/webhook", content=b"Body=\xff\xfe&From=x",
                              headers={"X-Twilio-Signature": "x",
                                       "Content-Type": "application/x-www-form-urlencoded"})
        assert garbled.status_code == 400
        assert phone.post(phone.form("फीडबैक BLB05"), path="/whatsapp/status",
                          signature="").status_code == 403
        assert client.get("/whatsapp/webhook").status_code == 405
    with Db(wa_app.engine) as db:
        assert db.execute(select(func.count()).select_from(Conversation)).scalar() == 0
        assert db.execute(select(func.count()).select_from(ProcessedMessage)).scalar() == 0


def test_a_request_cut_off_midway_is_dropped_quietly(wa_app, whatsapp_web, caplog) -> None:  # type: ignore[no-untyped-def]
    """Twilio hung up mid-body: not a forged request (no warning), nothing answered."""
    with whatsapp_web() as client:
        form = Phone(client, "+919800000006").form("फीडबैक BLB05")
        body = urlencode(form).encode()
        incoming = iter([{"type": "http.request", "body": body[:40], "more_body": True},
                         {"type": "http.disconnect"}])
        sent: list[object] = []

        async def receive() -> object:
            return next(incoming)

        async def send(message: object) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "POST", "path": "/whatsapp/webhook",
                 "raw_path": b"/whatsapp/webhook", "root_path": "", "scheme": "https",
                 "query_string": b"", "server": ("prayas.example.in", 443),
                 "headers": [(b"x-twilio-signature", sign("/whatsapp/webhook", form).encode())]}
        asyncio.run(client.app(scope, receive, send))  # type: ignore[arg-type]
    assert sent == []
    assert "signature" not in caplog.text
    with Db(wa_app.engine) as db:
        assert db.execute(select(func.count()).select_from(ProcessedMessage)).scalar() == 0


def test_webhooks_signed_with_a_shared_key_and_sha256(whatsapp_web, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from twilio.request_validator import RequestValidator
    monkeypatch.setenv("TWILIO_WEBHOOK_SHARED_KEY", "shared-key-secret")
    url = "https://prayas.example.in/whatsapp/webhook"
    settings = {"X-Twilio-Webhooks-Signature-Settings": "key=webhooks_sharedkey_1,"
                                                        "algorithm=HMAC_SHA256"}
    with whatsapp_web() as client:
        phone = Phone(client, "+919800000006")
        form = phone.form("फीडबैक BLB05")
        by_key = RequestValidator("shared-key-secret").compute_signature(url, form, "HMAC_SHA256")
        answer = phone.post(form, signature=by_key, headers=settings)
        assert answer.status_code == 200 and "BLB05" not in answer.text  # a question came
        # SHA-1 where the settings say SHA-256, or the Auth Token where they say the key.
        sha1 = RequestValidator("shared-key-secret").compute_signature(url, form)
        assert phone.post(form, signature=sha1, headers=settings).status_code == 403
        assert phone.post(form, signature=sign("/whatsapp/webhook", form),
                          headers=settings).status_code == 403
        assert phone.say("1")  # without the settings header: the Auth Token, as before


def test_the_signed_url_is_the_public_one_behind_a_proxy(whatsapp_web) -> None:  # type: ignore[no-untyped-def]
    with whatsapp_web() as client:
        phone = Phone(client, "+919800000005")
        form = phone.form("फीडबैक BLB05")
        # What the app sees (http://testserver/...) is not what Twilio signed.
        seen_url = str(client.base_url) + "/whatsapp/webhook"
        wrong = sign("/whatsapp/webhook", form, url=seen_url.removesuffix("/whatsapp/webhook"))
        assert phone.post(form, signature=wrong).status_code == 403
        assert phone.post(form).status_code == 200


def test_forwarded_headers_count_only_when_trusted(make_app, sqlite_url, tmp_path,  # type: ignore[no-untyped-def]
                                                   fake_twilio) -> None:
    from starlette.testclient import TestClient

    from bot.web import create_web_app
    from tests.bot.whatsapp.conftest import whatsapp_config

    for trusted in (True, False):
        folder = tmp_path / str(trusted)
        folder.mkdir()
        app = make_app(f"sqlite:///{folder / 'p.db'}",
                       whatsapp_config(folder, public_url="", trust_forwarded_headers=trusted))
        web = create_web_app(whatsapp_runtime(app))
        with TestClient(web) as client:
            phone = Phone(client, "+919800000006")
            form = phone.form("फीडबैक BLB05")
            proxy = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "bot.police.example"}
            signature = sign("/whatsapp/webhook", form, url="https://bot.police.example")
            answer = client.post("/whatsapp/webhook", data=form,
                                 headers={**proxy, "X-Twilio-Signature": signature})
            assert answer.status_code == (200 if trusted else 403)
        app.engine.dispose()


def test_a_redelivered_message_is_answered_once(wa_app, whatsapp_web) -> None:  # type: ignore[no-untyped-def]
    with whatsapp_web() as client:
        phone = Phone(client, "+919800000007")
        phone.say("फीडबैक BLB05")
        form = phone.form("1")
        first = bodies(phone.post(form).text)
        again = bodies(phone.post(form).text)
        assert first[-1].startswith("सवाल 2/11:")
        assert again[-1].startswith("सवाल 2/11:")  # shown where they are, not answered twice
        assert phone.say("1")[-1].startswith("सवाल 3/11:")
    _, answers = _stored(wa_app)
    assert answers == {"purpose": "complaint_fir", "heard": "under_15m"}


def test_the_prefilled_text_as_sent_edited_or_emptied(whatsapp_web) -> None:  # type: ignore[no-untyped-def]
    with whatsapp_web() as client:
        for n, text in enumerate(["फीडबैक BLB05", "feedback blb05", "  Feedback: BLB05 please ",
                                  "BLB05 फ़ीडबैक", "फीडबैक थाना BLB05"]):
            replies = Phone(client, f"+91980000010{n}").say(text)
            assert "थाना सिमगा" in replies[0], text
        picker = Phone(client, "+919800000110").say("फीडबैक")  # the code deleted
        assert "किस थाने" in picker[-1] or "थाने का नाम" in picker[-1]
        unknown = Phone(client, "+919800000111").say("फीडबैक BLB99")
        assert "BLB99" in unknown[0]  # named, then the picker


def test_another_stations_code_midway_asks_before_switching(whatsapp_web) -> None:  # type: ignore[no-untyped-def]
    with whatsapp_web() as client:
        phone = Phone(client, "+919800000120")
        phone.say("फीडबैक BLB05")
        phone.say("1")
        switch = phone.say("फीडबैक BLB07")
        assert "थाना पलारी" in switch[-1] and "थाना सिमगा" in switch[-1]


def test_every_kind_of_media(wa_app, whatsapp_web) -> None:  # type: ignore[no-untyped-def]
    kinds = {"image/jpeg": "photo", "image/webp": "sticker", "video/mp4": "video",
             "application/pdf": "document", "text/vcard": "contact"}
    with whatsapp_web() as client:
        phone = Phone(client, "+919800000130")
        question = next(line for line in phone.say("फीडबैक BLB05")[-1].splitlines()
                        if line.startswith("सवाल 1:"))
        for content_type in kinds:
            replies = phone.say("", NumMedia="1", MediaContentType0=content_type,
                                MediaUrl0="https://api.twilio.com/2010-04-01/Media/ME1")
            assert question in replies[-1], content_type  # a polite note, the same question
        location = phone.say("", Latitude="21.65", Longitude="82.16")
        assert question in location[-1]
        for answer in HINDI[1:9]:
            phone.say(answer)
        voice = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME9"
        after = phone.say("", NumMedia="1", MediaContentType0="audio/ogg", MediaUrl0=voice)
        assert after[-1].startswith("आपका वॉइस मैसेज मिल गया।\nसवाल 10/11:")
    _, answers = _stored(wa_app)
    assert answers["comment"] == voice  # the voice note, stored as a reference
    with Db(wa_app.engine) as db:
        stored = db.execute(select(Answer).where(col(Answer.question_id) == "comment")
                            ).scalar_one()
        assert stored.voice_ref == voice and stored.text is None
