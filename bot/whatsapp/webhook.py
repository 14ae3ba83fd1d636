"""Twilio's webhooks on `prayas serve`: a citizen's message, and delivery reports.

Every request must carry a valid X-Twilio-Signature over the URL Twilio called and
the form it sent. Behind a TLS-terminating proxy the URL we see is not the one Twilio
signed, so the signed URL is built from `whatsapp.public_url` (or, only when configured
as trusted, from the proxy's X-Forwarded-* headers).

A valid signature is not enough: Twilio signs the sorted keys and values run together
without separators, so a value can swallow the next key ("From" = "whatsapp:+91…
MessageSidSM…") and keep the signature while the message loses its sid. So the fields
that say who wrote to whom must also have exactly the form Twilio gives them, and name
our account and our number. What fails is refused with one warning that names the
rule, never a value:

- 413: a body over 64 KB;
- 400: a body that is not UTF-8, or a field longer than Twilio ever sends (`LIMITS`);
- 403: a repeated key, a missing or wrong signature, an AccountSid not ours, our
  number not where it belongs (`To` of a message, `From` of a delivery report), the
  other side not `whatsapp:+` and 8-15 digits, a MessageSid not SM/MM and 32 hex digits.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from twilio.request_validator import (
    HMAC_SHA1,
    HMAC_SHA256,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)

from bot.whatsapp.channel import WhatsAppChannel
from bot.whatsapp.inbound import MAX_TEXT
from bot.whatsapp.render import Outgoing
from scheduler.config import WhatsApp

log = logging.getLogger(__name__)
SIGNATURE = "X-Twilio-Signature"
ALGORITHMS = (HMAC_SHA1, HMAC_SHA256)
MAX_FORM = 64 * 1024  # a WhatsApp webhook is a few hundred bytes
# No field Twilio sends is longer than a WhatsApp message; the ones we keep are shorter.
# The Body is cut instead (bot/whatsapp/inbound.py).
MAX_FIELD = MAX_TEXT
# A voice note's URL is stored; a button's id is one of our templates', question:option.
LIMITS = {"MediaUrl0": 1024, "ButtonPayload": 256}
MESSAGE_SID = re.compile(r"(?:SM|MM)[0-9a-fA-F]{32}")
WHATSAPP_NUMBER = re.compile(r"whatsapp:\+[1-9][0-9]{7,14}")  # E.164: 8-15 digits


class Form(dict[str, str]):
    """A form without repeated keys (the others are refused), as RequestValidator reads it."""

    # RequestValidator tries getall() first and catches the AttributeError, then getlist(),
    # for each of the form's fifteen fields: half the signature check's time, without this.
    def getall(self, key: str) -> list[str]:
        return [self[key]]


Handled = tuple[int, str, bytes]  # status, content type, body
Handle = Callable[[Form], Coroutine[Any, Any, Handled]]
Check = Callable[[Scope, Form], str | None]  # why the request is refused (403), or None


@dataclass(frozen=True)
class Ours:
    """Who a genuine request is between: our account, our number on one side (`ours`:
    To of a message, From of a delivery report) and a WhatsApp user on the other."""

    account_sid: str
    number: str  # whatsapp:+91...
    ours: str
    theirs: str

    def refusal(self, form: Form) -> str | None:
        if form.get("AccountSid") != self.account_sid:
            return "its AccountSid is not ours"
        if form.get(self.ours) != self.number:
            return f"its {self.ours} is not our number"
        if not WHATSAPP_NUMBER.fullmatch(form.get(self.theirs, "")):
            return f"its {self.theirs} is not a WhatsApp number"
        if not MESSAGE_SID.fullmatch(form.get("MessageSid", "")):
            return "its MessageSid is not a message sid"
        return None


class Signatures:
    """X-Twilio-Signature checked by twilio's RequestValidator: with the Auth Token, or
    with the Shared Key when the request says (X-Twilio-Webhooks-Signature-Settings)."""

    def __init__(self, config: WhatsApp, auth_token: str, shared_key: str = "") -> None:
        self.config = config
        self.by_token = RequestValidator(auth_token)
        self.by_key = RequestValidator(shared_key or auth_token)

    def valid(self, scope: Scope, path: str, form: Form) -> bool:
        headers = Headers(scope=scope)
        signature, settings = headers.get(SIGNATURE, ""), headers.get(SIGNATURE_SETTINGS_HEADER)
        algorithm = get_signature_algorithm(settings).upper()
        # An algorithm twilio does not know: validate() would log a second warning.
        if not signature or algorithm not in ALGORITHMS:
            return False
        validator = self.by_key if settings else self.by_token
        return bool(validator.validate(signed_url(scope, self.config, path), form, signature,
                                       algorithm))


def signed_url(scope: Scope, config: WhatsApp, path: str) -> str:
    """The URL Twilio called, as it signed it."""
    # From the raw query, as Starlette's URL would give it, without building that URL:
    # it parses the Host header each time, 7 % of the webhook's time under load.
    raw_query = scope.get("query_string", b"")
    query = f"?{raw_query.decode()}" if raw_query else ""
    if config.public_url:
        return config.public_url + path + query
    request = Request(scope)
    if config.trust_forwarded_headers:
        proto = request.headers.get("x-forwarded-proto", request.url.scheme).split(",")[0]
        host = request.headers.get("x-forwarded-host", request.headers.get("host", ""))
        return f"{proto.strip()}://{host.split(',')[0].strip()}{path}{query}"
    return str(request.url)


def twiml(messages: list[Outgoing]) -> str:
    """<Response><Message>text</Message>...</Response>, escaped.

    No `action` attribute: Twilio would hand the rest of the conversation to that URL and
    skip every later <Message>. Written out rather than built with twilio's
    MessagingResponse (ElementTree): the same XML at a tenth of the cost; a test checks.
    """
    parts = "".join(f"<Message>{escape(m.body)}</Message>" for m in messages)
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{parts}</Response>'


class Webhook:
    """A Twilio webhook as a plain ASGI endpoint: the body read, the request checked,
    then `handle`. Without Starlette's Request and Response objects around each call,
    which cost a fifth of the webhook's time under load (bench/README.md)."""

    def __init__(self, check: Check, handle: Handle) -> None:
        self.check, self.handle = check, handle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await _read(receive)
        if body is _GONE:
            return  # Twilio hung up mid-request: nobody to answer, nothing to check
        status, kind, body = await self._answer(scope, body)
        # A 204 has no body, so no length either (HTTP says so; proxies check).
        headers = [] if status == 204 else [(b"content-length", str(len(body)).encode())]
        if kind:
            headers.append((b"content-type", kind.encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _answer(self, scope: Scope, body: bytes | None) -> Handled:
        if body is None:
            return _refused(413, "its body is longer than 64 KB")
        try:
            pairs = parse_qsl(body.decode(), keep_blank_values=True)
        except UnicodeDecodeError:
            return _refused(400, "its body is not UTF-8")
        form = Form(pairs)
        # The signature covers a key's distinct values, each once: a value sent twice passes
        # for once, and of two values the form would keep one. Twilio never repeats a key.
        if len(form) != len(pairs):
            return _refused(403, "a key is repeated")
        if reason := self.check(scope, form):
            return _refused(403, reason)
        if _too_long(form):
            return _refused(400, "a field is longer than Twilio sends")
        return await self.handle(form)


def _refused(status: int, reason: str) -> Handled:
    # The reason is one of ours, never the request's text: no number, no message in the log.
    log.warning("a WhatsApp webhook was refused (%d): %s", status, reason)
    return status, "", b""


def _too_long(form: Form) -> bool:
    return any(len(value) > LIMITS.get(key, MAX_FIELD)
               for key, value in form.items() if key != "Body")


_GONE = b"<disconnected>"  # a marker, compared by identity


async def _read(receive: Receive) -> bytes | None:
    """The request's body; None once it is longer than any webhook of Twilio's; _GONE if
    the caller disconnected before sending all of it."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return _GONE
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_FORM:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def whatsapp_routes(config: WhatsApp, channel: WhatsAppChannel, auth_token: str,
                    shared_key: str = "") -> list[Route]:
    signatures = Signatures(config, auth_token, shared_key)
    account = channel.creds.account_sid

    def check(path: str, ours: Ours) -> Check:
        def refusal(scope: Scope, form: Form) -> str | None:
            if not signatures.valid(scope, path, form):
                return "its signature is missing or wrong"
            return ours.refusal(form)

        return refusal

    async def message(form: Form) -> Handled:
        replies = await channel.receive(form)
        return 200, "application/xml", twiml(replies).encode()

    async def status(form: Form) -> Handled:
        await channel.delivery_report(form)
        return 204, "", b""

    # A message comes to our number; a delivery report is about one we sent from it.
    endpoints = ((config.webhook_path, Ours(account, config.sender, "To", "From"), message),
                 (config.status_path, Ours(account, config.sender, "From", "To"), status))
    return [Route(path, Webhook(check(path, ours), handle), methods=["POST"])
            for path, ours, handle in endpoints] + [channel.shelf.route()]


def direct_endpoints(routes: list[Route]) -> dict[str, Webhook]:
    """The webhooks by path, for `bot.web.Front` to call without Starlette's router."""
    return {route.path: route.endpoint for route in routes
            if isinstance(route.endpoint, Webhook)}
