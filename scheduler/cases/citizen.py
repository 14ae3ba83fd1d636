"""The citizen's answer when their case closed, an event of the case: a poor one opens
it again, the SP office's to look at (scheduler/follow_ups/closure.py asks)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session as Db

from storage import cases as store
from storage import outbox
from storage.models import CaseEvent
from storage.officers import officers_for

POOR = 2  # an answer of at most this reopens the case


def answered(db: Db, feedback_id: int, score: int | None, now: datetime,
             due: timedelta) -> None:
    """`score`: 1-5, None when the answer had no number."""
    case = store.case_of(db, feedback_id)
    if case is None or case.id is None:
        return
    # Reopened meanwhile (the citizen came back unhappy): the answer is kept, no more.
    poor = score is not None and score <= POOR and case.state == "closed"
    event = CaseEvent(case_id=case.id, event="citizen_unhappy" if poor else "citizen_answered",
                      at=now, text=str(score) if score is not None else None)
    db.add(event)
    if not poor:
        return
    case.state, case.updated_at, case.due_at, case.level = "new", now, now + due, 0
    db.flush()
    for officer in officers_for(db, ["sp_office"], case.station_code):
        outbox.queue(db, "case", officer.urn, f"case:{event.id}:officer:{officer.id}",
                     {"case_id": case.id, "event_id": event.id, "officer_id": officer.id}, now)

