"""The newest migration goes down and up again on every backend, with feedback stored."""

from __future__ import annotations

from sqlalchemy import inspect

from storage.db import MIGRATIONS, _alembic, head_revision, upgrade
from tests.storage.test_rollup import answer, full


def indexes(engine) -> set[str]:  # type: ignore[no-untyped-def]
    return {i["name"] for i in inspect(engine).get_indexes("feedback")}


def test_the_day_index_comes_and_goes_with_its_migration(app) -> None:  # type: ignore[no-untyped-def]
    from alembic import command

    answer(app, "telegram:1", full(4, 5))
    assert "ix_feedback_day" in indexes(app.engine)
    command.downgrade(_alembic(app.engine), "0010")
    assert "ix_feedback_day" not in indexes(app.engine)
    assert "ix_feedback_started_updated" in indexes(app.engine)
    before, after = upgrade(app.engine)  # as a start would: on PostgreSQL, concurrently
    assert (before, after) == ("0010", head_revision())
    assert "ix_feedback_day" in indexes(app.engine)
    assert "ix_feedback_started_updated" not in indexes(app.engine)
    answer(app, "telegram:2", full(5, 5))  # the app still writes


def test_the_newest_revision_is_the_newest_migration_file(app) -> None:  # type: ignore[no-untyped-def]
    """Read from storage/migrations, so a new migration needs no second edit; a start
    on an up-to-date database changes nothing."""
    newest = max(path.name.split("_")[0] for path in MIGRATIONS.glob("versions/0*.py"))
    assert head_revision() == newest
    assert upgrade(app.engine) == (newest, newest)
    assert upgrade(app.engine) == (newest, newest)


def test_the_feedback_indexes_of_0007_and_0009_are_built_while_feedback_is_kept(app) -> None:  # type: ignore[no-untyped-def]
    """From 0006 up again: on PostgreSQL concurrently, and past an index an interrupted
    build left behind (an invalid one, there; here one on the wrong columns)."""
    from alembic import command
    from sqlalchemy import text

    answer(app, "telegram:1", full(4, 5))
    command.downgrade(_alembic(app.engine), "0006")
    assert not {"ix_feedback_completed_at", "ix_feedback_sender_station_started"} & indexes(
        app.engine)
    if app.engine.dialect.name == "postgresql":
        with app.engine.begin() as connection:
            connection.execute(text("CREATE INDEX ix_feedback_completed_at ON feedback (id)"))
    assert upgrade(app.engine)[0] == "0006"
    assert {"ix_feedback_completed_at", "ix_feedback_sender_station_started",
            "ix_feedback_day"} <= indexes(app.engine)
    completed = [i for i in inspect(app.engine).get_indexes("feedback")
                 if i["name"] == "ix_feedback_completed_at"]
    assert completed[0]["column_names"] == ["completed_at"]
    answer(app, "telegram:2", full(5, 5))  # the app still writes, the first is kept
    with app.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM feedback")).scalar_one() == 2
