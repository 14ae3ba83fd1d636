"""The recurring jobs, on APScheduler's asyncio scheduler inside `prayas poll` / `serve`.

Each job takes `now`, so tests run them with a fixed clock. Every process runs the
scheduler, but only the leader (scheduler/leader.py: a PostgreSQL advisory lock; on
SQLite the single process) does the work; the others check again at each tick.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlmodel import Session as Db

from bot.app import App
from scheduler.follow_ups.ask import ask_follow_ups
from scheduler.leader import Leader
from scheduler.outbox.dispatch import Dispatcher
from storage import alerts, media, rollup
from storage.alerts import in_charges, officers_of_district
from storage.db import keep_statistics, writer
from storage.models import Officer

# The running app, for jobs kept in the database: a stored job names a function, not
# an object, so the function finds the app here.
_running: dict[str, App] = {}
_running_leader: dict[str, Leader] = {}
_running_dispatcher: dict[str, Dispatcher] = {}


def _queue_digest(db: Db, officer: Officer, about: dict[str, str], day: date, kind: str,
                  now: datetime) -> str:
    """One digest for one officer; the key makes queueing the same one twice harmless."""
    scope = about.get("station") or about["district"]
    key = f"{kind}:{scope}:{day.isoformat()}:officer:{officer.id}"
    alerts.queue(db, "digest", officer.urn, key,
                 {**about, "date": day.isoformat(), "officer_id": officer.id}, now)
    return key


def queue_daily_digests(app: App, now: datetime) -> int:
    """Yesterday's digest for each district's SP office."""
    day = now.astimezone(app.config.zone).date() - timedelta(days=1)
    with Db(writer(app.engine)) as db, db.begin():
        chosen = [(o, d.code) for d in app.config.districts
                  for o in officers_of_district(db, d.code)]
        for officer, district in chosen:
            _queue_digest(db, officer, {"district": district}, day, "digest", now)
    return len(chosen)


def queue_weekly_digests(app: App, now: datetime) -> int:
    """Each in-charge's week, up to yesterday."""
    day = now.astimezone(app.config.zone).date() - timedelta(days=1)
    with Db(writer(app.engine)) as db, db.begin():
        chosen = in_charges(db)
        for officer in chosen:
            _queue_digest(db, officer, {"station": officer.scope}, day, "weekly", now)
    return len(chosen)


def send_digests_now(app: App, district: str, station: str | None, day: date,
                     now: datetime) -> int:
    """`prayas digest --send`: queue the digest for `day` and dispatch it at once."""
    import asyncio
    import contextlib
    import os

    from telegram import Bot

    from bot.telegram.adapter import TelegramChannel
    from bot.telegram.runner import api_root, bot_token
    from bot.telegram.transport import AiohttpRequest
    from bot.whatsapp.channel import WhatsAppChannel
    from bot.whatsapp.twilio_api import credentials
    from scheduler.officers.desk import OfficerDesk
    from scheduler.outbox.dispatch import Send
    from scheduler.outbox.message import ByChannel

    with Db(writer(app.engine)) as db, db.begin():
        officers = ([o for o in in_charges(db) if o.scope == station] if station
                    else officers_of_district(db, district))
        about = {"station": station} if station else {"district": district}
        # "manual" + the time: sending again on purpose is allowed
        keys = {_queue_digest(db, officer, about, day, f"manual@{now.isoformat()}", now)
                for officer in officers}

    async def send() -> int:
        async with contextlib.AsyncExitStack() as stack:
            senders: dict[str, Send] = {}
            if os.environ.get("TELEGRAM_BOT_TOKEN"):
                root = api_root(app)
                # Bot's own default address unless a proxy or a test's fake stands in
                where: dict[str, Any] = {"base_url": f"{root}/bot"} if root else {}
                bot = Bot(bot_token(), **where,
                          request=AiohttpRequest(), get_updates_request=AiohttpRequest(1))
                await stack.enter_async_context(bot)
                channel = TelegramChannel(app, OfficerDesk(app.engine, app.config))
                senders["telegram"] = lambda message: channel.send_to(bot, message)
            if app.config.whatsapp.number:
                whatsapp = WhatsAppChannel(app, credentials())
                await whatsapp.start()
                stack.push_async_callback(whatsapp.stop)
                senders["whatsapp"] = whatsapp.send_to
            dispatcher = Dispatcher(app, ByChannel(**senders))
            stack.callback(dispatcher.close)
            return await dispatcher.run_once(now, keys)  # only these: the service sends the rest

    asyncio.run(send())
    return len(officers)


def _weekly_digests_now() -> None:
    if _running_leader["leader"].check():
        queue_weekly_digests(_running["app"], datetime.now(UTC))


def _daily_digests_now() -> None:
    if _running_leader["leader"].check():
        queue_daily_digests(_running["app"], datetime.now(UTC))


def forget(app: App, now: datetime) -> dict[str, int]:
    cutoff = now - timedelta(days=app.config.retention.personal_data_days)
    with Db(writer(app.engine)) as db, db.begin():
        removed = alerts.forget_personal_data(db, cutoff)
        removed["media"] = media.sweep(db, now)  # WhatsApp's copies of digest files
    keep_statistics(app.engine)  # the tables grew since the last six hours
    return removed


def escalate(app: App, now: datetime) -> int:
    window = timedelta(hours=app.config.alerts.acknowledge_within_hours)
    with Db(writer(app.engine)) as db, db.begin():
        return alerts.escalate_overdue(db, now, window)


def roll_up(app: App, now: datetime) -> int:
    """Keep yesterday and today rolled up, so the morning digest finds them ready (at a
    state's size, rolling a day up takes longer than the digest itself)."""
    today = now.astimezone(app.config.zone).date()
    return rollup.refresh(app.engine, today - timedelta(days=1), today, app.config.zone,
                          app.config.digests.burst_minutes)


def start(app: App, dispatcher: Dispatcher) -> AsyncIOScheduler:
    leader = Leader(app.engine)
    _running["app"], _running_leader["leader"] = app, leader
    _running_dispatcher["dispatcher"] = dispatcher

    def now() -> datetime:
        return datetime.now(UTC)

    async def send_due() -> None:
        if leader.check():
            await dispatcher.run_once(now())

    def escalate_overdue() -> None:
        if leader.check():
            escalate(app, now())

    def close_idle_conversations() -> None:
        if leader.check():
            app.service.expire_idle(now())

    def retention() -> None:
        if leader.check():
            forget(app, now())

    def follow_up() -> None:
        if leader.check():
            ask_follow_ups(app, now())

    def lead() -> None:
        if leader.check():
            keep_digest_jobs(scheduler, app)
            dispatcher.warm()
        else:
            dispatcher.idle()

    def keep_rollups() -> None:
        if leader.check():
            roll_up(app, now())

    # coalesce: after downtime a missed run happens once, not once per missed interval.
    common = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
    scheduler = AsyncIOScheduler(timezone=app.config.zone)
    scheduler.add_job(send_due, "interval", seconds=5, id="outbox", **common)
    scheduler.add_job(escalate_overdue, "interval", minutes=1, id="escalate", **common)
    scheduler.add_job(close_idle_conversations, "interval", minutes=1, id="expire_idle",
                      **common)
    scheduler.add_job(retention, "interval", hours=6, id="retention", **common)
    scheduler.add_job(follow_up, "interval", minutes=10, id="follow_ups", **common)
    scheduler.add_job(lead, "interval", seconds=30, id="lead", **common)
    # At once on start too: a service restarted at 08:55 finds its days ready at 09:00.
    scheduler.add_job(keep_rollups, "interval", minutes=15, id="rollups",
                      next_run_time=datetime.now(app.config.zone), **common)
    scheduler.start()
    lead()
    return scheduler


def stop(scheduler: AsyncIOScheduler) -> None:
    """Stop the jobs and give up the lead, so another process (or the next start) takes it."""
    scheduler.shutdown(wait=False)
    if "leader" in _running_leader:
        _running_leader["leader"].release()
    if "dispatcher" in _running_dispatcher:
        _running_dispatcher.pop("dispatcher").close()


DIGEST_STORE = "database"


def keep_digest_jobs(scheduler: AsyncIOScheduler, app: App) -> None:
    """The digests' jobs live in the database, and only the leader's scheduler reads it.

    A stored job keeps its next run time across restarts, so a digest missed while the
    service was down (up to 12 h) runs once when it is back; it is only rescheduled
    when the config's time changed.
    """
    if DIGEST_STORE not in scheduler._jobstores:
        scheduler.add_jobstore(SQLAlchemyJobStore(engine=app.engine), DIGEST_STORE)
    at, weekly = app.config.digests.sp_office_daily_at, app.config.digests.in_charge_weekly
    wanted = {
        "sp_office_daily_digest": (_daily_digests_now, CronTrigger(
            hour=at.hour, minute=at.minute, timezone=app.config.zone)),
        "in_charge_weekly_digest": (_weekly_digests_now, CronTrigger(
            day_of_week=weekly.weekday[:3], hour=weekly.at.hour, minute=weekly.at.minute,
            timezone=app.config.zone)),
    }
    for job_id, (function, trigger) in wanted.items():
        job = scheduler.get_job(job_id, DIGEST_STORE)
        if job is None:
            scheduler.add_job(function, trigger, id=job_id, jobstore=DIGEST_STORE,
                              coalesce=True, max_instances=1, misfire_grace_time=12 * 3600)
        elif str(job.trigger) != str(trigger):
            scheduler.reschedule_job(job_id, DIGEST_STORE, trigger=trigger)
