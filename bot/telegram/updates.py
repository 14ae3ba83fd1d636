"""Updates checked before anything reads them: the webhook's body, getUpdates' batches.

python-telegram-bot builds an Update from whatever JSON it is given: a number where a
text belongs, a chat id as a string, no sender. Such an update cannot come from
Telegram and can never be handled, so it must not fail a turn (a 500 that Telegram
would deliver again and again) either: it is logged once, by the field that is wrong
and never with its value, and passed over.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from starlette.requests import Request
from telegram import Bot, Update

log = logging.getLogger(__name__)

# Most updates are under 2 KB. The longest Telegram sends (4,096 characters of text, each
# escaped, as many entities, and the message it replies to with its own) stays within a
# few hundred KB: a 1 MB cap refuses none of Telegram's, and bounds what one request makes
# the server hold; read in chunks, more than that is never held at all.
MAX_BODY = 1024 * 1024
_INT64 = 2**63
Check = Callable[[object], bool]


def _int64(value: object) -> bool:
    # type(), not isinstance: JSON's true is not an id
    return type(value) is int and -_INT64 <= value < _INT64


def _update_id(value: object) -> bool:
    return type(value) is int and 0 <= value < _INT64


def _str(value: object) -> bool:
    return isinstance(value, str)


def _bool(value: object) -> bool:
    return isinstance(value, bool)


def _wrong_field(value: object, required: Mapping[str, Check],
                 optional: Mapping[str, Check]) -> str | None:
    if not isinstance(value, dict):
        return "(itself)"
    for key, check in required.items():
        if key not in value or not check(value[key]):
            return key
    return next((key for key, check in optional.items()
                 if key in value and not check(value[key])), None)


def _object(required: Mapping[str, Check], optional: Mapping[str, Check] | None = None
            ) -> Check:
    return lambda value: _wrong_field(value, required, optional or {}) is None


def _list_of(check: Check) -> Check:
    return lambda value: isinstance(value, list) and all(check(item) for item in value)


# What the channel reads of an update, and what python-telegram-bot needs to build it.
_USER = _object({"id": _int64, "is_bot": _bool, "first_name": _str})
_CHAT = _object({"id": _int64, "type": _str})
_FILE = _object({"file_id": _str})
_MARKUP = _object({"inline_keyboard": _list_of(_list_of(
    _object({"text": _str}, {"callback_data": _str})))})
_MESSAGE = ({"message_id": _int64, "date": _int64, "chat": _CHAT, "from": _USER},
            {"text": _str, "voice": _FILE, "audio": _FILE})
# A tapped message may be too old for Telegram to show: then it has no sender or text.
_TAPPED = _object({"message_id": _int64, "date": _int64, "chat": _CHAT},
                  {"text": _str, "reply_markup": _MARKUP})
_QUERY = ({"id": _str, "from": _USER, "chat_instance": _str},
          {"data": _str, "message": _TAPPED})
_KINDS = {"message": _MESSAGE, "edited_message": _MESSAGE, "callback_query": _QUERY}


def wrong_field(raw: dict[str, Any]) -> str | None:
    """The first field of an update that Telegram would not have sent so, or None."""
    if not _update_id(raw.get("update_id")):
        return "update_id"
    for kind, (required, optional) in _KINDS.items():
        if kind in raw and (field := _wrong_field(raw[kind], required, optional)):
            return f"{kind}.{field}"
    return None


def _ignored(why: str) -> None:
    # One line, never the update: it carries the citizen's chat id and words.
    log.warning("ignored a Telegram update that cannot be handled (%s)", why)


def parse(raw: object, bot: Bot | None) -> Update | None:
    """The update, or None (logged) when it cannot be one of Telegram's."""
    if not isinstance(raw, dict):
        _ignored("not a JSON object")
        return None
    if field := wrong_field(raw):
        _ignored(f"{field} is missing or of the wrong type")
        return None
    try:
        return Update.de_json(raw, bot)
    except Exception as exc:  # whatever python-telegram-bot trips over in it
        _ignored(f"python-telegram-bot could not read it: {type(exc).__name__}")
        return None


def from_body(body: bytes, bot: Bot) -> Update | None:
    try:
        raw = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past reading
        _ignored("not JSON")
        return None
    return parse(raw, bot)


def for_polling(raw: object) -> dict[str, Any] | None:
    """A fetched update as it is when it can be handled; otherwise (logged) only its
    update_id, which the bot handles as nothing and so confirms. None when even that is
    missing: nothing can confirm such an update, but it is not handed on either."""
    readable = parse(raw, None) is not None
    if not isinstance(raw, dict):
        return None
    if readable:
        return raw
    return {"update_id": raw["update_id"]} if _update_id(raw.get("update_id")) else None


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes | None:
    """The request's body, or None once it is longer than `limit`: read in the chunks it
    arrives in, so an over-size body is refused without being held whole."""
    declared = request.headers.get("content-length", "")
    # len() first: int() refuses thousands of digits with an exception of its own
    if declared.isascii() and declared.isdigit() and (
            len(declared) > len(str(limit)) or int(declared) > limit):
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
