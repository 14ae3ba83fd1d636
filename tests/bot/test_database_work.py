"""Citizens' turns run together: each is kept, in order, alone in its failure. On SQLite
they are stored on the event loop while the write lock is free, else by the database
thread, which waits when another writer holds the lock; the server answers all along.
Each test runs over the plain version (the thread only) and the loop's."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select, text
from sqlmodel import Session as Db

import bot.database_work as work
from bot.database_work import DatabaseWork, GroupsOnTheLoop, database_work
from bot.web import create_web_app
from conversations.effects import Start, Text
from scheduler.service import CitizenMessage, FeedbackService, Turn
from storage.db import checkpoint, impatient, open_engine
from storage.models import Answer, Conversation, Feedback
from tests.bot.whatsapp.conftest import Clock, Phone, fake_twilio, whatsapp_config, whatsapp_runtime  # noqa: F401 (a fixture)
from tests.conftest import T0

Work = Callable[[FeedbackService], DatabaseWork]


@pytest.fixture(params=["plain", "loop"])
def make_work(request: pytest.FixtureRequest) -> Work:
    """The plain version, or the one `prayas serve` picks (the loop's, on a SQLite file)."""
    return DatabaseWork if request.param == "plain" else database_work


def test_turns_arriving_together_are_all_kept_in_order(app, make_work: Work) -> None:  # type: ignore[no-untyped-def]
    database = make_work(app.service)

    async def citizens() -> list[Turn]:
        starts = [database.handle(CitizenMessage(f"telegram:{n}", "telegram", Start("BLB05"), T0))
                  for n in range(20)]
        await asyncio.gather(*starts)
        # One citizen's two answers queued back to back: the second sees the first.
        later = T0 + timedelta(seconds=5)
        return list(await asyncio.gather(
            *(database.handle(CitizenMessage(f"telegram:{n}", "telegram", Text("2"), later))
              for n in range(20)),
            database.handle(CitizenMessage("telegram:0", "telegram", Text("1"), later))))

    try:
        turns = asyncio.run(citizens())
    finally:
        database.close()
    assert all("2/11:" in app.catalogs.render(t.replies[0]) for t in turns[:20])
    assert "3/11:" in app.catalogs.render(turns[20].replies[0])
    with Db(app.engine) as db:
        assert len(db.execute(select(Feedback)).all()) == 20
        assert len(db.execute(select(Answer)).all()) == 21


def test_one_failing_turn_does_not_undo_the_others(app) -> None:  # type: ignore[no-untyped-def]
    requests = [CitizenMessage("telegram:1", "telegram", Start("BLB05"), T0, "u1"),
                # A turn that fails in the database (an id no driver can store).
                CitizenMessage("telegram:2", "telegram", Text("x"), T0, {"u": 2}),  # type: ignore[arg-type]
                CitizenMessage("telegram:3", "telegram", Start("BLB05"), T0, "u3")]
    results = app.service.handle_together(requests)
    assert isinstance(results[0], Turn) and isinstance(results[2], Turn)
    assert isinstance(results[1], Exception)
    # The others were run again on their own: each stored once, and never twice.
    assert app.service.handle("telegram:1", "telegram", Start("BLB05"), T0, "u1").duplicate
    with Db(app.engine) as db:
        conversations = db.execute(select(Conversation.channel)).all()
    assert len(conversations) == 2  # citizens 1 and 3; nothing of citizen 2
    with pytest.raises((sqlite3.Error, psycopg.Error)):  # alone, the caller sees it
        app.service.handle_together([requests[1]])


def test_a_failing_turn_in_a_group_is_its_own_and_the_group_is_kept(app, make_work: Work) -> None:  # type: ignore[no-untyped-def]
    """The group fails together; each of its turns is then run on its own."""
    database = make_work(app.service)
    requests = [CitizenMessage("telegram:1", "telegram", Start("BLB05"), T0, "u1"),
                CitizenMessage("telegram:2", "telegram", Text("x"), T0, {"u": 2}),  # type: ignore[arg-type]
                CitizenMessage("telegram:3", "telegram", Start("BLB05"), T0, "u3")]

    async def together() -> list[Turn | BaseException]:
        return list(await asyncio.gather(*(database.handle(r) for r in requests),
                                         return_exceptions=True))

    try:
        results = asyncio.run(together())
    finally:
        database.close()
    assert isinstance(results[0], Turn) and isinstance(results[2], Turn)
    assert isinstance(results[1], sqlite3.Error | psycopg.Error)
    with Db(app.engine) as db:
        assert len(db.execute(select(Conversation.channel)).all()) == 2


def _database_file(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


@pytest.mark.usefixtures("fake_twilio")
def test_a_citizen_is_answered_once_another_writer_lets_go_and_the_server_answers_meanwhile(
        make_app, sqlite_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from starlette.testclient import TestClient

    app = make_app(sqlite_url, whatsapp_config(tmp_path))
    with TestClient(create_web_app(whatsapp_runtime(app, Clock()))) as client:
        phone = Phone(client, "+919800000777")
        assert "1." in phone.say("फीडबैक BLB05")[-1]  # the first question
        other = sqlite3.connect(_database_file(sqlite_url), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another process writing, for a while
        answered: list[list[str]] = []
        waiting = threading.Thread(target=lambda: answered.append(phone.say("1")))
        waiting.start()
        assert client.get("/healthz").status_code == 200  # the loop is not held
        assert not answered  # the turn waits for the lock, in the database thread
        other.execute("ROLLBACK")
        other.close()
        waiting.join(15)
        assert answered and "2/11:" in answered[0][-1]  # the next question: the answer is kept
        assert "3/11:" in phone.say("1")[-1]  # and the turns after it go on as before
    with Db(app.engine) as db:
        kept = set(db.execute(select(Answer.question_id)).scalars())
    assert kept == {"purpose", "heard"}
    app.engine.dispose()


def test_the_loops_engine_never_waits_and_leaves_checkpoints_to_the_thread(
        sqlite_url: str) -> None:
    engine = open_engine(sqlite_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE note (n INTEGER)"))
    loop_engine = impatient(engine)
    assert loop_engine is not None
    other = sqlite3.connect(_database_file(sqlite_url), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(sqlite3.OperationalError, match="locked"), loop_engine.begin() as connection:
        connection.execute(text("INSERT INTO note VALUES (1)"))
    raw = loop_engine.raw_connection()  # refused at once, not after a timeout
    assert raw.cursor().execute("PRAGMA busy_timeout").fetchone()[0] == 0
    raw.close()
    other.execute("ROLLBACK")
    for n in range(50):
        with loop_engine.begin() as connection:
            connection.execute(text("INSERT INTO note VALUES (:n)"), {"n": n})
    frames = other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert frames[1] > 0  # the loop's commits left their pages in the WAL
    other.execute("INSERT INTO note VALUES (99)")  # one more frame to copy
    checkpoint(engine)
    assert other.execute("SELECT count(*) FROM note").fetchone()[0] == 51
    other.close()
    loop_engine.dispose()
    engine.dispose()


def test_postgresql_and_a_database_in_memory_store_on_the_thread(
        make_app, postgres_url: str, sqlite_url: str) -> None:  # type: ignore[no-untyped-def]
    assert impatient(open_engine(postgres_url)) is None
    assert impatient(open_engine("sqlite://")) is None
    on_postgres = make_app(postgres_url)
    assert type(database_work(on_postgres.service)) is DatabaseWork
    on_postgres.engine.dispose()
    on_file = make_app(sqlite_url)
    assert type(database_work(on_file.service)) is GroupsOnTheLoop
    on_file.engine.dispose()


def test_the_write_ahead_log_starts_afresh_under_steady_load(
        make_app, sqlite_url: str, make_work: Work, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The log is checkpointed while no group is being stored (by SQLite on the thread
    that commits; by the thread every few groups the loop stored): SQLite then starts
    its log from the beginning, and the file stops growing."""
    monkeypatch.setattr(work, "CHECKPOINT_EVERY", 8)
    app = make_app(sqlite_url)
    database = make_work(app.service)
    answers = ["1", "1", "4", "हाँ", "2", "हाँ", "नहीं", "5", "अच्छा व्यवहार", "नहीं", "नहीं"]

    async def citizen(n: int) -> None:
        for round_ in range(6):
            now = T0 + timedelta(hours=round_, seconds=n)
            await database.handle(CitizenMessage(f"telegram:{n}", "telegram", Start("BLB05"), now))
            for i, answer in enumerate(answers):
                await database.handle(CitizenMessage(f"telegram:{n}", "telegram", Text(answer),
                                                now + timedelta(seconds=i + 1)))

    async def everyone() -> None:
        await asyncio.gather(*(citizen(n) for n in range(24)))

    try:
        asyncio.run(everyone())
    finally:
        database.close()
    with Db(app.engine) as db:
        assert len(db.execute(select(Feedback)).all()) == 144  # later ones update the first
    wal = _database_file(sqlite_url).with_name("prayas.db-wal")
    # SQLite restarts its log after about 1,000 pages (4 MB): it stays there, however
    # many turns are written (~1,700 here)
    assert wal.stat().st_size < 6_000_000, wal.stat().st_size
    app.engine.dispose()


def test_a_turn_after_the_service_stopped_is_refused_not_left_waiting(app, make_work: Work) -> None:  # type: ignore[no-untyped-def]
    database = make_work(app.service)
    database.close()
    request = CitizenMessage("telegram:9", "telegram", Start("BLB05"), T0)
    with pytest.raises(RuntimeError):
        asyncio.run(asyncio.wait_for(database.handle(request), 5))
