"""One citizen's pace, through the real service on both databases: past
`sessions.max_messages_per_minute`, one polite word and then silence for the minute, with
nothing stored; past `sessions.max_new_feedback_per_hour`, no new feedback, and what they
left half-done that hour does not count as "left incomplete"."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session as Db

from conversations import messages as M
from conversations.effects import Start, Text
from storage.digest import sums
from storage.models import Answer, Feedback
from tests.conftest import T0

URN = "telegram:5005"


def _said(app: Any, urn: str, text: str | Start, at: Any) -> list[str]:
    event = text if isinstance(text, Start) else Text(text)
    turn = app.service.handle(urn, "telegram", event, at)
    return [line.id for reply in turn.replies for line in reply.lines]


def _answers(app: Any) -> int:
    with Db(app.engine) as db:
        return int(db.execute(select(func.count()).select_from(Answer)).scalar_one())


def test_a_citizen_past_the_minutes_limit_is_asked_once_to_slow_down(app: Any) -> None:
    limit = app.config.sessions.max_messages_per_minute
    assert limit == 20  # the sample config's (the default)
    at = T0
    assert M.GREETING in _said(app, URN, Start("BLB05"), at)
    for n in range(1, limit):  # the scan was the first of the minute's messages
        at = T0 + timedelta(seconds=n)
        replies = _said(app, URN, "मदद", at)
        assert replies and M.SLOW_DOWN not in replies
    stored = _answers(app)
    assert _said(app, URN, "1", T0 + timedelta(seconds=30)) == [M.SLOW_DOWN]
    for n in range(31, 40):  # then silence for the rest of the minute, nothing stored
        assert _said(app, URN, "1", T0 + timedelta(seconds=n)) == []
    assert _answers(app) == stored
    other = _said(app, "telegram:6006", Start("BLB05"), T0 + timedelta(seconds=40))
    assert M.GREETING in other  # another citizen is served as ever
    # A minute after their first message, they are answered again where they were.
    replies = _said(app, URN, "1", T0 + timedelta(seconds=61))
    assert M.SLOW_DOWN not in replies and replies
    assert _answers(app) == stored + 1


def _half_done(app: Any, station: str, at: Any) -> Any:
    _said(app, URN, Start(station), at)
    # A new scan midway asks whether to start over ("1"); then one answer, and on.
    _said(app, URN, "1", at + timedelta(seconds=5))
    _said(app, URN, "1", at + timedelta(seconds=10))
    return at + timedelta(minutes=2)


def test_feedback_after_feedback_is_capped_and_not_counted(app: Any) -> None:
    cap = app.config.sessions.max_new_feedback_per_hour
    at = T0
    stations = [f"BLB{n:02d}" for n in range(1, 20)]
    for station in stations[:cap]:
        at = _half_done(app, station, at)
    with Db(app.engine) as db:
        assert sum(s.incomplete for s in sums(db, T0, T0 + timedelta(hours=2)).values()) == cap
    assert _said(app, URN, Start(stations[cap]), at) == [M.TOO_MANY_FEEDBACK]
    with Db(app.engine) as db:
        statuses = db.execute(select(Feedback.status)).scalars().all()
        numbers = sums(db, T0, T0 + timedelta(hours=2))
    assert statuses == ["throttled"] * cap  # kept, each one, and no new one opened
    assert all(s.incomplete == 0 and s.complete == 0 for s in numbers.values())
    # An hour after the first, they may give feedback again.
    # (The last attempt is still open, within the day: "start a new one?", then yes.)
    later = T0 + timedelta(minutes=61)
    assert _said(app, URN, Start(stations[cap]), later) == [M.SWITCH_ASK]
    assert M.GREETING in _said(app, URN, "1", later + timedelta(seconds=5))
