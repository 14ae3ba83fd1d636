"""The recurring jobs, on APScheduler's asyncio scheduler inside `prayas poll` / `serve`.

Each job takes `now`, so tests run them with a fixed clock. SQLite means one process,
and so one scheduler; with PostgreSQL run one scheduler per deployment (a PostgreSQL
advisory lock electing it is still to come).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlmodel import Session as Db

from bot.app import App
from scheduler.dispatch import Dispatcher
from storage import alerts
from storage.db import writer


def escalate(app: App, now: datetime) -> int:
    window = timedelta(hours=app.config.alerts.acknowledge_within_hours)
    with Db(writer(app.engine)) as db, db.begin():
        return alerts.escalate_overdue(db, now, window)


def start(app: App, dispatcher: Dispatcher) -> AsyncIOScheduler:
    def now() -> datetime:
        return datetime.now(UTC)

    async def send_due() -> None:
        await dispatcher.run_once(now())

    def escalate_overdue() -> None:
        escalate(app, now())

    def close_idle_conversations() -> None:
        app.service.expire_idle(now())

    # coalesce: after downtime a missed run happens once, not once per missed interval.
    common = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}
    scheduler = AsyncIOScheduler(timezone=app.config.zone)
    scheduler.add_job(send_due, "interval", seconds=5, id="outbox", **common)
    scheduler.add_job(escalate_overdue, "interval", minutes=1, id="escalate", **common)
    scheduler.add_job(close_idle_conversations, "interval", minutes=1, id="expire_idle",
                      **common)
    scheduler.start()
    return scheduler
