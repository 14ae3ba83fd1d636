"""The WhatsApp channel's small parts: reading a scan, writing TwiML."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twilio.twiml.messaging_response import MessagingResponse

from bot.whatsapp.inbound import ScanWords
from bot.whatsapp.render import Outgoing
from bot.whatsapp.webhook import form_pairs, twiml
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


@given(st.lists(st.tuples(st.text(), st.text())))
def test_a_form_reads_as_urllib_reads_it(fields: list[tuple[str, str]]) -> None:
    body = urlencode(fields)
    assert form_pairs(body) == parse_qsl(body, keep_blank_values=True)


@given(st.text(alphabet="ab=&%+2Fझ ", max_size=30))
def test_a_malformed_form_reads_as_urllib_reads_it(body: str) -> None:
    assert form_pairs(body) == parse_qsl(body, keep_blank_values=True)


# Pieces of UTF-8 escapes, whole and broken, among the form's own characters.
_PIECES = ["%E0", "%A4", "%85", "%e0", "%a4", "%F0", "%9F", "%98", "%80", "%2F", "%3D",
           "%26", "%", "%8", "%zz", "a", "झ", "=", "&", "+", " "]


@given(st.lists(st.sampled_from(_PIECES), max_size=20).map("".join))
def test_escaped_utf8_reads_as_urllib_reads_it(body: str) -> None:
    assert form_pairs(body) == parse_qsl(body, keep_blank_values=True)
