"""The console channel: the same engine and storage as Telegram, in a terminal or a pipe.

In a terminal the options are numbered and you type a number. Piped, every line of
stdin is one message and every bot message is printed, so a whole feedback can be
scripted: the exit code is 0 when the feedback completed.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TextIO

from conversations.effects import Event, Reply, Start, Text
from scheduler.catalogs import Catalogs
from scheduler.service import FeedbackService

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def console_urn(sender: str | None) -> str:
    # Each console run is a new citizen unless --sender names one.
    return f"console:{sender or secrets.token_hex(8)}"


class ConsoleChat:
    def __init__(self, service: FeedbackService, catalogs: Catalogs, urn: str,
                 out: TextIO, clock: Clock = _now) -> None:
        self.service, self.catalogs, self.urn, self.out, self.clock = (
            service, catalogs, urn, out, clock)
        self.reference: str | None = None

    def send(self, event: Event) -> None:
        turn = self.service.handle(self.urn, "console", event, self.clock())
        for reply in turn.replies:
            self._show(reply)
        if turn.completed_reference:
            self.reference = turn.completed_reference

    def _show(self, reply: Reply) -> None:
        print(self.catalogs.render(reply), file=self.out)
        print(file=self.out)
        self.out.flush()

    def run(self, station: str, language: str | None, lines: Iterable[str],
            prompt: Callable[[], None] | None = None, echo: bool = False) -> bool:
        """Talk until the feedback completes or input ends; True when it completed.

        `echo` prints each piped line after "> ", so a scripted run reads as a transcript.
        """
        self.send(Start(station, language))
        for line in lines:
            if self.reference:
                break
            text = line.rstrip("\r\n")
            if echo:
                print(f"> {text}\n", file=self.out)
            self.send(Text(text))
            if prompt and not self.reference:
                prompt()
        return self.reference is not None
