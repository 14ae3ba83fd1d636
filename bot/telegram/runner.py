"""Building the python-telegram-bot Application, and `prayas poll`."""

from __future__ import annotations

import gc
import logging
import os
from typing import Any, TypeAlias

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from telegram import Update
from telegram.ext import Application, ContextTypes, ExtBot

from bot.app import App
from bot.telegram.adapter import TelegramChannel
from bot.telegram.ordering import PerChatOrder
from bot.telegram.transport import AiohttpRequest, UpdatesRequest
from scheduler import jobs
from scheduler.config import ConfigError
from scheduler.officers.desk import OfficerDesk
from scheduler.outbox.dispatch import Dispatcher
from scheduler.outbox.message import ByChannel

log = logging.getLogger(__name__)
CHANNEL_KEY = "prayas_channel"
ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]
# What build_application makes: python-telegram-bot's own context and data, no JobQueue
# (our scheduler runs the jobs).
TelegramApplication: TypeAlias = Application[
    ExtBot[None], ContextTypes.DEFAULT_TYPE, dict[Any, Any], dict[Any, Any], dict[Any, Any],
    None]


def bot_token() -> str:
    token = os.environ.get("TELEGRAM_BOT_TOKEN", "")
    if not token:
        raise ConfigError("TELEGRAM_BOT_TOKEN is not set; put the token from @BotFather in "
                          "the environment (never in config.yaml)")
    return token


def api_root(app: App) -> str:
    """A self-hosted Bot API server (or a test's fake): TELEGRAM_BASE_URL, then config."""
    return (os.environ.get("TELEGRAM_BASE_URL") or app.config.telegram.base_url).rstrip("/")


def build_application(app: App, token: str, retry_backoff: float = 0.5,
                      with_scheduler: bool = True) -> TelegramApplication:
    """The bot; with the scheduler (outbox, escalation, idle sweep) running inside it."""
    holder: dict[str, AsyncIOScheduler] = {}

    async def start_jobs(application: TelegramApplication) -> None:
        dispatcher = Dispatcher(app, ByChannel(
            telegram=lambda message: channel.send_to(application.bot, message)))
        holder["scheduler"] = jobs.start(app, dispatcher)

    async def stop_jobs(_: TelegramApplication) -> None:
        if "scheduler" in holder:
            jobs.stop(holder["scheduler"])

    builder = (
        Application.builder().token(token).concurrent_updates(PerChatOrder())
        .request(AiohttpRequest(pool_size=16)).get_updates_request(UpdatesRequest(pool_size=1))
        .job_queue(None)  # our own scheduler runs the jobs (scheduler/jobs.py)
    )
    async def close_database_work(_: TelegramApplication) -> None:
        channel.database.close()  # its thread and SQLite's engine for the loop's writes

    if with_scheduler:
        builder = builder.post_init(start_jobs).post_stop(stop_jobs)
    builder = builder.post_shutdown(close_database_work)
    if root := api_root(app):
        builder = builder.base_url(f"{root}/bot").base_file_url(f"{root}/file/bot")
    application = builder.build()
    channel = TelegramChannel(app, OfficerDesk(app.engine, app.config),
                              retry_backoff=retry_backoff)
    application.add_handlers(channel.handlers())
    application.add_error_handler(_log_error)
    application.bot_data[CHANNEL_KEY] = channel
    return application


def telegram_channel(application: TelegramApplication) -> TelegramChannel:
    """The channel that handles this application's updates (it also sends the outbox's)."""
    channel = application.bot_data[CHANNEL_KEY]
    assert isinstance(channel, TelegramChannel)  # bot_data is typed as holding anything
    return channel


async def _log_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    # Never log the update itself: it carries the citizen's chat id and words.
    kind = type(update).__name__
    log.error("handling a %s failed", kind, exc_info=context.error)


def settle_memory() -> None:
    """Move start-up objects out of the garbage collector's way: fewer, shorter pauses."""
    gc.collect()
    gc.freeze()


def run_polling(app: App) -> None:
    """Long polling until SIGINT/SIGTERM; unconfirmed updates are fetched again on restart."""
    import asyncio

    from bot.telegram.polling import poll

    application = build_application(app, bot_token())
    settle_memory()
    asyncio.run(poll(application, ALLOWED_UPDATES))
