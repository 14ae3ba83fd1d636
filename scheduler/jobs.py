"""The recurring jobs, on APScheduler's asyncio scheduler inside `prayas poll` / `serve`.

Each job takes `now`, so tests run them with a fixed clock. Every process runs the
scheduler, but only the leader (scheduler/leader.py: a PostgreSQL advisory lock; on
SQLite the single process) does the work; the others check again at each tick.
"""

from __future__ import annotations

from datetime import UTC, datetime

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from scheduler import retention
from scheduler.alerts import escalation
from scheduler.app import App
from scheduler.cases.escalation import escalate_cases
from scheduler.digests import queue
from scheduler.follow_ups.ask import ask_follow_ups
from scheduler.follow_ups.closure import ask_citizens
from scheduler.leader import Leader
from scheduler.outbox.dispatch import Dispatcher
from scheduler.report.monthly import queue_monthly_reports

# The running app, for jobs kept in the database: a stored job names a function, not
# an object, so the function finds the app here.
_running: dict[str, App] = {}
_running_leader: dict[str, Leader] = {}


def _weekly_digests_now() -> None:
    if _running_leader["leader"].check():
        queue.queue_weekly_digests(_running["app"], datetime.now(UTC))


def _daily_digests_now() -> None:
    if _running_leader["leader"].check():
        queue.queue_daily_digests(_running["app"], datetime.now(UTC))


def _monthly_reports_now() -> None:
    if _running_leader["leader"].check():
        queue_monthly_reports(_running["app"], datetime.now(UTC))


def start(app: App, dispatcher: Dispatcher) -> AsyncIOScheduler:
    leader = Leader(app.engine)
    _running["app"], _running_leader["leader"] = app, leader

    def now() -> datetime:
        return datetime.now(UTC)

    async def send_due() -> None:
        if leader.check():
            await dispatcher.run_once(now())

    def escalate_overdue() -> None:
        if leader.check():
            escalation.escalate(app.engine, app.config, now())
            escalate_cases(app.engine, app.config, now())

    def close_idle_conversations() -> None:
        if leader.check():
            app.service.expire_idle(now())

    def forget_personal_data() -> None:
        if leader.check():
            retention.forget(app, now())

    def follow_up() -> None:
        if leader.check():
            ask_follow_ups(app, now())
            ask_citizens(app, now())

    def lead() -> None:
        if leader.check():
            keep_digest_jobs(scheduler, app)
            dispatcher.warm()
        else:
            dispatcher.idle()

    def keep_rollups() -> None:
        if leader.check():
            queue.roll_up(app, now())

    # coalesce: after downtime a missed run happens once, not once per missed interval.
    common = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
    scheduler = AsyncIOScheduler(timezone=app.config.zone)
    scheduler.add_job(send_due, "interval", seconds=5, id="outbox", **common)
    scheduler.add_job(escalate_overdue, "interval", minutes=1, id="escalate", **common)
    scheduler.add_job(close_idle_conversations, "interval", minutes=1, id="expire_idle",
                      **common)
    scheduler.add_job(forget_personal_data, "interval", hours=6, id="retention", **common)
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
        # Last month's report for the crime review meeting, with the 1st's daily digest.
        "sp_office_monthly_report": (_monthly_reports_now, CronTrigger(
            day=1, hour=at.hour, minute=at.minute, timezone=app.config.zone)),
    }
    for job_id, (function, trigger) in wanted.items():
        job = scheduler.get_job(job_id, DIGEST_STORE)
        if job is None:
            scheduler.add_job(function, trigger, id=job_id, jobstore=DIGEST_STORE,
                              coalesce=True, max_instances=1, misfire_grace_time=12 * 3600)
        elif str(job.trigger) != str(trigger):
            scheduler.reschedule_job(job_id, DIGEST_STORE, trigger=trigger)
