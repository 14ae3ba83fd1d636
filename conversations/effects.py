"""What the engine asks the outside world to do: events in, effects out.

Effects carry message ids and parameters, not rendered text: the channel renders
them in the session's language with the catalogs it was given, and chooses how to
show options (buttons, a numbered list).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# ---- events -------------------------------------------------------------------


@dataclass(frozen=True)
class Start:
    """The citizen opened the bot from a QR code; `code` is the deep-link payload.

    `lang` is a hint (a console flag, a language picked earlier) used for a fresh start.
    """

    code: str | None = None
    lang: str | None = None


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Tap:
    """A button press: the question it belonged to and the option chosen."""

    question: str
    option: str


MediaKind = Literal["voice", "audio", "photo", "video", "sticker", "document", "location",
                    "contact", "edited", "other"]  # "edited": a change to an old message


@dataclass(frozen=True)
class Media:
    kind: MediaKind
    ref: str = ""  # the provider's file id or URL; never the file itself
    # Words sent with it: an officer's report under his photo (a citizen's are not read)
    caption: str = ""


@dataclass(frozen=True)
class Tick:
    """Time passed with no message: lets the expiry sweep close idle conversations."""


Event = Start | Text | Tap | Media | Tick

# ---- effects ------------------------------------------------------------------


@dataclass(frozen=True)
class Msg:
    """A catalog message id and its parameters (strings or other messages)."""

    id: str
    params: tuple[tuple[str, str | Msg], ...] = ()

    @classmethod
    def of(cls, msgid: str, **params: str | Msg) -> Msg:
        return cls(msgid, tuple(sorted(params.items())))


@dataclass(frozen=True)
class Choice:
    id: str
    number: int
    label: Msg
    emoji: str = ""


@dataclass(frozen=True)
class Attached:
    """A voice note or photo sent after a message's text (an alert's, a case step's):
    by the platform's own reference where the recipient is on that platform, or as the
    file fetched and kept (storage/recordings.py)."""

    kind: Literal["voice", "photo"]
    ref: str  # a Telegram file id, or Twilio's media URL
    name: str  # the file's name as the officer sees it: FB-26-000001-voice.ogg
    citizen: bool = False  # a citizen's: kept only as long as the retention rule allows
    body: bytes | None = None
    content_type: str = ""


@dataclass(frozen=True)
class Reply:
    lang: str
    lines: tuple[Msg, ...]
    choices: tuple[Choice, ...] = ()
    question: str | None = None  # the question the choices answer ("_station", ...)
    image: bytes | None = None  # a PNG sent after the text (the digest's chart)
    documents: tuple[tuple[str, bytes], ...] = ()  # files sent last: (name, contents)
    attached: tuple[Attached, ...] = ()  # voice notes and photos, sent after the text


@dataclass(frozen=True)
class Completed:
    """Every applicable question is answered: the service stores it and thanks."""


@dataclass(frozen=True)
class Closed:
    """The feedback ends incomplete; later answers belong to a new feedback."""

    reason: Literal["expired", "stopped", "switched"]


Effect = Reply | Completed | Closed
