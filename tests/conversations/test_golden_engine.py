"""Golden transcripts of the pure engine: every event, the session after it, its effects.

The engine is replayed with a fixed clock (tests.golden.SCRIPTS), and each turn is
recorded as plain data: the event and its instant, the session's JSON form, and the
effects (message ids with their parameters, choices, the question they answer). The
files in golden/ beside this test show any change of behaviour as a diff; after a
deliberate one, `PRAYAS_UPDATE_GOLDEN=1 pytest tests/conversations/test_golden_engine.py`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conversations.effects import Completed
from conversations.engine import follow_up_thanks, new_session, step, thanks
from conversations.session import Session
from conversations.survey import Survey
from tests.conftest import T0
from tests.golden import (
    REFERENCE,
    SCRIPTS,
    UPDATE_WINDOW,
    Script,
    check,
    clock,
    effect_data,
    event_data,
    open_session,
    reply_data,
)

GOLDEN = Path(__file__).resolve().parent / "golden"


def transcript(script: Script, survey: Survey) -> list[dict[str, Any]]:
    session, opening = open_session(script, survey, T0)
    turns: list[dict[str, Any]] = []
    if opening is not None:
        turns.append({"at": T0.isoformat(), "event": {"begin_follow_up": REFERENCE},
                      "session": session.to_json(), "effects": [{"reply": reply_data(opening)}]})
    for now, event in clock(T0, script):
        session, effects = step(session, event, now, survey)
        turn: dict[str, Any] = {"at": now.isoformat(), "event": event_data(event),
                                "session": session.to_json(),
                                "effects": [effect_data(e) for e in effects]}
        if any(isinstance(e, Completed) for e in effects):
            # What the service does next (scheduler/service.py): a follow-up is thanked;
            # a feedback is stored, and its reference kept in the session, then thanked.
            if session.follow_up is not None:
                turn["service_thanks"] = reply_data(follow_up_thanks(session))
            else:
                session = session.evolve(reference=REFERENCE, update_until=now + UPDATE_WINDOW)
                turn["service_thanks"] = reply_data(thanks(session, REFERENCE, False))
        turns.append(turn)
    return turns


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_golden_engine_transcript(name: str, survey: Survey) -> None:
    check(GOLDEN / f"{name}.json", transcript(SCRIPTS[name], survey))


def test_a_transcript_replays_the_same(survey: Survey) -> None:
    """Pure: the same script twice gives the same turns, and a session read back from its
    JSON form goes on exactly as the one kept in memory."""
    script = SCRIPTS["hi_skip_reask_voice"]
    assert transcript(script, survey) == transcript(script, survey)
    session = kept = new_session("hi")
    for now, event in clock(T0, script):
        session, effects = step(Session.from_json(session.to_json()), event, now, survey)
        kept, kept_effects = step(kept, event, now, survey)
        assert (session, effects) == (kept, kept_effects)


def test_the_transcripts_cover_what_they_claim(survey: Survey) -> None:
    """The snapshots are only worth reading if each script reaches its point."""
    def last(name: str) -> dict[str, Any]:
        return transcript(SCRIPTS[name], survey)[-1]

    def ids(turns: list[dict[str, Any]]) -> set[str]:
        return {line["id"] for t in turns for e in t["effects"] if "reply" in e
                for line in e["reply"]["lines"]}

    taps = transcript(SCRIPTS["hi_taps"], survey)
    assert any("completed" in e for e in taps[-2]["effects"])
    assert taps[-2]["session"]["outcome"] == "complete"
    assert len(taps[-2]["session"]["answers"]) == 11
    typed = transcript(SCRIPTS["hi_typed"], survey)[-1]["session"]
    assert typed["answers"]["heard"] == {"option": "15_60m"}  # "२"
    assert typed["answers"]["satisfaction"] == {"option": "5"}  # "५"
    skipping = transcript(SCRIPTS["hi_skip_reask_voice"], survey)
    answers = skipping[-1]["session"]["answers"]
    assert answers["heard"] == {"skipped": True}
    assert answers["comment"] == {"voice": "voice-file-1"}
    assert {"Sorry, I did not understand. Please send the number of one answer below (e.g. 1):",
            "That button was for an earlier question. Please answer this one:",
            "Sorry, I can only read text messages here."} <= ids(skipping)
    english = last("en_words")["session"]
    assert english["lang"] == "en" and english["answers"]["demand"] == {"option": "yes"}
    assert "9876543210" not in str(english)
    idle = transcript(SCRIPTS["hi_idle_tick"], survey)
    assert idle[2]["effects"] == [] and idle[3]["effects"] == [{"closed": "expired"}]
    follow = transcript(SCRIPTS["hi_follow_up"], survey)
    assert follow[0]["event"] == {"begin_follow_up": REFERENCE}
    assert any("service_thanks" in t for t in follow)
