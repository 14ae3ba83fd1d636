"""The real python-telegram-bot Application, polling a fake Bot API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import threading

import pytest

from bot.app import Runtime
from bot.environment import Environment
from bot.telegram.runner import ALLOWED_UPDATES
from tests.fakes.telegram_api import FakeTelegram, Sent


class RunningBot:
    """`prayas poll`, in a thread of the test process, so tests can look inside."""

    def __init__(self, app, fake: FakeTelegram) -> None:  # type: ignore[no-untyped-def]
        env = Environment(telegram_token=fake.token, telegram_base_url=fake.url)
        self.runtime = Runtime(app, env, telegram=True, retry_backoff=0.05)
        assert self.runtime.telegram is not None
        self.application = self.runtime.telegram
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._loop.run_until_complete,
                                        args=(self._main(),), daemon=True)

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        application = self.application
        await self.runtime.start(scheduler=False)  # the tests run the jobs themselves
        await application.updater.start_polling(  # type: ignore[union-attr]
            poll_interval=0.0, timeout=1, allowed_updates=ALLOWED_UPDATES)
        self._ready.set()
        await self._stop.wait()
        await application.updater.stop()  # type: ignore[union-attr]
        await self.runtime.stop()

    def start(self) -> RunningBot:
        self._thread.start()
        assert self._ready.wait(20), "the bot did not start"
        return self

    def stop(self) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(20)


@pytest.fixture
def telegram_bot(app, fake_telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TELEGRAM_BASE_URL", fake_telegram.url)
    running = RunningBot(app, fake_telegram).start()
    yield running
    running.stop()


class Citizen:
    """One Telegram user talking to the bot through the fake server."""

    def __init__(self, fake: FakeTelegram, chat_id: int) -> None:
        self.fake, self.chat_id = fake, chat_id

    @property
    def seen(self) -> int:
        return len(self.fake.sent(self.chat_id))

    def say(self, text: str | None = None, expect: int = 1, **extra) -> list[Sent]:  # type: ignore[no-untyped-def]
        before = self.seen
        self.fake.message(self.chat_id, text, **extra)
        return self.fake.wait_for(before + expect, self.chat_id, timeout=30)[before:]

    def tap(self, button: int, expect: int = 1) -> list[Sent]:
        last = self.last_with_buttons()
        before = self.seen
        self.fake.tap(last, button)
        return self.fake.wait_for(before + expect, self.chat_id)[before:]

    def tap_menu(self, button: int) -> str:
        return self.tap(button)[0].text

    def last_with_buttons(self) -> Sent:
        return next(s for s in reversed(self.fake.sent(self.chat_id)) if s.buttons)

    @property
    def last(self) -> str:
        return self.fake.sent(self.chat_id)[-1].text


def telegram_runtime(app, fake: FakeTelegram, retry_backoff: float = 0.05) -> Runtime:  # type: ignore[no-untyped-def]
    """The process's parts with Telegram receiving, pointed at the fake Bot API."""
    env = Environment(telegram_token=fake.token, telegram_base_url=fake.url)
    return Runtime(app, env, telegram=True, retry_backoff=retry_backoff)
