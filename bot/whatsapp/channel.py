"""WhatsApp messages in, the engine's replies out. Knows Twilio, not the survey.

A citizen's turn is committed before the webhook answers, and its replies travel back
in that answer as TwiML: no second request, nothing to retry, Twilio sends them in
order. Only a turn with quick-reply buttons (Content templates, which TwiML cannot
carry) is answered empty and sent by the REST API in the background, one citizen's
messages in order. Proactive messages (the outbox's) use free text inside the
24-hour window and the configured template outside it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TypeVar

from bot.database_work import DatabaseWork
from bot.posters.layout import PREFILLED
from bot.router import Command, Inbound, Router
from bot.whatsapp.deliveries import Deliveries
from bot.whatsapp.inbound import ScanWords, read
from bot.whatsapp.media import File, Shelf, files
from bot.whatsapp.render import Outgoing, Renderer
from bot.whatsapp.twilio_api import Credentials, OptedOut, OutsideWindow, TwilioSender
from conversations.effects import Event, Reply, Tap, Text
from scheduler.alerts.acknowledge import ALERT_QUESTION, alert_of
from scheduler.app import App
from scheduler.cases.message import CASE_QUESTION
from scheduler.officers.desk import OFFICER_QUESTION
from scheduler.outbox.message import Outcome, Piece, Proactive, Refused, send_pieces, text_pieces

log = logging.getLogger(__name__)
T = TypeVar("T")
Clock = Callable[[], datetime]
NOTICE_CHARS = 200  # a template variable: one line, no tabs, no runs of spaces


def _now() -> datetime:
    return datetime.now(UTC)


class WhatsAppChannel:
    name = "whatsapp"

    def __init__(self, app: App, router: Router, work: DatabaseWork, creds: Credentials,
                 api_root: str = "", clock: Clock = _now, first_backoff: float = 0.5) -> None:
        self.app, self.router, self.work, self.creds, self.clock = (
            app, router, work, creds, clock)
        self.config = app.config.whatsapp
        self.api_root = api_root or self.config.api_base_url
        self.deliveries = Deliveries(app.engine, app.service.identity)
        self.renderer = Renderer(app.catalogs, self.config.quick_replies)
        self.words = ScanWords([*app.catalogs.translations_of(PREFILLED), PREFILLED])
        self.first_backoff = first_backoff
        public = self.config.public_url
        self.status_url = public + self.config.status_path if public else None
        self.sender: TwilioSender | None = None
        self.shelf = Shelf(app.engine, self.config, clock)
        self._order: dict[str, tuple[asyncio.Lock, int]] = {}  # lock, turns queued
        self._background: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Open the REST client; inside the running event loop, as aiohttp wants."""
        self.sender = TwilioSender(self.creds, self.config.sender, self.api_root,
                                   first_backoff=self.first_backoff)

    async def stop(self) -> None:
        if self._background:
            await asyncio.wait(self._background, timeout=10)
        if self.sender is not None:
            await self.sender.close()

    async def _db(self, func: Callable[..., T], *args: object) -> T:
        return await self.work.run(func, *args)

    # ---- inbound ----------------------------------------------------------------------

    async def receive(self, form: Mapping[str, str]) -> list[Outgoing]:
        """Handle one webhook; returns the replies for TwiML ([] if they go by REST)."""
        inbound = read(form, self.words)
        turn = await self.router.route(Inbound(
            inbound.urn, self.name, inbound.event, self.clock(), inbound.sid or None,
            inbound.token or None, self._command(inbound.event)))
        messages = [m for reply in turn.replies for m in self.renderer.render(reply)]
        if all(m.content_sid is None for m in messages):
            return messages
        task = asyncio.create_task(self._send_in_order(inbound.urn, messages))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return []

    def _command(self, event: Event) -> Command | None:
        """An officer's typed word ("menu", "ack 12"), or a tap on a quick reply of theirs."""
        if isinstance(event, Text) and (word := self.renderer.officer_command(event.text)):
            name, number, option = word
            return Command(name, number, option=option)
        if isinstance(event, Tap) and event.question == ALERT_QUESTION:
            alert_id = alert_of(event.option)
            return Command("ack", alert_id, explicit=True) if alert_id else None
        if isinstance(event, Tap) and event.question == OFFICER_QUESTION:
            return Command(event.option, explicit=True)
        if isinstance(event, Tap) and event.question == CASE_QUESTION:
            return Command("case", option=event.option, explicit=True)
        return None

    async def _send_in_order(self, urn: str, messages: list[Outgoing]) -> None:
        """A turn's replies by REST; one citizen's turns one after another."""
        lock, waiting = self._order.get(urn, (asyncio.Lock(), 0))
        self._order[urn] = (lock, waiting + 1)
        try:
            async with lock:
                await self._send_turn(urn, messages)
        finally:
            lock, waiting = self._order[urn]
            if waiting == 1:
                del self._order[urn]  # nobody else queued for this citizen
            else:
                self._order[urn] = (lock, waiting - 1)

    async def _send_turn(self, urn: str, messages: list[Outgoing]) -> None:
        try:
            for message in messages:
                await self._send_reply(urn, message)
        except OptedOut:
            await self._db(self.app.service.mark_blocked, urn, self.clock())
        except Exception as exc:  # never the number or the words in the log
            log.warning("a WhatsApp reply could not be sent (%s)", exc)

    async def _send_reply(self, urn: str, message: Outgoing) -> None:
        assert self.sender is not None, "start() the channel first"
        try:
            sid = await self.sender.send(urn, body=message.body,
                                         content_sid=message.content_sid,
                                         variables=dict(message.variables or {}),
                                         status_callback=self.status_url)
        except Refused as exc:
            if message.content_sid is None or isinstance(exc, OptedOut):
                raise
            # A template Twilio will not take (deleted, unapproved): the numbered list.
            log.warning("quick-reply template refused (%s); sending numbered options", exc)
            sid = await self.sender.send(urn, body=message.fallback,
                                         status_callback=self.status_url)
        await self._db(self.deliveries.sent, sid, None, self.clock())

    async def fetch(self, ref: str) -> tuple[str, bytes]:
        """A voice note or photo sent to our number (Twilio's media URL)."""
        assert self.sender is not None, "start() the channel first"
        return await self.sender.fetch(ref)

    async def delivery_report(self, form: Mapping[str, str]) -> None:
        code = form.get("ErrorCode", "")
        await self._db(self.deliveries.report, form.get("MessageSid", ""),
                       form.get("MessageStatus") or form.get("SmsStatus", ""),
                       int(code) if code.isdecimal() and len(code) <= 9 else None,
                       form.get("To", ""), self.clock())

    # ---- proactive ----------------------------------------------------------------------

    async def send(self, message: Proactive) -> Outcome:
        """An outbox message: free text inside the window, else the template and hold it."""
        assert self.sender is not None, "start() the channel first"
        urn = message.recipient
        if not re.fullmatch(r"whatsapp:\+[1-9][0-9]{7,14}", urn):
            raise Refused("not a WhatsApp number")
        now = self.clock()
        if not message.template and await self._db(self.app.service.window_open, urn, now):
            try:
                await self._free_text(message, now)
                return "sent"
            except OutsideWindow:
                pass  # our clock and WhatsApp's disagreed: the template it is
            except OptedOut:
                await self._db(self.app.service.mark_blocked, urn, now)
                raise
        return await self._notice(message, now)

    async def _free_text(self, message: Proactive, now: datetime) -> None:
        """The text's parts, then the chart and the tables as media; each one delivered
        is recorded, so a retry after a failure sends only the others."""
        parts = message.text_parts([p.body or p.fallback for p in
                                    self.renderer.render(message.reply)])
        attached = files(message.reply) if self.config.public_url else []
        attached += [File(item.name, item.content_type or "application/octet-stream",
                          item.body) for item in message.reply.attached
                     if item.body is not None and self.config.public_url]
        if not self.config.public_url and (message.reply.image or message.reply.documents):
            log.warning("a digest's chart and tables cannot go by WhatsApp without "
                        "whatsapp.public_url: sending its text only")
        pieces: list[Piece] = [
            *((name, lambda p=part: self._send_piece(message, now, p))
              for name, part in zip(text_pieces(len(parts)), parts, strict=True)),
            *((file.name, lambda f=file: self._send_piece(message, now, file=f))
              for file in attached)]
        await send_pieces(message, pieces, parts)

    async def _send_piece(self, message: Proactive, now: datetime, body: str | None = None,
                          file: File | None = None) -> None:
        """One text or one file (kept on the shelf for Twilio to fetch), recorded."""
        assert self.sender is not None
        url = await self._db(self.shelf.put, file, now) if file else None
        sid = await self.sender.send(message.recipient, body=body, media_url=url,
                                     status_callback=self.status_url, attempts=3)
        await self._db(self.deliveries.sent, sid, message.id, now)

    async def _notice(self, message: Proactive, now: datetime) -> Outcome:
        """The approved template, its variable the message's opening; the rest waits."""
        assert self.sender is not None
        # A kind's own template, or else the one of the kind it is sent like.
        templates: dict[str, dict[str, str]] = {str(k): v for k, v in
                                                 self.config.templates.items()}
        by_lang = templates.get(message.kind) or templates.get(
            {"case": "alert", "report": "digest"}.get(message.kind, ""), {})
        sid = by_lang.get(message.reply.lang) or next(iter(by_lang.values()), None)
        # A follow-up's template is its question; the citizen's reply is their answer,
        # so nothing is held for them (and without a template they cannot be reached).
        citizen = message.kind in ("follow_up", "closure_check")
        if sid is None:
            if citizen:
                raise Refused(f"no WhatsApp template for {message.kind} messages "
                              f"(whatsapp.templates.{message.kind})")
            log.warning("no WhatsApp template for %s messages: holding it until the officer "
                        "writes (set whatsapp.templates.%s)", message.kind, message.kind)
            return "held"
        try:
            sent = await self.sender.send(message.recipient, content_sid=sid,
                                          variables={"1": self._summary(message.reply, citizen)},
                                          status_callback=self.status_url, attempts=3)
        except OptedOut:
            await self._db(self.app.service.mark_blocked, message.recipient, now)
            raise
        await self._db(self.deliveries.sent, sent, message.id, now)
        return "sent" if citizen else "held"

    def _summary(self, reply: Reply, whole: bool = False) -> str:
        """One line for a template's variable: an officer's message opening, or all of a
        citizen's question with its numbered options (WhatsApp takes up to 1,024)."""
        if whole:
            text = " · ".join(m.body or m.fallback for m in self.renderer.render(reply))
            return " ".join(text.replace("\n", " · ").split())[:1000]
        # An alert's title, its reasons and its station.
        lines = [self.app.catalogs.text(reply.lang, line) for line in reply.lines[:3]]
        return " ".join(" · ".join(lines).split())[:NOTICE_CHARS]
