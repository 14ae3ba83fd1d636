"""Golden snapshots of what WhatsApp would be sent, as TwiML and as outgoing messages.

The engine's replies for the scripted conversations (tests.golden.SCRIPTS, a fixed
clock) go through the real `bot.whatsapp.render.Renderer` and catalogs:

- as the sample config has it (no quick-reply templates), each turn's messages are
  numbered text, answered in the webhook's TwiML (`bot.whatsapp.webhook.twiml`,
  recorded as its lines);
- where the district configured quick-reply templates, a question with buttons is a
  Content template with its variable and the numbered fallback; such a turn goes out
  by Twilio's REST API (WhatsAppChannel.receive), so its Outgoing messages are recorded.

Every question is asked, as in a district with a follow-up template (without one, the
service leaves the follow-up question out on WhatsApp). After a deliberate change:
`PRAYAS_UPDATE_GOLDEN=1 pytest tests/bot/whatsapp/test_golden_render.py`, read the diff.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.whatsapp.render import Outgoing, Renderer
from bot.whatsapp.webhook import twiml
from conversations.survey import Survey
from scheduler.catalogs import Catalogs
from scheduler.config import load_config
from tests.conftest import SAMPLE_CONFIG, T0
from tests.golden import SCRIPTS, check, event_data, lines, replies

GOLDEN = Path(__file__).resolve().parent / "golden"
NUMBERED = ["hi_typed", "hi_skip_reask_voice", "hi_picker_switch", "en_words", "hi_follow_up",
            "hi_habit_pause", "hi_picker_kinds"]
BUTTONS = ["hi_taps", "en_words"]
# Quick-reply templates as a district would configure them (ids made up, fixed).
QUICK_REPLIES = {question: {"hi": f"HX{n:032x}", "en": f"HX{n + 100:032x}"}
                 for n, question in enumerate(["purpose", "heard", "behaviour", "receipt",
                                               "action", "guidance", "demand",
                                               "satisfaction", "contact", "followup"],
                                              start=1)}


def outgoing(message: Outgoing) -> dict[str, Any]:
    if message.content_sid is None:
        return {"body": lines(message.body)}
    return {"content_sid": message.content_sid,
            "variables": {k: lines(v) for k, v in (message.variables or {}).items()},
            "fallback": lines(message.fallback)}


def numbered(name: str, survey: Survey, catalogs: Catalogs) -> list[dict[str, Any]]:
    renderer = Renderer(catalogs, load_config(SAMPLE_CONFIG).whatsapp.quick_replies)
    turns = []
    for event, said in replies(SCRIPTS[name], survey, T0):
        messages = [m for reply in said for m in renderer.render(reply)]
        assert all(m.content_sid is None for m in messages)  # so the webhook answers in TwiML
        turns.append({"event": event_data(event) if event else {"begin_follow_up": True},
                      "twiml": lines(twiml(messages))})
    return turns


def with_buttons(name: str, survey: Survey, catalogs: Catalogs) -> list[dict[str, Any]]:
    renderer = Renderer(catalogs, QUICK_REPLIES)
    return [{"event": event_data(event) if event else {"begin_follow_up": True},
             "messages": [outgoing(m) for reply in said for m in renderer.render(reply)]}
            for event, said in replies(SCRIPTS[name], survey, T0)]


@pytest.mark.parametrize("name", NUMBERED)
def test_golden_twiml(name: str, survey: Survey, catalogs: Catalogs) -> None:
    check(GOLDEN / f"twiml_{name}.json", numbered(name, survey, catalogs))


@pytest.mark.parametrize("name", BUTTONS)
def test_golden_quick_replies(name: str, survey: Survey, catalogs: Catalogs) -> None:
    check(GOLDEN / f"quick_replies_{name}.json", with_buttons(name, survey, catalogs))


def test_the_snapshots_read_in_both_languages(survey: Survey, catalogs: Catalogs) -> None:
    hindi = numbered("hi_typed", survey, catalogs)
    assert hindi[0]["twiml"][0] == ('<?xml version="1.0" encoding="UTF-8"?><Response>'
                                    "<Message>नमस्ते! यह फीडबैक थाना सुहेला के बारे में है।")
    assert "1. शिकायत / एफआईआर" in hindi[0]["twiml"]
    assert "फीडबैक नंबर: FB-26-000001" in hindi[-1]["twiml"]
    english = with_buttons("en_words", survey, catalogs)
    template = english[0]["messages"][-1]
    assert template["content_sid"] == QUICK_REPLIES["purpose"]["en"]
    assert template["variables"]["1"][-1] == "Question 1: What did you come for?"
    assert template["fallback"][-1] == "5. Other work"
