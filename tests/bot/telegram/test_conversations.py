"""Whole conversations through the real python-telegram-bot and a fake Bot API."""

from __future__ import annotations

import asyncio
import threading

from sqlalchemy import select
from sqlmodel import Session as Db

from storage.models import Answer, Conversation, Feedback
from tests.bot.telegram.conftest import Citizen, RunningBot
from tests.fakes.telegram_api import FakeTelegram

_sleep = asyncio.sleep


class _Waits:
    """The clock the Telegram channel's retries wait on, in the test's hands: each wait is noted
    (with the calls the chat's sends had made by then) and ends at once, or, while `held`,
    when the test releases it. Nothing waits for time to pass."""

    def __init__(self, fake: FakeTelegram, chat_id: int) -> None:
        self.fake, self.chat_id = fake, chat_id
        self.noted: list[tuple[float, list[str]]] = []
        self.held = False
        self.released = threading.Event()

    async def sleep(self, seconds: float) -> None:
        calls = [c.method for c in list(self.fake.calls) if c.chat_id == self.chat_id]
        self.noted.append((seconds, calls))
        if self.held:  # a bound that fails a test that never releases, not a measure
            assert await asyncio.to_thread(self.released.wait, 60), "never released"
        await _sleep(0)


def _waits(bot: RunningBot, fake: FakeTelegram, chat_id: int) -> _Waits:
    """The running bot's Telegram channel waits on the test's clock from now on."""
    waits = _Waits(fake, chat_id)
    channel = bot.runtime.telegram_channel
    assert channel is not None
    channel.sleep = waits.sleep
    return waits


def test_hindi_by_taps(telegram_bot, fake_telegram, app) -> None:  # type: ignore[no-untyped-def]
    citizen = Citizen(fake_telegram, 501)
    greeting = citizen.say("/start BLB05")[0]
    assert "नमस्ते! यह फीडबैक थाना सिमगा के बारे में है।" in greeting.text
    assert "एसपी कार्यालय" in greeting.text
    assert greeting.buttons[0][0] == "1. शिकायत / एफआईआर"
    for button in [1, 1, 4, 1, 2, 1, 2, 5, 1, 1, 2]:  # demand: "no"; comment: "nothing to add"
        citizen.tap(button)
    assert "फीडबैक नंबर: FB-26-000001" in citizen.last
    edits = fake_telegram.wait_for(11, 501, "editMessageText")  # edits follow the replies
    assert len(edits) == 11 and edits[0].text.endswith("✅ 1. शिकायत / एफआईआर")
    assert "reply_markup" not in edits[0].params or not edits[0].params["reply_markup"]
    assert len(fake_telegram.sent(None, "answerCallbackQuery")) == 11
    for sent in fake_telegram.sent(501):
        assert all(len(data.encode()) <= 64 for _, data in sent.buttons)
    with Db(app.engine) as db:
        feedback = db.execute(select(Feedback)).scalar_one()
        answers = {a.question_id: a.option_id for a in db.execute(select(Answer)).scalars()}
    assert feedback.status == "complete" and feedback.channel == "telegram"
    assert answers["behaviour"] == "4" and answers["satisfaction"] == "5"
    assert answers["action"] == "in_progress" and answers["followup"] == "no"


def test_a_demand_tapped_is_asked_back_and_kept_only_when_confirmed(  # type: ignore[no-untyped-def]
        telegram_bot, fake_telegram, app) -> None:
    citizen = Citizen(fake_telegram, 503)
    citizen.say("/start BLB05")
    for button in [1, 1, 4, 1, 2, 1, 1]:  # ... demand: "1. हाँ"
        citizen.tap(button)
    asked_back = fake_telegram.sent(503)[-1]
    assert asked_back.text.startswith("आप बता रहे हैं कि थाने में किसी ने")
    assert [label for label, _ in asked_back.buttons] == ["1. नहीं, गलती से चुना",
                                                         "2. हाँ, यह सही है"]
    citizen.tap(1)  # by mistake: asked again, nothing kept
    assert "यह दर्ज नहीं हुआ" in citizen.last
    citizen.tap(1)
    citizen.tap(2)  # yes, that is right
    for button in [5, 1, 1, 2]:
        citizen.tap(button)
    assert "फीडबैक नंबर: FB-26-000001" in citizen.last
    with Db(app.engine) as db:
        answers = {a.question_id: a.option_id for a in db.execute(select(Answer)).scalars()}
    assert answers["demand"] == "yes" and answers["satisfaction"] == "5"


def test_english_by_typing(telegram_bot, fake_telegram) -> None:  # type: ignore[no-untyped-def]
    citizen = Citizen(fake_telegram, 502)
    citizen.say("/start BLB08")
    assert citizen.say("English")[0].text.startswith("Okay, let us continue in English.")
    for answer in ["application", "half hour", "good", "no", "in progress", "yes", "no",
                   "⭐⭐⭐⭐⭐", "Staff were polite.", "no", "yes"]:
        citizen.say(answer)
    assert citizen.last.startswith("Thank you! Your feedback has been recorded.")
    assert "Feedback number: FB-" in citizen.last


def test_unknown_and_malformed_links_lead_to_the_picker(telegram_bot, fake_telegram) -> None:  # type: ignore[no-untyped-def]
    citizen = Citizen(fake_telegram, 503)
    reply = citizen.say("/start NOPE42")[0]
    assert "थाना कोड NOPE42 नहीं मिला।" in reply.text and len(reply.buttons) == 21
    reply = Citizen(fake_telegram, 504).say("/start <script>")[0]
    assert "इस लिंक से थाने की पहचान नहीं हो पाई।" in reply.text and "<script>" not in reply.text
    chosen = citizen.tap(6)[0]
    assert "थाना सिमगा" in chosen.text


def test_a_duplicate_update_counts_once(telegram_bot, fake_telegram, app) -> None:  # type: ignore[no-untyped-def]
    citizen = Citizen(fake_telegram, 505)
    citizen.say("/start BLB05")
    before = citizen.seen
    fake_telegram.message(505, "1", copies=2)
    replies = fake_telegram.wait_for(before + 2, 505)[before:]
    # Both deliveries are answered with the same next question; the answer is stored once.
    assert replies[0].text == replies[1].text and "2/11:" in replies[0].text
    with Db(app.engine) as db:
        assert set(db.execute(select(Answer.question_id)).scalars()) == {"purpose"}


def test_429_is_waited_out_and_5xx_retried(telegram_bot, fake_telegram) -> None:  # type: ignore[no-untyped-def]
    citizen = Citizen(fake_telegram, 506)
    waits = _waits(telegram_bot, fake_telegram, 506)
    fake_telegram.fail_next("sendMessage", 429, retry_after=1)
    reply = citizen.say("/start BLB05")[0]
    # Telegram's second, waited after the 429 and before the send that got through.
    assert waits.noted[0] == (1.0, ["failed:sendMessage"]) and "थाना सिमगा" in reply.text
    fake_telegram.fail_next("sendMessage", 502, times=2)
    assert "2/11:" in citizen.say("1")[0].text
    assert len(fake_telegram.sent(506, "failed:sendMessage")) == 3


def test_one_citizens_wait_does_not_hold_up_another(telegram_bot, fake_telegram) -> None:  # type: ignore[no-untyped-def]
    slow, quick = Citizen(fake_telegram, 507), Citizen(fake_telegram, 508)
    waits = _waits(telegram_bot, fake_telegram, 507)
    waits.held = True  # the slow citizen's 429 lasts until the quick one is answered
    try:
        fake_telegram.fail_next("sendMessage", 429, retry_after=3)
        fake_telegram.message(507, "/start BLB05")
        fake_telegram.wait_for(1, method="failed:sendMessage")
        quick.say("/start BLB06")
        assert slow.seen == 0 and waits.noted[0][0] == 3.0
    finally:
        waits.released.set()
    fake_telegram.wait_for(1, 507, timeout=10)
    assert slow.seen == 1


def test_a_citizen_who_blocked_the_bot_is_marked(telegram_bot, fake_telegram, app,  # type: ignore[no-untyped-def]
                                                 monkeypatch) -> None:
    marked = threading.Event()
    mark_blocked = app.service.mark_blocked

    def noted(*args: object) -> None:
        mark_blocked(*args)  # committed when it returns
        marked.set()

    monkeypatch.setattr(app.service, "mark_blocked", noted)
    fake_telegram.fail_next("sendMessage", 403,
                            description="Forbidden: bot was blocked by the user")
    fake_telegram.message(509, "/start BLB05")
    fake_telegram.wait_for(1, method="failed:sendMessage")
    assert marked.wait(10), "the citizen was never marked"
    with Db(app.engine) as db:
        row = db.execute(select(Conversation)).scalar_one_or_none()
    assert row is not None and row.blocked_at is not None
    assert fake_telegram.sent(509) == []  # not retried


def test_whatever_a_citizen_sends_gets_a_polite_answer(telegram_bot, fake_telegram) -> None:  # type: ignore[no-untyped-def]
    citizen = Citizen(fake_telegram, 510)
    citizen.say("/start BLB05")
    polite = "माफ़ कीजिए, यहाँ सिर्फ़ लिखे हुए संदेश पढ़े जा सकते हैं।"
    photo = [{"file_id": "p1", "file_unique_id": "u1", "width": 10, "height": 10}]
    assert polite in citizen.say(photo=photo)[0].text
    sticker = {"file_id": "s1", "file_unique_id": "s1", "width": 5, "height": 5,
               "is_animated": False, "is_video": False, "type": "regular"}
    assert polite in citizen.say(sticker=sticker)[0].text
    assert polite in citizen.say(location={"latitude": 21.6, "longitude": 82.1})[0].text
    contact = {"phone_number": "+919999999999", "first_name": "X"}
    reply = citizen.say(contact=contact)[0]
    assert polite in reply.text and "9999999999" not in reply.text
    before = citizen.seen
    fake_telegram.edited(510, "2")
    edited = fake_telegram.wait_for(before + 1, 510)[-1]
    assert "पुराने संदेश" in edited.text or "बदलाव" in edited.text
    assert "सवाल 1:" in citizen.say("ब" * 10_000)[0].text


def test_group_chats_are_ignored(telegram_bot, fake_telegram) -> None:  # type: ignore[no-untyped-def]
    fake_telegram.raw({"message": {"message_id": 1, "date": 0, "text": "/start BLB05",
                                   "chat": {"id": -100, "type": "group", "title": "g"},
                                   "from": {"id": 511, "is_bot": False, "first_name": "C"}}})
    Citizen(fake_telegram, 511).say("/start BLB05")  # processed after the group message
    assert fake_telegram.sent(-100) == []
