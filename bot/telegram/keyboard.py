"""Replies as Telegram messages: text plus an inline keyboard of numbered buttons.

Callback data must fit in 64 bytes: `question:option` when it fits, otherwise a short
hash looked up in a table built from the survey (no state to store or lose).
"""

from __future__ import annotations

import hashlib

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import Catalogs
from conversations.effects import Reply
from conversations.prompts import SKIP_CHOICE, STATION_QUESTION, SWITCH_QUESTION
from conversations.survey import Survey

MAX_DATA = 64


def _hashed(data: str) -> str:
    return "#" + hashlib.sha256(data.encode()).hexdigest()[:24]


def encode(question: str, option: str) -> str:
    data = f"{question}:{option}"
    return data if len(data.encode()) <= MAX_DATA else _hashed(data)


class CallbackCodec:
    def __init__(self, survey: Survey) -> None:
        questions = (*survey.questions, *survey.follow_up)
        pairs = [(q.id, o.id) for q in questions for o in q.options]
        pairs += [(q.id, SKIP_CHOICE) for q in questions if q.type == "text"]
        pairs += [(STATION_QUESTION, s.code) for s in survey.stations]
        pairs += [(SWITCH_QUESTION, "new"), (SWITCH_QUESTION, "continue")]
        self._long = {_hashed(f"{q}:{o}"): (q, o) for q, o in pairs}

    def decode(self, data: str) -> tuple[str, str] | None:
        if data.startswith("#"):
            return self._long.get(data)
        question, sep, option = data.partition(":")
        return (question, option) if sep and question and option else None


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
