"""A feedback that raises alerts opens one case, whatever it matched; the queue lists
it red first and by deadline; a closed case reopens when the citizen comes back unhappy."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlmodel import Session as Db

from storage.cases import case_file, list_cases
from storage.db import writer
from storage.models import Alert, CaseEvent, FeedbackCase
from tests.conftest import T0
from tests.scheduler.alerts.test_alerts import BRIBE, FINE, NO_RECEIPT, feedback

TWO_REASONS = [*NO_RECEIPT[:2], "1", *NO_RECEIPT[3:]]  # behaviour 1 and no receipt


def test_one_case_per_feedback_with_every_reason_and_a_deadline(app) -> None:  # type: ignore[no-untyped-def]
    feedback(app, "telegram:1", FINE)
    reference = feedback(app, "telegram:2", TWO_REASONS)
    with Db(app.engine) as db:
        [row] = list_cases(db)
        found = case_file(db, reference)
    assert row.reference == reference and row.state == "new" and not row.red
    assert row.rules == ("poor_treatment", "not_served")
    assert row.due_at - row.opened_at == timedelta(hours=app.config.cases.due_hours.new)
    assert found is not None and [e.event for e in found.events] == ["opened"]
    # An update the same day, still unhappy: the same case, not a second one.
    feedback(app, "telegram:2", TWO_REASONS, start=T0 + timedelta(hours=1))
    with Db(app.engine) as db:
        assert len(db.execute(select(FeedbackCase)).scalars().all()) == 1


def test_the_queue_red_first_filtered_by_station_state_and_deadline(app) -> None:  # type: ignore[no-untyped-def]
    rude = feedback(app, "telegram:3", TWO_REASONS)
    red = feedback(app, "telegram:4", BRIBE, station="BLB06", start=T0 + timedelta(minutes=5))
    with Db(app.engine) as db:
        assert [r.reference for r in list_cases(db)] == [red, rude]
        assert list_cases(db)[0].red
        assert [r.reference for r in list_cases(db, station="blb06")] == [red]
        assert list_cases(db, state="closed") == []
        assert list_cases(db, overdue_at=T0 + timedelta(hours=1)) == []
        assert len(list_cases(db, overdue_at=T0 + timedelta(hours=25))) == 2


def test_a_closed_case_reopens_when_the_citizen_comes_back_unhappy(app) -> None:  # type: ignore[no-untyped-def]
    reference = feedback(app, "telegram:5", TWO_REASONS)
    with Db(writer(app.engine)) as db, db.begin():  # acted on: seen, and closed
        for alert in db.execute(select(Alert)).scalars():
            alert.status = "acknowledged"
        case = db.execute(select(FeedbackCase)).scalar_one()
        case.state = "closed"
        db.add(CaseEvent(case_id=case.id, event="closed", at=T0 + timedelta(hours=1)))
    feedback(app, "telegram:5", TWO_REASONS, start=T0 + timedelta(hours=2))
    with Db(app.engine) as db:
        found = case_file(db, reference)
    assert found is not None and found.case.state == "new"
    assert [e.event for e in found.events] == ["opened", "closed", "reopened"]
