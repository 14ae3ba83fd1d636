"""Updates Telegram could not have sent: checked, not trusted.

Each is answered 200 (or 413 when too long) and logged once, without the chat id or
the words, and nothing is stored: an update that can never be handled must not be
refused, or Telegram delivers it again forever. The same chat is served at once after.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import Session as Db
from sqlmodel import SQLModel
from starlette.requests import Request
from starlette.testclient import TestClient
from starlette.types import Message

from bot.telegram.keyboard import AlertTap, CallbackCodec, OfficerTap, encode
from bot.telegram.polling import poll
from bot.telegram.runner import ALLOWED_UPDATES
from bot.telegram.updates import MAX_BODY, read_body
from bot.web import SECRET_HEADER, create_web_app
from conversations.effects import Tap
from scheduler.app import App
from tests.bot.telegram.conftest import telegram_runtime
from tests.bot.telegram.test_officers import invite
from tests.fakes.telegram_api import FakeTelegram

SECRET = "a-test-secret-0123456789"
PATH = "/telegram/webhook"
HEADERS = {SECRET_HEADER: SECRET}
Raw = dict[str, Any]


def _user(chat: int) -> Raw:
    return {"id": chat, "is_bot": False, "first_name": "Citizen"}


def _message(update_id: int, chat: int, words: str = "/start BLB05", /,
             **fields: Any) -> Raw:
    """A citizen's message; `fields` replace its own (`_DROP`: leave the field out)."""
    message: Raw = {"message_id": update_id, "date": 0, "text": words,
                    "chat": {"id": chat, "type": "private", "first_name": "Citizen"},
                    "from": _user(chat)}
    if words.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0,
                                "length": len(words.split()[0])}]
    message.update(fields)
    return {"update_id": update_id, "message": {k: v for k, v in message.items()
                                                if v is not _DROP}}


def _tap(update_id: int, chat: int, data: object, /, **fields: Any) -> Raw:
    tapped = {"message_id": 1, "date": 0, "text": "मेनू",
              "chat": {"id": chat, "type": "private", "first_name": "Citizen"},
              "reply_markup": {"inline_keyboard": [[{"text": "1. आज",
                                                     "callback_data": "_officer:today"}]]}}
    query: Raw = {"id": f"q{update_id}", "chat_instance": "ci", "data": data,
                  "from": _user(chat), "message": tapped, **fields}
    return {"update_id": update_id, "callback_query": {k: v for k, v in query.items()
                                                       if v is not _DROP}}


_DROP = object()  # a field left out


def _nested(update: Raw, depth: int) -> bytes:
    """A message replying to one replying to one ... `depth` deep (too deep to dump)."""
    message = json.dumps(update["message"])
    head = message[:-1] + ', "reply_to_message": '
    return (f'{{"update_id": {update["update_id"]}, "message": ' + head * depth + message
            + "}" * (depth + 1)).encode()


def _json(make: Callable[[int, int], object]) -> Callable[[int, int], bytes]:
    return lambda update_id, chat: json.dumps(make(update_id, chat)).encode()


# Each: its body, given an update_id and the chat it claims to come from.
MALFORMED: dict[str, Callable[[int, int], bytes]] = {
    "a number as the text": _json(lambda n, c: _message(n, c, text=12)),
    "a string as the chat": _json(lambda n, c: _message(n, c, chat=f"chat {c}")),
    "a string as the chat id": _json(lambda n, c: _message(
        n, c, chat={"id": str(c), "type": "private"})),
    "no sender": _json(lambda n, c: _message(n, c, **{"from": _DROP})),
    "a sender without an id": _json(lambda n, c: _message(
        n, c, **{"from": {"is_bot": False, "first_name": "C", "x": c}})),
    "a voice note without a file id": _json(lambda n, c: _message(
        n, c, voice={"duration": 3, "file_unique_id": "u"}, text=_DROP)),
    "an entity python-telegram-bot cannot build": _json(lambda n, c: _message(
        n, c, entities=[{"type": "bot_command"}])),
    "a string as the update_id": _json(lambda n, c: {**_message(n, c), "update_id": str(n)}),
    "true as the update_id": _json(lambda n, c: {**_message(n, c), "update_id": True}),
    "a negative update_id": _json(lambda n, c: {**_message(n, c), "update_id": -n}),
    "an update_id beyond 64 bits": _json(lambda n, c: {**_message(n, c), "update_id": 2**64}),
    "a list": _json(lambda n, c: [_message(n, c)]),
    "null": _json(lambda n, c: None),
    "not JSON": lambda n, c: f'{{"update_id": {n}, "message": {{"chat": {{"id": {c}'.encode(),
    "not UTF-8": lambda n, c: b'{"update_id": 1, "text": "\xff\xfe"}',
    "arrays nested past reading": lambda n, c: b"[" * 500_000,
    "replies nested past python-telegram-bot": lambda n, c: _nested(_message(n, c), 900),
    "a number as a tap's data": _json(lambda n, c: _tap(n, c, 5)),
    "a tap without a sender": _json(lambda n, c: _tap(n, c, "_officer:today",
                                                      **{"from": _DROP})),
    "a tapped message whose buttons are a string": _json(lambda n, c: _tap(
        n, c, "_officer:today", message={"message_id": 1, "date": 0, "text": "t",
                                          "chat": {"id": c, "type": "private"},
                                          "reply_markup": {"inline_keyboard": "1. आज"}})),
}

# Well-formed updates whose tap data no button of ours carries.
UNKNOWN_DATA = ["_alert:ack:²", "_alert:ack:99999999999999999999", "_alert:ack:2147483648",
                "_alert:ack:0", "_alert:ack:007", "_alert:ack:-1", "_alert:ack:1 ",
                "_alert:ack:", "_alert:1", "_officer:drop", "_officer:", "_officer:today\n",
                "purpose:１", "पुलिस:1", "BLB05", "", ":", "#not-a-hash", "#" + "0" * 23,
                "a:" + "b" * 63]


def _stored(app: App) -> list[str]:
    """Every row of every table: what "nothing stored" is checked against."""
    with Db(app.engine) as db:
        return [f"{table.name}: {row}" for table in SQLModel.metadata.sorted_tables
                for row in sorted(map(repr, db.execute(select(table)).all()))]


def _warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


def _one_plain_warning(caplog: pytest.LogCaptureFixture, chat: int, case: str) -> None:
    warnings = _warnings(caplog)
    assert len(warnings) == 1, (case, [w.getMessage() for w in warnings])
    assert str(chat) not in warnings[0].getMessage(), case
    assert warnings[0].exc_info is None and warnings[0].exc_text is None, case  # no traceback
    caplog.clear()


@pytest.fixture
def webhook(app: App, fake_telegram: FakeTelegram,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    runtime = telegram_runtime(app, fake_telegram, retry_backoff=0.01)
    with TestClient(create_web_app(runtime, SECRET, register_webhook=False)) as client:
        yield client


def test_an_update_telegram_could_not_have_sent_is_passed_over_and_the_chat_served_after(
        webhook: TestClient, fake_telegram: FakeTelegram, app: App,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    for n, (case, body) in enumerate(MALFORMED.items(), start=1):
        chat = 4_240_000 + n
        before = _stored(app)
        answer = webhook.post(PATH, content=body(n, chat), headers=HEADERS)
        assert answer.status_code == 200, case  # not again and again: it can never succeed
        assert _stored(app) == before, case
        assert fake_telegram.calls == [], case
        _one_plain_warning(caplog, chat, case)
        served = webhook.post(PATH, json=_message(1000 + n, chat), headers=HEADERS)
        assert served.status_code == 200, case
        assert "थाना सिमगा" in fake_telegram.sent(chat)[-1].text, case
        fake_telegram.calls.clear()
    assert _warnings(caplog) == []


def test_a_tap_on_no_button_of_ours_is_answered_and_nothing_else(
        webhook: TestClient, fake_telegram: FakeTelegram, app: App,
        caplog: pytest.LogCaptureFixture) -> None:
    officer = 4_250_001
    assert webhook.post(PATH, json=_message(1, officer, f"/start {invite(app)}"),
                        headers=HEADERS).status_code == 200
    fake_telegram.calls.clear()
    caplog.set_level(logging.WARNING)
    for n, data in enumerate(UNKNOWN_DATA, start=2):
        before = _stored(app)
        answer = webhook.post(PATH, json=_tap(n, officer, data), headers=HEADERS)
        assert answer.status_code == 200, data
        assert _stored(app) == before, data
        # the tap answered, so the button stops spinning; nothing sent, nothing edited
        assert [c.method for c in fake_telegram.calls] == ["answerCallbackQuery"], data
        _one_plain_warning(caplog, officer, data)
        fake_telegram.calls.clear()
    # the largest alert id the database can hold is asked for, and is not theirs
    assert webhook.post(PATH, json=_tap(90, officer, "_alert:ack:2147483647"),
                        headers=HEADERS).status_code == 200
    assert fake_telegram.sent(officer)[-1].text == "यह अलर्ट आपके थाने का नहीं है।"
    # and a button of ours is served at once
    assert webhook.post(PATH, json=_tap(91, officer, "_officer:today"),
                        headers=HEADERS).status_code == 200
    assert "आज, थाना सिमगा:" in fake_telegram.sent(officer)[-1].text
    assert _warnings(caplog) == []


def test_a_superscript_alert_id_delivered_again_and_again_is_200_each_time(
        webhook: TestClient, fake_telegram: FakeTelegram, app: App,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    before = _stored(app)
    for _ in range(3):  # delivered, then delivered again twice (same update_id)
        assert webhook.post(PATH, json=_tap(7, 4_250_002, "_alert:ack:²"),
                            headers=HEADERS).status_code == 200
    assert _stored(app) == before
    assert len(fake_telegram.sent(None, "answerCallbackQuery")) == 3
    assert len(_warnings(caplog)) == 3 and fake_telegram.sent(4_250_002) == []


def test_an_over_size_body_is_refused_and_the_secret_is_checked_first(
        webhook: TestClient, fake_telegram: FakeTelegram, app: App,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    chat = 4_260_001
    valid = json.dumps(_message(1, chat)).encode()
    before = _stored(app)
    over = valid + b" " * (MAX_BODY + 1 - len(valid))
    assert webhook.post(PATH, content=over, headers=HEADERS).status_code == 413
    _one_plain_warning(caplog, chat, "over-size")
    wrong = {SECRET_HEADER: SECRET[:-1] + "x"}
    assert webhook.post(PATH, content=over, headers=wrong).status_code == 403
    assert webhook.post(PATH, content=b"not JSON", headers=wrong).status_code == 403
    assert webhook.post(PATH, content=b"not JSON").status_code == 403
    assert _stored(app) == before and fake_telegram.calls == []
    # as long as a body may be: served
    at_limit = valid + b" " * (MAX_BODY - len(valid))
    assert webhook.post(PATH, content=at_limit, headers=HEADERS).status_code == 200
    assert "थाना सिमगा" in fake_telegram.sent(chat)[-1].text
    assert _warnings(caplog) == []


def test_an_over_size_body_is_not_read_whole() -> None:
    chunk, sent = b"x" * 65_536, []

    async def receive() -> Message:
        sent.append(chunk)
        return {"type": "http.request", "body": chunk, "more_body": len(sent) < 64}

    async def read(headers: list[tuple[bytes, bytes]]) -> bytes | None:
        scope = {"type": "http", "method": "POST", "path": PATH, "headers": headers}
        return await read_body(Request(scope, receive))

    assert asyncio.run(read([])) is None  # chunked: 4 MB on offer
    assert len(sent) == MAX_BODY // len(chunk) + 1
    sent.clear()
    assert asyncio.run(read([(b"content-length", str(64 * len(chunk)).encode())])) is None
    assert sent == []  # declared too long: not a byte read
    assert asyncio.run(read([(b"content-length", b"9" * 5000)])) is None


def test_polling_passes_over_what_it_cannot_handle_and_goes_on(
        app: App, fake_telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    runtime = telegram_runtime(app, fake_telegram)
    assert runtime.telegram is not None
    chat = 4_270_001
    before = _stored(app)
    caplog.set_level(logging.WARNING)
    # the fake numbers each update itself; one python-telegram-bot cannot build fails a
    # whole batch, each time it is fetched, unless it is taken out
    for raw in [_message(0, chat, text=12),
                _message(0, chat, chat="x"),
                _message(0, chat, **{"from": _DROP}),
                _message(0, chat, entities=[{"type": "bot_command"}]),
                _tap(0, chat, 5),
                _tap(0, chat, "_alert:ack:²")]:
        fake_telegram.raw({k: v for k, v in raw.items() if k != "update_id"})

    async def main() -> None:
        stop = asyncio.Event()
        await runtime.start(scheduler=False)
        assert runtime.telegram is not None
        polling = asyncio.create_task(poll(runtime.telegram, ALLOWED_UPDATES, stop))
        await asyncio.to_thread(fake_telegram.wait_for, 1, None, "answerCallbackQuery")
        assert _stored(app) == before and fake_telegram.sent(chat) == []
        fake_telegram.message(chat, "/start BLB05")
        greeting = await asyncio.to_thread(fake_telegram.wait_for, 1, chat)
        assert "थाना सिमगा" in greeting[0].text
        # every update confirmed: none fetched again and again
        await asyncio.to_thread(fake_telegram.wait_until, lambda: fake_telegram.pending == 0,
                                30, "every update to be confirmed")
        stop.set()
        await asyncio.wait_for(polling, 30)
        await runtime.stop()

    asyncio.run(main())
    warnings = _warnings(caplog)
    assert len(warnings) == 6, [w.getMessage() for w in warnings]  # each once
    assert all(str(chat) not in w.getMessage() and w.exc_info is None for w in warnings)


def test_tap_data_is_read_strictly(make_app: Callable[[str], App], sqlite_url: str) -> None:
    app = make_app(sqlite_url)
    codec = CallbackCodec(app.survey)
    for question in (*app.survey.questions, *app.survey.follow_up):
        for option in question.options:
            assert codec.decode(encode(question.id, option.id)) == Tap(question.id, option.id)
    assert codec.decode(encode("_station", "BLB05")) == Tap("_station", "BLB05")
    assert codec.decode("_officer:comments") == OfficerTap("comments")
    assert codec.decode("_alert:ack:2147483647") == AlertTap(2**31 - 1)
    assert codec.decode("#" + "0" * 24) == Tap("?", "?")  # a survey's old button
    for data in [*UNKNOWN_DATA, None, 5, ["purpose:1"], "purpose:" + "1" * 60]:
        assert codec.decode(data) is None, data
    app.engine.dispose()
