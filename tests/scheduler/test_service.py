"""The service's turns against a real database, any messages in any order: a turn that
takes no answer changes nothing stored, and no feedback is left empty."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlmodel import Session as Db

from conversations.effects import Start, Tap, Text
from conversations.session import Session
from storage.models import Answer, Conversation, Feedback
from tests.conftest import T0

ANSWERS = ["1", "2", "4", "5", "हाँ", "नहीं", "कुछ नहीं कहना"]  # valid for most questions
WORDS = ["बंद", "धन्यवाद", "पीछे", "फिर से", "English", "हिंदी", "मदद", "😊", "फीडबैक BLB07",
         "?"]
answers = st.builds(Text, st.sampled_from(ANSWERS))
# Mostly answers, so that feedback gets completed, stopped, gone back over and thanked for.
events = st.one_of(
    answers, answers, answers, answers, answers, answers,
    st.builds(Text, st.sampled_from(["बंद", "धन्यवाद"])),  # the end of a feedback, and after
    st.builds(Text, st.sampled_from(WORDS)),
    st.builds(Start, st.sampled_from(["BLB05", "BLB06", "", None])),
    st.builds(Tap, st.sampled_from(["purpose", "heard", "_switch"]),
              st.sampled_from(["complaint_fir", "under_15m", "new", "continue"])),
)
# Mostly seconds apart; at times past the idle timeout, or a day later.
pauses = st.one_of(st.integers(min_value=1, max_value=90), st.sampled_from([31 * 60, 86400]))
_citizens = itertools.count(1)
_apps: dict[str, Any] = {}


def _stored(app: Any, sender: str) -> tuple[Any, ...]:
    with Db(app.engine) as db:
        rows = db.execute(select(Feedback).where(Feedback.sender == sender)
                          .order_by(Feedback.id)).scalars().all()
        # A sender past the hourly limit of new feedback has their half-done ones marked
        # "throttled" (not counted) by a turn that takes no answer: on purpose, and still
        # incomplete feedback (tests/bot/test_citizen_limits.py).
        status = {"throttled": "incomplete"}
        stored = ((f.id, status.get(f.status, f.status), f.merged_into, tuple(sorted(
            (a.question_id, a.option_id, a.text, a.skipped) for a in db.execute(
                select(Answer).where(Answer.feedback_id == f.id)).scalars())))
            for f in rows)
        # A feedback whose answers were all taken back ("पीछे") holds nothing: the turn
        # that closes the conversation ("बंद") discards it, and no answer changes.
        return tuple(f for f in stored if f[3])


def _answers(app: Any, sender: str) -> tuple[dict[str, Any], str | None]:
    with Db(app.engine) as db:
        state = db.execute(select(Conversation.state).where(
            Conversation.sender == sender)).scalar_one_or_none()
    session = Session.from_json(state) if state else None
    return (dict(session.answers), session.station) if session else ({}, None)


STOPPED = [(Start("BLB05"), 1), (Text("1"), 5), (Text("बंद"), 5), (Text("ok"), 5)]
THANKED = [(Start("BLB05"), 1), *[(Text(a), 5) for a in
                                  ["1", "1", "4", "हाँ", "2", "हाँ", "नहीं", "5", "नहीं",
                                   "नहीं", "नहीं"]], (Text("धन्यवाद"), 5)]


@example(steps=[(Text("1"), 1), (Text("1"), 1), (Text("1"), 1860), (Text("1"), 1),
                (Text("धन्यवाद"), 1), (Text("पीछे"), 1), (Text("बंद"), 1)])
@example(steps=STOPPED)
@example(steps=THANKED)
@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(events, pauses), min_size=12, max_size=40))
def test_a_turn_that_changes_no_answer_changes_no_stored_feedback(make_app, sqlite_url,  # type: ignore[no-untyped-def]
                                                                  steps) -> None:
    # SQLite only: the contract suite runs the same statements on both backends; here
    # the many sequences are the point. One app for all of them, a citizen each.
    app = _apps.get(sqlite_url) or _apps.setdefault(sqlite_url, make_app(sqlite_url))
    urn = f"telegram:{next(_citizens)}"
    sender, now = app.service.identity.sender(urn), T0
    for event, pause in steps:
        now += timedelta(seconds=pause)
        app.service.expire_idle(now)  # the scheduler's sweep, as it would run
        before, answers = _stored(app, sender), _answers(app, sender)
        app.service.handle(urn, "telegram", event, now)
        if _answers(app, sender) == answers:
            assert _stored(app, sender) == before, event
        with Db(app.engine) as db:  # no feedback left empty, but the one being answered
            current = db.execute(select(Conversation.feedback_id).where(
                Conversation.sender == sender)).scalar_one_or_none()
            assert all(db.execute(select(Answer).where(Answer.feedback_id == f.id)).first()
                       for f in db.execute(select(Feedback).where(
                           Feedback.sender == sender, Feedback.id != current)).scalars())
