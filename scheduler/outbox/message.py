"""What every channel shares about sending: a proactive message, its outcome, long texts.

The outbox dispatcher hands a `Channel` a `Proactive` and reads back what happened;
channels raise `Refused` (never retry) or `RetryLater` in their platform's stead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from conversations.effects import Reply

Outcome = Literal["sent", "held"]  # held: outside WhatsApp's window, waiting for the officer


class Withheld(Exception):
    """A message that must not go out any more (not a failure: nothing went wrong)."""


@dataclass(frozen=True)
class Proactive:
    """One outbox message, ready to send."""

    id: int
    kind: str  # red_alert | alert | escalation | case | follow_up | digest
    recipient: str  # a URN: telegram:123, whatsapp:+91...
    reply: Reply
    template: bool = False  # free text was refused earlier: send the approved template
    # A long message goes in pieces: its text's parts, then the chart and the tables.
    # `sent` names those an earlier attempt delivered (`text:1`, `chart.png`, a table's
    # file name) and they are skipped; `progress` records each one as it goes. By name,
    # not by count: a digest built again for the retry may have gained or lost a table.
    sent: frozenset[str] = frozenset()
    # The text's parts as that attempt cut them: the retry sends the rest of the same
    # text, not of a digest built again (an alert acknowledged since would shift lines
    # from one part to another, and a line would go twice or never). The chart and the
    # tables are built again: they are whole pieces, sent whole or not at all.
    texts: tuple[str, ...] = ()
    progress: Callable[[list[str], list[str]], Awaitable[None]] | None = field(
        default=None, compare=False)

    def text_parts(self, fresh: list[str]) -> list[str]:
        """The parts to send: those of the earlier attempt, if there was one."""
        return list(self.texts) if self.texts and self.sent else fresh

    async def delivered(self, pieces: list[str], texts: list[str]) -> None:
        if self.progress is not None:
            await self.progress(pieces, texts)


def text_pieces(count: int) -> list[str]:
    """The names of a message's text parts, in order."""
    return [f"text:{n}" for n in range(1, count + 1)]


Piece = tuple[str, Callable[[], Awaitable[object]]]  # its name, and how to send it


async def send_pieces(message: Proactive, pieces: list[Piece], texts: list[str]) -> None:
    """Each piece an earlier attempt did not deliver, in order, each recorded as it goes
    with the text's parts (but the last: the message's outcome settles it)."""
    done = sorted(message.sent)
    for name, send in pieces:
        if name in message.sent:
            continue
        await send()
        done.append(name)
        if name != pieces[-1][0]:
            await message.delivered(done, texts)


class Refused(Exception):
    """The platform will never take this message (blocked, opted out, malformed)."""


class RetryLater(Exception):
    def __init__(self, seconds: float, reason: str) -> None:
        super().__init__(reason)
        self.seconds = seconds


def split(text: str, limit: int) -> list[str]:
    """Cut at line ends into messages of at most `limit` characters."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # a single line too long for one message
            parts.append(line[:limit])
            line = line[limit:]
        if current and len(current) + 1 + len(line) > limit:
            parts.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    return [*parts, current] if current else parts or [""]


class Channel(Protocol):
    """What the dispatcher needs of a platform: send one outbox message to its recipient,
    and raise `Refused` (never retry) or `RetryLater` when the platform says so. Any other
    exception is a hiccup: the dispatcher backs off and tries again."""

    name: str  # the URN's prefix: telegram, whatsapp, console

    async def send(self, message: Proactive) -> Outcome | None: ...
