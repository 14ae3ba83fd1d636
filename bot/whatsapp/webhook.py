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

A caller that hangs up before the whole body came is not answered, and nothing is stored.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from twilio.request_validator import (
    HMAC_SHA1,
    HMAC_SHA256,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)
from twilio.twiml.messaging_response import MessagingResponse

from bot.whatsapp.channel import WhatsAppChannel
from bot.whatsapp.inbound import MAX_TEXT
from bot.whatsapp.render import Outgoing
from scheduler.config import WhatsApp

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'

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

Handle = Callable[["Fields"], Awaitable[Response]]


class Refused(Exception):
    """Why a request is not handled: its status, and the rule it broke (never its text)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


@dataclass(frozen=True)
class Ours:
    """Who a genuine request is between: our account, our number on one side (`ours`:
    To of a message, From of a delivery report) and a WhatsApp user on the other."""

    account_sid: str
    number: str  # whatsapp:+91...
    ours: str
    theirs: str

    def refusal(self, form: Fields) -> str | None:
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

    def valid(self, request: Request, path: str, form: Fields) -> bool:
        signature = request.headers.get(SIGNATURE, "")
        settings = request.headers.get(SIGNATURE_SETTINGS_HEADER)
        algorithm = get_signature_algorithm(settings).upper()
        # An algorithm twilio does not know: validate() would log a second warning.
        if not signature or algorithm not in ALGORITHMS:
            return False
        validator = self.by_key if settings else self.by_token
        return bool(validator.validate(signed_url(request, self.config, path), form,
                                       signature, algorithm))


def signed_url(request: Request, config: WhatsApp, path: str) -> str:
    """The URL Twilio called, as it signed it."""
    # From the ASGI scope: Request.url would build the whole URL only for its query.
    raw_query = request.scope.get("query_string", b"").decode("latin-1")
    query = f"?{raw_query}" if raw_query else ""
    if config.public_url:
        return config.public_url + path + query
    if config.trust_forwarded_headers:
        proto = request.headers.get("x-forwarded-proto", request.url.scheme).split(",")[0]
        host = request.headers.get("x-forwarded-host", request.headers.get("host", ""))
        return f"{proto.strip()}://{host.split(',')[0].strip()}{path}{query}"
    return str(request.url)


def twiml(messages: list[Outgoing]) -> str:
    """<Response><Message>text</Message>...</Response>, the very text twilio's
    MessagingResponse writes (tests/bot/whatsapp/test_webhook_plain.py holds them equal;
    built by hand: bench/README.md).

    No `action` attribute: Twilio would hand the rest of the conversation to that URL and
    skip every later <Message>.
    """
    parts = [f"<Message>{escape(m.body)}</Message>" if m.body else "<Message />"
             for m in messages]
    return XML_DECLARATION + (f"<Response>{''.join(parts)}</Response>" if parts
                              else "<Response />")


def messaging_response(messages: list[Outgoing]) -> str:
    """The same TwiML by twilio's MessagingResponse: the plain version, beside `twiml`."""
    response = MessagingResponse()
    for message in messages:
        response.message(message.body)
    return str(response.to_xml(xml_declaration=True))


class Fields(dict[str, str]):
    """A webhook's form: each key once (a form that repeats one is refused), read by
    twilio's validator as the multidict it supports: `getall`, so it does not raise and
    catch two exceptions a field looking for it (bench/README.md)."""

    def getall(self, key: str) -> list[str]:
        return [self[key]]


async def read_form(request: Request) -> Fields:
    """The request's form, its body read up to 64 KB and no further.

    Raises Refused, or ClientDisconnect when the caller hung up before the whole body.
    """
    body = bytearray()
    async with contextlib.aclosing(request.stream()) as chunks:
        async for chunk in chunks:
            body += chunk
            if len(body) > MAX_FORM:
                raise Refused(413, "its body is longer than 64 KB")
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise Refused(400, "its body is not UTF-8") from None
    pairs = parse_qsl(text, keep_blank_values=True)
    form = Fields(pairs)
    # The signature covers a key's distinct values, each once: a value sent twice passes
    # for once, and of two values a form keeps one. Twilio never repeats a key.
    if len(form) != len(pairs):
        raise Refused(403, "a key is repeated")
    return form


def _too_long(form: Fields) -> bool:
    return any(len(value) > LIMITS.get(key, MAX_FIELD)
               for key, value in form.items() if key != "Body")


class Unanswered(Response):
    """For a caller who hung up mid-request: nobody to answer, so nothing is sent."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        return None


def webhook(path: str, signatures: Signatures, ours: Ours, handle: Handle) -> Route:
    """A Twilio webhook: the form read, the request checked, then `handle`."""

    async def checked(request: Request) -> Fields:
        form = await read_form(request)
        if not signatures.valid(request, path, form):
            raise Refused(403, "its signature is missing or wrong")
        if reason := ours.refusal(form):
            raise Refused(403, reason)
        if _too_long(form):
            raise Refused(400, "a field is longer than Twilio sends")
        return form

    async def endpoint(request: Request) -> Response:
        try:
            form = await checked(request)
        except ClientDisconnect:
            return Unanswered()  # Twilio hung up: not a forged request, nothing to check
        except Refused as refused:
            # One of our reasons, never the request's text: no number, no message in the log.
            log.warning("a WhatsApp webhook was refused (%d): %s", refused.status,
                        refused.reason)
            return Response(status_code=refused.status)
        return await handle(form)

    return Route(path, endpoint, methods=["POST"])


def whatsapp_routes(config: WhatsApp, channel: WhatsAppChannel, auth_token: str,
                    shared_key: str = "") -> list[Route]:
    signatures = Signatures(config, auth_token, shared_key)
    account = channel.creds.account_sid

    async def message(form: Fields) -> Response:
        replies = await channel.receive(form)
        return Response(twiml(replies), media_type="application/xml")

    async def status(form: Fields) -> Response:
        await channel.delivery_report(form)
        return Response(status_code=204)

    # A message comes to our number; a delivery report is about one we sent from it.
    return [webhook(config.webhook_path, signatures,
                    Ours(account, config.sender, "To", "From"), message),
            webhook(config.status_path, signatures,
                    Ours(account, config.sender, "From", "To"), status),
            channel.shelf.route()]
