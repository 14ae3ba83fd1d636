"""The console channel: the same router, engine and storage as Telegram, in a terminal or
a pipe.

In a terminal the options are numbered and you type a number. Piped, every line of
stdin is one message and every bot message is printed, so a whole feedback can be
scripted: the exit code is 0 when the feedback completed.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TextIO

from bot.router import Inbound, Router
from conversations.effects import Event, Reply, Start, Text
from scheduler.catalogs import Catalogs
from scheduler.outbox.message import Proactive

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def console_urn(sender: str | None) -> str:
    # Each console run is a new citizen unless --sender names one.
    return f"console:{sender or secrets.token_hex(8)}"


class ConsoleChannel:
    name = "console"

    def __init__(self, router: Router, catalogs: Catalogs, urn: str, out: TextIO,
                 clock: Clock = _now) -> None:
        self.router, self.catalogs, self.urn, self.out, self.clock = (
            router, catalogs, urn, out, clock)
        self.reference: str | None = None

    async def say(self, event: Event) -> None:
        """One message from the person at the console, and what the bot answers."""
        turn = await self.router.route(Inbound(self.urn, self.name, event, self.clock()))
        for reply in turn.replies:
            self._show(reply)
        if turn.completed_reference:
            self.reference = turn.completed_reference

    async def send(self, message: Proactive) -> None:
        """An outbox message for this console citizen (a follow-up): printed."""
        self._show(message.reply)

    def _show(self, reply: Reply) -> None:
        print(self.catalogs.render(reply), file=self.out)
        print(file=self.out)
        self.out.flush()

    async def run(self, station: str, language: str | None, lines: Iterable[str],
                  prompt: Callable[[], None] | None = None, echo: bool = False) -> bool:
        """Talk until the feedback completes or input ends; True when it completed.

        `echo` prints each piped line after "> ", so a scripted run reads as a transcript.
        """
        await self.say(Start(station, language))
        for line in lines:
            if self.reference:
                break
            text = line.rstrip("\r\n")
            if echo:
                print(f"> {text}\n", file=self.out)
            await self.say(Text(text))
            if prompt and not self.reference:
                prompt()
        return self.reference is not None
