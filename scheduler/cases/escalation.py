"""A case past its deadline while the station's in-charge owes the next step (instructed,
or returned) goes up one level (config cases.escalate_to), and one more each time the
state's hours pass again. A case waiting for the SP office itself goes up to nobody: it
is first in the SP office's digest and list of cases."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, select
from sqlmodel import Session as Db
from sqlmodel import col

from scheduler.config import Config
from storage import outbox
from storage.db import writer
from storage.models import CaseEvent, FeedbackCase, Officer
from storage.officers import officers_for

OWED_BY_THE_STATION = ("instructed", "returned")


def escalate_cases(engine: Engine, config: Config, now: datetime) -> int:
    """Take every overdue case up a level; how many went up."""
    levels = config.cases.escalate_to
    with Db(writer(engine)) as db, db.begin():
        overdue = db.execute(select(FeedbackCase).where(
            col(FeedbackCase.state).in_(OWED_BY_THE_STATION), ~col(FeedbackCase.red),
            col(FeedbackCase.due_at) <= now, col(FeedbackCase.level) < len(levels))
            .with_for_update()).scalars().all()
        went = 0
        for case in overdue:
            hours = timedelta(hours=getattr(config.cases.due_hours, case.state))
            if now < case.due_at + case.level * hours:
                continue  # at this level for less than the state's hours
            # The next level with someone enrolled for this station (a station outside any
            # subdivision, or a subdivision without its SDOP, goes to the SP office).
            told: list[Officer] = []
            while case.level < len(levels) and not told:
                role = levels[case.level]
                told = officers_for(db, [role], case.station_code)
                case.level += 1
            event = CaseEvent(case_id=case.id, event="escalated", at=now,
                              text=role if told else f"{role}: nobody enrolled")
            db.add(event)
            db.flush()
            for officer in told:
                outbox.queue(db, "case", officer.urn,
                             f"case:{event.id}:officer:{officer.id}",
                             {"case_id": case.id, "officer_id": officer.id, "overdue": True},
                             now)
            went += 1
        return went
