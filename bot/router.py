"""One router for every channel: is a message an enrolment, an officer's command, an
acknowledgement, or a citizen's turn? Channels turn what arrives into an `Inbound` and
send back the replies; the decision is made here, the same for all of them."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from bot.database_work import DatabaseWork
from conversations.effects import Event, Start
from scheduler.app import App
from scheduler.officers.desk import OfficerDesk
from scheduler.service import WINDOWED, CitizenMessage, Turn

OFFICERS_FRESH = 30.0  # seconds


@dataclass(frozen=True)
class Command:
    """What a message says to the officers' desk, if it reads as a command."""

    name: str  # menu | today | alerts | cases | comments | language | ack | case | send | cancel
    alert_id: int | None = None  # for `ack`
    option: str = ""  # for `case`: a case's button, "report-12" (scheduler/cases/chat.py)
    # A /command or a button of the officers' menu: anyone else is told it is for
    # officers. A typed word ("menu") from anyone else is their feedback.
    explicit: bool = False


@dataclass(frozen=True)
class Inbound:
    urn: str  # telegram:123, whatsapp:+91..., console:...
    channel: str
    event: Event  # what it is as a citizen's message
    now: datetime
    provider_id: str | None = None  # Telegram's update_id, Twilio's MessageSid: dedupe
    token: str | None = None  # an invitation link's token: an officer enrolling
    command: Command | None = None


class Router:
    def __init__(self, app: App, work: DatabaseWork) -> None:
        self.app, self.work = app, work
        self.desk = OfficerDesk(app.engine, app.config)
        self._officers: dict[str, tuple[float, set[str]]] = {}  # channel: (read at, urns)

    async def route(self, inbound: Inbound) -> Turn:
        """The replies to send back (and, for a citizen's turn, what it completed)."""
        urn, now, command = inbound.urn, inbound.now, inbound.command
        if inbound.token:
            await self._seen(inbound)
            self._officers.pop(inbound.channel, None)  # one more officer, perhaps
            return Turn(await self.work.run(self.desk.enrol, urn, inbound.token, now))
        officer = urn in await self._enrolled(inbound.channel)
        if command is not None and officer and not command.explicit and await self.work.run(
                self.app.service.in_feedback, urn):
            command = None  # a word typed while giving feedback ("रद्द" stops it) is theirs
        if command is not None and (officer or command.explicit):
            await self._seen(inbound)
            if command.name == "ack" and command.alert_id is not None:
                return Turn(await self.work.run(self.desk.acknowledge, urn, command.alert_id,
                                                now))
            if command.name == "case":
                return Turn(await self.work.run(self.desk.case_tap, urn, command.option, now))
            return Turn(await self.work.run(self.desk.command, urn, command.name, now))
        event = inbound.event
        scanned = isinstance(event, Start) and event.code  # an officer tries a poster
        if officer and not scanned and not await self.work.run(
                self.app.service.in_feedback, urn):
            await self._seen(inbound)
            # The words of a step on a case they began, or else the menu.
            return Turn(await self.work.run(self.desk.message, urn, event, now))
        return await self.work.handle(CitizenMessage(urn, inbound.channel, event, now,
                                                     inbound.provider_id))

    async def _seen(self, inbound: Inbound) -> None:
        """An officer's message opens their WhatsApp window as a citizen's turn does."""
        if inbound.channel in WINDOWED:
            await self.work.run(self.app.service.seen, inbound.urn, inbound.now)

    async def _enrolled(self, channel: str) -> set[str]:
        """The channel's officers, read again every half minute rather than for every
        citizen's message: one enrolled through another process is known within that."""
        read_at, urns = self._officers.get(channel, (-OFFICERS_FRESH, set()))
        if time.monotonic() - read_at > OFFICERS_FRESH:
            urns = await self.work.run(self.desk.enrolled, channel)
            self._officers[channel] = (time.monotonic(), urns)
        return urns
