"""Golden snapshots of what Telegram would be sent: each reply's text and inline keyboard.

The engine's replies for the scripted conversations (tests.golden.SCRIPTS, a fixed
clock) go through `bot.telegram.keyboard.render` with the real catalogs, and each
message is recorded as Telegram's Bot API would get it: the text (as its lines), and
the keyboard as `InlineKeyboardMarkup.to_dict()`. Every button's callback data must decode, through
the real `CallbackCodec`, to the tap it stands for. After a deliberate change:
`PRAYAS_UPDATE_GOLDEN=1 pytest tests/bot/telegram/test_golden_render.py`, read the diff.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from bot.telegram.keyboard import CallbackCodec, render
from conversations.effects import Reply, Tap
from conversations.survey import Survey
from scheduler.catalogs import Catalogs
from tests.conftest import T0
from tests.golden import SCRIPTS, check, event_data, lines, replies

GOLDEN = Path(__file__).resolve().parent / "golden"
# Hindi by buttons, the picker and a re-scan, re-asks and a voice note, English typed,
# and a follow-up a week later.
RENDERED = ["hi_taps", "hi_picker_switch", "hi_skip_reask_voice", "en_words", "hi_follow_up",
            "hi_habit_pause", "hi_picker_kinds"]


def message(reply: Reply, catalogs: Catalogs, codec: CallbackCodec) -> dict[str, Any]:
    text, markup = render(reply, catalogs)
    keyboard = markup.to_dict() if markup is not None else None
    if markup is not None:
        for row, choice in zip(markup.inline_keyboard, reply.choices, strict=True):
            (button,) = row
            assert codec.decode(button.callback_data) == Tap(reply.question or "", choice.id)
    return {"text": lines(text), "reply_markup": keyboard}


def transcript(name: str, survey: Survey, catalogs: Catalogs) -> list[dict[str, Any]]:
    codec = CallbackCodec(survey)
    return [{"event": event_data(event) if event else {"begin_follow_up": True},
             "send_message": [message(r, catalogs, codec) for r in said]}
            for event, said in replies(SCRIPTS[name], survey, T0)]


@pytest.mark.parametrize("name", RENDERED)
def test_golden_telegram_messages(name: str, survey: Survey, catalogs: Catalogs) -> None:
    check(GOLDEN / f"{name}.json", transcript(name, survey, catalogs))


# What an app may send back as callback data: ours decode to the button, the rest to
# nothing (or to "an old button", which the engine answers by asking again).
CALLBACK_DATA = [
    "purpose:complaint_fir", "behaviour:5", "comment:_skip", "_station:BLB05",
    "_switch:continue", "fu_action:in_progress", "_officer:today", "_officer:nonsense",
    "_alert:ack:12", "#" + "0" * 24,
    # A long pair would be sent hashed; the codec knows every pair of the survey so.
    "#" + hashlib.sha256(b"purpose:complaint_fir").hexdigest()[:24],
    "purpose", "purpose:", "Purpose:x", "purpose:a b", "x" * 65, "",
]


def test_golden_callback_data(survey: Survey) -> None:
    codec = CallbackCodec(survey)
    check(GOLDEN / "callback_data.json",
          {data: repr(codec.decode(data)) for data in CALLBACK_DATA})


def test_the_snapshots_read_in_both_languages(survey: Survey, catalogs: Catalogs) -> None:
    """Real catalog text: Hindi where the citizen chose Hindi, English where English."""
    hindi = transcript("hi_taps", survey, catalogs)
    first = hindi[0]["send_message"][0]
    assert first["text"][0] == "नमस्ते! यह फीडबैक थाना सिमगा के बारे में है।"
    assert first["reply_markup"]["inline_keyboard"][0][0] == {
        "text": "1. शिकायत / एफआईआर", "callback_data": "purpose:complaint_fir"}
    assert "फीडबैक नंबर: FB-26-000001" in hindi[-2]["send_message"][-1]["text"]
    english = transcript("en_words", survey, catalogs)
    assert english[0]["send_message"][0]["text"][0] == (
        "Namaste! This feedback is about: Palari (थाना पलारी).")
