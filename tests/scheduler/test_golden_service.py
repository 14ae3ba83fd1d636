"""Golden snapshot of whole conversations through the service, on SQLite and PostgreSQL.

Four citizens, one after another, each an hour after the last, every message 10 s
apart (tests.golden.SCRIPTS): a Hindi feedback by buttons; one with a skip, re-asks
and a voice note that raises an alert for poor treatment; an English one on WhatsApp
that reports a demand for money (a red alert, for the SP office alone); and one left
silent until the scheduler's idle sweep closes it (a script's Tick is that sweep,
`FeedbackService.expire_idle`). Officers are enrolled as they would be, so alerts
become outbox messages.

Recorded per turn: the replies as the catalogs render them (their lines). At the end,
what a citizen or officer would notice of the stored rows: each feedback's reference,
station, channel, language and status with its answers by question and option id; the
alerts; the outbox's messages by kind and by the officer they go to (their role and
scope: the address itself is left out, as are row ids and the citizen's keyed hash).
The one golden file must match on both databases. After a deliberate change:
`PRAYAS_UPDATE_GOLDEN=1 pytest tests/scheduler/test_golden_service.py`, read the diff.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import Session as Db
from sqlmodel import col

from conversations.effects import Tick
from storage.models import Alert, Answer, Contact, Feedback, Officer, Outbox
from tests.conftest import T0
from tests.golden import SCRIPTS, check, clock, event_data, lines

GOLDEN = Path(__file__).resolve().parent / "golden" / "service_four_citizens.json"
# (who, channel, script): the URN is the test's own, shown in the snapshot as "who".
CITIZENS = [("citizen 1", "telegram:100", "hi_taps"),
            ("citizen 2", "telegram:101", "hi_skip_reask_voice"),
            ("citizen 3", "whatsapp:+919800000003", "en_words"),
            ("citizen 4", "telegram:104", "hi_idle_tick")]


def _turns(app: Any) -> list[dict[str, Any]]:
    turns: list[dict[str, Any]] = []
    for n, (who, urn, name) in enumerate(CITIZENS):
        channel = urn.split(":", 1)[0]
        for now, event in clock(T0 + n * timedelta(hours=1), SCRIPTS[name]):
            record: dict[str, Any] = {"who": who, "at": now.isoformat(),
                                      "event": event_data(event)}
            if isinstance(event, Tick):
                record["expire_idle"] = app.service.expire_idle(now)
            else:
                turn = app.service.handle(urn, channel, event, now)
                record["replies"] = [lines(app.catalogs.render(r)) for r in turn.replies]
                if turn.completed_reference:
                    record["completed_reference"] = turn.completed_reference
            turns.append(record)
    return turns


def _answer(row: Answer) -> dict[str, Any]:
    data = {"option": row.option_id, "value": row.value, "text": row.text,
            "voice": row.voice_ref, "skipped": row.skipped or None}
    return {k: v for k, v in data.items() if v is not None}


def _stored(app: Any) -> dict[str, Any]:
    with Db(app.engine) as db:
        feedback = db.execute(select(Feedback).order_by(col(Feedback.id))).scalars().all()
        references = {f.id: f.reference for f in feedback}
        officers = {o.id: f"{o.role} {o.scope}"
                    for o in db.execute(select(Officer)).scalars()}
        alerts = db.execute(select(Alert).order_by(col(Alert.id))).scalars().all()
        alert_of = {a.id: f"{references[a.feedback_id]} {a.rule}" for a in alerts}
        outbox = db.execute(select(Outbox).order_by(col(Outbox.id))).scalars().all()
        contacts = {c.feedback_id: c for c in db.execute(select(Contact)).scalars()}
        return {
            "feedback": [{
                "reference": f.reference, "station": f.station_code, "channel": f.channel,
                "language": f.language, "status": f.status,
                "merged_into": references.get(f.merged_into) if f.merged_into else None,
                "answers": {a.question_id: _answer(a) for a in db.execute(
                    select(Answer).where(Answer.feedback_id == f.id)
                    .order_by(Answer.question_id)).scalars()},
                # Only whether an address was kept, and what its citizen agreed to.
                "contact_kept": ({"may_contact": c.may_contact,
                                  "may_follow_up": c.may_follow_up}
                                 if (c := contacts.get(f.id)) else None),
            } for f in feedback],
            "alerts": [{"feedback": references[a.feedback_id], "station": a.station_code,
                        "rule": a.rule, "severity": a.severity, "status": a.status}
                       for a in alerts],
            "outbox": [{"kind": o.kind, "to": officers.get(o.payload.get("officer_id")),
                        "alerts": [alert_of.get(i) for i in o.payload.get("alert_ids", [])],
                        "reopened": o.payload.get("reopened"), "status": o.status,
                        "priority": o.priority}
                       for o in outbox],
        }


@pytest.mark.usefixtures("officers_enrolled")
def test_golden_service_conversations(app: Any) -> None:
    snapshot = {"turns": _turns(app), "stored": _stored(app)}
    check(GOLDEN, snapshot)
