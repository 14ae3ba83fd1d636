"""Replies as Telegram messages: text plus an inline keyboard of numbered buttons.

Callback data must fit in 64 bytes: `question:option` when it fits, otherwise a short
hash looked up in a table built from the survey (no state to store or lose).

A tap's data comes back from the citizen's app, and an app can send any data at all:
it is read strictly, and what no button of ours could carry is not read as anything.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from conversations.effects import Reply, Tap
from conversations.prompts import STATION_QUESTION, SWITCH_QUESTION
from conversations.survey import SKIP_CHOICE, Survey
from scheduler.alerts.acknowledge import ALERT_QUESTION, alert_of
from scheduler.cases.chat import read_option
from scheduler.cases.message import CASE_QUESTION
from scheduler.catalogs import Catalogs
from scheduler.officers.desk import COMMANDS, OFFICER_QUESTION

MAX_DATA = 64
# Question and option ids as the survey, the station list and the prompts allow them
# (conversations/survey.py, scheduler/config.py). ASCII digits spelled out: str.isdigit() and
# \d also take '²' and '٣', which int() then refuses or reads.
_PLAIN = re.compile(r"(_?[a-z0-9][a-z0-9_]{0,39}):([A-Za-z0-9_-]{1,64})")
_HASHED = re.compile(r"#[0-9a-f]{24}")
# A hashed button whose pair the survey no longer has: the engine says it is old.
OLD_BUTTON = Tap("?", "?")


@dataclass(frozen=True)
class OfficerTap:
    command: str  # one of scheduler.officers.desk.COMMANDS


@dataclass(frozen=True)
class AlertTap:
    alert_id: int


@dataclass(frozen=True)
class CaseTap:
    option: str  # scheduler/cases/chat.py reads it


Button = Tap | OfficerTap | AlertTap | CaseTap


def _hashed(data: str) -> str:
    return "#" + hashlib.sha256(data.encode()).hexdigest()[:24]


def encode(question: str, option: str) -> str:
    data = f"{question}:{option}"
    return data if len(data.encode()) <= MAX_DATA else _hashed(data)


class CallbackCodec:
    def __init__(self, survey: Survey) -> None:
        questions = survey.every_question
        pairs = [(q.id, o.id) for q in questions for o in q.options]
        pairs += [(q.id, SKIP_CHOICE) for q in questions if q.type == "text"]
        pairs += [(STATION_QUESTION, s.code) for s in survey.stations]
        pairs += [(SWITCH_QUESTION, "new"), (SWITCH_QUESTION, "continue")]
        self._long = {_hashed(f"{q}:{o}"): (q, o) for q, o in pairs}

    def decode(self, data: object) -> Button | None:
        """The button a tap's data names; None when no button of ours carries such data."""
        if not isinstance(data, str) or len(data.encode()) > MAX_DATA:
            return None
        if _HASHED.fullmatch(data):
            question, option = self._long.get(data, (OLD_BUTTON.question, OLD_BUTTON.option))
            return Tap(question, option)
        question, _, option = data.partition(":")
        if question == ALERT_QUESTION:  # an alert's buttons: acknowledge, or a case's step
            alert_id = alert_of(option)
            if alert_id is not None:
                return AlertTap(alert_id)
            return CaseTap(option) if read_option(option) else None
        plain = _PLAIN.fullmatch(data)
        if plain is None:
            return None
        if plain[1] == OFFICER_QUESTION:
            return OfficerTap(plain[2]) if plain[2] in COMMANDS else None
        if plain[1] == CASE_QUESTION:
            return CaseTap(plain[2]) if read_option(plain[2]) else None
        return Tap(plain[1], plain[2])


def render(reply: Reply, catalogs: Catalogs) -> tuple[str, InlineKeyboardMarkup | None]:
    """The message text, and the choices as buttons (numbered, so typing works too)."""
    text = catalogs.render(reply, numbered=False)
    if not reply.choices or reply.question is None:
        return text, None
    rows = []
    for choice in reply.choices:
        emoji = f"{choice.emoji} " if choice.emoji else ""
        label = f"{choice.number}. {emoji}{catalogs.text(reply.lang, choice.label)}"
        rows.append([InlineKeyboardButton(label, callback_data=encode(reply.question, choice.id))])
    return text, InlineKeyboardMarkup(rows)
