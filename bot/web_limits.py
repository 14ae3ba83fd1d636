"""What one connection may cost `prayas serve` before the app sees its request.

uvicorn bounds neither a request's headers (httptools buffers a header of any size)
nor the time a client takes to send its request (a connection that sends a byte a
minute holds its place for ever). This protocol adds both, around uvicorn's own:
the head of each request at most `max_header_bytes` and `max_headers`, and the whole
request read within `read_timeout_seconds` of its first byte (or of the connection,
for the first request). The head's size is what arrived before it was complete, read
by read: a head that comes whole in one read (at most 64 KB) passes, so memory is
bounded by a read, not by the head. The number of connections is uvicorn's
`limit_concurrency`.
A proxy in front should be stricter still: README, "Behind a reverse proxy".
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from scheduler.config import Web

log = logging.getLogger(__name__)


def _plain(status: int, reason: str) -> bytes:
    return (f"HTTP/1.1 {status} {reason}\r\ncontent-length: 0\r\n"
            "connection: close\r\n\r\n").encode()


HEADERS_TOO_LARGE = _plain(431, "Request Header Fields Too Large")
TOO_SLOW = _plain(408, "Request Timeout")


def limited_protocol(limits: Web) -> type[HttpToolsProtocol]:
    """uvicorn's HTTP protocol class with `limits` (a class, as uvicorn's `http` takes)."""

    class Limited(HttpToolsProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._head_bytes = 0
            self._header_count = 0
            self._reading_head = True
            self._deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._reading_head:
                self._head_bytes += len(data)
            super().data_received(data)  # may complete the head: _reading_head turns False
            if self._reading_head and self._head_bytes > limits.max_header_bytes:
                self._refuse(HEADERS_TOO_LARGE, "headers over web.max_header_bytes")

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._head_bytes, self._header_count, self._reading_head = 0, 0, True
            if self._deadline is None:  # a keep-alive connection's next request
                self._arm()

        def on_header(self, name: bytes, value: bytes) -> None:
            self._header_count += 1
            if self._header_count > limits.max_headers:
                self._refuse(HEADERS_TOO_LARGE, "more headers than web.max_headers")
                return
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            self._reading_head = False
            if not self.transport.is_closing():
                super().on_headers_complete()

        def on_body(self, body: bytes) -> None:
            if not self.transport.is_closing():  # not after a refused head: no cycle
                super().on_body(body)

        def on_message_complete(self) -> None:
            self._disarm()
            if not self.transport.is_closing():
                super().on_message_complete()

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(limits.read_timeout_seconds, self._too_slow)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _too_slow(self) -> None:
            self._deadline = None
            cycle = self.cycle
            answering = cycle is not None and cycle.response_started and not cycle.response_complete
            self._refuse(b"" if answering else TOO_SLOW,
                         "a request not sent within web.read_timeout_seconds")

        def _refuse(self, answer: bytes, why: str) -> None:
            if self.transport.is_closing():
                return
            log.warning("a connection was closed: %s", why)  # never who, never what
            self._disarm()
            if answer:
                self.transport.write(answer)
            self.transport.close()

    return Limited
