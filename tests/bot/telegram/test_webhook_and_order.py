"""The webhook in-process (Starlette's TestClient), and per-chat ordering under load."""

from __future__ import annotations

import asyncio
import time

from starlette.testclient import TestClient
from telegram import Update

from bot.telegram.ordering import PerChatOrder
from bot.web import SECRET_HEADER, create_web_app
from tests.bot.telegram.conftest import telegram_runtime
from tests.fakes.telegram_api import FakeTelegram

SECRET = "a-test-secret-0123456789"


def _update(update_id: int, chat: int, text: str) -> dict:  # type: ignore[type-arg]
    entities = [{"type": "bot_command", "offset": 0, "length": 6}] if text.startswith("/") else []
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 0, "text": text, "entities": entities,
        "chat": {"id": chat, "type": "private", "first_name": "C"},
        "from": {"id": chat, "is_bot": False, "first_name": "C"}}}


def test_a_failed_turn_is_not_acknowledged(app, fake_telegram: FakeTelegram, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    runtime = telegram_runtime(app, fake_telegram, retry_backoff=0.01)
    web = create_web_app(runtime, SECRET, register_webhook=False)
    headers = {SECRET_HEADER: SECRET}
    with TestClient(web) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        fake_telegram.fail_next("sendMessage", 502, times=6)  # Telegram down for a while
        answer = client.post("/telegram/webhook", json=_update(1, 960, "/start BLB05"),
                             headers=headers)
        assert answer.status_code == 500  # so Telegram delivers the update again
        again = client.post("/telegram/webhook", json=_update(1, 960, "/start BLB05"),
                            headers=headers)
        assert again.status_code == 200
        assert "थाना सिमगा" in fake_telegram.sent(960)[-1].text


def test_one_busy_citizen_does_not_hold_up_another() -> None:
    async def scenario() -> float:
        order = PerChatOrder(max_concurrent_updates=2)
        done: dict[int, float] = {}
        start = time.monotonic()

        async def work(chat: int, seconds: float) -> None:
            await asyncio.sleep(seconds)
            done[chat] = time.monotonic() - start

        def update(n: int, chat: int) -> Update:
            return Update.de_json(_update(n, chat, "x"), None)  # type: ignore[arg-type,return-value]

        tasks = [asyncio.create_task(order.process_update(update(n, 1), work(1, 0.3)))
                 for n in range(3)]
        await asyncio.sleep(0.01)
        tasks.append(asyncio.create_task(order.process_update(update(9, 2), work(2, 0.0))))
        await asyncio.gather(*tasks)
        return done[2]

    assert asyncio.run(scenario()) < 0.2
