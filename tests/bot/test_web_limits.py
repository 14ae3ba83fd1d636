"""`prayas serve`'s limits on what one connection may cost, against the real process:
huge or countless headers, a client that sends slowly, more connections than allowed.
After each, valid traffic is served at once."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.bot.whatsapp.conftest import whatsapp_config
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN
from tests.serving import free_port, serving

LIMITS = {"max_connections": 10, "max_header_bytes": 8192, "max_headers": 40,
          "read_timeout_seconds": 2}


Server = tuple[int, subprocess.Popen[bytes]]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("limits")
    port = free_port()
    config = whatsapp_config(tmp, public_url=f"http://127.0.0.1:{port}")
    text = config.read_text(encoding="utf-8")
    config.write_text(text + "web:\n" + "".join(f"  {k}: {v}\n" for k, v in LIMITS.items()),
                      encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    env.update(DATABASE_URL=f"sqlite:///{tmp / 'prayas.db'}", TWILIO_ACCOUNT_SID=ACCOUNT_SID,
               TWILIO_AUTH_TOKEN=AUTH_TOKEN, PRAYAS_DATA_DIR=str(tmp / "data"),
               PRAYAS_HMAC_KEY="test-key-" + "0" * 40)
    with serving(config, env, port) as process:
        yield port, process


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=20)


def _answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (waits for that)."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _healthy(port: int) -> bool:
    return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200


def _rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1])


def test_a_huge_header_is_refused_without_buffering_it(server: Server) -> None:
    port, process = server
    before = _rss_kb(process.pid)
    for _ in range(8):  # as the probe did: eight connections, each a header of megabytes
        sock = _connect(port)
        sock.sendall(b"POST /whatsapp/webhook HTTP/1.1\r\nHost: x\r\nX-Big: ")
        try:
            for _ in range(50):
                sock.sendall(b"a" * 1024 * 1024)
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed by the server as soon as the head passed its limit
        answer = _answer_or_reset(sock)
        assert answer == b"" or answer.startswith(b"HTTP/1.1 431 ")
        sock.close()
    assert _rss_kb(process.pid) - before < 30_000  # kilobytes: not 8 x 50 MB
    assert _healthy(port)


def _answer_or_reset(sock: socket.socket) -> bytes:
    try:
        return _answer(sock)
    except ConnectionResetError:
        return b""


def test_too_many_headers_are_refused(server: Server) -> None:
    port, _ = server
    sock = _connect(port)
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(
        b"X-H%d: 1\r\n" % n for n in range(60)) + b"\r\n"
    sock.sendall(head)
    assert _answer(sock).startswith(b"HTTP/1.1 431 ")
    sock.close()
    assert _healthy(port)


@pytest.mark.parametrize("sent", [
    b"POST /whatsapp/webhook HTTP/1.1\r\nHost: x\r\n",  # a head never finished
    b"POST /whatsapp/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 300\r\n\r\nBody=1",
    b"",  # a connection that says nothing
])
def test_a_slow_client_is_cut_off(server: Server, sent: bytes) -> None:
    port, _ = server
    sock = _connect(port)
    sock.sendall(sent)
    # Waits for the server's read timeout to close it: the test's own socket timeout
    # (20 s) fails it if the server never does.
    assert _answer(sock).startswith(b"HTTP/1.1 408 ")
    sock.close()
    assert _healthy(port)


def test_connections_past_the_limit_are_told_to_come_back(server: Server) -> None:
    port, _ = server
    idle = [_connect(port) for _ in range(LIMITS["max_connections"])]
    try:
        over = _connect(port)
        over.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert _answer(over).startswith(b"HTTP/1.1 503 ")
        over.close()
        for sock in idle:  # the read timeout frees their places
            assert _answer(sock).startswith(b"HTTP/1.1 408 ")
    finally:
        for sock in idle:
            sock.close()
    assert _healthy(port)


def test_the_refusals_are_logged_without_a_traceback(server: Server) -> None:
    port, process = server
    assert _healthy(port)
    os.set_blocking(process.stderr.fileno(), False)  # type: ignore[union-attr]
    log = (process.stderr.read() or b"").decode()  # type: ignore[union-attr]
    assert "a connection was closed: headers over web.max_header_bytes" in log
    assert "Traceback" not in log
