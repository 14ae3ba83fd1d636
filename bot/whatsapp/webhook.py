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
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
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
        self._lists: dict[str, list[str]] = {}
        for key, value in pairs:
            self._lists.setdefault(key, []).append(value)

    def getlist(self, key: str) -> list[str]:
        return self._lists.get(key, [])

    # RequestValidator tries getall() first and catches the AttributeError, for each of
    # the form's twenty-odd fields on every message: answered directly instead.
    getall = getlist


def signed_url(request: Request, config: WhatsApp, path: str) -> str:
    """The URL Twilio called, as it signed it."""
    query = f"?{request.url.query}" if request.url.query else ""
    if config.public_url:
        return config.public_url + path + query
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


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def whatsapp_routes(config: WhatsApp, channel: WhatsAppChannel, auth_token: str,
                    shared_key: str = "") -> list[Route]:
    by_token, by_key = RequestValidator(auth_token), RequestValidator(shared_key or auth_token)

    def valid(request: Request, path: str, form: Form) -> bool:
        signature = request.headers.get(SIGNATURE, "")
        settings = request.headers.get(SIGNATURE_SETTINGS_HEADER)
        validator = by_key if settings else by_token
        if not signature:
            return False
        url, algorithm = signed_url(request, config, path), get_signature_algorithm(settings)
        # The URL as configured is what Twilio signs: one HMAC. `validate` computes two
        # (the URL with and without its port) and is kept for the odd one.
        if "bodySHA256" not in url and algorithm in ALGORITHMS and hmac.compare_digest(
                validator.compute_signature(url, form, algorithm), signature):
            return True
        return validator.validate(url, form, signature, algorithm)  # SHA1 unless told

    def verified(path: str, handle: Callable[[Form], Coroutine[Any, Any, Response]]) -> Handler:
        async def endpoint(request: Request) -> Response:
            body = await request.body()
            if len(body) > MAX_FORM:
                return Response(status_code=413)
            try:
                form = Form(parse_qsl(body.decode(), keep_blank_values=True))
            except UnicodeDecodeError:
                return Response(status_code=400)
            if not valid(request, path, form):
                log.warning("a WhatsApp webhook with a missing or wrong signature was refused")
                return Response(status_code=403)
            return await handle(form)

        return endpoint

    async def message(form: Form) -> Response:
        replies = await channel.receive(form)
        return Response(twiml(replies), media_type="application/xml")

    async def status(form: Form) -> Response:
        await channel.delivery_report(form)
        return Response(status_code=204)

    return [Route(config.webhook_path, verified(config.webhook_path, message), methods=["POST"]),
            Route(config.status_path, verified(config.status_path, status), methods=["POST"]),
            channel.shelf.route()]
