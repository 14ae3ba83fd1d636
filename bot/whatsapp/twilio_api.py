"""Sending WhatsApp messages through Twilio's REST API, off the event loop's back.

twilio's own asyncio client (aiohttp) does the HTTP; this adds what a campaign needs:
a pace under the sender's rate limit, retries with backoff on 429/5xx/timeouts, and
Twilio's error codes turned into what the caller must do.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from scheduler.outbox.message import Refused, RetryLater

log = logging.getLogger(__name__)
# twilio logs each request's parameters at INFO, the recipient's number among them.
logging.getLogger("twilio").setLevel(logging.WARNING)

MEDIA_HOST = "api.twilio.com"  # where a message's media is; nowhere else gets our credentials
MAX_MEDIA = 16 * 1024 * 1024  # WhatsApp's largest audio
OUTSIDE_WINDOW = 63016  # free text outside the 24-hour window
OPTED_OUT = 21610  # the recipient unsubscribed
TOO_MANY = 20429


@dataclass(frozen=True)
class Credentials:
    account_sid: str
    auth_token: str
    # Webhooks signed with a Shared Key (they say so in X-Twilio-Webhooks-Signature-Settings)
    # are checked with its secret; the others with the Auth Token.
    webhook_key: str = ""


class OutsideWindow(Refused):
    """WhatsApp refused free text: the person has not written in the last 24 hours."""


class OptedOut(Refused):
    """The person unsubscribed from our WhatsApp number."""


class _ToBaseUrl(AsyncTwilioHttpClient):
    """Twilio's client, sending to a proxy or a test's fake instead of *.twilio.com."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")

    async def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if self.base_url:
            parts = urlsplit(url)
            url = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        # The credentials as a header: twilio hands them to aiohttp as `auth`, which
        # aiohttp deprecates and 4.0 removes. twilio's log leaves Authorization out.
        if (auth := kwargs.pop("auth", None)) is not None:
            kwargs["headers"] = {**(kwargs.get("headers") or {}),
                                 "Authorization": basic_authorization(*auth)}
        return await super().request(method, url, *args, **kwargs)


async def _media_body(answer: aiohttp.ClientResponse) -> tuple[str, bytes]:
    # 401/403: the credentials, which the operator can fix; the media is still there.
    if answer.status >= 500 or answer.status in (401, 403, 429):
        raise RetryLater(30, f"twilio media {answer.status}")
    if answer.status != 200:
        raise Refused(f"twilio media {answer.status}")
    if (answer.content_length or 0) > MAX_MEDIA:
        raise Refused("twilio media too large")
    body = await answer.content.read(MAX_MEDIA + 1)
    if len(body) > MAX_MEDIA:
        raise Refused("twilio media too large")
    return answer.headers.get("Content-Type", "application/octet-stream"), body


def basic_authorization(login: str, password: str) -> str:
    """HTTP Basic credentials, as aiohttp's BasicAuth encoded them (latin-1, then base64)."""
    return "Basic " + base64.b64encode(f"{login}:{password}".encode("latin1")).decode("ascii")


class TwilioSender:
    """One WhatsApp sender number. Create and use it inside the running event loop."""

    def __init__(self, creds: Credentials, sender: str, base_url: str = "",
                 per_second: float = 20.0, first_backoff: float = 0.5,
                 timeout: float = 15.0) -> None:
        self.sender = sender
        self._creds, self._base_url, self._timeout = creds, base_url.rstrip("/"), timeout
        self._media: aiohttp.ClientSession | None = None
        self._http = _ToBaseUrl(base_url, timeout)
        self._client = Client(creds.account_sid, creds.auth_token, http_client=self._http)
        self._gap = 1.0 / per_second
        self._next = 0.0
        self._pace = asyncio.Lock()
        self.first_backoff = first_backoff

    async def close(self) -> None:
        await self._http.close()
        if self._media is not None:
            await self._media.close()

    async def fetch(self, url: str) -> tuple[str, bytes]:
        """A message's media (a voice note, a photo) from Twilio, with the account's
        credentials; Twilio redirects to its store, which is asked without them."""
        parts = urlsplit(url)
        if parts.scheme != "https" or parts.hostname != MEDIA_HOST:
            raise Refused("not a Twilio media address")
        if self._media is None:
            self._media = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout * 4))
        target = (self._base_url + parts.path) if self._base_url else url
        auth = {"Authorization": basic_authorization(self._creds.account_sid,
                                                     self._creds.auth_token)}
        async with self._media.get(target, headers=auth, allow_redirects=False) as answer:
            if answer.status in (301, 302, 303, 307, 308) and answer.headers.get("Location"):
                target = answer.headers["Location"]
            else:
                return await _media_body(answer)
        async with self._media.get(target) as answer:
            return await _media_body(answer)

    async def _paced(self) -> None:
        """Keep under the sender's messages-per-second, so Twilio queues nothing."""
        async with self._pace:
            wait = self._next - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._next = max(time.monotonic(), self._next) + self._gap

    async def send(self, to: str, *, body: str | None = None, content_sid: str | None = None,
                   variables: dict[str, str] | None = None, status_callback: str | None = None,
                   media_url: str | None = None, attempts: int = 5) -> str:
        """Send one message and return Twilio's sid; retries 429, 5xx and timeouts."""
        fields: dict[str, str | list[str]] = {"to": to, "from_": self.sender}
        if media_url:
            fields["media_url"] = [media_url]
        elif content_sid:
            fields["content_sid"] = content_sid
            fields["content_variables"] = json.dumps(variables or {}, ensure_ascii=False)
        else:
            fields["body"] = body or ""
        if status_callback:
            fields["status_callback"] = status_callback
        for attempt in range(1, attempts + 1):
            await self._paced()
            try:
                message = await self._client.messages.create_async(**fields)
                return str(message.sid)
            except TwilioRestException as exc:
                wait = self._verdict(exc, attempt)
            except (TwilioException, aiohttp.ClientError, TimeoutError) as exc:
                wait = self._backoff(attempt, type(exc).__name__)
            if attempt == attempts:
                raise RetryLater(wait, "Twilio unavailable")
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")

    def _verdict(self, exc: TwilioRestException, attempt: int) -> float:
        """How long to wait before trying again; raises when trying again cannot help."""
        # Never log exc.msg: Twilio puts the recipient's number in some messages.
        if exc.code == OUTSIDE_WINDOW:
            raise OutsideWindow("twilio 63016: outside the 24-hour window")
        if exc.code == OPTED_OUT:
            raise OptedOut("twilio 21610: the recipient opted out")
        if exc.status == 429 or exc.code == TOO_MANY:
            return self._backoff(attempt, "429")
        if exc.status >= 500:
            return self._backoff(attempt, str(exc.status))
        raise Refused(f"twilio {exc.code}")

    def _backoff(self, attempt: int, reason: str) -> float:
        wait = min(self.first_backoff * 2 ** (attempt - 1), 60.0)
        log.warning("Twilio send failed (%s); retrying in %.1f s", reason, wait)
        return wait
