"""The session as storage writes it: the same text as json of to_json(), read back whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import orjson
import pytest

from conversations.session import Answer, Session


class _Clock(datetime):
    """A datetime subclass, as a test clock or another library may hand one over."""


@pytest.mark.parametrize("last_seen", [
    None,
    datetime(2026, 11, 29, 18, 0, tzinfo=UTC),  # no microseconds
    datetime(2026, 11, 29, 18, 0, 1, 5, tzinfo=UTC),
    datetime(2026, 11, 29, 23, 30, tzinfo=ZoneInfo("Asia/Kolkata")),
    datetime(1890, 1, 1, tzinfo=ZoneInfo("Asia/Kolkata")),  # an offset with seconds
    datetime(2026, 1, 1, tzinfo=timezone(timedelta(seconds=30))),
    _Clock(2026, 1, 1, tzinfo=UTC),
])
def test_a_session_is_written_as_to_json_says(last_seen: datetime | None) -> None:
    session = Session("hi", stage="asking", station="BLB05", question="comment",
                      answers={"purpose": Answer(option="complaint_fir"),
                               "comment": Answer(text="अच्छा व्यवहार"),
                               "voice": Answer(voice="MEabc"), "skipped": Answer(skipped=True),
                               "empty": Answer(text="")},
                      history=("purpose", "comment"), candidates=("BLB05",),
                      last_seen=last_seen, follow_up=7)
    assert session.dumps() == orjson.dumps(session.to_json()).decode()
    assert Session.from_json(orjson.loads(session.dumps())) == session
