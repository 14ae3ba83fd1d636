"""Arbitrary input, any order: the engine never raises, always answers in the
session's language, and never completes without the required answers."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.effects import Completed, Media, Reply, Start, Tap, Text, Tick
from conversations.engine import new_session, step
from conversations.prompts import CONFIRM_QUESTION, applies
from conversations.session import Session
from conversations.survey import Survey
from scheduler.catalogs import Catalogs
from tests.conftest import T0

DEVANAGARI = re.compile(r"[\u0900-\u097F]")
WORDS = ["1", "2", "3", "4", "5", "6", "0", "४", "हाँ", "नहीं", "haan", "nahi", "yes", "no",
         "😊", "😡", "👍", "⭐⭐", "फिर से", "पीछे", "English", "हिंदी", "मदद", "बंद", "छोड़ें",
         "skip", "restart", "back", "help", "stop", "BLB05", "फीडबैक BLB07", "भाटापारा",
         "बहुत अच्छा", "pata nahi", "", " ", "\x00", "?"]
CODES = ["BLB05", "BLB06", "blb19", "", "NOPE", "../x", "A" * 70, None]
QUESTION_IDS = ["purpose", "heard", "behaviour", "comment", "_station", "_switch", "bogus"]
OPTION_IDS = ["1", "5", "yes", "no", "complaint_fir", "other", "_skip", "new", "continue",
              "BLB05", "bogus"]

events = st.one_of(
    st.builds(Text, st.sampled_from(WORDS)),
    st.builds(Text, st.text(max_size=300)),
    st.builds(Start, st.sampled_from(CODES), st.sampled_from([None, "hi", "en", "fr"])),
    st.builds(Tap, st.sampled_from(QUESTION_IDS), st.sampled_from(OPTION_IDS)),
    st.builds(Media, st.sampled_from(["voice", "photo", "sticker", "location", "contact"]),
              st.text(max_size=20)),
    st.just(Tick()),
)
pauses = st.integers(min_value=0, max_value=40 * 60)


def _translated(catalogs: Catalogs, lang: str, msgid: str) -> bool:
    table = catalogs.tables[lang]
    return msgid in table._catalog  # type: ignore[attr-defined]


def _check_complete(survey: Survey, session: Session) -> None:
    for question in survey.questions:
        if applies(question, session.answers):
            answer = session.answers.get(question.id)
            assert answer is not None, f"completed without {question.id}"
            if question.required:
                assert not answer.skipped and (answer.option or answer.text or answer.voice)
        else:
            assert question.id not in session.answers


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(script=st.lists(st.tuples(events, pauses), min_size=1, max_size=40),
       lang=st.sampled_from(["hi", "en"]))
def test_any_conversation(survey: Survey, catalogs: Catalogs, script, lang: str) -> None:  # type: ignore[no-untyped-def]
    session, now = new_session(lang), T0
    for event, pause in script:
        now += timedelta(seconds=pause)
        session, effects = step(session, event, now, survey)
        if not isinstance(event, Tick):
            assert any(isinstance(e, Reply | Completed) for e in effects), event
        for effect in effects:
            if isinstance(effect, Reply):
                assert effect.lang == session.lang
                for line in effect.lines:
                    assert _translated(catalogs, effect.lang, line.id), line.id
                    rendered = catalogs.text(effect.lang, line)  # every placeholder filled
                    if effect.lang == "hi":
                        assert DEVANAGARI.search(rendered), rendered
            if isinstance(effect, Completed):
                _check_complete(survey, session)
        assert Session.from_json(session.to_json()) == session
        # What storage writes: JSON of to_json(), read back as it was.
        assert json.loads(session.dumps()) == session.to_json()
        assert Session.from_json(json.loads(session.dumps())) == session


@settings(max_examples=150, deadline=None)
@given(noise=st.lists(st.tuples(events, pauses), max_size=25),
       lang=st.sampled_from(["hi", "en"]))
def test_from_any_state_a_patient_citizen_finishes(survey: Survey, noise, lang: str) -> None:  # type: ignore[no-untyped-def]
    """Whatever happened before, scanning and answering "1" to everything completes, but
    for saying "2", yes, when a "yes" is asked back."""
    session, now = new_session(lang), T0
    for event, pause in noise:
        now += timedelta(seconds=pause)
        session, _ = step(session, event, now, survey)
    session, effects = step(session, Start("BLB05"), now, survey)
    completed = False
    for _ in range(30):
        now += timedelta(seconds=5)
        asked = [e.question for e in effects if isinstance(e, Reply)]
        answer = "2" if asked and asked[-1] == CONFIRM_QUESTION else "1"
        session, effects = step(session, Text(answer), now, survey)
        if Completed() in effects:
            completed = True
            _check_complete(survey, session)
            break
    assert completed and session.station == "BLB05"


@settings(max_examples=60, deadline=None)
@given(digit=st.sampled_from(["1", "2", "3", "१", "२", "३"]), lang=st.sampled_from(["hi", "en"]),
       rescans=st.integers(min_value=0, max_value=2))
def test_the_same_digit_to_every_question_never_reports_a_demand(
        survey: Survey, digit: str, lang: str, rescans: int) -> None:  # type: ignore[no-untyped-def]
    """A citizen who types one digit from habit, to every question, however long: the
    "yes" that raises a red alert is asked back with "no, by mistake" as 1, so it is
    never both given and confirmed by the same digit."""
    session, now = new_session(lang), T0
    session, _ = step(session, Start("BLB05"), now, survey)
    for n in range(60):
        now += timedelta(seconds=5)
        if n in range(rescans):
            session, _ = step(session, Start("BLB05"), now, survey)
        session, _ = step(session, Text(digit), now, survey)
        demand = session.answers.get("demand")
        assert demand is None or demand.option != "yes"
        if session.stage == "ended":
            break
