"""The composition root: config file + environment -> the app, its channels, the
database work, the router, the outbox's dispatcher and the scheduler.

`prayas poll`, `prayas serve` and `prayas digest --send` build what they run here, and
nowhere else; the rest of the code is handed what it needs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TextIO

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import Engine
from sqlmodel import Session as Db

from bot.console import ConsoleChannel
from bot.database_work import database_work
from bot.environment import Environment
from bot.router import Router
from bot.telegram.adapter import TelegramChannel
from bot.telegram.runner import TelegramApplication, build_application, sending_bot
from bot.whatsapp.channel import WhatsAppChannel
from conversations.survey import DEFAULT_SURVEY, StationRef, Survey, load_survey
from scheduler import jobs
from scheduler.alerts.rules import check_rules
from scheduler.app import App
from scheduler.catalogs import Catalogs
from scheduler.config import Config, ConfigError, load_config
from scheduler.digests.queue import queue_digests_now
from scheduler.identity import load_identity
from scheduler.outbox.dispatch import Dispatcher
from scheduler.outbox.message import Channel
from scheduler.service import FOLLOW_UP_QUESTION, CitizenLimits, FeedbackService
from storage import feedback as store
from storage.db import keep_statistics, open_engine, upgrade, writer

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


def district_survey(config: Config, catalogs: Catalogs, path: Path = DEFAULT_SURVEY) -> Survey:
    """The survey file, plus this deployment's stations, limits and translated labels."""
    survey = load_survey(path)
    labels = {o.label: catalogs.translations_of(o.label)
              for q in survey.every_question for o in q.options}
    stations = tuple(StationRef(s.code, s.name_hi, s.name_en, s.kind)
                     for _, s in config.stations())
    survey = replace(
        survey,
        stations=stations,
        languages=tuple(config.languages),
        idle_timeout=timedelta(minutes=config.sessions.idle_timeout_minutes),
        follow_up_timeout=timedelta(hours=config.follow_ups.answer_within_hours),
        max_comment_chars=config.sessions.max_comment_chars,
        questions=tuple(replace(q, ask_params=(("days", str(config.follow_ups.after_days)),))
                        if "{days}" in q.ask else q for q in survey.questions),
    )
    return survey.with_label_words(labels)


def check_quick_replies(config: Config, survey: Survey, path: Path) -> None:
    """A quick-reply template for a question the survey does not ask is a typo."""
    asked = {q.id for q in survey.questions if q.options}
    for question, by_lang in config.whatsapp.quick_replies.items():
        if question not in asked:
            raise ConfigError(f"{path}: whatsapp.quick_replies.{question}: the survey has no "
                              f"question {question!r} with options; use one of "
                              f"{sorted(asked)}")
        if unknown := sorted(set(by_lang) - set(config.languages)):
            raise ConfigError(f"{path}: whatsapp.quick_replies.{question}.{unknown[0]}: not one of "
                              f"`languages` {config.languages}")


def open_database(config: Config, env: Environment) -> Engine:
    """The database, migrated to the current schema, with the stations of config.yaml."""
    engine = open_engine(env.database(config))
    before, after = upgrade(engine)
    if before != after:
        log.info("database schema %s -> %s", before or "empty", after)
    with Db(writer(engine)) as db, db.begin():
        store.sync_stations(db, ((d.code, s) for d, s in config.stations()))
    keep_statistics(engine)
    return engine


def build_app(config_file: Path, env: Environment | None = None) -> App:
    env = env or Environment.read()
    config = load_config(config_file)
    catalogs = Catalogs.load(config.languages, env.locale_folder())
    survey = district_survey(config, catalogs)
    check_rules(config, survey)
    check_quick_replies(config, survey, config_file)
    engine = open_database(config, env)
    identity = load_identity(env.data_folder(config), env.database(config), env.hmac_key)
    # A week later a WhatsApp citizen's 24-hour window is closed: without the approved
    # follow-up template they could not be asked, so they are not offered it.
    unasked = ({"whatsapp": [FOLLOW_UP_QUESTION]}
               if not config.whatsapp.templates.get("follow_up") else {})
    service = FeedbackService(
        engine, survey, identity, config.default_language,
        timedelta(hours=config.sessions.update_window_hours), config.zone,
        config.alerts.rules, unasked,
        CitizenLimits(config.sessions.max_messages_per_minute,
                      config.sessions.max_new_feedback_per_hour),
        timedelta(hours=config.cases.due_hours.new),
    )
    return App(config, engine, survey, catalogs, service)


def _now() -> datetime:
    return datetime.now(UTC)


class Runtime:
    """One process's moving parts around the app: the database work and the router every
    channel shares, the channels asked for, the dispatcher and, once started with
    `scheduler`, the jobs. Started and stopped inside the event loop."""

    def __init__(self, app: App, env: Environment, *, telegram: bool = False,
                 whatsapp: bool = False, receive: bool = True,
                 retry_backoff: float = 0.5, clock: Clock | None = None) -> None:
        """`receive`: Telegram updates come in (poll, serve); without it, a Bot that only
        sends (`digest --send`). `clock`: the channels' (a test's fixed one)."""
        clock = clock or _now
        self.app = app
        self.work = database_work(app.service)
        self.router = Router(app, self.work)
        self.telegram: TelegramApplication | None = None
        self.telegram_channel: TelegramChannel | None = None
        if telegram and receive:
            self.telegram, self.telegram_channel = build_application(
                app, env, self.router, self.work, retry_backoff, clock=clock)
        elif telegram:
            self.telegram_channel = TelegramChannel(app, self.router, self.work,
                                                    sending_bot(app, env), clock=clock)
        self.whatsapp = (WhatsAppChannel(app, self.router, self.work, env.twilio(),
                                         env.twilio_api_root(app.config),
                                         first_backoff=retry_backoff, clock=clock)
                         if whatsapp else None)
        self.dispatcher = Dispatcher(app, self.channels())
        self._jobs: AsyncIOScheduler | None = None

    def channels(self) -> dict[str, Channel]:
        found: list[Channel | None] = [self.telegram_channel, self.whatsapp]
        return {c.name: c for c in found if c is not None}

    async def start(self, scheduler: bool = True) -> None:
        if self.telegram is not None:
            await self.telegram.initialize()
            await self.telegram.start()
        elif self.telegram_channel is not None:
            await self.telegram_channel.bot.initialize()
        if self.whatsapp is not None:
            await self.whatsapp.start()
        if scheduler:
            self._jobs = jobs.start(self.app, self.dispatcher)

    async def stop(self) -> None:
        if self._jobs is not None:
            jobs.stop(self._jobs)
            self._jobs = None
        self.dispatcher.close()
        if self.whatsapp is not None:
            await self.whatsapp.stop()
        if self.telegram is not None:
            if self.telegram.running:
                await self.telegram.stop()
            await self.telegram.shutdown()
        elif self.telegram_channel is not None:
            await self.telegram_channel.bot.shutdown()
        self.work.close()


def run_polling(app: App, env: Environment, stop: asyncio.Event | None = None) -> None:
    """`prayas poll`: long polling until SIGINT/SIGTERM, the scheduler inside."""
    from bot.telegram.polling import poll
    from bot.telegram.runner import ALLOWED_UPDATES, settle_memory

    runtime = Runtime(app, env, telegram=True)
    assert runtime.telegram is not None
    settle_memory()

    async def main() -> None:
        await runtime.start(scheduler=True)
        try:
            assert runtime.telegram is not None
            await poll(runtime.telegram, ALLOWED_UPDATES, stop)
        finally:
            await runtime.stop()

    asyncio.run(main())


def send_digests_now(app: App, env: Environment, district: str, station: str | None,
                     day: date, now: datetime) -> int:
    """`prayas digest --send`: queue the digest for `day` and dispatch it at once, on
    every channel this process can send on; how many officers it was queued for."""
    keys = queue_digests_now(app, district, station, day, now)

    async def send() -> None:
        runtime = Runtime(app, env, telegram=bool(env.telegram_token),
                          whatsapp=bool(app.config.whatsapp.number), receive=False)
        await runtime.start(scheduler=False)
        try:
            await runtime.dispatcher.run_once(now, keys)  # only these: the service sends the rest
        finally:
            await runtime.stop()

    asyncio.run(send())
    return len(keys)


def run_console(app: App, env: Environment, urn: str, station: str, language: str | None,
                lines: Iterable[str], out: TextIO, prompt: Callable[[], None] | None = None,
                echo: bool = False) -> bool:
    """`prayas chat`: one citizen at the console, through the same router as the chats;
    True when the feedback completed."""
    runtime = Runtime(app, env)
    console = ConsoleChannel(runtime.router, app.catalogs, urn, out)

    async def main() -> bool:
        await runtime.start(scheduler=False)
        try:
            return await console.run(station, language, lines, prompt, echo)
        finally:
            await runtime.stop()

    return asyncio.run(main())
