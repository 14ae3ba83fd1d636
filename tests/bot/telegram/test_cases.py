"""A case through the real bot, polling the fake Bot API: the SP office taps the alert's
buttons to instruct, the in-charge taps the instruction's button and sends a photo, the
SP office closes it from the report's button. Buttons stay under a case's messages."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlmodel import Session as Db

from storage.cases import case_file
from tests.bot.telegram.conftest import Citizen
from tests.bot.telegram.test_officers import invite
from tests.conftest import dispatched, telegram_sender
from tests.fakes.telegram_api import FakeTelegram

RUDE = ["/start BLB05", "5", "1", "1", "नहीं", "नहीं", "1", "नहीं", "नहीं", "नहीं"]
PHOTO = [{"file_id": "tg-photo-big", "file_unique_id": "p2", "width": 800, "height": 600}]


def _dispatch(app, fake: FakeTelegram) -> int:  # type: ignore[no-untyped-def]
    return asyncio.run(dispatched(telegram_sender(app, fake), datetime.now(UTC)))


def _complaint(app, fake: FakeTelegram, chats: tuple[int, int, int]  # type: ignore[no-untyped-def]
               ) -> tuple[Citizen, Citizen]:
    """The SP office and the in-charge enrolled, then a citizen's rude visit."""
    sp, in_charge = Citizen(fake, chats[0]), Citizen(fake, chats[1])
    sp.say(f"/start {invite(app, role='sp_office', scope='BLB')}", expect=2)
    in_charge.say(f"/start {invite(app)}", expect=2)
    citizen = Citizen(fake, chats[2])
    for answer in RUDE:
        citizen.say(answer)
    return sp, in_charge


def test_instruct_report_and_close_by_buttons(telegram_bot, fake_telegram: FakeTelegram,  # type: ignore[no-untyped-def]
                                              app) -> None:
    sp, in_charge = _complaint(app, fake_telegram, (730, 731, 732))
    assert _dispatch(app, fake_telegram) == 2

    # The alert's second button: the presets, then the third of them, then send as is.
    presets = sp.tap(2)[0]
    assert presets.buttons[2][0] == "3. जाँच करके रिपोर्ट दें"
    assert sp.tap(3)[0].buttons[0][0] == "1. ऐसे ही भेजें"
    assert sp.tap(1)[0].text == "प्रभारी को भेज दिया। अब उनकी रिपोर्ट का इंतज़ार है।"
    # A case's buttons are not taken away: the alert's are all still there.
    assert not fake_telegram.sent(730, "editMessageText")
    assert _dispatch(app, fake_telegram) == 1
    instruction = in_charge.last_with_buttons()
    assert instruction.text.startswith("📋 एसपी कार्यालय का निर्देश\n")

    # The in-charge reports with a photo of what was done.
    assert "फ़ोटो भेजें" in in_charge.tap(1)[0].text
    assert in_charge.say(None, photo=PHOTO)[0].text == (
        "आपकी रिपोर्ट एसपी कार्यालय पहुँच गई है। धन्यवाद।")
    assert _dispatch(app, fake_telegram) == 1
    report = sp.last_with_buttons()
    assert "साथ में एक फ़ोटो भी है।" in report.text
    assert [label for label, _ in report.buttons][-1] == "3. केस बंद करें"
    assert "इन्हीं के साथ केस बंद होगा" in sp.tap(3)[0].text
    assert sp.say("नागरिक से बात हुई, स्टाफ़ को समझाइश दी")[0].text == "केस बंद हो गया।"
    # The menu's list of cases is empty for both now.
    assert sp.say("/cases")[0].text == "आपके लिए कोई केस बाकी नहीं है।"
    assert in_charge.say("/cases")[0].text == "आपके लिए कोई केस बाकी नहीं है।"
    with Db(app.engine) as db:
        found = case_file(db, "FB-26-000001")
    assert found is not None and found.case.state == "closed"
    reported = next(e for e in found.events if e.event == "report")
    assert (reported.media_kind, reported.media_ref) == ("photo", "tg-photo-big")
    for officer in (730, 731):  # never the citizen's chat id in what officers read
        assert not any("732" in s.text for s in fake_telegram.sent(officer))


def test_the_list_of_cases_offers_each_officer_their_step(telegram_bot,  # type: ignore[no-untyped-def]
                                                          fake_telegram: FakeTelegram,
                                                          app) -> None:
    sp, in_charge = _complaint(app, fake_telegram, (740, 741, 742))
    listed = sp.say("/cases")[0]
    assert listed.text.startswith("कार्रवाई वाले केस: 1\n• FB-26-000001 · थाना सिमगा · नया · "
                                  "समय सीमा ")
    assert [label for label, _ in listed.buttons] == ["1. निर्देश भेजें: FB-26-000001"]
    mine = in_charge.say("/cases")[0]
    assert [label for label, _ in mine.buttons] == ["1. की गई कार्रवाई बताएँ: FB-26-000001"]
    # A report before any instruction: allowed, and the SP office's list says so.
    in_charge.tap(1)
    in_charge.say("थाने में मुंशी से बात की")
    assert "रिपोर्ट आई" in sp.say("/cases")[0].text
    assert in_charge.say("/cases")[0].text == "आपके लिए कोई केस बाकी नहीं है।"
