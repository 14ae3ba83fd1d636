"""The WhatsApp webhooks on Starlette's plain path: every request through its router, the
body read only up to 64 KB, the form parsed as UTF-8 whatever the client escaped, and the
TwiML twilio's own."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import quote_plus, urlencode

from sqlalchemy import func, select
from sqlmodel import Session as Db
from starlette.applications import Starlette
from twilio.twiml.messaging_response import MessagingResponse

from bot.web import create_web_app
from bot.whatsapp.render import Outgoing
from bot.whatsapp.webhook import MAX_FORM, messaging_response, twiml
from storage.models import ProcessedMessage
from tests.bot.whatsapp.conftest import Clock, Phone, bodies, sign, whatsapp_runtime

MESSAGE = "/whatsapp/webhook"


def test_the_web_app_is_starlettes_with_both_webhooks_routed(wa_app, fake_twilio) -> None:  # type: ignore[no-untyped-def]
    web = create_web_app(whatsapp_runtime(wa_app, Clock()))
    assert isinstance(web, Starlette)
    assert {"/whatsapp/webhook", "/whatsapp/status", "/healthz"} <= {
        getattr(route, "path", "") for route in web.routes}


def test_a_body_over_64_kb_is_refused_before_the_rest_is_read(  # type: ignore[no-untyped-def]
        wa_app, whatsapp_web, caplog) -> None:
    """A client that streams a huge body: the 413 comes once 64 KB are past, and the rest
    of the body is never asked for."""
    chunk = b"Body=" + b"x" * 1019  # 1 KB
    asked: list[int] = []
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        asked.append(1)
        return {"type": "http.request", "body": chunk, "more_body": len(asked) < 200}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": MESSAGE, "raw_path": MESSAGE.encode(),
             "root_path": "", "scheme": "https", "query_string": b"",
             "server": ("prayas.example.in", 443),
             "headers": [(b"content-type", b"application/x-www-form-urlencoded"),
                         (b"x-twilio-signature", b"x")]}
    with whatsapp_web() as client:
        caplog.set_level(logging.INFO)
        asyncio.run(client.app(scope, receive, send))
    assert len(asked) == MAX_FORM // len(chunk) + 1
    assert sent[0]["status"] == 413 and sent[1].get("body", b"") == b""
    assert "refused (413): its body is longer than 64 KB" in caplog.text
    with Db(wa_app.engine) as db:
        assert db.execute(select(func.count()).select_from(ProcessedMessage)).scalar() == 0


def test_a_form_of_raw_utf8_or_escaped_utf8_reads_the_same(whatsapp_web) -> None:  # type: ignore[no-untyped-def]
    """Twilio escapes every byte; a form whose Hindi is sent as raw UTF-8 is read the
    same, and its signature checked over the same text."""
    with whatsapp_web() as client:
        for raw in (False, True):
            phone = Phone(client, "+919800000701" if raw else "+919800000702")
            form = phone.form("फीडबैक BLB05")
            text = form["Body"].replace(" ", "+") if raw else quote_plus(form["Body"])
            body = urlencode({k: v for k, v in form.items() if k != "Body"}) + "&Body=" + text
            assert ("फीडबैक" in body) is raw
            answer = client.post(MESSAGE, content=body.encode(),
                                 headers={"X-Twilio-Signature": sign(MESSAGE, form),
                                          "Content-Type": "application/x-www-form-urlencoded"})
            assert answer.status_code == 200, answer.text
            assert "थाना सिमगा" in bodies(answer.text)[0]


def test_twiml_is_messaging_responses_even_with_nothing_to_say() -> None:
    """The replies that go by Twilio's REST API leave an empty <Response/>: still TwiML."""
    assert twiml([]) == MessagingResponse().to_xml(xml_declaration=True)
    assert bodies(twiml([])) == []
    said = [Outgoing(body="नमस्ते & <स्वागत>"), Outgoing(body="")]
    assert bodies(twiml(said)) == ["नमस्ते & <स्वागत>", ""]


def test_the_twiml_written_by_hand_is_messaging_responses_to_the_letter() -> None:
    said = ["नमस्ते & <स्वागत>", "", "a \"quote\" and 'an apostrophe'\nnext line ]]> &amp;",
            "1. हाँ\n2. नहीं", "\u200d\u200c tab\there"]
    for n in range(len(said) + 1):
        messages = [Outgoing(body=body or None) for body in said[:n]]
        assert twiml(messages) == messaging_response(messages)
    for empty in (None, ""):
        assert twiml([Outgoing(body=empty)]) == messaging_response([Outgoing(body=empty)])


def test_the_signature_is_checked_the_same_on_the_form_and_on_its_fields() -> None:
    from twilio.request_validator import RequestValidator

    from bot.whatsapp.webhook import Fields

    form = {"Body": "नमस्ते", "From": "whatsapp:+919800000001", "MessageSid": "SM" + "0" * 32}
    url = "https://prayas.example.in/whatsapp/webhook"
    validator = RequestValidator("token")
    signature = validator.compute_signature(url, form)
    assert validator.validate(url, Fields(form), signature)
    assert not validator.validate(url, Fields({**form, "Body": "x"}), signature)
