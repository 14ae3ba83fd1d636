"""Webhooks Twilio did not send us: refused with a clear status, nothing stored, one
warning without a number or a message in it, and the next genuine request served.

Twilio signs the sorted keys and values run together, so a value that swallows the
next key keeps a valid signature: the signature alone proves little about the fields.
"""

from __future__ import annotations

import itertools
import logging
import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import Session as Db
from sqlmodel import col
from starlette.datastructures import ImmutableMultiDict
from starlette.testclient import TestClient
from twilio.request_validator import RequestValidator

from storage.models import Answer, ContactWindow, Conversation, Delivery, Feedback, ProcessedMessage
from tests.bot.whatsapp.conftest import OURS, PUBLIC, Phone, bodies, message_sid, sign
from tests.bot.whatsapp.test_conversation import HINDI
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN

MESSAGE, STATUS = "/whatsapp/webhook", "/whatsapp/status"
CITIZEN = "+919800000401"
HEX = "0123456789abcdef" * 2
TABLES = (Feedback, Answer, Conversation, ProcessedMessage, ContactWindow, Delivery)
_others = itertools.count(500)

Form = dict[str, str]


def _rows(app: Any) -> dict[str, list[str]]:
    """Every row a webhook could write, as text: equal means nothing changed."""
    with Db(app.engine) as db:
        return {table.__name__: sorted(repr(row.model_dump())
                                       for row in db.execute(select(table)).scalars())
                for table in TABLES}


def _served(client: TestClient, path: str, app: Any) -> None:
    """A genuine request, right after a refused one, is handled as ever."""
    phone = Phone(client, f"+9198000{next(_others):05d}")
    if path == MESSAGE:
        assert "थाना सिमगा" in phone.say("फीडबैक BLB05")[0]
        return
    sid = message_sid()
    assert phone.post(phone.report(sid), path=STATUS).status_code == 204
    with Db(app.engine) as db:
        assert db.get(Delivery, sid) is not None


def _refused(app: Any, client: TestClient, caplog: pytest.LogCaptureFixture,
             form: Form | list[tuple[str, str]], path: str, status: int, reason: str,
             **post: Any) -> None:
    before = _rows(app)
    caplog.clear()
    answer = Phone(client, CITIZEN).post(form, path=path, **post)
    assert (answer.status_code, answer.content) == (status, b""), (reason, form)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        f"a WhatsApp webhook was refused ({status}): {reason}"], form
    assert warnings[0].exc_info is None and "Traceback" not in caplog.text
    assert not re.search(r"[0-9]{7}", caplog.text)  # no number, ours or theirs
    assert _rows(app) == before, form
    _served(client, path, app)


def _with(form: Form, **fields: str | None) -> Form:
    """The form with fields changed, or dropped where None."""
    changed = {**form, **{k: v for k, v in fields.items() if v is not None}}
    return {k: v for k, v in changed.items() if fields.get(k, "") is not None}


def _both(client: TestClient) -> list[tuple[str, Form]]:
    """A genuine message and a genuine delivery report, to be spoilt."""
    citizen = Phone(client, CITIZEN)
    return [(MESSAGE, citizen.form("1")), (STATUS, citizen.report(message_sid()))]


@pytest.fixture(autouse=True)
def _warnings(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)


def test_a_value_swallowing_the_next_key_keeps_the_signature_but_is_refused(  # type: ignore[no-untyped-def]
        wa_app, whatsapp_web, caplog) -> None:
    with whatsapp_web() as client:
        phone = Phone(client, CITIZEN)
        phone.say("फीडबैक BLB05")
        captured = phone.form("1")
        signature = sign(MESSAGE, captured)
        assert bodies(phone.post(captured, signature=signature).text)[-1].startswith("सवाल 2/11:")
        # MessageSid dropped, its key and value carried by From: the same signed string.
        replay = _with(captured, MessageSid=None,
                       From=captured["From"] + "MessageSid" + captured["MessageSid"])
        assert "MessageSid" not in replay
        assert RequestValidator(AUTH_TOKEN).validate(PUBLIC + MESSAGE, replay, signature)
        for _ in range(12):  # twelve replays once filed a whole feedback
            _refused(wa_app, client, caplog, replay, MESSAGE, 403,
                     "its From is not a WhatsApp number", signature=signature)
        assert phone.say("1")[-1].startswith("सवाल 3/11:")  # the citizen goes on where they were
        # A delivery report the same way: our From carries its MessageSid.
        report = phone.report(message_sid())
        signature = sign(STATUS, report)
        replay = _with(report, MessageSid=None,
                       From=report["From"] + "MessageSid" + report["MessageSid"])
        assert RequestValidator(AUTH_TOKEN).validate(PUBLIC + STATUS, replay, signature)
        _refused(wa_app, client, caplog, replay, STATUS, 403, "its From is not our number",
                 signature=signature)


def test_an_account_not_ours_is_refused(wa_app, whatsapp_web, caplog) -> None:  # type: ignore[no-untyped-def]
    with whatsapp_web() as client:
        for path, form in _both(client):
            for account in ["AC" + "f" * 32, ACCOUNT_SID.upper(), ACCOUNT_SID + "0", "", None]:
                _refused(wa_app, client, caplog, _with(form, AccountSid=account), path, 403,
                         "its AccountSid is not ours")


def test_a_request_not_about_our_number_is_refused(wa_app, whatsapp_web, caplog) -> None:  # type: ignore[no-untyped-def]
    """A message comes To our number; a delivery report is about one we sent From it."""
    others = ["whatsapp:+917700012346", "+917700012345", "sms:+917700012345",
              "whatsapp:+91 77000 12345", OURS + "\n", OURS + "To", "", None]
    with whatsapp_web() as client:
        for (path, form), ours in zip(_both(client), ["To", "From"], strict=True):
            for number in others:
                _refused(wa_app, client, caplog, _with(form, **{ours: number}), path, 403,
                         f"its {ours} is not our number")


def test_a_sender_or_recipient_not_a_whatsapp_number_is_refused(  # type: ignore[no-untyped-def]
        wa_app, whatsapp_web, caplog) -> None:
    """From of a message, To of a delivery report: whatsapp:+ and 8 to 15 digits."""
    numbers = ["whatsapp:+1234567", "whatsapp:+1234567890123456", "whatsapp:919800000401",
               "whatsapp:+91 98000 00401", "+919800000401", "whatsapp:+०९१९८०००००४०१",
               "whatsapp:+919800000401\n", "whatsapp:+0919800000401", "WhatsApp:+919800000401",
               "whatsapp:+919800000401MessageSidSM" + HEX, "", None]
    with whatsapp_web() as client:
        for (path, form), theirs in zip(_both(client), ["From", "To"], strict=True):
            for number in numbers:
                _refused(wa_app, client, caplog, _with(form, **{theirs: number}), path, 403,
                         f"its {theirs} is not a WhatsApp number")
        served = Phone(client, "+12345678").form("फीडबैक BLB05")  # 8 digits are enough
        assert Phone(client, "+12345678").post(served).status_code == 200


def test_a_message_sid_not_twilios_is_refused(wa_app, whatsapp_web, caplog) -> None:  # type: ignore[no-untyped-def]
    sids = ["SM" + HEX[:31], "SM" + HEX + "0", "SX" + HEX, "sm" + HEX, "MG" + HEX,
            "SM" + "g" * 32, "SM" + "a" * 200, "SM" + HEX + "\n", "SM" + "٠" * 32, "", None]
    assert len("SM" + "a" * 200) == 202  # a 500 on PostgreSQL, a 60 KB row on SQLite, once
    with whatsapp_web() as client:
        for path, form in _both(client):
            for sid in sids:
                _refused(wa_app, client, caplog, _with(form, MessageSid=sid), path, 403,
                         "its MessageSid is not a message sid")
        # A media message's MM sid, in capitals: Twilio's, and served.
        phone = Phone(client, CITIZEN)
        upper = phone.form("फीडबैक BLB05", MessageSid="MM" + HEX.upper())
        assert "थाना सिमगा" in bodies(phone.post(upper).text)[0]


def test_a_repeated_key_is_refused(wa_app, whatsapp_web, caplog) -> None:  # type: ignore[no-untyped-def]
    with whatsapp_web() as client:
        for path, form in _both(client):
            pairs = list(form.items())
            for key, value in [("MessageSid", form["MessageSid"]), ("AccountSid", ACCOUNT_SID),
                               ("From", "whatsapp:+919800000402"), ("To", OURS + "0")]:
                repeated = [*pairs, (key, value)]
                if value == form[key]:  # the same value twice: the same signature as once
                    assert sign(path, ImmutableMultiDict(repeated)) == sign(path, form)
                _refused(wa_app, client, caplog, repeated, path, 403, "a key is repeated")


def test_a_field_longer_than_twilio_sends_is_refused(wa_app, whatsapp_web, caplog) -> None:  # type: ignore[no-untyped-def]
    """Signed, ours, but longer than any field of Twilio's: 400 before any write."""
    with whatsapp_web() as client:
        [(_, message), (_, report)] = _both(client)
        _too_long(wa_app, client, caplog, message, report)
        phone = Phone(client, CITIZEN)
        assert phone.say("फीडबैक BLB05", ProfileName="क" * 4096)  # as long as Twilio's may be


def _too_long(app: Any, client: TestClient, caplog: pytest.LogCaptureFixture, message: Form,
              report: Form) -> None:
    voice = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/" + "M" * 1000
    too_long = [(MESSAGE, _with(message, ProfileName="क" * 4097)),
                (MESSAGE, _with(message, NumMedia="1", MediaContentType0="audio/ogg",
                                MediaUrl0=voice)),
                (MESSAGE, _with(message, ButtonPayload="purpose:" + "x" * 250)),
                (STATUS, _with(report, MessageStatus="delivered" * 500)),
                (STATUS, _with(report, ErrorCode="6" * 5000))]
    for path, form in too_long:
        _refused(app, client, caplog, form, path, 400, "a field is longer than Twilio sends")


def test_a_body_over_64_kb_or_a_wrong_signature_is_one_warning(  # type: ignore[no-untyped-def]
        wa_app, whatsapp_web, caplog) -> None:
    md5 = {"X-Twilio-Webhooks-Signature-Settings": "key=k1,algorithm=HMAC_MD5"}
    with whatsapp_web() as client:
        for path, form in _both(client):
            _refused(wa_app, client, caplog, _with(form, Body="क" * 30_000), path, 413,
                     "its body is longer than 64 KB")
            _refused(wa_app, client, caplog, form, path, 403,
                     "its signature is missing or wrong", signature="")
            # twilio would log an unknown algorithm too: still one line
            _refused(wa_app, client, caplog, form, path, 403,
                     "its signature is missing or wrong", headers=md5)


def test_a_long_comment_is_cut_and_the_citizen_told(wa_app, whatsapp_web) -> None:  # type: ignore[no-untyped-def]
    with whatsapp_web() as client:
        phone = Phone(client, CITIZEN)
        for line in HINDI[:9]:
            phone.say(line)
        # 5,400 characters (WhatsApp sends at most 4,096), 39 KB as a form: under 64 KB
        replies = phone.say("लंबी बात " * 600)
        assert "पहले 1000 अक्षर रखे गए हैं" in "\n".join(replies)
    with Db(wa_app.engine) as db:
        comment = db.execute(select(col(Answer.text))
                             .where(col(Answer.question_id) == "comment"))
        assert len(comment.scalar_one() or "") == 1000
