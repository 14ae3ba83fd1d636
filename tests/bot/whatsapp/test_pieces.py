"""The WhatsApp channel's small parts: reading a scan, writing TwiML."""

from __future__ import annotations

import pytest
from twilio.twiml.messaging_response import MessagingResponse

from bot.whatsapp.inbound import ScanWords
from bot.whatsapp.render import Outgoing
from bot.whatsapp.webhook import twiml
from conversations.effects import Start

WORDS = ScanWords(["फीडबैक {code}", "Feedback {code}"])


@pytest.mark.parametrize(("text", "code"), [
    ("फीडबैक BLB05", "BLB05"), ("feedback blb05", "BLB05"), ("FEEDBACK   BLB05!", "BLB05"),
    ("BLB05 फ़ीडबैक", "BLB05"), ("फीडबैक: थाना BLB05", "BLB05"), ("Feedback BLB-7", "BLB-7"),
    ("फीडबैक", None), ("feedback please", None),
])
def test_a_scan_as_sent_or_edited(text: str, code: str | None) -> None:
    assert WORDS.scan(text) == Start(code)


@pytest.mark.parametrize("text", ["1", "BLB05", "staff was rude at BLB05 feedback desk",
                                  "फीडबैक BLB05 BLB06", "अच्छा व्यवहार", ""])
def test_answers_are_not_scans(text: str) -> None:
    assert WORDS.scan(text) is None


def test_our_twiml_is_twilios() -> None:
    messages = [Outgoing(body='शिकायत <b> & "quotes"\n1. हाँ'), Outgoing(body="दूसरा")]
    expected = MessagingResponse()
    for message in messages:
        expected.message(message.body)
    assert twiml(messages) == expected.to_xml(xml_declaration=True)
    assert "action=" not in twiml(messages)  # it would skip every later message
