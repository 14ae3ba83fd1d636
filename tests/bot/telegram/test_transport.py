"""The Bot API calls through aiohttp: what python-telegram-bot expects of its transport.

The conversations, retries and uploads of the other tests all go through it; these pin
the edges: a Bot API that is down or silent becomes python-telegram-bot's own
NetworkError or TimedOut (which the senders retry), and a file upload arrives whole.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator

import pytest
from telegram import Bot
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.telegram.transport import AiohttpRequest
from tests.fakes.telegram_api import FakeTelegram

TOKEN = "123456:TEST-token"


def _bot(root: str, **timeouts: float) -> Bot:
    return Bot(TOKEN, base_url=f"{root}/bot",
               request=AiohttpRequest(pool_size=2, **timeouts),
               get_updates_request=AiohttpRequest(pool_size=1))


async def _send(bot: Bot, chat: int, text: str) -> None:
    async with bot:
        await bot.send_message(chat, text)


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections, but never reads a byte nor answers."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def test_a_message_and_a_file_reach_the_bot_api_whole(fake_telegram: FakeTelegram) -> None:
    async def scenario() -> None:
        async with _bot(fake_telegram.url) as bot:
            await bot.send_message(42, "नमस्ते & <b>?</b> 100%")
            await bot.send_document(42, "ठीक,1\n".encode() * 1000, filename="थाने.csv")

    asyncio.run(scenario())
    [message] = fake_telegram.sent(42)
    assert message.text == "नमस्ते & <b>?</b> 100%"
    [document] = fake_telegram.sent(42, "sendDocument")
    assert document.params["document"] == "ठीक,1\n".encode() * 1000
    assert document.params["document:filename"] == "थाने.csv"


def test_a_bot_api_that_is_down_is_a_network_error() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(NetworkError):
        asyncio.run(_send(_bot(f"http://127.0.0.1:{port}"), 42, "x"))


async def _without_get_me(bot: Bot, call: Callable[[Bot], Awaitable[object]]) -> None:
    await bot.request.initialize()  # not `async with`: its getMe would time out first
    try:
        await call(bot)
    finally:
        await bot.request.shutdown()


def test_a_silent_bot_api_times_out(silent_server: str) -> None:
    with pytest.raises(TimedOut):
        asyncio.run(_without_get_me(_bot(silent_server, read_timeout=0.3),
                                    lambda bot: bot.send_message(42, "x")))


def test_an_upload_that_cannot_be_written_times_out(silent_server: str) -> None:
    # Bigger than the sockets' buffers: the write blocks, and nothing reads it. Without a
    # bound on the whole call, the outbox would wait here for ever.
    started = time.monotonic()
    bot = _bot(silent_server, media_write_timeout=0.5, read_timeout=0.5, pool_timeout=0.5,
               connect_timeout=0.5)
    upload = _without_get_me(bot, lambda bot: bot.send_document(
        42, b"x" * 32_000_000, filename="big.csv"))
    with pytest.raises(TimedOut):  # the test's own bound would raise TimeoutError instead
        asyncio.run(asyncio.wait_for(upload, 30))
    assert time.monotonic() - started < 10


def test_a_request_that_cannot_be_made_is_not_retried_as_a_network_error(
        fake_telegram: FakeTelegram) -> None:
    with pytest.raises(BadRequest):
        asyncio.run(_without_get_me(_bot(fake_telegram.url), lambda bot: bot.send_document(
            42, b"x", filename="stations\r\nX-Injected: 1.csv")))
    assert fake_telegram.sent(42, "sendDocument") == []
