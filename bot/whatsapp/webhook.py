"""Twilio's webhooks on `prayas serve`: a citizen's message, and delivery reports.

Every request must carry a valid X-Twilio-Signature over the URL Twilio called and
the form it sent; anything else is answered 403 and nothing is stored. Behind a
TLS-terminating proxy the URL we see is not the one Twilio signed, so the signed
URL is built from `whatsapp.public_url` (or, only when configured as trusted, from
the proxy's X-Forwarded-* headers).
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Callable, Coroutine
from typing import Any
from xml.sax.saxutils import escape

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

from bot.config import WhatsApp
from bot.whatsapp.channel import WhatsAppChannel
from bot.whatsapp.render import Outgoing

log = logging.getLogger(__name__)
SIGNATURE = "X-Twilio-Signature"
ALGORITHMS = (None, HMAC_SHA1, HMAC_SHA256)
MAX_FORM = 64 * 1024  # a WhatsApp webhook is a few hundred bytes


class Form(dict[str, str]):
    """The form as RequestValidator wants it: every value of a repeated key signed."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        super().__init__(pairs)
        if len(self) == len(pairs):  # no key repeated, as in every form Twilio sends
            self._lists = {key: [value] for key, value in pairs}
            return
        self._lists = {}
        for key, value in pairs:
            self._lists.setdefault(key, []).append(value)

    def getlist(self, key: str) -> list[str]:
        return self._lists.get(key, [])

    # RequestValidator tries getall() first and catches the AttributeError, for each of
    # the form's twenty-odd fields on every message: answered directly instead.
    getall = getlist


def form_pairs(text: str) -> list[tuple[str, str]]:
    """What urllib's parse_qsl(text, keep_blank_values=True) gives, a test checks; in about
    half its time, since most of Twilio's fields need no unquoting."""
    pairs = []
    for field in text.split("&"):
        if not field:
            continue
        name, _, value = field.partition("=")
        pairs.append((_unquote(name), _unquote(value)))
    return pairs


def _unquote(text: str) -> str:
    if "+" in text:
        text = text.replace("+", " ")
    return _ESCAPES.sub(_decoded, text) if "%" in text else text


_ESCAPES = re.compile(r"(?:%[0-9A-Fa-f]{2})+")


def _decoded(run: re.Match[str]) -> str:
    # A run of escapes is one piece of UTF-8, decoded as unquote decodes it (bad bytes
    # as U+FFFD): a Hindi word in one call, where unquote loops over each of its bytes.
    return bytes.fromhex(run.group().replace("%", "")).decode("utf-8", "replace")


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


def header(scope: Scope, name: str) -> str | None:
    """A request header's first value. Read from the ASGI scope (names in lower case)
    rather than through Starlette's Request and Headers, built for two lookups a message."""
    wanted = name.lower().encode("latin-1")
    for key, value in scope["headers"]:
        if key == wanted:
            return value.decode("latin-1")
    return None


Handled = tuple[int, str, bytes]  # status, content type, body
Handle = Callable[[Form], Coroutine[Any, Any, Handled]]


class Webhook:
    """A Twilio webhook as a plain ASGI endpoint: the body read, the signature checked,
    then `handle`. Without Starlette's Request and Response objects around each call,
    which cost a fifth of the webhook's time under load (bench/README.md)."""

    def __init__(self, path: str, valid: Callable[[Scope, str, Form], bool],
                 handle: Handle) -> None:
        self.path, self.valid, self.handle = path, valid, handle

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
            return 413, "", b""
        try:
            form = Form(form_pairs(body.decode()))
        except UnicodeDecodeError:
            return 400, "", b""
        if not self.valid(scope, self.path, form):
            log.warning("a WhatsApp webhook with a missing or wrong signature was refused")
            return 403, "", b""
        return await self.handle(form)


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
    by_token, by_key = RequestValidator(auth_token), RequestValidator(shared_key or auth_token)

    def valid(scope: Scope, path: str, form: Form) -> bool:
        signature = header(scope, SIGNATURE) or ""
        settings = header(scope, SIGNATURE_SETTINGS_HEADER)
        validator = by_key if settings else by_token
        if not signature:
            return False
        url, algorithm = signed_url(scope, config, path), get_signature_algorithm(settings)
        # The URL as configured is what Twilio signs: one HMAC. `validate` computes two
        # (the URL with and without its port) and is kept for the odd one.
        if "bodySHA256" not in url and algorithm in ALGORITHMS and hmac.compare_digest(
                validator.compute_signature(url, form, algorithm), signature):
            return True
        return validator.validate(url, form, signature, algorithm)  # SHA1 unless told

    async def message(form: Form) -> Handled:
        replies = await channel.receive(form)
        return 200, "application/xml", twiml(replies).encode()

    async def status(form: Form) -> Handled:
        await channel.delivery_report(form)
        return 204, "", b""

    return [Route(path, Webhook(path, valid, handle), methods=["POST"])
            for path, handle in ((config.webhook_path, message), (config.status_path, status))
            ] + [channel.shelf.route()]


def direct_endpoints(routes: list[Route]) -> dict[str, Webhook]:
    """The webhooks by path, for `bot.web.Front` to call without Starlette's router."""
    return {route.path: route.endpoint for route in routes
            if isinstance(route.endpoint, Webhook)}
