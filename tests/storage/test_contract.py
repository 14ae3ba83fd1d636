"""The storage contract: the same behaviour on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlmodel import Session as Db
from sqlmodel import SQLModel

from conversations.effects import Start, Text
from storage import feedback as store
from storage.db import (
    DatabaseError,
    current_revision,
    head_revision,
    open_engine,
    upgrade,
    writer,
)
from storage.export import export_rows
from storage.models import Answer, Contact, Conversation, Feedback, Station
from storage.turn import transaction
from tests.conftest import T0

HINDI_ANSWERS = ["1", "1", "४", "हाँ", "चल रही", "हाँ", "नहीं", "५", "अच्छा लगा", "हाँ", "नहीं"]


def give_feedback(app, urn: str, answers: list[str], station: str = "BLB05", start=T0):  # type: ignore[no-untyped-def]
    now = start
    result = app.service.handle(urn, "telegram", Start(station), now)
    for answer in answers:
        now += timedelta(seconds=20)
        result = app.service.handle(urn, "telegram", Text(answer), now)
    return result


def test_migrations_reach_head_and_match_the_models(app) -> None:  # type: ignore[no-untyped-def]
    assert current_revision(app.engine) == head_revision()
    with app.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


def test_stations_follow_the_config(app) -> None:  # type: ignore[no-untyped-def]
    with Db(app.engine) as db:
        codes = set(db.execute(select(Station.code)).scalars())
    assert {"BLB00", "BLB05", "BLB19"} <= codes
    assert len(codes) == len(list(app.config.stations()))


def test_a_whole_feedback_is_stored_by_ids(app) -> None:  # type: ignore[no-untyped-def]
    result = give_feedback(app, "telegram:1001", HINDI_ANSWERS)
    assert result.completed_reference == "FB-26-000001"
    with Db(app.engine) as db:
        feedback = db.execute(select(Feedback)).scalar_one()
        answers = {a.question_id: a for a in db.execute(select(Answer)).scalars()}
    assert feedback.status == "complete" and feedback.station_code == "BLB05"
    assert feedback.completed_at == T0 + timedelta(seconds=20 * len(HINDI_ANSWERS))
    assert answers["purpose"].option_id == "complaint_fir"
    assert answers["behaviour"].option_id == "4" and answers["behaviour"].value == 4
    assert answers["satisfaction"].value == 5
    assert answers["action"].option_id == "in_progress"
    assert answers["comment"].text == "अच्छा लगा"


def test_the_citizen_is_only_a_hash(app, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    give_feedback(app, "telegram:555123", HINDI_ANSWERS)
    with Db(app.engine) as db:
        for table in SQLModel.metadata.sorted_tables:
            if table.name == "contact":
                continue
            for row in db.execute(select(table)).all():
                assert "555123" not in repr(tuple(row)), table.name
        contacts = list(db.execute(select(Contact)).scalars())
    assert "555123" not in caplog.text
    # contact = yes, so the address is kept — in its own table, and only there.
    assert [c.urn for c in contacts] == ["telegram:555123"]
    assert contacts[0].may_contact and not contacts[0].may_follow_up


def test_a_turns_rows_read_back_exactly(app) -> None:  # type: ignore[no-untyped-def]
    """A turn writes on the driver; SQLAlchemy (exports, digests) must read the same values."""
    at = datetime(2026, 3, 1, 4, 5, 6, 789012, tzinfo=UTC)
    app.service.handle("telegram:90", "telegram", Start("BLB05"), at)
    app.service.handle("telegram:90", "telegram", Text("2"), at + timedelta(seconds=1))
    with Db(app.engine) as db:
        conversation = db.execute(select(Conversation)).scalar_one()
        feedback = db.execute(select(Feedback)).scalar_one()
        answer = db.execute(select(Answer)).scalar_one()
    assert conversation.updated_at == at + timedelta(seconds=1)
    assert conversation.state["answers"]["purpose"]["option"] == answer.option_id
    assert conversation.feedback_id == feedback.id and conversation.blocked_at is None
    assert feedback.started_at == at + timedelta(seconds=1) and feedback.status == "incomplete"
    assert feedback.reference == "FB-26-000001" and answer.skipped is False
    # ...and the ORM's range queries compare against the driver's values correctly.
    with Db(app.engine) as db:
        later = db.execute(select(Feedback.id).where(Feedback.started_at > at)).all()
        none = db.execute(select(Feedback.id).where(
            Feedback.started_at > at + timedelta(seconds=1))).all()
    assert len(later) == 1 and none == []


def test_no_contact_is_kept_without_consent(app) -> None:  # type: ignore[no-untyped-def]
    give_feedback(app, "telegram:42", [*HINDI_ANSWERS[:-2], "नहीं", "नहीं"])
    with Db(app.engine) as db:
        assert list(db.execute(select(Contact)).scalars()) == []


def test_a_completed_feedback_keeps_the_contact_as_agreed(app) -> None:  # type: ignore[no-untyped-def]
    # HINDI_ANSWERS: may we contact you — yes; may we ask again later — no.
    done = give_feedback(app, "telegram:42", HINDI_ANSWERS)
    finished = T0 + timedelta(seconds=20 * len(HINDI_ANSWERS))
    with Db(app.engine) as db:
        feedback = db.execute(select(Feedback)).scalar_one()
        contact = db.execute(select(Contact)).scalar_one()
    assert feedback.status == "complete" and feedback.reference == done.completed_reference
    assert feedback.completed_at == finished and feedback.updated_at == finished
    assert (contact.feedback_id, contact.urn) == (feedback.id, "telegram:42")
    assert contact.may_contact is True and contact.may_follow_up is False
    assert contact.created_at == finished


def test_partial_answers_are_kept_as_incomplete(app) -> None:  # type: ignore[no-untyped-def]
    give_feedback(app, "telegram:7", ["2", "3"])
    with Db(app.engine) as db:
        feedback = db.execute(select(Feedback)).scalar_one()
        answered = set(db.execute(select(Answer.question_id)).scalars())
    assert feedback.status == "incomplete"
    assert answered == {"purpose", "heard"}


def test_what_comes_after_a_feedback_ends_is_not_a_second_feedback(app) -> None:  # type: ignore[no-untyped-def]
    """A "thanks" after the last answer, or a "stop" midway, must not copy the answers
    into another, incomplete feedback: the district's completion rate counts them."""
    give_feedback(app, "telegram:2001", HINDI_ANSWERS)
    app.service.handle("telegram:2001", "telegram", Text("धन्यवाद"), T0 + timedelta(hours=1))
    app.service.handle("telegram:2002", "telegram", Start("BLB05"), T0)
    for n, answer in enumerate(["1", "1", "बंद", "ok"], start=1):
        app.service.handle("telegram:2002", "telegram", Text(answer),
                           T0 + timedelta(seconds=n))
    with Db(app.engine) as db:
        kept = sorted((f.status, len(db.execute(select(Answer).where(
            Answer.feedback_id == f.id)).all())) for f in db.execute(select(Feedback)).scalars())
    assert kept == [("complete", len(HINDI_ANSWERS)), ("incomplete", 2)]


def test_second_feedback_within_a_day_updates_the_first(app) -> None:  # type: ignore[no-untyped-def]
    first = give_feedback(app, "telegram:9", HINDI_ANSWERS)
    later = T0 + timedelta(hours=5)
    second = give_feedback(app, "telegram:9", ["5", "1", "1", "no", "no", "1", "skip", "no", "no"],
                           start=later)
    assert second.completed_reference == first.completed_reference
    assert "आपका पिछला फीडबैक" in app.catalogs.render(second.replies[-1])
    with Db(app.engine) as db:
        counted = db.execute(select(Feedback).where(Feedback.status == "complete")).scalars().all()
        assert len(counted) == 1
        answers = {a.question_id: a.option_id for a in db.execute(
            select(Answer).where(Answer.feedback_id == counted[0].id)).scalars()}
    assert answers["purpose"] == "other" and answers["behaviour"] == "1"
    assert "receipt" not in answers  # the new answers replace the old, they do not mix


def test_an_update_keeps_what_it_replaced_as_evidence(app) -> None:  # type: ignore[no-untyped-def]
    """A demand reported, then "corrected" to all 5s the same day: the current answers are
    the update's, the red alert stays, and the demand and the comment are kept, as the
    first version, until the retention rule forgets the words."""
    from scheduler.retention import forget_personal_data
    from storage.models import Alert

    reported = ["1", "1", "1", "नहीं", "1", "नहीं", "हाँ", "2", "1", "मुंशी ने पैसे मांगे",
                "नहीं", "नहीं"]
    first = give_feedback(app, "telegram:9", reported)
    corrected = ["1", "1", "5", "हाँ", "1", "हाँ", "नहीं", "5", "1", "नहीं", "नहीं"]
    second = give_feedback(app, "telegram:9", corrected, start=T0 + timedelta(hours=2))
    assert second.completed_reference == first.completed_reference
    with Db(app.engine) as db:
        kept = db.execute(select(Feedback).where(Feedback.status == "complete")).scalar_one()
        assert kept.id is not None
        now = {a.question_id: a.option_id for a in db.execute(
            select(Answer).where(Answer.feedback_id == kept.id)).scalars()}
        versions = store.versions_of(db, kept.id)
        red = db.execute(select(Alert).where(Alert.severity == "red")).scalars().all()
    assert now["demand"] == "no" and now["behaviour"] == "5"
    assert list(versions) == [1]
    before = {v.question_id: v for v in versions[1]}
    assert before["demand"].option_id == "yes" and before["behaviour"].value == 1
    assert before["comment"].text == "मुंशी ने पैसे मांगे"
    assert before["demand"].given_in == kept.id and len(red) == 1
    # A third answer set: the second becomes version 2, the first stays version 1.
    give_feedback(app, "telegram:9", corrected, start=T0 + timedelta(hours=3))
    with Db(app.engine) as db:
        assert list(store.versions_of(db, kept.id)) == [1, 2]
    with Db(writer(app.engine)) as db, db.begin():
        forget_personal_data(db, T0 + timedelta(days=1))
    with Db(app.engine) as db:
        forgotten = {v.question_id: v for v in store.versions_of(db, kept.id)[1]}
    assert forgotten["comment"].text is None and forgotten["demand"].option_id == "yes"


def test_an_attempt_left_in_between_does_not_take_the_update(app) -> None:  # type: ignore[no-untyped-def]
    """Complete, then begun again and left, then (the poster scanned again, "start again?"
    yes) complete again, all within the day: one visit, one feedback, the first one's
    reference; the attempt left is not counted."""
    first = give_feedback(app, "telegram:9", HINDI_ANSWERS)
    give_feedback(app, "telegram:9", ["2", "3"], start=T0 + timedelta(hours=1))
    third = give_feedback(app, "telegram:9", ["1", "5", "1", "1", "no", "no", "2", "skip",
                                              "no", "no"], start=T0 + timedelta(hours=5))
    assert third.completed_reference == first.completed_reference
    with Db(app.engine) as db:
        assert store.count_feedback(db, "complete") == 1
        assert store.count_feedback(db, "incomplete") == 0


def test_after_a_day_it_counts_again(app) -> None:  # type: ignore[no-untyped-def]
    first = give_feedback(app, "telegram:9", HINDI_ANSWERS)
    second = give_feedback(app, "telegram:9", HINDI_ANSWERS, start=T0 + timedelta(hours=25))
    assert first.completed_reference != second.completed_reference
    with Db(app.engine) as db:
        assert store.count_feedback(db, "complete") == 2


def test_references_are_unique_under_concurrency(app) -> None:  # type: ignore[no-untyped-def]
    references: list[str] = []
    errors: list[BaseException] = []

    def citizen(n: int) -> None:
        try:
            result = give_feedback(app, f"telegram:{n}", HINDI_ANSWERS)
            references.append(result.completed_reference or "")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=citizen, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(references) == [f"FB-26-{n:06d}" for n in range(1, 9)]


def test_one_citizens_turns_never_interleave(app) -> None:  # type: ignore[no-untyped-def]
    app.service.handle("telegram:77", "telegram", Start("BLB05"), T0)
    barrier = threading.Barrier(2)

    def send(answer: str) -> None:
        barrier.wait()
        app.service.handle("telegram:77", "telegram", Text(answer), T0 + timedelta(seconds=5))

    threads = [threading.Thread(target=send, args=(a,)) for a in ("1", "1")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Two answers processed one after the other: purpose, then heard.
    with Db(app.engine) as db:
        answered = set(db.execute(select(Answer.question_id)).scalars())
    assert answered == {"purpose", "heard"}


def test_reference_numbers_never_reused_across_years(app) -> None:  # type: ignore[no-untyped-def]
    with transaction(app.engine) as tx:
        refs = [tx.next_reference(2026) for _ in range(3)]
        refs.append(tx.next_reference(2027))
    assert refs == ["FB-26-000001", "FB-26-000002", "FB-26-000003", "FB-27-000001"]


def test_export_rows_carry_no_identity(app) -> None:  # type: ignore[no-untyped-def]
    give_feedback(app, "telegram:31337", HINDI_ANSWERS)
    rows = list(export_rows(app.engine))
    assert len(rows) == 1 and rows[0].reference == "FB-26-000001"
    assert "31337" not in repr(rows) and "sender" not in repr(rows)


def test_the_export_shows_alerts_acknowledgements_and_kept_versions(app) -> None:  # type: ignore[no-untyped-def]
    from scheduler.export import header, table

    rude = ["1", "1", "1", "हाँ", "1", "हाँ", "नहीं", "1", "1", "नहीं", "नहीं"]
    give_feedback(app, "telegram:7", rude)
    give_feedback(app, "telegram:7", rude, start=T0 + timedelta(hours=1))  # an update
    with Db(writer(app.engine)) as db, db.begin():
        from storage.models import Alert
        alert = db.execute(select(Alert)).scalar_one()
        alert.status, alert.acknowledged_at = "acknowledged", T0 + timedelta(hours=2)
    [row] = table(export_rows(app.engine), app.survey, app.catalogs, app.config.zone)
    cells = dict(zip(header(app.survey), row, strict=True))
    assert cells["alerts"] == "poor_treatment: acknowledged"
    assert cells["acknowledged_at"] == "2026-11-28 12:30"  # IST
    assert cells["earlier_versions"] == "1"


def test_export_filters_by_day_and_station(app) -> None:  # type: ignore[no-untyped-def]
    give_feedback(app, "telegram:1", HINDI_ANSWERS, station="BLB05")
    give_feedback(app, "telegram:2", HINDI_ANSWERS, station="BLB06", start=T0 + timedelta(days=2))
    assert [r.station_code for r in export_rows(app.engine, station="blb06")] == ["BLB06"]
    assert [r.station_code for r in export_rows(app.engine, until=T0 + timedelta(days=1))] == [
        "BLB05"]


def test_an_older_schema_is_upgraded_keeping_its_data(database_url: str) -> None:
    from alembic import command

    from storage.db import _alembic

    engine = open_engine(database_url)
    command.upgrade(_alembic(engine), "0001")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO reference_counter (year, last) VALUES (2026, 41)"))
    before, after = upgrade(engine)
    assert (before, after) == ("0001", head_revision())
    assert "processed_message" in inspect(engine).get_table_names()
    with transaction(engine) as tx:
        assert tx.next_reference(2026) == "FB-26-000042"
    engine.dispose()


def test_a_newer_schema_is_refused(database_url: str) -> None:
    engine = open_engine(database_url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(DatabaseError, match="newer than this version"):
        upgrade(engine)
    engine.dispose()


def test_a_foreign_database_is_refused(database_url: str) -> None:
    engine = open_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE payroll (id INTEGER PRIMARY KEY)"))
    with pytest.raises(DatabaseError, match="did not create"):
        upgrade(engine)
    engine.dispose()


def test_a_whatsapp_citizens_window_runs_from_their_last_message(app) -> None:  # type: ignore[no-untyped-def]
    """24 hours (less the margin) from their last message, counted to the minute at
    worst, never later than the truth."""
    urn, day = "whatsapp:+919800000321", timedelta(hours=24) - timedelta(minutes=5)
    app.service.handle(urn, "whatsapp", Start("BLB05"), T0)
    assert app.service.window_open(urn, T0 + day - timedelta(seconds=1))
    assert not app.service.window_open(urn, T0 + day)
    app.service.handle(urn, "whatsapp", Text("1"), T0 + timedelta(seconds=30))
    # Within a minute of the last: counted from that one, closing 30 s early (safe side).
    assert not app.service.window_open(urn, T0 + day + timedelta(seconds=10))
    app.service.handle(urn, "whatsapp", Text("1"), T0 + timedelta(minutes=3))
    assert app.service.window_open(urn, T0 + day + timedelta(minutes=3) - timedelta(seconds=1))
    assert not app.service.window_open(urn, T0 + day + timedelta(minutes=3))
    # Stored by the ORM (as for an officer's message), read back by a citizen's turn.
    later = T0 + timedelta(minutes=10)
    app.service.seen(urn, later)
    app.service.handle(urn, "whatsapp", Text("1"), later + timedelta(seconds=30))
    assert app.service.window_open(urn, later + day - timedelta(seconds=1))
    assert not app.service.window_open(urn, later + day)
    with Db(app.engine) as db:
        assert db.execute(select(Conversation.stage)).scalar_one() == "asking"


def test_a_conversation_changed_by_another_process_is_read_as_stored(app) -> None:  # type: ignore[no-untyped-def]
    """A turn reuses the session its last turn wrote only while the stored row is what
    it wrote: another process's change (here the ORM's) is what the next turn sees."""
    urn = "whatsapp:+919800000654"
    app.service.handle(urn, "whatsapp", Start("BLB05"), T0)
    app.service.handle(urn, "whatsapp", Text("1"), T0 + timedelta(seconds=10))
    with Db(app.engine) as db, db.begin():
        row = db.execute(select(Conversation)).scalar_one()
        row.state = {**row.state, "lang": "en"}  # say, "English" sent to another process
    reply = app.service.handle(urn, "whatsapp", Text("2"), T0 + timedelta(seconds=20))
    assert reply.replies[0].lang == "en"  # not the Hindi session of the last turn
    with Db(app.engine) as db:
        state = db.execute(select(Conversation.state)).scalar_one()
    assert state["lang"] == "en" and state["answers"]["heard"]["option"] == "15_60m"


def test_a_provider_message_id_is_seen_once(app) -> None:  # type: ignore[no-untyped-def]
    with transaction(app.engine) as tx:
        assert tx.first_delivery("telegram", "77", T0)
        assert not tx.first_delivery("telegram", "77", T0)
        assert tx.first_delivery("whatsapp", "77", T0)


def test_a_redelivered_message_changes_nothing(app) -> None:  # type: ignore[no-untyped-def]
    app.service.handle("telegram:5", "telegram", Start("BLB05"), T0, provider_id="1")
    first = app.service.handle("telegram:5", "telegram", Text("1"), T0, provider_id="2")
    again = app.service.handle("telegram:5", "telegram", Text("1"), T0, provider_id="2")
    assert again.duplicate and again.replies == first.replies  # shown where they are
    with Db(app.engine) as db:
        assert set(db.execute(select(Answer.question_id)).scalars()) == {"purpose"}


def test_answers_never_land_in_another_stations_feedback(app) -> None:  # type: ignore[no-untyped-def]
    urn = "telegram:66"
    for event in [Start("BLB05"), Text("1"), Text("back"), Start("BLB07"), Text("2")]:
        app.service.handle(urn, "telegram", event, T0)
    with Db(app.engine) as db:
        rows = db.execute(select(Feedback)).scalars().all()
    # The Simga feedback was emptied by "back" and discarded; the answer is Palari's.
    assert [(f.station_code, f.status) for f in rows] == [("BLB07", "incomplete")]


def test_restart_leaves_no_empty_feedback(app) -> None:  # type: ignore[no-untyped-def]
    urn = "telegram:67"
    for event in [Start("BLB05"), Text("1"), Text("फिर से"), Text("बंद")]:
        app.service.handle(urn, "telegram", event, T0)
    with Db(app.engine) as db:
        assert db.execute(select(Feedback)).scalars().all() == []


def test_reference_year_is_the_districts(app) -> None:  # type: ignore[no-untyped-def]
    new_year_ist = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)  # 1 Jan 2027, 01:30 IST
    result = give_feedback(app, "telegram:68", HINDI_ANSWERS, start=new_year_ist)
    assert result.completed_reference == "FB-27-000001"


def test_an_export_does_not_block_citizens(app) -> None:  # type: ignore[no-untyped-def]
    give_feedback(app, "telegram:69", HINDI_ANSWERS)
    rows = export_rows(app.engine)
    next(rows)  # a reader holds its transaction open...
    result = app.service.handle("telegram:70", "telegram", Start("BLB06"), T0)
    assert result.replies  # ...and a citizen's turn still goes through
    rows.close()


def test_the_sweep_closes_idle_conversations(app) -> None:  # type: ignore[no-untyped-def]
    give_feedback(app, "telegram:80", ["1", "2"])  # left at the third question
    give_feedback(app, "telegram:81", ["1"], start=T0 + timedelta(hours=20))
    assert app.service.expire_idle(T0 + timedelta(hours=24, minutes=5)) == 1
    assert app.service.expire_idle(T0 + timedelta(hours=24, minutes=5)) == 0
    with Db(app.engine) as db:
        stages = sorted(db.execute(select(Conversation.stage)).scalars())
        statuses = sorted(db.execute(select(Feedback.status)).scalars())
    assert stages == ["asking", "ended"] and statuses == ["incomplete", "incomplete"]
    # The citizen who comes back later is told, and starts again.
    result = app.service.handle("telegram:80", "telegram", Text("3"), T0 + timedelta(hours=25))
    assert "पिछली बातचीत बंद हो गई" in app.catalogs.render(result.replies[0])


def test_station_sync_follows_edits_and_removals(app) -> None:  # type: ignore[no-untyped-def]
    simga = app.config.station("BLB05").model_copy(update={"name_en": "Simga Thana"})
    with Db(writer(app.engine)) as db, db.begin():
        store.sync_stations(db, [("BLB", simga)])
    with Db(app.engine) as db:
        active = {s.code: s.name_en for s in db.execute(select(Station)).scalars() if s.active}
    assert active == {"BLB05": "Simga Thana"}
