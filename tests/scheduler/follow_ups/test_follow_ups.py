"""Follow-ups: asked N days later of those who agreed, through the outbox, answered into
the original feedback, counted in the digest. Fixed clock; the real python-telegram-bot
against the fake Bot API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session as Db

from conversations.effects import Start, Text
from scheduler.digests.digest import Digest
from scheduler.export import header, table
from scheduler.follow_ups.ask import ask_follow_ups
from storage.export import export_rows
from storage.models import Answer, Feedback, FollowUp, Outbox
from tests.fakes.telegram_api import FakeTelegram
from tests.scheduler.alerts.test_alerts import FINE, _dispatch, feedback

# FINE says no to both `contact` and `followup`; these say yes to both.
AGREES = [*FINE[:-2], "हाँ", "हाँ"]
# 10:00 in Chhattisgarh (IST), a week after a visit on 2026-03-10 at 10:00.
VISIT = datetime(2026, 3, 10, 4, 30, tzinfo=UTC)
WEEK_LATER = VISIT + timedelta(days=7, minutes=5)


def _answers(app, reference: str) -> dict[str, str | None]:  # type: ignore[no-untyped-def]
    with Db(app.engine) as db:
        feedback_id = db.execute(select(Feedback.id).where(
            Feedback.reference == reference)).scalar_one()
        return {a.question_id: a.option_id for a in db.execute(
            select(Answer).where(Answer.feedback_id == feedback_id)).scalars()}


def test_asked_a_week_later_and_answered_into_the_feedback(  # type: ignore[no-untyped-def]
        app, fake_telegram: FakeTelegram) -> None:
    reference = feedback(app, "telegram:71", AGREES, start=VISIT)
    feedback(app, "telegram:72", FINE, start=VISIT)  # did not agree: never asked
    assert ask_follow_ups(app, WEEK_LATER - timedelta(days=1)) == 0  # not due yet
    assert ask_follow_ups(app, WEEK_LATER) == 1
    assert ask_follow_ups(app, WEEK_LATER + timedelta(minutes=10)) == 0  # asked once only
    assert _dispatch(app, fake_telegram, WEEK_LATER) == 1
    [sent] = fake_telegram.sent(71)
    assert f"नमस्ते! आपने 10 मार्च को थाना सिमगा के बारे में फीडबैक दिया था (नंबर {reference})" in sent.text
    assert "सवाल 1/2: क्या तब से आपका काम हुआ?" in sent.text
    assert fake_telegram.sent(72) == []
    # Hours later the citizen taps an answer, then types the next one.
    later = WEEK_LATER + timedelta(hours=5)
    turn = app.service.handle("telegram:71", "telegram", Text("2"), later)
    assert "सवाल 2/2: क्या पुलिस आपको जानकारी देती रही?" in app.catalogs.render(turn.replies[0])
    turn = app.service.handle("telegram:71", "telegram", Text("नहीं"), later)
    assert app.catalogs.render(turn.replies[0]) == (
        f"धन्यवाद। आपके जवाब फीडबैक नंबर {reference} में जोड़ दिए गए हैं।")
    answers = _answers(app, reference)
    assert answers["fu_action"] == "in_progress" and answers["fu_informed"] == "no"
    assert answers["satisfaction"] == "5"  # the feedback's own answers are untouched
    with Db(app.engine) as db:
        assert db.execute(select(FollowUp.answered_at)).scalar_one() == later
        assert db.execute(select(Feedback.status).where(
            Feedback.reference == reference)).scalar_one() == "complete"
    exported = [dict(zip(header(app.survey), row, strict=True)) for row in table(
        export_rows(app.engine), app.survey, app.catalogs, app.config.zone)]
    mine = next(row for row in exported if row["reference"] == reference)
    assert mine["fu_action"] == "in_progress" and mine["fu_informed_hi"] == "नहीं"
    digest = Digest(app.engine, app.config, app.catalogs)
    district = app.config.districts[0]
    text = app.catalogs.render(digest.daily(district, later.date(), "hi", later))
    assert "7 दिन के फ़ॉलो-अप: 1 से पूछा, 1 ने जवाब दिया; 0 के मामले में कार्रवाई हुई, " \
           "0 को जानकारी दी गई।" in text
    # What the citizen writes next is a new conversation, not the follow-up's.
    turn = app.service.handle("telegram:71", "telegram", Start("BLB05"), later)
    assert "सवाल 1:" in app.catalogs.render(turn.replies[0])


def test_nobody_is_written_to_at_night_or_interrupted(app) -> None:  # type: ignore[no-untyped-def]
    feedback(app, "telegram:73", AGREES, start=VISIT)
    night = WEEK_LATER.replace(hour=17)  # 22:30 in Chhattisgarh
    assert ask_follow_ups(app, night) == 0
    # In the middle of another feedback at 10:00: asked at a later run, once free.
    app.service.handle("telegram:73", "telegram", Start("BLB06"), WEEK_LATER)
    assert ask_follow_ups(app, WEEK_LATER + timedelta(minutes=1)) == 0
    app.service.handle("telegram:73", "telegram", Text("बंद"), WEEK_LATER + timedelta(minutes=2))
    assert ask_follow_ups(app, WEEK_LATER + timedelta(minutes=10)) == 1
    with Db(app.engine) as db:
        assert [o.kind for o in db.execute(select(Outbox)).scalars()] == ["follow_up"]


def test_a_poster_scanned_instead_starts_a_new_feedback(app) -> None:  # type: ignore[no-untyped-def]
    reference = feedback(app, "telegram:74", AGREES, start=VISIT)
    assert ask_follow_ups(app, WEEK_LATER) == 1
    turn = app.service.handle("telegram:74", "telegram", Start("BLB06"), WEEK_LATER)
    assert "सवाल 1:" in app.catalogs.render(turn.replies[0])
    app.service.handle("telegram:74", "telegram", Text("2"), WEEK_LATER)
    assert "fu_action" not in _answers(app, reference)
    with Db(app.engine) as db:
        assert db.execute(select(FollowUp.answered_at)).scalar_one() is None


def test_whatsapp_citizens_are_not_offered_a_follow_up_that_cannot_reach_them(  # type: ignore[no-untyped-def]
        make_app, sqlite_url, tmp_path) -> None:
    """A week later the 24-hour window is closed; without the follow-up template nothing
    could reach them, so the question is not asked, and nobody is followed up."""
    from tests.bot.whatsapp.conftest import whatsapp_config

    app = make_app(sqlite_url, whatsapp_config(tmp_path, templates={}))
    urn = "whatsapp:+919800000301"
    app.service.handle(urn, "whatsapp", Start("BLB05"), VISIT)
    for n, answer in enumerate(AGREES[:-1], start=1):  # all but the follow-up's "yes"
        turn = app.service.handle(urn, "whatsapp", Text(answer), VISIT + timedelta(seconds=n))
    assert turn.completed_reference is not None
    assert ask_follow_ups(app, WEEK_LATER) == 0
    turn = app.service.handle(urn, "whatsapp", Text("फीडबैक BLB05"), WEEK_LATER)
    assert "सवाल 1:" in app.catalogs.render(turn.replies[0])  # a new feedback
    turn = app.service.handle(urn, "whatsapp", Text("1"), WEEK_LATER + timedelta(seconds=1))
    assert "सवाल 2/10:" in app.catalogs.render(turn.replies[0])  # 10 questions: no follow-up
    app.service.handle(urn, "whatsapp", Text("बंद"), WEEK_LATER + timedelta(minutes=1))
    assert ask_follow_ups(app, WEEK_LATER + timedelta(minutes=10)) == 0
    app.engine.dispose()


def test_a_citizen_who_blocked_the_bot_is_not_asked(app) -> None:  # type: ignore[no-untyped-def]
    feedback(app, "telegram:75", AGREES, start=VISIT)
    app.service.mark_blocked("telegram:75", VISIT + timedelta(hours=1))
    app.service.expire_idle(VISIT + timedelta(days=1))  # the sweep does not unblock them
    assert ask_follow_ups(app, WEEK_LATER) == 0


def test_the_citizen_is_told_the_configured_number_of_days(app) -> None:  # type: ignore[no-untyped-def]
    from bot.app import district_survey

    config = app.config.model_copy(update={"follow_ups": app.config.follow_ups.model_copy(
        update={"after_days": 3})})
    survey = district_survey(config, app.catalogs)
    asked = survey.question("followup")
    assert asked is not None
    assert app.catalogs.text("hi", asked.prompt) == (
        "क्या 3 दिन बाद हम आपसे पूछ सकते हैं कि आपका काम हुआ या नहीं?")
    assert app.catalogs.text("en", asked.prompt) == (
        "May we ask you after 3 days whether your work got done?")
