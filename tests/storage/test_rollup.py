"""The digests' daily rollups: always the numbers the feedback gives, on every backend."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session as Db

from conversations.effects import Start, Text
from storage import rollup
from storage.digest import station_numbers
from tests.conftest import T0

DAY = date(2026, 11, 28)  # T0 is 10:30 in Kolkata that day
ZONE = ZoneInfo("Asia/Kolkata")
# purpose, heard, behaviour, told, demand, satisfaction, comment, contact, follow-up
ANSWERS = ["5", "1", "{b}", "हाँ", "नहीं", "{s}", "नहीं", "नहीं", "नहीं"]


def answer(app, urn: str, answers: list[str], start=T0, station: str = "BLB05"):  # type: ignore[no-untyped-def]
    now = start
    app.service.handle(urn, "telegram", Start(station), now)
    for text in answers:
        now += timedelta(seconds=10)
        app.service.handle(urn, "telegram", Text(text), now)
    return now


def full(behaviour: int, satisfaction: int) -> list[str]:
    return [a.format(b=behaviour, s=satisfaction) for a in ANSWERS]


def numbers(app):  # type: ignore[no-untyped-def]
    return rollup.station_numbers(app.engine, DAY, DAY, ZONE, "BLB")


def direct(app):  # type: ignore[no-untyped-def]
    start = T0.astimezone(ZONE).replace(hour=0, minute=0)
    with Db(app.engine) as db:
        return station_numbers(db, start, start + timedelta(days=1))


def test_the_rollup_follows_every_change_to_its_day(app) -> None:  # type: ignore[no-untyped-def]
    answer(app, "telegram:1", full(5, 5))
    answer(app, "telegram:2", full(2, 1))  # negative
    late = answer(app, "telegram:3", full(4, 4)[:4])  # left halfway, for now
    first = numbers(app)["BLB05"]
    assert (first.complete, first.incomplete, first.negative) == (2, 1, 1)
    assert first.behaviour == 3.5 and first.satisfaction == 3.0
    assert rollup.refresh(app.engine, DAY, DAY, ZONE) == 0  # nothing changed: not redone

    # the third citizen finishes later; the fourth gives feedback at another station
    for text in full(4, 4)[4:]:
        late += timedelta(minutes=20)  # hours later in all
        app.service.handle("telegram:3", "telegram", Text(text), late)
    answer(app, "telegram:4", full(3, 3), start=T0 + timedelta(hours=2), station="BLB06")
    # the first citizen comes back the same day: their feedback is updated, not doubled
    answer(app, "telegram:1", full(1, 1), start=T0 + timedelta(hours=3))
    now = numbers(app)
    assert (now["BLB05"].complete, now["BLB05"].incomplete, now["BLB05"].negative) == (3, 0, 2)
    assert now["BLB05"].satisfaction == 2.0  # (1 + 1 + 4) / 3
    assert now["BLB06"].complete == 1
    assert now == direct(app)


def test_days_are_cut_in_the_districts_time_zone(app) -> None:  # type: ignore[no-untyped-def]
    # 23:50 in Kolkata on the 28th is still the 28th there, though 18:20 UTC
    answer(app, "telegram:1", full(5, 5), start=T0.replace(hour=18, minute=20))
    answer(app, "telegram:2", full(5, 5), start=T0.replace(hour=18, minute=40))  # the 29th
    assert numbers(app)["BLB05"].complete == 1
    nextday = rollup.station_numbers(app.engine, DAY + timedelta(days=1),
                                     DAY + timedelta(days=1), ZONE, "BLB")
    assert nextday["BLB05"].complete == 1
    utc = rollup.station_numbers(app.engine, DAY, DAY, ZoneInfo("UTC"), "BLB")
    assert utc["BLB05"].complete == 2  # another zone: the day rolled up again


def test_bursts_and_streaks_are_kept_with_the_day(app) -> None:  # type: ignore[no-untyped-def]
    answer(app, "telegram:1", full(5, 5))
    answer(app, "telegram:2", full(5, 5), start=T0 + timedelta(minutes=3))
    numbers(app)  # rolled up with two identical top feedback, three minutes apart
    assert rollup.day_flags(app.engine, DAY, "BLB", 3, 3) == ({}, {})
    # a third one, four minutes later: the day changed, so it is rolled up again
    answer(app, "telegram:3", full(5, 5), start=T0 + timedelta(minutes=7))
    numbers(app)
    assert rollup.day_flags(app.engine, DAY, "BLB", 3, 3) == ({"BLB05": 3}, {"BLB05": 3})
    # counted in a five-minute window instead: the day is rolled up again
    assert rollup.refresh(app.engine, DAY, DAY, ZONE, burst_minutes=5) == 1
    assert rollup.day_flags(app.engine, DAY, "BLB", 3, 3) == ({}, {"BLB05": 3})
    assert rollup.day_flags(app.engine, DAY, "BLB", 2, 4) == ({"BLB05": 2}, {})
    assert rollup.day_flags(app.engine, DAY, "OTHER", 1, 1) == ({}, {})  # not its district


def test_sqlite_keeps_the_statistics_its_planner_needs(sqlite_url: str, make_app) -> None:  # type: ignore[no-untyped-def]
    """Without statistics SQLite plans a district's reads from the station table, and a
    state's digest took minutes; every start and the retention job refresh them."""
    from sqlalchemy import text

    from scheduler.retention import forget

    app = make_app(sqlite_url)
    answer(app, "telegram:1", full(4, 5))

    def counted() -> int | None:
        with app.engine.connect() as connection:
            row = connection.execute(text("SELECT stat FROM sqlite_stat1 WHERE "
                                          "idx = 'ix_feedback_day'")).first()
        return int(row[0].split()[0]) if row else None

    assert counted() is None  # the app started on an empty database
    forget(app, T0 + timedelta(days=1))
    assert counted() == 1  # the one feedback, counted by the retention job


def test_a_demand_is_negative_whatever_the_scores_and_breaks_a_streak(app) -> None:  # type: ignore[no-untyped-def]
    demanded = full(5, 5)
    demanded[4:5] = ["हाँ", "2"]  # money or a favour was asked for, and that is right
    answer(app, "telegram:1", full(5, 5))
    answer(app, "telegram:2", demanded, start=T0 + timedelta(minutes=3))
    answer(app, "telegram:3", full(5, 5), start=T0 + timedelta(minutes=6))
    answer(app, "telegram:4", full(5, 5), start=T0 + timedelta(minutes=9))
    day = numbers(app)["BLB05"]
    assert (day.complete, day.negative, day.satisfaction) == (4, 1, 5.0)
    assert numbers(app) == direct(app)
    # top scores all four, but the second's answers differ: the longest run is two
    assert rollup.day_flags(app.engine, DAY, "BLB", 99, 2) == ({}, {"BLB05": 2})
    assert rollup.day_flags(app.engine, DAY, "BLB", 99, 3) == ({}, {})
