"""The session as storage writes it: compact JSON of to_json(), read back whole; rows
written by earlier versions still load."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

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
                      last_seen=last_seen, follow_up=7, confirming="yes",
                      update_until=last_seen)
    assert json.loads(session.dumps()) == session.to_json()
    assert Session.from_json(json.loads(session.dumps())) == session
    assert "अच्छा व्यवहार" in session.dumps()  # UTF-8, not \u escapes
    assert ", " not in session.dumps() and ": " not in session.dumps()


# Exactly as the earlier writer (orjson) stored it.
_OLD_ROW = (
    '{"lang":"hi","stage":"asking","station":"BLB05","question":"comment","answers":'
    '{"purpose":{"option":"complaint_fir"},"comment":{"text":"अच्छा\\nव्यवहार"},'
    '"skipped":{"skipped":true}},"history":["purpose","comment"],"misses":0,'
    '"candidates":["BLB05"],"pending_station":null,"outcome":"","reference":null,'
    '"last_seen":"2026-11-29T18:00:01.000005+00:00","follow_up":7}'
)
_OLD_SESSION = Session("hi", stage="asking", station="BLB05", question="comment",
                       answers={"purpose": Answer(option="complaint_fir"),
                                "comment": Answer(text="अच्छा\nव्यवहार"),
                                "skipped": Answer(skipped=True)},
                       history=("purpose", "comment"), candidates=("BLB05",),
                       last_seen=datetime(2026, 11, 29, 18, 0, 1, 5, tzinfo=UTC), follow_up=7)


def test_a_row_stored_by_the_earlier_writer_still_loads_and_is_written_the_same() -> None:
    assert Session.from_json(json.loads(_OLD_ROW)) == _OLD_SESSION
    # The same text, with the fields added since at the end, unset.
    assert _OLD_SESSION.dumps() == _OLD_ROW[:-1] + ',"confirming":null,"update_until":null}'


def test_a_row_in_json_defaults_or_from_a_newer_version_loads() -> None:
    """Escaped and spaced, as the json module writes by default; a key this version does
    not know is left out."""
    data = json.loads(_OLD_ROW)
    data["answers"]["purpose"]["mood"] = "calm"
    data["newer"] = 1
    assert Session.from_json(json.loads(json.dumps(data))) == _OLD_SESSION
    offset = '{"lang":"en","last_seen":"2026-11-29T23:30:00+05:30"}'
    assert Session.from_json(json.loads(offset)).last_seen == datetime(
        2026, 11, 29, 18, 0, tzinfo=UTC)
