"""Alerts: raised with the feedback, routed by rule, sent through the outbox, acknowledged,
escalated. Sent through the real python-telegram-bot to the fake Bot API, fixed clock."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlmodel import Session as Db

from conversations.effects import Start, Text
from scheduler.alerts.escalation import escalate
from storage.db import writer
from storage.models import Alert, AlertEvent, Outbox
from tests.conftest import T0, dispatched, telegram_sender
from tests.fakes.telegram_api import FakeTelegram

# purpose, heard, behaviour, receipt, action, guidance, demand, satisfaction, comment, ...
FINE = ["1", "1", "5", "हाँ", "1", "हाँ", "नहीं", "5", "नहीं", "नहीं", "नहीं"]
# A demand's "हाँ" is asked back: "2" says it is right.
BRIBE = ["1", "1", "5", "हाँ", "1", "हाँ", "हाँ", "2", "5", "पैसे मांगे <b>&", "नहीं", "नहीं"]
RUDE = ["5", "1", "1", "नहीं", "नहीं", "1", "नहीं", "नहीं", "नहीं"]  # other work: 9 questions
# A demand, with the lowest scores and no receipt: every other rule matches too.
BRIBE_AND_RUDE = ["1", "1", "1", "नहीं", "1", "हाँ", "हाँ", "2", "1", "मुंशी ने पैसे मांगे",
                  "नहीं", "नहीं"]
NO_RECEIPT = ["1", "1", "4", "नहीं", "2", "हाँ", "नहीं", "4", "नहीं", "नहीं", "नहीं"]


def feedback(app, urn: str, answers: list[str], start=T0, station="BLB05"):  # type: ignore[no-untyped-def]
    now = start
    app.service.handle(urn, "telegram", Start(station), now)
    for answer in answers:
        now += timedelta(seconds=10)
        turn = app.service.handle(urn, "telegram", Text(answer), now)
    assert turn.completed_reference, "the feedback did not complete"
    return turn.completed_reference


def with_digests(app, **settings):  # type: ignore[no-untyped-def]
    """The same app and database, with other `digests` settings."""
    digests = app.config.digests.model_copy(update=settings)
    return replace(app, config=app.config.model_copy(update={"digests": digests}))


def six_alike_stations(app) -> None:  # type: ignore[no-untyped-def]
    """One identical fine feedback at each of BLB01..BLB06, the day before T0."""
    for n, station in enumerate(["BLB01", "BLB02", "BLB03", "BLB04", "BLB05", "BLB06"]):
        feedback(app, f"telegram:{n + 1}", FINE, station=station,
                 start=T0 - timedelta(days=1, minutes=n))


def outbox(app) -> list[tuple[str, str, int]]:  # type: ignore[no-untyped-def]
    with Db(app.engine) as db:
        rows = db.execute(select(Outbox).order_by(Outbox.id)).scalars().all()
        return [(r.kind, r.recipient, r.priority) for r in rows]


def test_routing_follows_the_rules(app, officers_enrolled) -> None:  # type: ignore[no-untyped-def]
    feedback(app, "telegram:1", FINE)
    assert outbox(app) == []
    feedback(app, "telegram:2", BRIBE)  # the station may be the subject: SP office only
    assert outbox(app) == [("red_alert", "telegram:900", 0)]
    feedback(app, "telegram:3", RUDE)
    assert outbox(app)[1:] == [("alert", "telegram:801", 1), ("alert", "telegram:900", 1)]
    feedback(app, "telegram:4", NO_RECEIPT)
    assert outbox(app)[3:] == [("alert", "telegram:801", 1)]
    with Db(app.engine) as db:
        rules = sorted(a.rule for a in db.execute(select(Alert)).scalars())
    assert rules == ["improper_demand", "not_served", "poor_treatment"]


def test_a_feedback_matching_two_rules_is_one_message_naming_both_reasons(  # type: ignore[no-untyped-def]
        app, officers_enrolled, fake_telegram) -> None:
    """Behaviour 1 and no receipt: poor treatment (in-charge and SP office) and not served
    (in-charge). The in-charge gets one message with both reasons, and one tap on it
    acknowledges both; the SP office gets its one reason."""
    feedback(app, "telegram:6", [*NO_RECEIPT[:2], "1", *NO_RECEIPT[3:]])
    assert outbox(app) == [("alert", "telegram:801", 1), ("alert", "telegram:900", 1)]
    assert _dispatch(app, fake_telegram, T0 + timedelta(minutes=10)) == 2
    [to_in_charge] = fake_telegram.sent(801)
    assert to_in_charge.text.startswith("⚠️ नकारात्मक फीडबैक\nकारण: खराब व्यवहार या अनुभव, "
                                        "सुनवाई/पावती/कार्रवाई नहीं\n")
    [to_sp_office] = fake_telegram.sent(900)
    assert "\nकारण: खराब व्यवहार या अनुभव\n" in to_sp_office.text
    with Db(app.engine) as db:
        alerts = db.execute(select(Alert).order_by(Alert.id)).scalars().all()
    # The SP office's digest: one line for its case, with both reasons.
    from datetime import date

    from scheduler.digests.digest import Digest
    digest = app.catalogs.render(Digest(app.engine, app.config, app.catalogs).daily(
        app.config.districts[0], date(2026, 11, 28), "hi", T0 + timedelta(hours=1)))
    assert "पहले इन पर कार्रवाई करें: 1\n🆕 FB-26-000001 · थाना सिमगा · खराब व्यवहार या अनुभव, " \
           "सुनवाई/पावती/कार्रवाई नहीं · नया · " in digest
    officers_enrolled.acknowledge("telegram:801", alerts[0].id, T0 + timedelta(hours=1))
    with Db(app.engine) as db:
        assert {a.status for a in db.execute(select(Alert)).scalars()} == {"acknowledged"}


def test_an_update_within_a_day_raises_no_second_alert(app, officers_enrolled) -> None:  # type: ignore[no-untyped-def]
    feedback(app, "telegram:5", RUDE)
    feedback(app, "telegram:5", RUDE, start=T0 + timedelta(hours=2))
    with Db(app.engine) as db:
        assert len(db.execute(select(Alert)).scalars().all()) == 1  # poor_treatment once
    assert len(outbox(app)) == 2


def test_an_acknowledged_alert_reopens_when_the_citizen_comes_back_unhappy(  # type: ignore[no-untyped-def]
        app, officers_enrolled, fake_telegram) -> None:
    feedback(app, "telegram:5", RUDE)
    with Db(app.engine) as db:
        alert = db.execute(select(Alert)).scalar_one().id
    officers_enrolled.acknowledge("telegram:801", alert, T0 + timedelta(hours=1))
    _dispatch(app, fake_telegram, T0 + timedelta(hours=1))
    before = {urn: len(fake_telegram.sent(int(urn))) for urn in ("801", "900")}
    # the same citizen, the same station, the same day: the feedback is updated
    feedback(app, "telegram:5", RUDE, start=T0 + timedelta(hours=3))
    assert _dispatch(app, fake_telegram, T0 + timedelta(hours=3, minutes=2)) == 2
    for urn in ("801", "900"):  # the in-charge and the SP office, as the first time
        [again] = fake_telegram.sent(int(urn))[before[urn]:]
        assert again.text.splitlines()[:2] == [
            "⚠️ नकारात्मक फीडबैक",
            "🔁 दोबारा खुला: नागरिक ने फीडबैक बदला है, वे अब भी असंतुष्ट हैं"]
    with Db(app.engine) as db:
        events = [e.event for e in db.execute(select(AlertEvent).order_by(AlertEvent.id))
                  .scalars()]
        assert db.get(Alert, alert).status == "open"
    assert events == ["raised", "acknowledged", "reopened"]
    # overdue again: the SP office hears of it again
    assert escalate(app.engine, app.config, T0 + timedelta(hours=28)) == 1


def _dispatch(app, fake: FakeTelegram, now) -> int:  # type: ignore[no-untyped-def]
    return asyncio.run(dispatched(telegram_sender(app, fake), now))


def test_alerts_go_out_red_first_and_never_name_the_citizen(app, officers_enrolled,  # type: ignore[no-untyped-def]
                                                            fake_telegram: FakeTelegram) -> None:
    feedback(app, "telegram:55501", RUDE)
    reference = feedback(app, "telegram:55502", BRIBE)
    assert _dispatch(app, fake_telegram, T0 + timedelta(minutes=5)) == 3
    sent = fake_telegram.sent()
    assert [s.chat_id for s in sent] == [900, 801, 900]  # the red alert first
    red = sent[0].text
    assert red.startswith("🔴 लाल अलर्ट") and "थाना सिमगा" in red and reference in red
    assert "पैसे मांगे <b>&" in red  # plain text: the citizen's words, exactly, no markup
    assert "55501" not in red and "55502" not in red
    assert sent[0].buttons[0][0] == "1. देख लिया"
    assert _dispatch(app, fake_telegram, T0 + timedelta(minutes=6)) == 0  # nothing twice


def test_429_and_5xx_wait_and_a_stale_alert_is_not_sent(app, officers_enrolled,  # type: ignore[no-untyped-def]
                                                        fake_telegram: FakeTelegram) -> None:
    feedback(app, "telegram:6", BRIBE)
    fake_telegram.fail_next("sendMessage", 429, retry_after=30)
    assert _dispatch(app, fake_telegram, T0 + timedelta(minutes=2)) == 0
    assert _dispatch(app, fake_telegram, T0 + timedelta(minutes=2, seconds=10)) == 0  # waiting
    fake_telegram.fail_next("sendMessage", 502)
    assert _dispatch(app, fake_telegram, T0 + timedelta(minutes=3)) == 0
    assert _dispatch(app, fake_telegram, T0 + timedelta(minutes=4)) == 1
    feedback(app, "telegram:7", BRIBE, start=T0 + timedelta(minutes=10))
    assert _dispatch(app, fake_telegram, T0 + timedelta(days=2)) == 0  # a day late: stale
    with Db(app.engine) as db:
        statuses = [r.status for r in db.execute(select(Outbox).order_by(Outbox.id)).scalars()]
    assert statuses == ["sent", "stale"]


def test_an_overdue_red_alert_is_not_passed_to_the_sp_office_that_holds_it(  # type: ignore[no-untyped-def]
        app, officers_enrolled) -> None:
    feedback(app, "telegram:7", BRIBE)
    assert escalate(app.engine, app.config, T0 + timedelta(days=2)) == 0
    with Db(app.engine) as db:
        assert db.execute(select(Alert.status)).scalar_one() == "open"  # still first to read
    assert [kind for kind, _, _ in outbox(app)] == ["red_alert"]  # and nothing more sent


def test_acknowledge_and_escalate(app, officers_enrolled) -> None:  # type: ignore[no-untyped-def]
    feedback(app, "telegram:8", RUDE)
    feedback(app, "telegram:9", RUDE, station="BLB06")
    with Db(app.engine) as db:
        simga, suhela = [a.id for a in db.execute(select(Alert).order_by(Alert.id)).scalars()]
    desk = officers_enrolled
    now = T0 + timedelta(hours=1)
    refused = desk.acknowledge("telegram:802", simga, now)  # another station's in-charge
    assert refused[0].lines[0].id == "This alert is not for your station."
    done = desk.acknowledge("telegram:801", simga, now)
    assert done[0].lines[0].id.startswith("Acknowledged.")
    assert escalate(app.engine, app.config, T0 + timedelta(hours=23)) == 0
    # Suhela's, unacknowledged
    assert escalate(app.engine, app.config, T0 + timedelta(hours=25)) == 1
    with Db(app.engine) as db:
        alerts = {a.id: a.status for a in db.execute(select(Alert)).scalars()}
        events = [(e.alert_id, e.event, e.officer_id is not None) for e in
                  db.execute(select(AlertEvent).order_by(AlertEvent.id)).scalars()]
    assert alerts == {simga: "acknowledged", suhela: "escalated"}
    assert events == [(simga, "raised", False), (suhela, "raised", False),
                      (simga, "acknowledged", True), (suhela, "escalated", False)]
    assert outbox(app)[-1] == ("escalation", "telegram:900", 1)


def test_an_alert_survives_a_crash_before_sending(make_app, database_url, officers_enrolled,  # type: ignore[no-untyped-def]
                                                  app, fake_telegram: FakeTelegram) -> None:
    feedback(app, "telegram:10", BRIBE)
    restarted = make_app(database_url)  # the process died before the dispatcher ran
    assert _dispatch(restarted, fake_telegram, T0 + timedelta(minutes=5)) == 1


def test_retention_forgets_words_and_addresses_but_keeps_scores(app) -> None:  # type: ignore[no-untyped-def]
    from scheduler.retention import forget
    from storage import recordings
    from storage.models import Answer, CaseEvent, Contact, Conversation, FeedbackCase, Recording

    talk = ["1", "1", "2", "हाँ", "1", "हाँ", "नहीं", "2", "थानेदार ने डांटा", "हाँ", "हाँ"]
    feedback(app, "telegram:77", talk)
    # Asked a follow-up a week later: the outbox holds the citizen's address until then.
    from scheduler.follow_ups.ask import ask_follow_ups
    assert ask_follow_ups(app, T0 + timedelta(days=7, hours=1)) == 1
    with Db(writer(app.engine)) as db, db.begin():
        db.execute(update(Outbox).values(status="sent"))
        # A weekly digest begun on WhatsApp, the rest held for the in-charge: the text
        # kept for it quotes the citizen.
        db.add(Outbox(idempotency_key="weekly:BLB05", kind="digest", recipient="whatsapp:+1",
                      payload={"station": "BLB05", "pieces_sent": ["text:1"],
                               "text_parts": ["…", "“थानेदार ने डांटा”"]},
                      status="held", next_attempt_at=T0, created_at=T0 + timedelta(days=1)))
        # Its case: what the SP office wrote may name the citizen; the citizen's score
        # is a number. The citizen's voice note, fetched, and an officer's: they go too.
        case = db.execute(select(FeedbackCase)).scalar_one()
        db.add(CaseEvent(case_id=case.id, event="close", at=T0, text="रमेश जी से बात हुई"))
        db.add(CaseEvent(case_id=case.id, event="citizen_answered", at=T0, text="4"))
        recordings.keep(db, "https://api.twilio.com/x/ME1", "voice", True, T0, "audio/ogg",
                        b"citizen")
        recordings.keep(db, "tg-officer-voice", "voice", False, T0, "audio/ogg", b"officer")
    assert forget(app, T0 + timedelta(days=300)) == {
        "comments": 0, "contacts": 0, "conversations": 0, "media": 0, "recordings": 0}
    assert forget(app, T0 + timedelta(days=373)) == {
        "comments": 2, "contacts": 1, "conversations": 1, "media": 0, "recordings": 2}
    with Db(app.engine) as db:
        assert [e.text for e in db.execute(select(CaseEvent).order_by(CaseEvent.id))
                .scalars()] == [None, None, "4"]
        kept = list(db.execute(select(Recording)).scalars())
        assert len(kept) == 2 and all(r.body is None and r.missing.startswith("forgotten")
                                      for r in kept)
    with Db(app.engine) as db:
        answers = {a.question_id: a for a in db.execute(select(Answer)).scalars()}
        assert db.execute(select(Contact)).scalars().all() == []
        assert db.execute(select(Conversation)).scalars().all() == []
        [held] = db.execute(select(Outbox)).scalars().all()  # still waiting, without words
        assert held.payload == {"station": "BLB05", "pieces_sent": ["text:1"]}
    assert answers["comment"].text is None and answers["behaviour"].value == 2
    assert len(answers) == 11  # every score is still there


def test_a_demand_reaches_the_sp_office_alone_whatever_else_matches(  # type: ignore[no-untyped-def]
        app, officers_enrolled) -> None:
    """Rude treatment and no receipt would each tell the in-charge; with a demand the
    station may be the subject, so the feedback is the SP office's alone, as one red alert."""
    from scheduler.digests.digest import Digest

    feedback(app, "telegram:21", BRIBE_AND_RUDE)
    assert outbox(app) == [("red_alert", "telegram:900", 0)]
    assert officers_enrolled.command("telegram:801", "alerts", T0)[0].lines[0].id == \
        "No open alerts."
    weekly = Digest(app.engine, app.config, app.catalogs).weekly(
        "BLB05", T0.date(), "hi", T0 + timedelta(hours=1))
    text = app.catalogs.render(weekly)
    assert "पैसे मांगे" not in text and "नागरिकों ने लिखा" not in text  # not in his digest
    assert "आपका थाना: 1 फीडबैक" in text  # counted all the same


def test_an_update_that_reports_a_demand_withholds_the_in_charges_alert(  # type: ignore[no-untyped-def]
        app, officers_enrolled, fake_telegram: FakeTelegram) -> None:
    feedback(app, "telegram:31", RUDE)  # the in-charge's alert is queued...
    # ...and before it goes out, the citizen's second feedback updates the first.
    feedback(app, "telegram:31", BRIBE_AND_RUDE, start=T0 + timedelta(minutes=3))
    assert _dispatch(app, fake_telegram, T0 + timedelta(minutes=5)) >= 2
    assert fake_telegram.sent(801) == []  # nothing about it reaches the station
    sp = [s.text for s in fake_telegram.sent(900)]
    assert sp[0].startswith("🔴") and any("पैसे मांगे" in text for text in sp)
    # Nor is it listed to him, or escalated as if he had not answered it.
    assert officers_enrolled.command("telegram:801", "alerts", T0)[0].lines[0].id == \
        "No open alerts."
    escalate(app.engine, app.config, T0 + timedelta(days=2))
    with Db(app.engine) as db:
        kept = {a.rule: a.status for a in db.execute(select(Alert)).scalars()}
        events = [e.event for e in db.execute(select(AlertEvent).order_by(AlertEvent.id))
                  .scalars()]
    assert kept["poor_treatment"] == "superseded" and "superseded" in events
    # A stale button (had his alert reached him first) acknowledges nothing.
    with Db(app.engine) as db:
        withdrawn = db.execute(select(Alert.id).where(Alert.rule == "poor_treatment")).scalar_one()
    reply = officers_enrolled.acknowledge("telegram:801", withdrawn, T0 + timedelta(days=2))
    assert reply[0].lines[0].id == "This alert is no longer open."
    with Db(app.engine) as db:
        assert db.get(Alert, withdrawn).status == "superseded"  # type: ignore[union-attr]
    with Db(app.engine) as db:
        to_him = db.execute(select(Outbox).where(Outbox.recipient == "telegram:801")).scalars()
        assert {m.status for m in to_him} == {"withheld"}  # not counted as a failure


def test_a_red_rule_must_go_to_the_sp_office_alone(app) -> None:  # type: ignore[no-untyped-def]
    from scheduler.alerts.rules import check_rules
    from scheduler.config import ConfigError

    red = app.config.alerts.rules[0].model_copy(update={"notify": ["in_charge", "sp_office"]})
    alerts_ = app.config.alerts.model_copy(update={"rules": [red]})
    config = app.config.model_copy(update={"alerts": alerts_})
    with pytest.raises(ConfigError, match=r"alerts.rules\[0\].notify: a red rule goes to the "
                                          "SP office alone"):
        check_rules(config, app.survey)


def test_a_red_alert_is_the_sp_offices_alone(app, officers_enrolled) -> None:  # type: ignore[no-untyped-def]
    feedback(app, "telegram:20", BRIBE)
    with Db(app.engine) as db:
        red = db.execute(select(Alert)).scalar_one()
    desk = officers_enrolled
    assert desk.command("telegram:801", "alerts", T0)[0].lines[0].id == "No open alerts."
    refused = desk.acknowledge("telegram:801", red.id, T0)  # the station's own in-charge
    assert refused[0].lines[0].id == "This alert is not for your station."
    assert desk.acknowledge("telegram:900", red.id, T0)[0].lines[0].id.startswith(
        "Acknowledged.")


def test_one_odd_message_does_not_block_the_outbox(app, officers_enrolled,  # type: ignore[no-untyped-def]
                                                   fake_telegram: FakeTelegram) -> None:
    from storage.outbox import queue

    with Db(writer(app.engine)) as db, db.begin():  # a message nothing knows how to build
        queue(db, "alert", "telegram:900", "broken", {"alert_id": 999, "officer_id": 999}, T0)
    feedback(app, "telegram:21", BRIBE)
    assert _dispatch(app, fake_telegram, T0 + timedelta(minutes=5)) == 1
    with Db(app.engine) as db:
        statuses = {r.idempotency_key: r.status for r in db.execute(select(Outbox)).scalars()}
    assert statuses["broken"] == "failed" and list(statuses.values()).count("sent") == 1


def test_at_a_quiet_station_the_in_charge_reads_the_part_of_the_day(  # type: ignore[no-untyped-def]
        app, officers_enrolled, fake_telegram: FakeTelegram) -> None:
    """Two visitors that week: the minute could point at one of them. The SP office
    reads the minute; where thirty or more visit, so does the in-charge."""
    feedback(app, "telegram:71", FINE)
    feedback(app, "telegram:72", RUDE, start=T0 + timedelta(hours=5))  # 15:30 in the district
    _dispatch(app, fake_telegram, T0 + timedelta(hours=6))
    [to_in_charge] = fake_telegram.sent(801)
    assert "\nसमय: 28-11-2026, दोपहर\n" in to_in_charge.text
    [to_sp_office] = fake_telegram.sent(900)
    assert "\nसमय: 28-11-2026 15:31\n" in to_sp_office.text
    listed = officers_enrolled.command("telegram:801", "alerts", T0 + timedelta(hours=6))
    assert app.catalogs.render(listed[0]).splitlines()[1].endswith(" · 28-11-2026, दोपहर")
    busy = replace(app, config=app.config.model_copy(update={"alerts": app.config.alerts
                                                             .model_copy(update={
                                                                 "exact_time_from_weekly": 2})}))
    feedback(busy, "telegram:73", RUDE, start=T0 + timedelta(hours=12))  # 22:30: night
    _dispatch(busy, fake_telegram, T0 + timedelta(hours=13))
    assert "\nसमय: 28-11-2026 22:31\n" in fake_telegram.sent(801)[-1].text
