"""The voice notes and photos an outbox message carries, fetched once and kept.

A Telegram file id is sent again as it is to an officer on Telegram; anything else (a
Twilio media URL, which needs the account's credentials and does not last, or a file id
for an officer on WhatsApp) is fetched by the channel it came from, kept in the
database (storage/recordings.py) and sent as the file.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Protocol, runtime_checkable

from sqlalchemy import Engine
from sqlmodel import Session as Db

from conversations.effects import Attached, Reply
from scheduler.outbox.message import Refused
from storage import recordings
from storage.db import writer

log = logging.getLogger(__name__)


@runtime_checkable
class Fetches(Protocol):
    """A channel that can fetch what was sent to it (a voice note, a photo)."""

    name: str

    async def fetch(self, ref: str) -> tuple[str, bytes]:
        """(content type, body); raises Refused when the platform will not serve it."""
        ...


def came_by(ref: str) -> str:
    """The channel a reference belongs to: Twilio's are URLs, Telegram's are file ids."""
    return "whatsapp" if ref.startswith("https://") else "telegram"


def stored(db: Db, reply: Reply) -> Reply:
    """The reply with every file already kept attached."""
    if not reply.attached:
        return reply
    found = []
    for item in reply.attached:
        kept = recordings.find(db, item.ref)
        if kept is not None and kept.body is not None:
            item = replace(item, body=kept.body, content_type=kept.content_type)
        found.append(item)
    return replace(reply, attached=tuple(found))


class Attachments:
    def __init__(self, engine: Engine, channels: Mapping[str, object]) -> None:
        self.engine, self.channels = writer(engine), channels

    async def fetched(self, reply: Reply, recipient: str, now: datetime) -> Reply:
        """Fetch and keep what the recipient cannot be sent by reference."""
        if not reply.attached:
            return reply
        found = [await self._one(item, recipient, now) for item in reply.attached]
        return replace(reply, attached=tuple(found))

    async def _one(self, item: Attached, recipient: str, now: datetime) -> Attached:
        by = came_by(item.ref)
        if item.body is not None or (by == "telegram" and recipient.startswith("telegram:")):
            return item
        channel = self.channels.get(by)
        if not isinstance(channel, Fetches):
            return item  # not running in this process: the text says what was sent
        # Kept since this batch was read (another officer's copy fetched it), or known gone.
        kept = await asyncio.to_thread(self._kept, item.ref)
        if kept is not None:
            content_type, body, missing = kept
            return item if missing is not None or body is None else replace(
                item, body=body, content_type=content_type)
        try:
            content_type, body = await channel.fetch(item.ref)
        except Refused as exc:  # never the URL in the log: it names the message
            log.warning("a %s could not be fetched from %s (%s)", item.kind, by, exc)
            await asyncio.to_thread(self._keep, item, now, "", None, str(exc)[:200])
            return item
        await asyncio.to_thread(self._keep, item, now, content_type, body, None)
        return replace(item, body=body, content_type=content_type)

    def _kept(self, ref: str) -> tuple[str, bytes | None, str | None] | None:
        with Db(self.engine) as db:
            kept = recordings.find(db, ref)
            return (kept.content_type, kept.body, kept.missing) if kept is not None else None

    def _keep(self, item: Attached, now: datetime, content_type: str, body: bytes | None,
              missing: str | None) -> None:
        with Db(self.engine) as db, db.begin():
            recordings.keep(db, item.ref, item.kind, item.citizen, now, content_type, body,
                            missing)
