"""A Twilio WhatsApp webhook's form, read as what the person meant.

A poster's link opens WhatsApp with "फीडबैक BLB05" typed in; citizens send it as is,
edit it, translate it or delete the code. A message that is only the prefilled
words and at most one code is a scan; anything else is an answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from conversations.effects import Event, Media, MediaKind, Start, Tap, Text
from conversations.text import normalize
from storage.officers import looks_like_token

# Words a prefilled message may carry around the code, beyond the catalogs' own.
_SCAN_WORDS = {"feedback", "फीडबैक", "फीडबेक", "फ़ीडबैक", "प्रतिक्रिया"}
_FILLER = {"thana", "थाना", "station", "code", "कोड", "please", "कृपया", "ps", "chowki", "चौकी",
           "police", "पुलिस", "for", "का", "की", "के", "hi", "hello", "नमस्ते"}
# WhatsApp's longest message. A longer Body is no message of Twilio's; it is cut, not
# refused, so the engine still keeps a comment's first part and tells the citizen.
MAX_TEXT = 4096
_CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_EDGE_PUNCT = ".,;:!?\"'`()[]{}<>|\\/*~#@&+=।॥…“”‘’-"
_MEDIA_KINDS: tuple[tuple[str, MediaKind], ...] = (
    ("audio/", "voice"), ("image/webp", "sticker"), ("image/", "photo"), ("video/", "video"),
    ("text/vcard", "contact"), ("text/x-vcard", "contact"), ("application/", "document"),
)


@dataclass(frozen=True)
class TwilioMessage:
    """One WhatsApp message: who sent it, Twilio's id, and what it means."""

    urn: str  # whatsapp:+91...
    sid: str
    event: Event
    token: str | None = None  # an officer's enrolment token
    button: str | None = None  # a quick-reply button's payload


class ScanWords:
    """The words of the prefilled text, in every language we have a catalog for."""

    def __init__(self, prefilled: Iterable[str]) -> None:
        words = set(_SCAN_WORDS)
        for text in prefilled:  # "फीडबैक {code}", "Feedback {code}"
            words |= set(normalize(text.replace("{code}", " ")).split())
        self.words = {normalize(w) for w in words}

    def scan(self, text: str) -> Start | None:
        """A scan of a poster: Start with the code found, or with none when it was deleted."""
        tokens = [t.strip(_EDGE_PUNCT) for t in text.split()]
        tokens = [t for t in tokens if t]
        if not tokens or len(tokens) > 6:
            return None
        kinds = [normalize(t) for t in tokens]
        if not any(k in self.words for k in kinds):
            return None
        rest = [t for t, k in zip(tokens, kinds, strict=True)
                if k not in self.words and k not in _FILLER]
        if not rest:
            return Start(None)
        if len(rest) == 1 and _CODE.fullmatch(rest[0]) and any(c.isdigit() for c in rest[0]):
            return Start(rest[0].upper())
        return None


def read(form: Mapping[str, str], words: ScanWords) -> TwilioMessage:
    """The event in a webhook's form; `From` is the sender's URN as Twilio writes it."""
    urn, sid = form.get("From", ""), form.get("MessageSid", "")
    if payload := form.get("ButtonPayload"):
        question, sep, option = payload.partition(":")
        tap = Tap(question, option) if sep else Tap("?", "?")
        return TwilioMessage(urn, sid, tap, button=payload)
    if _count(form.get("NumMedia")) > 0:
        kind = _media_kind(form.get("MediaContentType0", ""))
        # a citizen's voice note, an officer's voice note or photo of the action taken
        ref = form.get("MediaUrl0", "") if kind in ("voice", "photo") else ""
        return TwilioMessage(urn, sid, Media(kind, ref, form.get("Body", "")[:MAX_TEXT]))
    if form.get("Latitude") and form.get("Longitude"):
        return TwilioMessage(urn, sid, Media("location"))  # where they are is never kept
    body = form.get("Body", "")[:MAX_TEXT]
    if looks_like_token(body.strip()):
        return TwilioMessage(urn, sid, Text(body), token=body.strip())
    return TwilioMessage(urn, sid, words.scan(body) or Text(body))


def _count(value: str | None) -> int:
    return int(value) if value and value.isdecimal() and len(value) <= 3 else 0


def _media_kind(content_type: str) -> MediaKind:
    content_type = content_type.lower()
    return next((kind for prefix, kind in _MEDIA_KINDS if content_type.startswith(prefix)),
                "other")
