"""Sending to Telegram without losing a message to a hiccup.

429 waits exactly as long as Telegram asks; 5xx and timeouts back off
exponentially. Each citizen's sends run in their own task, so one citizen's
retries never hold up another's. 403 (the citizen blocked the bot) is not
retried: the caller marks the citizen and stops.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

T = TypeVar("T")
log = logging.getLogger(__name__)


def seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


Sleep = Callable[[float], Awaitable[object]]


async def deliver(call: Callable[[], Awaitable[T]], *, attempts: int = 6,
                  first_backoff: float = 0.5, max_wait: float = 60.0,
                  sleep: Sleep = asyncio.sleep) -> T:
    """Await `call()`, retrying on 429, 5xx and timeouts; re-raises the last failure.
    `sleep` waits between tries (a test's clock, which waits for no time to pass)."""
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except (Forbidden, BadRequest):
            raise  # retrying cannot help: blocked, or a message Telegram rejects
        except RetryAfter as exc:
            if attempt == attempts:
                raise
            wait = min(seconds(exc.retry_after), max_wait)
            log.warning("Telegram asked to wait %.1f s (attempt %d)", wait, attempt)
            await sleep(wait)
        except NetworkError as exc:  # includes 5xx answers and timeouts
            if attempt == attempts:
                raise
            wait = min(first_backoff * 2 ** (attempt - 1), max_wait)
            log.warning("Telegram send failed (%s); retrying in %.1f s", exc, wait)
            await sleep(wait)
    raise AssertionError("unreachable")
