"""`prayas poll`'s own loop (bot.telegram.polling), in-process: it answers, then stops
cleanly, its database work closed with it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.telegram.polling import poll
from bot.telegram.runner import ALLOWED_UPDATES
from conversations.effects import Text
from scheduler.service import CitizenMessage
from tests.bot.telegram.conftest import telegram_runtime
from tests.fakes.telegram_api import FakeTelegram


def test_polling_answers_then_stops_and_closes_its_database_work(
        app, fake_telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    runtime = telegram_runtime(app, fake_telegram)
    assert runtime.telegram is not None

    async def main() -> None:
        stop = asyncio.Event()
        await runtime.start(scheduler=False)
        polling = asyncio.create_task(poll(runtime.telegram, ALLOWED_UPDATES, stop))
        fake_telegram.message(5001, "/start BLB05")
        greeting = await asyncio.to_thread(fake_telegram.wait_for, 1, 5001)
        assert "थाना सिमगा" in greeting[0].text  # BLB05's greeting
        stop.set()
        await asyncio.wait_for(polling, 30)
        await runtime.stop()
        # Stopped: a turn that still came would be refused, not left waiting forever.
        with pytest.raises(RuntimeError, match="stopping"):
            await runtime.work.handle(CitizenMessage("telegram:5001", "telegram",
                                                    Text("1"), datetime.now(UTC)))

    asyncio.run(main())
