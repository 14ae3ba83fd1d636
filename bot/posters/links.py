"""The links a station's QR codes carry, checked against each platform's rules."""

from __future__ import annotations

import re
from urllib.parse import quote

from scheduler.config import ConfigError

# Telegram deep-link payloads: 1-64 of A-Z a-z 0-9 _ -  (station codes obey the same rule).
PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")


def telegram_link(bot_username: str, code: str) -> str:
    if not USERNAME.match(bot_username):
        raise ConfigError("telegram.bot_username is empty or not a bot username; set it to "
                          "the bot's username from @BotFather")
    if not PAYLOAD.match(code):
        raise ConfigError(f"station code {code!r} cannot be a Telegram start payload")
    return f"https://t.me/{bot_username}?start={code}"


def whatsapp_link(number: str, prefilled: str) -> str:
    """wa.me wants the number in international form without '+' or spaces."""
    digits = re.sub(r"[\s()+-]", "", number)
    if not digits.isdigit() or not 8 <= len(digits) <= 15:
        raise ConfigError(f"whatsapp.number {number!r} is not a phone number in international "
                          "form, e.g. +91 77xxxxxxxx")
    return f"https://wa.me/{digits}?text={quote(prefilled, safe='')}"
