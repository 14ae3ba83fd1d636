"""The daily digest on the scheduler: queued once per day and officer, sent through the
outbox, its job kept in the database."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from sqlalchemy import event, inspect, select
from sqlmodel import Session as Db

from scheduler import jobs
from scheduler.app import App
from scheduler.digests import queue
from scheduler.outbox.dispatch import Dispatcher
from scheduler.outbox.message import split
from storage import officers
from storage.db import writer
from storage.models import Outbox
from tests.conftest import SAMPLE_CONFIG, T0, dispatched, telegram_sender
from tests.scheduler.alerts.test_alerts import (
    BRIBE,
    FINE,
    RUDE,
    _dispatch,
    feedback,
    six_alike_stations,
    with_digests,
)


def test_the_digest_is_queued_once_and_sent_in_hindi(app, officers_enrolled,  # type: ignore[no-untyped-def]
                                                    fake_telegram) -> None:
    feedback(app, "telegram:1", RUDE, start=T0 - timedelta(days=1))
    at_nine = T0.replace(hour=3, minute=30)  # 09:00 IST
    assert queue.queue_daily_digests(app, at_nine) == 1  # one SP office officer
    assert queue.queue_daily_digests(app, at_nine + timedelta(minutes=1)) == 1
    with Db(app.engine) as db:
        digests = db.execute(select(Outbox).where(Outbox.kind == "digest")).scalars().all()
    assert len(digests) == 1 and digests[0].recipient == "telegram:900"
    assert _dispatch(app, fake_telegram, at_nine + timedelta(minutes=5)) >= 1
    text = next(s.text for s in fake_telegram.sent(900) if s.text.startswith("📊"))
    assert text.startswith("📊 दैनिक रिपोर्ट: बलौदाबाजार-भाटापारा, 27 नवंबर 2026")
    assert "उस दिन के फीडबैक: पूरे 1, अधूरे 0, नकारात्मक 1।" in text


def test_long_messages_are_split_at_line_ends() -> None:
    text = "\n".join(f"{n}. " + "क" * 100 for n in range(100))
    parts = split(text, 4096)
    assert all(len(p) <= 4096 for p in parts) and len(parts) == 3
    assert "\n".join(parts) == text
    assert split("x" * 5000, 4096) == ["x" * 4096, "x" * 904]


def test_the_digest_job_lives_in_the_database(app) -> None:  # type: ignore[no-untyped-def]
    async def start_twice() -> list:  # type: ignore[type-arg]
        found = []
        for _ in range(2):  # a restart: the stored job is replaced, not doubled
            scheduler = jobs.start(app, Dispatcher(app, {}))
            found = scheduler.get_jobs(jobstore="database")
            jobs.stop(scheduler)
        return found

    stored = {j.id: j for j in asyncio.run(start_twice())}
    assert sorted(stored) == ["in_charge_weekly_digest", "sp_office_daily_digest",
                              "sp_office_monthly_report"]
    weekly = stored["in_charge_weekly_digest"]
    assert weekly.next_run_time.strftime("%a %H:%M") == "Mon 10:00"
    job = stored["sp_office_daily_digest"]
    assert job.coalesce and job.misfire_grace_time == 12 * 3600
    assert (job.next_run_time.hour, job.next_run_time.minute) == (9, 0)  # IST
    assert str(job.next_run_time.tzinfo) == "Asia/Kolkata"
    monthly = stored["sp_office_monthly_report"]  # with the 1st's daily digest
    assert monthly.next_run_time.strftime("%d %H:%M") == "01 09:00"
    assert "apscheduler_jobs" in inspect(app.engine).get_table_names()


def test_each_in_charge_gets_a_weekly_digest(app, officers_enrolled, fake_telegram) -> None:  # type: ignore[no-untyped-def]
    feedback(app, "telegram:1", RUDE, start=T0 - timedelta(days=2))
    monday = T0.replace(day=30, hour=4, minute=30)  # Monday 10:00 IST
    assert queue.queue_weekly_digests(app, monday) == 2  # the in-charges of BLB05 and BLB06
    assert _dispatch(app, fake_telegram, monday + timedelta(minutes=1)) == 2
    simga = next(s.text for s in fake_telegram.sent(801) if s.text.startswith("📊"))
    assert simga.startswith("📊 साप्ताहिक रिपोर्ट: थाना सिमगा")
    assert "आपका थाना: 1 फीडबैक" in simga


@contextmanager
def weeks_read(app) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    """The statements that sum a district's week from the rollups, while the block runs."""
    read: list[str] = []

    def count(conn, cursor, statement, *_) -> None:  # type: ignore[no-untyped-def]
        if "FROM station_day" in statement and "GROUP BY" in statement:
            read.append(statement)

    event.listen(app.engine, "before_cursor_execute", count)
    try:
        yield read
    finally:
        event.remove(app.engine, "before_cursor_execute", count)


def test_in_charges_of_a_district_share_its_week(app, officers_enrolled,  # type: ignore[no-untyped-def]
                                                fake_telegram) -> None:
    """A state has thousands of in-charges: their Monday digests read their district's
    week once per batch, not once each."""
    feedback(app, "telegram:1", RUDE, start=T0 - timedelta(days=2))
    monday = T0.replace(day=30, hour=4, minute=30)
    assert queue.queue_weekly_digests(app, monday) == 2
    with weeks_read(app) as read:
        assert _dispatch(app, fake_telegram, monday + timedelta(minutes=1)) == 2
    assert len(read) == 1
    assert any(s.text.startswith("📊") for s in fake_telegram.sent(802))


def test_the_sp_offices_officers_get_one_digest_built_once(app, officers_enrolled,  # type: ignore[no-untyped-def]
                                                          fake_telegram) -> None:
    with Db(writer(app.engine)) as db, db.begin():
        token = officers.invite(db, "sp_office", "BLB", "officer 901", T0, timedelta(days=1))
    officers_enrolled.enrol("telegram:901", token, T0)
    feedback(app, "telegram:1", RUDE, start=T0 - timedelta(days=1))
    at_nine = T0.replace(hour=3, minute=30)
    assert queue.queue_daily_digests(app, at_nine) == 2
    with weeks_read(app) as read:
        assert _dispatch(app, fake_telegram, at_nine + timedelta(minutes=5)) >= 2
    assert len(read) == 1
    texts = [next(s.text for s in fake_telegram.sent(chat) if s.text.startswith("📊"))
             for chat in (900, 901)]
    assert texts[0] == texts[1]


def test_one_leader_among_processes(app, database_url: str) -> None:  # type: ignore[no-untyped-def]
    from scheduler.leader import Leader
    from storage.db import open_engine

    first, second = Leader(open_engine(database_url)), Leader(open_engine(database_url))
    assert first.check()
    if app.engine.dialect.name == "postgresql":
        assert not second.check()  # the other process stands by...
        first.release()
        assert second.check()  # ...and takes over when the leader is gone
        assert not first.check()  # a stopped scheduler never leads again
        for _ in range(20):  # a restart takes the lead at once, however quick
            second.release()
            second = Leader(second.engine)
            assert second.check()
        second.release()
    else:
        assert second.check()  # SQLite: a single process, always the leader


def test_the_digest_comes_with_its_chart(app, officers_enrolled, fake_telegram) -> None:  # type: ignore[no-untyped-def]
    feedback(app, "telegram:1", RUDE, start=T0 - timedelta(days=1))
    at_nine = T0.replace(hour=3, minute=30)
    queue.queue_daily_digests(app, at_nine)
    _dispatch(app, fake_telegram, at_nine + timedelta(minutes=5))
    photos = fake_telegram.sent(900, "sendPhoto")
    assert len(photos) == 1 and photos[0].params["photo"].startswith(b"\x89PNG")


def test_a_district_too_big_to_list_gets_its_table_as_a_file(  # type: ignore[no-untyped-def]
        app, officers_enrolled, fake_telegram) -> None:
    big = with_digests(app, listed_per_kind=4, min_responses_to_rank=1)
    six_alike_stations(big)
    at_nine = T0.replace(hour=3, minute=30)
    queue.queue_daily_digests(big, at_nine)
    _dispatch(big, fake_telegram, at_nine + timedelta(minutes=5))
    text = "\n".join(s.text for s in fake_telegram.sent(900) if s.text)
    assert "… इनके बीच 2 और हैं; पूरी सूची साथ भेजी गई फ़ाइल में है।" in text
    assert text.count("फीडबैक, व्यवहार") == 4  # two best, two worst
    assert "और 11 अन्य (साथ भेजी गई तालिका में)" in text  # 15 silent stations: 4 named
    [sent] = fake_telegram.sent(900, "sendDocument")
    assert sent.params["document:filename"] == "stations-BLB-2026-11-27.csv"
    table = [row.split(",") for row in sent.params["document"].decode("utf-8-sig").splitlines()]
    assert table[0][:5] == ["kind", "rank", "code", "station", "standing"]
    assert len(table) == 1 + 21  # every station of the district
    ranked = [row for row in table if row[4] == "ranked"]
    assert [(r[1], r[2]) for r in ranked] == [
        ("1", "BLB01"), ("2", "BLB02"), ("3", "BLB03"), ("4", "BLB04"), ("5", "BLB05"),
        ("6", "BLB06")]  # all alike: by code
    assert ranked[4][3] == "थाना सिमगा"  # names as the digest gives them
    assert sum(row[4] == "no_feedback" for row in table) == 15


def test_many_open_cases_the_most_urgent_listed_all_attached(  # type: ignore[no-untyped-def]
        app, officers_enrolled, fake_telegram) -> None:
    busy = with_digests(app, listed_alerts=2)
    feedback(busy, "telegram:1", RUDE, start=T0 - timedelta(days=1, hours=5))
    feedback(busy, "telegram:2", RUDE, start=T0 - timedelta(days=1, hours=4))
    feedback(busy, "telegram:3", BRIBE, start=T0 - timedelta(days=1, hours=3))
    at_nine = T0.replace(hour=3, minute=30)
    queue.queue_daily_digests(busy, at_nine)
    _dispatch(busy, fake_telegram, at_nine + timedelta(minutes=5))
    text = "\n".join(s.text for s in fake_telegram.sent(900, "sendMessage") if s.text)
    digest = text[text.index("📊"):]
    assert digest.splitlines()[1] == "पहले इन पर कार्रवाई करें: 3"
    listed = [line for line in digest.splitlines() if "FB-26-" in line]
    assert len(listed) == 2 and listed[0].startswith("🔴")  # the red one first
    # Past their deadline of a day for the SP office's instruction, the oldest first.
    assert listed[1].startswith("⏰ FB-26-000001 · थाना सिमगा · खराब व्यवहार या अनुभव · नया · ")
    assert "… और 1; सभी साथ लगी तालिका में हैं।" in digest
    [sent] = fake_telegram.sent(900, "sendDocument")
    assert sent.params["document:filename"] == "open-cases-BLB-2026-11-27.csv"
    rows = sent.params["document"].decode("utf-8-sig").splitlines()
    assert rows[0] == ("reference,code,station,state,red,possible_pressure,levels_up,rules,"
                       "opened_local_time,due_local_time,hours_open")
    assert len(rows) == 4 and rows[1].split(",")[4] == "yes"
    assert not any("telegram:" in row or ":3" in row.split(",")[0] for row in rows)


def test_a_digest_missed_while_down_is_sent_once_when_back(app, officers_enrolled,  # type: ignore[no-untyped-def]
                                                           monkeypatch) -> None:
    queued = threading.Event()
    queue_daily_digests = queue.queue_daily_digests

    def noted(app: App, now: datetime) -> int:
        try:
            return queue_daily_digests(app, now)
        finally:
            queued.set()

    monkeypatch.setattr(queue, "queue_daily_digests", noted)

    async def down_then_up() -> datetime:
        first = jobs.start(app, Dispatcher(app, {}))
        job = first.get_job("sp_office_daily_digest", "database")
        # The service went down an hour before 09:00 and came back an hour after.
        job.modify(next_run_time=datetime.now(UTC) - timedelta(hours=1))
        jobs.stop(first)
        back = jobs.start(app, Dispatcher(app, {}))
        # Waited for until queued, whichever scheduler runs it (the first one's last wakeup
        # can, in a thread that outlives its stop); the bound fails a digest never queued,
        # it measures nothing. A second run would be in a thread too, and asyncio.run
        # waits for those before the rows are read.
        assert await asyncio.to_thread(queued.wait, 30), "the missed digest was not queued"
        next_run = back.get_job("sp_office_daily_digest", "database").next_run_time
        jobs.stop(back)
        return next_run

    next_run = asyncio.run(down_then_up())
    with Db(app.engine) as db:
        digests = db.execute(select(Outbox).where(Outbox.kind == "digest")).scalars().all()
    assert [d.recipient for d in digests] == ["telegram:900"]  # sent once, not skipped
    assert next_run > datetime.now(UTC)  # and back on its daily time


def _dispatch_in_short_parts(app, fake_telegram, now) -> int:  # type: ignore[no-untyped-def]
    """The outbox through Telegram with a short limit, so the sample district's digest
    comes in several parts."""
    runtime = telegram_sender(app, fake_telegram)
    assert runtime.telegram_channel is not None
    runtime.telegram_channel.max_text = 200
    return asyncio.run(dispatched(runtime, now))


def test_a_failure_midway_through_a_long_digest_sends_only_the_rest(  # type: ignore[no-untyped-def]
        app, officers_enrolled, fake_telegram) -> None:
    feedback(app, "telegram:1", RUDE, start=T0 - timedelta(days=1))
    at_nine = T0.replace(hour=3, minute=30)

    def dispatch(now) -> int:  # type: ignore[no-untyped-def]
        return _dispatch_in_short_parts(app, fake_telegram, now)

    assert dispatch(at_nine) == 2  # the feedback's alerts, out of the way first
    before = len(fake_telegram.sent(900))
    queue.queue_daily_digests(app, at_nine)
    fake_telegram.fail_next("sendMessage", 502, after=1)  # the second part fails
    assert dispatch(at_nine + timedelta(minutes=1)) == 0
    first = [s.text for s in fake_telegram.sent(900)][before:]
    assert len(first) == 1 and first[0].startswith("📊")
    assert dispatch(at_nine + timedelta(minutes=10)) == 1  # the retry, after the backoff
    texts = [s.text for s in fake_telegram.sent(900)][before:]
    assert texts.count(first[0]) == 1 and len(texts) >= 3  # the beginning came once
    assert "\n".join(texts).startswith("📊 दैनिक रिपोर्ट")
    assert len(fake_telegram.sent(900, "sendPhoto")) == 1  # the chart after the text, once


def test_a_retried_digest_sends_the_rest_of_the_text_it_began(  # type: ignore[no-untyped-def]
        app, officers_enrolled, fake_telegram) -> None:
    """New feedback between the two attempts changes the digest built for the retry; the
    officer still reads the text the first attempt began, each line once."""
    feedback(app, "telegram:1", RUDE, start=T0 - timedelta(days=1))
    at_nine = T0.replace(hour=3, minute=30)

    def dispatch(now) -> int:  # type: ignore[no-untyped-def]
        return _dispatch_in_short_parts(app, fake_telegram, now)

    dispatch(at_nine)  # the feedback's alerts, out of the way
    before = len(fake_telegram.sent(900))
    queue.queue_daily_digests(app, at_nine)
    fake_telegram.fail_next("sendMessage", 502, after=1)  # the second part fails
    assert dispatch(at_nine + timedelta(minutes=1)) == 0
    [began] = [s.text for s in fake_telegram.sent(900)][before:]
    assert "उस दिन के फीडबैक: पूरे 1," in began
    feedback(app, "telegram:2", FINE, station="BLB01", start=T0 - timedelta(hours=20))
    assert dispatch(at_nine + timedelta(minutes=10)) >= 1
    texts = [s.text for s in fake_telegram.sent(900)][before:]
    lines = "\n".join(texts).split("\n")
    assert texts[0] == began and "उस दिन के फीडबैक: पूरे 2," not in "\n".join(texts)
    assert len(lines) == len(set(lines))  # not a line twice
    week = [line for line in lines if line.startswith("पिछले 7 दिन:")]
    assert len(week) == 1 and "1 पूरे" in week[0]  # the week as the first attempt saw it
    with Db(app.engine) as db:  # kept for the retry only: it may quote citizens
        digest = db.execute(select(Outbox).where(Outbox.kind == "digest")).scalar_one()
    assert digest.status == "sent" and "text_parts" not in digest.payload


def test_a_retried_digest_sends_the_pieces_still_missing_by_name(  # type: ignore[no-untyped-def]
        app, officers_enrolled, fake_telegram) -> None:
    """Built again for the retry, a digest can lose a table the first attempt had sent:
    the table that failed still goes, and nothing delivered goes twice."""
    first = with_digests(app, listed_per_kind=4, min_responses_to_rank=1, listed_alerts=2)
    six_alike_stations(first)
    for n in (7, 8, 9):
        feedback(first, f"telegram:{n}", RUDE, start=T0 - timedelta(days=1, hours=n))
    at_nine = T0.replace(hour=3, minute=30)
    _dispatch(first, fake_telegram, at_nine)  # the feedback's alerts, out of the way
    queue.queue_daily_digests(first, at_nine)
    fake_telegram.fail_next("sendDocument", 502, after=1)  # the second table fails
    assert _dispatch(first, fake_telegram, at_nine + timedelta(minutes=1)) == 0
    # Meanwhile the office listed more stations: the digest no longer needs their table.
    later = with_digests(app, listed_alerts=2)
    assert _dispatch(later, fake_telegram, at_nine + timedelta(minutes=10)) == 1
    tables = [s.params["document:filename"] for s in fake_telegram.sent(900, "sendDocument")]
    assert tables == ["stations-BLB-2026-11-27.csv", "open-cases-BLB-2026-11-27.csv"]
    texts = [s.text for s in fake_telegram.sent(900) if s.text.startswith("📊")]
    assert len(texts) == 1 and len(fake_telegram.sent(900, "sendPhoto")) == 1


def test_yesterday_is_rolled_up_before_the_morning_digest(app) -> None:  # type: ignore[no-untyped-def]
    from storage.models import RolledUpDay, StationDay

    feedback(app, "telegram:1", RUDE, start=T0 - timedelta(days=1))  # the 27th, IST
    feedback(app, "telegram:2", FINE, start=T0)  # the 28th
    just_after_midnight = T0.replace(hour=18, minute=45)  # 00:15 IST on the 29th
    assert queue.roll_up(app, just_after_midnight) == 2  # the 28th and the 29th
    with Db(app.engine) as db:
        days = sorted(str(r.day) for r in db.execute(select(RolledUpDay)).scalars())
        rows = {(str(r.day), r.station_code): r for r in db.execute(select(StationDay)).scalars()}
    assert days == ["2026-11-28", "2026-11-29"]
    assert rows[("2026-11-28", "BLB05")].complete == 1  # the 27th is not its business
    assert queue.roll_up(app, just_after_midnight + timedelta(minutes=15)) == 0  # unchanged

    async def first_run() -> timedelta:
        scheduler = jobs.start(app, Dispatcher(app, {}))
        try:
            return scheduler.get_job("rollups").next_run_time - datetime.now(UTC)
        finally:
            jobs.stop(scheduler)

    # on start, not a quarter of an hour later: a restart at 08:55 is ready by 09:00
    assert asyncio.run(first_run()) < timedelta(minutes=1)


def test_a_state_sized_district_draws_its_chart_in_a_process_of_its_own(  # type: ignore[no-untyped-def]
        make_app, sqlite_url, tmp_path, fake_telegram) -> None:

    from scheduler.digests.chart_process import BIG_DISTRICT
    from scheduler.digests.digest import Digest
    from scheduler.officers.desk import OfficerDesk

    config = yaml.safe_load(SAMPLE_CONFIG.read_text(encoding="utf-8"))
    stations = config["districts"][0]["stations"]
    stations += [{"code": f"BLC{n:03d}", "kind": "chowki", "name_hi": f"चौकी {n}",
                  "name_en": f"Chowki {n}"} for n in range(BIG_DISTRICT - len(stations))]
    path = tmp_path / "state.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    big = make_app(sqlite_url, path)
    with Db(writer(big.engine)) as db, db.begin():
        token = officers.invite(db, "sp_office", "BLB", "SP office", T0, timedelta(days=1))
    OfficerDesk(big.engine, big.config).enrol("telegram:900", token, T0)
    feedback(big, "telegram:1", RUDE, start=T0 - timedelta(days=1))
    at_nine = T0.replace(hour=3, minute=30)
    queue.queue_daily_digests(big, at_nine)

    async def go() -> tuple[int | None, int]:
        runtime = telegram_sender(big, fake_telegram)
        await runtime.start(scheduler=True)  # the leader starts the chart process
        try:
            dispatcher = runtime.dispatcher
            child = dispatcher.charts.pid if dispatcher.charts else None
            return child, await dispatcher.run_once(at_nine + timedelta(minutes=5))
        finally:
            await runtime.stop()

    child, sent = asyncio.run(go())
    assert child is not None and sent >= 2  # the alerts, the digest
    [photo] = fake_telegram.sent(900, "sendPhoto")
    here = Digest(big.engine, big.config, big.catalogs).daily(
        big.config.districts[0], (at_nine - timedelta(days=1)).date(), "hi", at_nine)
    assert photo.params["photo"] == here.image  # the picture this process would draw
    with pytest.raises(ProcessLookupError):  # and the process ended with the service
        os.kill(child, 0)
