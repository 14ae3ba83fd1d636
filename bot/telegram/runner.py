"""Building the python-telegram-bot Application around our channel."""

from __future__ import annotations

import gc
import logging
from typing import Any, TypeAlias

from telegram import Bot, Update
from telegram.ext import Application, ContextTypes, ExtBot

from bot.database_work import DatabaseWork
from bot.environment import Environment
from bot.router import Router
from bot.telegram.adapter import TelegramChannel
from bot.telegram.ordering import PerChatOrder
from bot.telegram.transport import AiohttpRequest, UpdatesRequest
from scheduler.app import App

log = logging.getLogger(__name__)
ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]
# What build_application makes: python-telegram-bot's own context and data, no JobQueue
# (our scheduler runs the jobs).
TelegramApplication: TypeAlias = Application[
    ExtBot[None], ContextTypes.DEFAULT_TYPE, dict[Any, Any], dict[Any, Any], dict[Any, Any],
    None]


def build_application(app: App, env: Environment, router: Router, work: DatabaseWork,
                      retry_backoff: float = 0.5, **channel: Any,
                      ) -> tuple[TelegramApplication, TelegramChannel]:
    """The bot, and the channel that handles its updates (and sends the outbox's)."""
    builder = (
        Application.builder().token(env.bot_token()).concurrent_updates(PerChatOrder())
        .request(AiohttpRequest(pool_size=16)).get_updates_request(UpdatesRequest(pool_size=1))
        .job_queue(None)  # our own scheduler runs the jobs (scheduler/jobs.py)
    )
    if root := env.telegram_api_root(app.config):
        builder = builder.base_url(f"{root}/bot").base_file_url(f"{root}/file/bot")
    application = builder.build()
    telegram = TelegramChannel(app, router, work, application.bot, retry_backoff=retry_backoff,
                               **channel)
    application.add_handlers(telegram.handlers())
    application.add_error_handler(_log_error)
    return application, telegram


def sending_bot(app: App, env: Environment) -> Bot:
    """A Bot for sending only (`prayas digest --send`): no updates, no handlers."""
    root = env.telegram_api_root(app.config)
    # Bot's own default address unless a proxy or a test's fake stands in
    where: dict[str, Any] = {"base_url": f"{root}/bot",
                             "base_file_url": f"{root}/file/bot"} if root else {}
    return Bot(env.bot_token(), **where, request=AiohttpRequest(),
               get_updates_request=AiohttpRequest(1))


async def _log_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    # Never log the update itself: it carries the citizen's chat id and words.
    kind = type(update).__name__
    log.error("handling a %s failed", kind, exc_info=context.error)


def settle_memory() -> None:
    """Move start-up objects out of the garbage collector's way: fewer, shorter pauses."""
    gc.collect()
    gc.freeze()
