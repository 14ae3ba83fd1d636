"""python-telegram-bot's HTTP calls made with aiohttp instead of httpx.

Every reply, alert and digest is one HTTP call to the Bot API, and the call, not the
turn, is most of a message's CPU: with httpx, its pool checks each pooled connection on
every request (through anyio's socket attributes, a getpeername each). aiohttp —
already installed for twilio's async client — does the same call for less; the figures
are in bench/README.md. python-telegram-bot documents
`BaseRequest` as the place for another HTTP library; errors map to its own, so
retries and the 429/5xx handling above this do not change.
"""

from __future__ import annotations

import os
import ssl
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import certifi
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.telegram.updates import for_polling

# A timeout as python-telegram-bot passes it: seconds, None (no limit), or
# BaseRequest.DEFAULT_NONE (this transport's own). Its alias for that is private.
Timeout = float | None | object


class AiohttpRequest(BaseRequest):
    """One aiohttp session with a bounded pool of keep-alive connections.

    As python-telegram-bot's own transport (httpx) does: proxies from the environment
    (HTTPS_PROXY, NO_PROXY), certifi's certificates unless SSL_CERT_FILE or
    SSL_CERT_DIR name others; uploads get 20 s to be written, other calls 5 s."""

    def __init__(self, pool_size: int = 16, connect_timeout: float | None = 5.0,
                 read_timeout: float | None = 5.0, write_timeout: float | None = 5.0,
                 media_write_timeout: float | None = 20.0,
                 pool_timeout: float | None = 30.0) -> None:
        self._pool_size = pool_size
        self._timeouts = {"connect": connect_timeout, "read": read_timeout,
                          "write": write_timeout, "media": media_write_timeout,
                          "pool": pool_timeout}
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, str | None] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._timeouts["read"]

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            certificates = ssl.create_default_context(
                cafile=os.environ.get("SSL_CERT_FILE") or certifi.where(),
                capath=os.environ.get("SSL_CERT_DIR") or None)
            # No cookies: the Bot API sets none.
            # Not aiohttp's trust_env: it looks the proxy and ~/.netrc up again on every
            # request, each in a worker thread; `_proxy` looks it up once (bench/README.md).
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size, ssl=certificates),
                cookie_jar=aiohttp.DummyCookieJar(), headers={"User-Agent": self.USER_AGENT})

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Timeout = BaseRequest.DEFAULT_NONE,
                         write_timeout: Timeout = BaseRequest.DEFAULT_NONE,
                         connect_timeout: Timeout = BaseRequest.DEFAULT_NONE,
                         pool_timeout: Timeout = BaseRequest.DEFAULT_NONE,
                         ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        uploads = bool(request_data and request_data.multipart_data)
        read = self._given(read_timeout, "read")
        write = self._given(write_timeout, "media" if uploads else "write")
        connect, pool = self._given(connect_timeout, "connect"), self._given(pool_timeout, "pool")
        # aiohttp's `connect` covers waiting for a pooled connection and making one. It
        # has no write timeout, and times reading only once the body is sent, so the
        # whole call is bounded too: a stalled upload must not hold the outbox forever.
        parts = (connect, pool, write, read)
        timeout = aiohttp.ClientTimeout(
            total=None if None in parts else sum(p or 0.0 for p in parts),
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect, sock_read=read)
        try:
            body = _body(request_data)
            async with self._session.request(method, url, data=body, timeout=timeout,
                                             proxy=self._proxy(url)) as response:
                return response.status, await response.read()
        except (TimeoutError, aiohttp.ServerTimeoutError) as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{err.__class__.__name__}: {err}") from err
        except (ValueError, TypeError) as err:
            # What we asked to send cannot be sent (a file name with a line break):
            # sending it again would not help, so not a NetworkError, which is retried.
            raise BadRequest(f"cannot send this request: {err}") from err

    def _proxy(self, url: str) -> str | None:
        """The environment's proxy for this URL's origin (HTTPS_PROXY, NO_PROXY), looked
        up once: the Bot API's origin never changes while the bot runs."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._proxies:
            bypass = urllib.request.proxy_bypass(parts.hostname or "")
            self._proxies[origin] = None if bypass else urllib.request.getproxies().get(
                parts.scheme)
        return self._proxies[origin]

    def _given(self, value: Timeout, default: str) -> float | None:
        if value is None or isinstance(value, int | float):
            return value
        return self._timeouts[default]  # BaseRequest.DEFAULT_NONE: not given


class UpdatesRequest(AiohttpRequest):
    """getUpdates' own connection, which checks every update it fetches.

    python-telegram-bot reads a batch in one go: one update it cannot read fails the
    whole batch, each time it is fetched again, so polling would stop or go round (and
    it logs the batch, chat ids and words, as it fails). Here such an update reaches it
    as its bare update_id: handled as nothing, and confirmed with the rest."""

    @staticmethod
    def parse_json_payload(payload: bytes) -> dict[str, Any]:
        answer = BaseRequest.parse_json_payload(payload)
        result = answer.get("result") if isinstance(answer, dict) else None
        if isinstance(result, list):
            answer["result"] = [u for u in map(for_polling, result) if u is not None]
        return answer


def _body(request_data: RequestData | None) -> aiohttp.FormData | dict[str, str] | None:
    """The call's parameters: a urlencoded form, or multipart when it uploads a file."""
    if request_data is None:
        return None
    fields = request_data.json_parameters
    files = request_data.multipart_data
    if not files:
        return fields
    # The file name as UTF-8, as browsers and httpx send it (Telegram shows it to the
    # officer); aiohttp's default would percent-encode a Hindi name.
    form = aiohttp.FormData(quote_fields=False)
    for name, value in fields.items():
        form.add_field(name, value)
    for name, (filename, content, mime) in files.items():
        form.add_field(name, content, filename=filename, content_type=mime)
    return form
