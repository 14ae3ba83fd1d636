"""Many citizens at once, each citizen's messages in order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# python-telegram-bot takes its own slot (a semaphore) before handing an update on, so
# its limit counts the updates waiting for their chat too. Telegram has at most 100 in
# flight (a poll's batch, or the webhook's connections): this many only bounds memory.
ADMITTED_PER_SLOT = 16


class PerChatOrder(BaseUpdateProcessor):
    """Updates of different chats run concurrently; one chat's run one after another.

    asyncio's locks and semaphores wake waiters first-come, first-served, so a chat's
    updates are handled in the order Telegram delivered them.
    """

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates * ADMITTED_PER_SLOT)
        self._slots = asyncio.BoundedSemaphore(max_concurrent_updates)
        self._locks: dict[int | None, asyncio.Lock] = {}
        self._waiting: dict[int | None, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        # The chat's lock first, then a slot: a citizen's queued messages wait without
        # holding slots that other citizens need.
        chat = update.effective_chat if isinstance(update, Update) else None
        key = chat.id if chat else None
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock, self._slots:
                await coroutine
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:  # forget idle chats: 10,000 citizens, little memory
                del self._waiting[key], self._locks[key]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
