"""The webhook in-process (Starlette's TestClient), and per-chat ordering under load."""

from __future__ import annotations

import asyncio

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
    """Citizen 1's first update is busy until citizen 2's has been handled, with citizen
    1's next two waiting behind it; two slots. Were citizen 2 held up (by the busy chat,
    or by its queued updates holding slots), nothing could finish: the bound below
    fails that deadlock, it measures nothing."""
    async def scenario() -> list[str]:
        order = PerChatOrder(max_concurrent_updates=2)
        events: list[str] = []
        busy, handled = asyncio.Event(), asyncio.Event()

        async def slow(n: int) -> None:
            events.append(f"1:{n} began")
            busy.set()
            await handled.wait()
            events.append(f"1:{n} done")

        async def quick() -> None:
            events.append("2 done")
            handled.set()

        def update(n: int, chat: int) -> Update:
            return Update.de_json(_update(n, chat, "x"), None)  # type: ignore[arg-type,return-value]

        tasks = [asyncio.create_task(order.process_update(update(n, 1), slow(n)))
                 for n in range(3)]
        await asyncio.wait_for(busy.wait(), 30)
        tasks.append(asyncio.create_task(order.process_update(update(9, 2), quick())))
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
        return events

    assert asyncio.run(scenario())[:3] == ["1:0 began", "2 done", "1:0 done"]
