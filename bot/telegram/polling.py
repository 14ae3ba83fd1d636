"""`prayas poll`: long polling that confirms an update only after it was handled.

python-telegram-bot's own polling asks for the next batch (and so confirms the last
one to Telegram) while the last one is still being handled: a process killed in
that moment loses those messages. Here a batch is confirmed only once every update
in it has been handled; a crash means the batch is fetched again, and the update_id
dedupe makes the second pass harmless.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from telegram import Update
from telegram.error import RetryAfter, TelegramError

from bot.telegram.adapter import TURN_FAILED
from bot.telegram.runner import TelegramApplication
from bot.telegram.sending import seconds

log = logging.getLogger(__name__)
LONG_POLL = 20  # seconds Telegram holds a getUpdates call open when there is nothing
GIVE_UP_AFTER = 5


async def poll(application: TelegramApplication, allowed: list[str],
               stop: asyncio.Event | None = None) -> None:
    """Fetch and handle updates until SIGINT/SIGTERM (or `stop` is set); the application
    is started and stopped by the caller (bot/app.py's Runtime)."""
    stop = stop or _on_signals()
    await application.bot.delete_webhook(drop_pending_updates=False)
    await _loop(application, allowed, stop)


def _on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _loop(application: TelegramApplication, allowed: list[str],
                stop: asyncio.Event) -> None:
    offset: int | None = None
    failures: dict[int, int] = {}
    backoff = 1.0
    stopping = asyncio.create_task(stop.wait())
    while not stop.is_set():
        fetch = asyncio.create_task(application.bot.get_updates(
            offset=offset, timeout=LONG_POLL, allowed_updates=allowed))
        await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if stop.is_set():
            fetch.cancel()
            break
        try:
            updates = fetch.result()
        except RetryAfter as exc:
            await asyncio.sleep(seconds(exc.retry_after))
            continue
        except TelegramError as exc:  # network, 5xx, a second poller (Conflict)
            log.warning("fetching updates failed (%s); again in %.0f s", exc, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)
            continue
        backoff = 1.0
        if not updates:
            continue
        failed = await _first_failure(application, updates)
        if failed is None:
            offset = updates[-1].update_id + 1  # confirmed with the next fetch
            continue
        # Confirm what went before it; try it (and what follows) again shortly. One
        # update that can never be handled is given up after a few tries, not forever.
        failures[failed] = failures.get(failed, 0) + 1
        if failures[failed] >= GIVE_UP_AFTER:
            log.error("an update failed %d times; skipping it", GIVE_UP_AFTER)
            failures.pop(failed)
            offset = failed + 1
        else:
            offset = failed
            await asyncio.sleep(1.0)


async def _first_failure(application: TelegramApplication,
                         updates: tuple[Update, ...]) -> int | None:
    """Handle a batch, one citizen's updates in order; the first update_id that failed."""
    async def handle(update: Update) -> bool:
        TURN_FAILED.set(False)  # each task has its own copy of the context
        await application.update_processor.process_update(
            update, application.process_update(update))
        return not TURN_FAILED.get()

    results = await asyncio.gather(*(handle(u) for u in updates), return_exceptions=True)
    return next((u.update_id for u, ok in zip(updates, results, strict=True) if ok is not True),
                None)
