"""The engine's rules, one at a time, as pure function calls."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from conversations import messages as M
from conversations.effects import Closed, Completed, Media, Reply, Start, Tap, Text, Tick
from conversations.engine import new_session, step
from conversations.session import Session
from conversations.survey import Survey
from tests.conftest import T0


def talk(survey: Survey, *events, session: Session | None = None, start=T0):  # type: ignore[no-untyped-def]
    session = session or new_session("hi")
    effects = []
    now = start
    for event in events:
        now += timedelta(seconds=10)
        session, effects = step(session, event, now, survey)
    return session, effects


def ids(effects) -> list[str]:  # type: ignore[no-untyped-def]
    return [line.id for e in effects if isinstance(e, Reply) for line in e.lines]


def test_step_is_pure(survey: Survey) -> None:
    session = new_session("hi")
    first = step(session, Start("BLB05"), T0, survey)
    second = step(session, Start("BLB05"), T0, survey)
    assert first == second and session == new_session("hi")


def test_greeting_confirms_station_and_privacy(survey: Survey) -> None:
    session, effects = talk(survey, Start("BLB05"))
    assert session.station == "BLB05" and session.question == "purpose"
    reply = effects[0]
    assert reply.lines[0].params == (("station", "थाना सिमगा"),)
    assert M.PRIVACY in ids(effects)
    assert [c.id for c in reply.choices] == ["complaint_fir", "application", "verification",
                                            "lost_item", "other"]


def test_conditions_follow_the_answers(survey: Survey) -> None:
    session, _ = talk(survey, Start("BLB05"), Text("3"), Text("1"), Text("4"))
    assert session.question == "guidance"  # verification: no receipt, no action question
    session, _ = talk(survey, Text("पीछे"), Text("पीछे"), Text("पीछे"), Text("1"),
                      session=session)
    assert session.question == "heard" and session.answers["purpose"].option == "complaint_fir"
    session, _ = talk(survey, Text("1"), Text("4"), Text("हाँ"), session=session)
    assert session.question == "action" and session.answers["receipt"].option == "yes"


def test_changing_an_answer_drops_answers_that_no_longer_apply(survey: Survey) -> None:
    session, _ = talk(survey, Start("BLB05"), Text("1"), Text("1"), Text("4"), Text("हाँ"))
    for _ in range(4):
        session, _ = talk(survey, Text("back"), session=session)
    assert session.question == "purpose"
    session, _ = talk(survey, Text("5"), session=session)
    assert "receipt" not in session.answers


def test_required_questions_cannot_be_skipped(survey: Survey) -> None:
    session, effects = talk(survey, Start("BLB05"), Text("1"), Text("1"), Text("skip"))
    assert session.question == "behaviour" and M.CANNOT_SKIP in ids(effects)


def test_three_misses_offer_skip_or_help(survey: Survey) -> None:
    session, effects = talk(survey, Start("BLB05"), Text("1"), Text("?!"), Text("abc"),
                            Text("xyz"))
    assert session.question == "heard" and M.HINT_SKIP in ids(effects)
    session, effects = talk(survey, Text("छोड़ें"), Text("a"), Text("b"), Text("c"),
                            session=session)
    assert session.answers["heard"].skipped
    assert session.question == "behaviour" and M.HINT_HELP in ids(effects)


def test_old_buttons_do_not_answer_the_current_question(survey: Survey) -> None:
    session, effects = talk(survey, Start("BLB05"), Text("1"), Tap("purpose", "other"))
    assert session.question == "heard" and session.answers["purpose"].option == "complaint_fir"
    assert M.STALE_BUTTON in ids(effects) and session.misses == 0


def test_an_idle_conversation_expires_on_the_sweep_after_a_day(survey: Survey) -> None:
    session, _ = talk(survey, Start("BLB05"), Text("1"))
    still, effects = step(session, Tick(), T0 + timedelta(hours=23, minutes=59), survey)
    assert effects == [] and still.stage == "asking"
    gone, effects = step(session, Tick(), T0 + timedelta(hours=24, minutes=1), survey)
    assert effects == [Closed("expired")] and gone.stage == "ended"


@pytest.mark.parametrize("pause", [timedelta(minutes=31), timedelta(minutes=40),
                                   timedelta(hours=5), timedelta(hours=23)])
def test_a_citizen_who_pauses_goes_on_where_they_stopped(survey: Survey,
                                                         pause: timedelta) -> None:
    session, _ = talk(survey, Start("BLB05"), Text("1"), Text("1"))
    assert session.question == "behaviour"
    later, effects = step(session, Text("4"), T0 + pause, survey)
    assert later.answers["behaviour"].option == "4" and later.question == "receipt"
    assert not any(isinstance(e, Closed) for e in effects)


def test_a_code_inside_a_whatsapp_text_starts_that_station(survey: Survey) -> None:
    session, _ = talk(survey, Text("फीडबैक BLB07"))
    assert session.station == "BLB07"
    session, _ = talk(survey, Text("Feedback for blb08 please"))
    assert session.station == "BLB08"


def test_a_comment_is_cut_at_the_limit_and_the_citizen_told(survey: Survey) -> None:
    answers = [Text(a) for a in ["5", "1", "4", "no", "no", "4"]]
    session, _ = talk(survey, Start("BLB05"), *answers)
    assert session.question == "comment"
    session, effects = talk(survey, Text("अ" * 5000), session=session)
    assert len(session.answers["comment"].text or "") == survey.max_comment_chars
    assert M.TRUNCATED in ids(effects)


def test_a_phone_number_in_a_comment_is_left_out_and_the_citizen_told(survey: Survey) -> None:
    answers = [Text(a) for a in ["5", "1", "4", "no", "no", "4"]]
    session, _ = talk(survey, Start("BLB05"), *answers)
    session, effects = talk(survey, Text("मुंशी ने 29-11-2026 को 5000 मांगे, मेरा नंबर "
                                         "98765 43210 है"), session=session)
    assert session.answers["comment"].text == ("मुंशी ने 29-11-2026 को 5000 मांगे, मेरा नंबर "
                                               "[…] है")
    assert M.NUMBER_HIDDEN in ids(effects)
    _, effects = talk(survey, Text("FIR 123/2026 पर कुछ नहीं हुआ"),
                      session=talk(survey, Start("BLB05"), *answers)[0])
    assert M.NUMBER_HIDDEN not in ids(effects)


def test_a_voice_note_is_a_comment(survey: Survey) -> None:
    answers = [Text(a) for a in ["5", "1", "4", "no", "no", "4"]]
    session, effects = talk(survey, Start("BLB05"), *answers, Media("voice", "file-123"))
    assert session.answers["comment"].voice == "file-123"
    assert M.VOICE_RECEIVED in ids(effects)  # said so, before the next question
    session, effects = talk(survey, Media("voice", "file-9"), session=session)
    # Voice where a yes/no is asked: answer by number; a voice note fits at the end.
    assert M.VOICE_LATER in ids(effects) and session.question == "contact"


def test_completion_is_an_effect_for_the_service(survey: Survey) -> None:
    answers = [Text(a) for a in ["5", "1", "4", "no", "no", "4", "नहीं", "no", "no"]]
    session, effects = talk(survey, Start("BLB05"), *answers)
    assert effects == [Completed()] and session.stage == "ended"


def test_a_rescan_before_any_answer_simply_switches(survey: Survey) -> None:
    session, _ = talk(survey, Start("BLB05"), Start("BLB06"))
    assert session.station == "BLB06" and session.stage == "asking"


def test_a_rescan_after_answers_asks_first(survey: Survey) -> None:
    session, effects = talk(survey, Start("BLB05"), Text("1"), Start("BLB06"))
    assert session.stage == "confirm_switch" and M.SWITCH_ASK in ids(effects)
    switched, effects = talk(survey, Text("हाँ"), session=session)
    assert switched.station == "BLB06" and Closed("switched") in effects


def test_the_session_survives_json(survey: Survey) -> None:
    session, _ = talk(survey, Start("BLB05"), Text("1"), Text("2"), Text("😊"))
    assert Session.from_json(session.to_json()) == session


def test_a_session_changes_only_by_its_own_fields(survey: Survey) -> None:
    session, _ = talk(survey, Start("BLB05"), Text("1"))
    assert session.evolve(misses=2) == replace(session, misses=2)
    assert session.misses == 0  # the original is untouched
    with pytest.raises(TypeError, match="mises"):
        session.evolve(mises=2)  # a typo must not become a new piece of state


def test_a_question_removed_mid_conversation_keeps_the_answers_and_goes_on(
        survey: Survey) -> None:
    session, _ = talk(survey, Start("BLB05"), Text("1"))
    assert session.question == "heard"
    edited = replace(survey, questions=tuple(q for q in survey.questions if q.id != "heard"))
    moved, effects = step(session, Text("1"), T0 + timedelta(minutes=1), edited)
    assert moved.question == "behaviour" and moved.answers["purpose"].option == "complaint_fir"
    assert M.RESTARTED not in ids(effects)


def test_the_last_question_removed_mid_conversation_completes_the_feedback(
        survey: Survey) -> None:
    answers = [Text(a) for a in ["5", "1", "4", "no", "no", "4", "नहीं", "no"]]
    session, _ = talk(survey, Start("BLB05"), *answers)
    assert session.question == "followup"
    without = replace(survey, questions=survey.questions[:-1])
    done, effects = step(session, Text("हाँ"), T0 + timedelta(minutes=5), without)
    assert effects == [Completed()] and done.outcome == "complete"
    assert len(done.answers) == len(answers)


def test_a_station_removed_mid_conversation_leads_to_the_picker(survey: Survey) -> None:
    session, _ = talk(survey, Start("BLB05"), Text("1"))
    fewer = replace(survey, stations=tuple(s for s in survey.stations if s.code != "BLB05"))
    moved, effects = step(session, Text("1"), T0 + timedelta(minutes=1), fewer)
    assert moved.stage == "pick_station" and Closed("switched") in effects


def test_a_session_from_a_newer_version_still_loads() -> None:
    data = new_session("hi").to_json() | {"some_future_field": 1}
    data["answers"] = {"purpose": {"option": "other", "confidence": 0.9}}
    assert Session.from_json(data).answers["purpose"].option == "other"


def test_a_bare_start_mid_feedback_shows_the_current_question(survey: Survey) -> None:
    session, effects = talk(survey, Start("BLB05"), Text("1"), Start(None))
    assert session.question == "heard" and M.UNKNOWN_CODE_MIDWAY not in ids(effects)


def test_rescanning_the_same_station_offers_to_start_again(survey: Survey) -> None:
    session, effects = talk(survey, Start("BLB05"), Text("1"), Start("BLB05"))
    assert M.SAME_STATION_ASK in ids(effects)
    session, _ = talk(survey, Text("2"), session=session)
    assert session.question == "heard"


def test_a_station_name_as_first_message(survey: Survey) -> None:
    assert talk(survey, Text("सिमगा"))[0].station == "BLB05"
    assert talk(survey, Text("hello"))[0].stage == "pick_station"
    assert talk(survey, Text("hi"))[0].stage == "pick_station"


def test_an_edit_is_not_counted_as_a_wrong_answer(survey: Survey) -> None:
    session, effects = talk(survey, Start("BLB05"), Media("edited"))
    assert M.EDIT_NOT_READ in ids(effects) and session.misses == 0


def test_a_follow_up_waits_days_for_its_answer_then_closes(survey: Survey) -> None:
    from conversations.engine import begin_follow_up

    session, opening = begin_follow_up("hi", 7, "FB-26-000007", "BLB05", "10 मार्च", T0, survey)
    assert opening.question == "fu_action" and [c.id for c in opening.choices][:3] == [
        "done", "in_progress", "none"]
    # Answered two hours later: the follow-up is still open (a feedback would have expired).
    session, effects = step(session, Text("3"), T0 + timedelta(hours=2), survey)
    assert session.answers["fu_action"].option == "none" and session.question == "fu_informed"
    later = T0 + timedelta(hours=2) + survey.follow_up_timeout
    session, effects = step(session, Text("हाँ"), later, survey)
    assert Closed("expired") in effects and "fu_informed" not in session.answers
    assert session.follow_up is None  # what they wrote starts anew, not the follow-up
