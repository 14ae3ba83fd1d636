"""Telegram updates in, the engine's replies out. Knows Telegram, not the survey.

The order for every update: map it to an event, run the turn (committed in the
database), then send. A crash between commit and send loses nothing: Telegram
delivers the update again, the service recognises its update_id, and the citizen
is shown the question they are on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import partial

from telegram import Bot, CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.ext import BaseHandler, ContextTypes, TypeHandler

from bot.database_work import DatabaseWork
from bot.router import Command, Inbound, Router
from bot.telegram.keyboard import AlertTap, Button, CallbackCodec, CaseTap, OfficerTap, render
from bot.telegram.sending import Sleep, deliver, seconds
from conversations import messages as M
from conversations.effects import Attached, Event, Media, MediaKind, Reply, Start, Text
from scheduler.app import App
from scheduler.officers.desk import COMMANDS as OFFICER_COMMANDS
from scheduler.outbox.attachments import came_by
from scheduler.outbox.message import (
    Piece,
    Proactive,
    Refused,
    RetryLater,
    send_pieces,
    split,
    text_pieces,
)
from storage.officers import looks_like_token

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
# Set when handling an update failed; the webhook reads it to answer 500, not 200.
TURN_FAILED: ContextVar[bool] = ContextVar("prayas_turn_failed", default=False)
MAX_TEXT = 4096  # Telegram's limit for one message
MAX_FILE = 20 * 1024 * 1024  # the largest file a bot may download
# Kinds of message the bot cannot read, each answered with the same polite note.
_UNREAD: tuple[MediaKind, ...] = ("photo", "sticker", "video", "document", "location")


def _now() -> datetime:
    return datetime.now(UTC)


def _media(message: Message) -> Media:
    caption = message.caption or ""
    if voice := message.voice or message.audio:
        return Media("voice", voice.file_id, caption)
    if message.photo:  # the largest size: an officer's photo of the action taken
        return Media("photo", message.photo[-1].file_id, caption)
    for kind in _UNREAD:
        if getattr(message, kind):
            return Media(kind)
    if message.video_note or message.animation:
        return Media("video")
    if message.contact:
        return Media("contact")  # the shared phone number is never read or kept
    return Media("other")


def _start_payload(text: str) -> str | None:
    """'/start CODE' or '/start@PrayasBot CODE' -> 'CODE'; a bare '/start' -> None."""
    parts = text.split(maxsplit=1)
    return parts[1].strip() if len(parts) == 2 else None


def _command_name(text: str) -> str:
    return text.split(maxsplit=1)[0].lstrip("/").split("@", 1)[0].lower()


class TelegramChannel:
    name = "telegram"

    def __init__(self, app: App, router: Router, work: DatabaseWork, bot: Bot,
                 clock: Clock = _now, retry_backoff: float = 0.5,
                 max_text: int = MAX_TEXT, sleep: Sleep = asyncio.sleep) -> None:
        """`sleep`: how a retry waits (a test's clock may stand in)."""
        self.app, self.router, self.work, self.bot, self.clock = app, router, work, bot, clock
        self.max_text = max_text  # Telegram's limit; a test may split sooner
        self.codec = CallbackCodec(app.survey)
        self.retry_backoff = retry_backoff
        self.sleep = sleep

    def handlers(self) -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
        return [TypeHandler(Update, self.on_update)]

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await self._handle(update, self.bot)
        except Exception:
            TURN_FAILED.set(True)  # the webhook answers 500, so Telegram delivers it again
            raise

    async def _handle(self, update: Update, bot: Bot) -> None:
        chat = update.effective_chat
        if chat is None or chat.type != "private":
            return  # the bot serves one citizen at a time, never groups
        urn = f"telegram:{chat.id}"
        if update.callback_query is not None:
            await self._on_query(bot, update.callback_query, chat.id, urn, update.update_id)
            return
        message = update.message or update.edited_message
        if message is None:
            return
        replies = await self._on_message(message, urn, update.update_id,
                                         edited=update.message is None)
        await self._send(bot, chat.id, urn, replies)

    async def _route(self, urn: str, event: Event, update_id: int, token: str | None = None,
                     command: Command | None = None) -> list[Reply]:
        turn = await self.router.route(Inbound(urn, self.name, event, self.clock(),
                                               str(update_id), token, command))
        return turn.replies

    async def _on_message(self, message: Message, urn: str, update_id: int,
                          edited: bool) -> list[Reply]:
        if edited:
            return await self._route(urn, Media("edited"), update_id)
        text = message.text
        if text is None:
            return await self._route(urn, _media(message), update_id)
        if text.startswith("/") and _command_name(text) == "start":
            payload = _start_payload(text)
            if payload and looks_like_token(payload):
                return await self._route(urn, Start(None), update_id, token=payload)
            return await self._route(urn, Start(payload), update_id)
        if text.startswith("/") and _command_name(text) in OFFICER_COMMANDS:
            command = Command(_command_name(text), explicit=True)
            return await self._route(urn, Text(text), update_id, command=command)
        return await self._route(urn, Text(text), update_id)

    async def _on_query(self, bot: Bot, query: CallbackQuery, chat_id: int, urn: str,
                        update_id: int) -> None:
        await self._quietly(query.answer())  # always, or the button spins on the phone
        button = self.codec.decode(query.data)
        if button is None:
            # Not a button of ours (an app can send any data): a polite no-op, once.
            log.warning("ignored a tap on no button of ours")
            return
        replies, chosen = await self._on_tap(button, urn, update_id)
        await self._send(bot, chat_id, urn, replies)
        await self._mark_chosen(query, button, chosen)  # after the reply: only cosmetic

    async def _on_tap(self, button: Button, urn: str,
                      update_id: int) -> tuple[list[Reply], bool]:
        """The replies to a button press, and whether the press was taken as an answer."""
        if isinstance(button, OfficerTap):
            command = Command(button.command, explicit=True)
        elif isinstance(button, AlertTap):
            command = Command("ack", button.alert_id, explicit=True)
        elif isinstance(button, CaseTap):
            # A case's buttons stay: the step is asked for, and may be cancelled.
            return await self._route(urn, Text(""), update_id,
                                     command=Command("case", option=button.option,
                                                     explicit=True)), False
        else:
            replies = await self._route(urn, button, update_id)
            stale = any(line.id == M.STALE_BUTTON for r in replies for line in r.lines)
            return replies, not stale
        return await self._route(urn, Text(""), update_id, command=command), True

    async def _mark_chosen(self, query: CallbackQuery, button: Button, chosen: bool) -> None:
        """Show the answer in the question's message and drop its buttons: no double taps.
        In an officer's list of alerts, only the one acknowledged goes: the rest stay."""
        message = query.message
        if not isinstance(message, Message) or not message.text or isinstance(button, CaseTap):
            return
        rows = message.reply_markup.inline_keyboard if message.reply_markup else ()
        label = next((b.text for row in rows for b in row if b.callback_data == query.data),
                     None)
        text = f"{message.text}\n\n✅ {label}" if chosen and label else message.text
        rest = [kept for row in rows
                if (kept := [b for b in row if b.callback_data != query.data])]
        keep = isinstance(button, AlertTap) and chosen and rest
        await self._quietly(message.edit_text(
            text[:MAX_TEXT], reply_markup=InlineKeyboardMarkup(rest) if keep else None))

    async def _send(self, bot: Bot, chat_id: int, urn: str, replies: list[Reply]) -> None:
        for reply in replies:
            text, markup = render(reply, self.app.catalogs)
            # Longer than Telegram takes (an officer's list of comments): in parts, cut
            # at line ends, the buttons under the last.
            parts = split(text, self.max_text)
            for n, part in enumerate(parts, start=1):
                buttons = markup if n == len(parts) else None
                try:
                    await deliver(partial(bot.send_message, chat_id, part, reply_markup=buttons),
                                  first_backoff=self.retry_backoff, sleep=self.sleep)
                except Forbidden:
                    log.info("a citizen blocked the bot; not sending to them again")
                    await self.work.run(self.app.service.mark_blocked, urn, self.clock())
                    return
                except BadRequest as exc:
                    # Never the citizen's words or chat id in the log: Telegram's reason.
                    log.warning("Telegram refused a reply (%s); sending it without buttons",
                                exc)
                    await deliver(partial(bot.send_message, chat_id, part),
                                  first_backoff=self.retry_backoff, sleep=self.sleep)

    async def send(self, message: Proactive) -> None:
        """A proactive message (the outbox's): no retries here, the dispatcher owns them."""
        try:
            await self._send_proactive(self.bot, message)
        except RetryAfter as exc:
            raise RetryLater(seconds(exc.retry_after), "429") from exc
        except (Forbidden, BadRequest) as exc:  # blocked, or a message Telegram refuses
            raise Refused(str(exc)) from exc

    async def _send_proactive(self, bot: Bot, message: Proactive) -> None:
        channel, _, address = message.recipient.partition(":")
        if channel != "telegram" or not address.lstrip("-").isdigit():
            raise Refused(f"no Telegram chat for a {channel} address")
        text, markup = render(message.reply, self.app.catalogs)
        parts = message.text_parts(split(text, self.max_text))
        chat = int(address)
        # Every piece in order: the text's parts, the chart, the tables. Each one
        # delivered is recorded, so a retry after a failure sends only the others.
        last = len(parts)
        pieces: list[Piece] = [
            (name, partial(bot.send_message, chat, part,
                           reply_markup=markup if n == last else None))
            for n, (name, part) in enumerate(zip(text_pieces(last), parts, strict=True),
                                             start=1)]
        if image := message.reply.image:
            pieces.append(("chart.png", partial(bot.send_photo, chat, image)))
        pieces += [(name, partial(bot.send_document, chat, contents, filename=name))
                   for name, contents in message.reply.documents]
        pieces += [(item.name, send) for item in message.reply.attached
                   if (send := self._attached(bot, chat, item)) is not None]
        await send_pieces(message, pieces, parts)

    @staticmethod
    def _attached(bot: Bot, chat: int, item: Attached) -> Callable[[], Awaitable[object]] | None:
        """A voice note or photo: by its file id when it came by Telegram, else the file
        kept; None when neither can be sent (the text says one was sent)."""
        what: str | bytes | None = (item.ref if came_by(item.ref) == "telegram"
                                    else item.body)
        if what is None:
            return None
        if item.kind == "photo":
            return partial(bot.send_photo, chat, what)
        return partial(bot.send_voice, chat, what, filename=item.name)

    async def fetch(self, ref: str) -> tuple[str, bytes]:
        """A voice note or photo sent to the bot, by its file id (for an officer on
        WhatsApp, or to keep)."""
        try:
            found = await self.bot.get_file(ref)
            if (found.file_size or 0) > MAX_FILE:
                raise Refused("telegram file too large")
            body = bytes(await found.download_as_bytearray())
        except BadRequest as exc:  # an unknown or expired file id
            raise Refused(f"telegram: {exc}") from exc
        kind = "image/jpeg" if (found.file_path or "").endswith((".jpg", ".jpeg")) \
            else "audio/ogg"
        return kind, body

    @staticmethod
    async def _quietly(awaitable: Awaitable[object]) -> None:
        """For cosmetic calls (answering a tap, editing old buttons): never fail the turn."""
        try:
            await awaitable
        except (BadRequest, Forbidden):
            pass
        except Exception:
            log.warning("Telegram cosmetic call failed", exc_info=True)
