"""Citizens' turns run together on the database thread: each is kept, in order, alone
in its failure."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import select
from sqlmodel import Session as Db

from bot.database_threads import DatabaseThreads
from bot.service import Turn, TurnRequest
from conversations.effects import Start, Text
from storage.models import Answer, Conversation, Feedback
from tests.conftest import T0


def test_turns_arriving_together_are_all_kept_in_order(app) -> None:  # type: ignore[no-untyped-def]
    database = DatabaseThreads(app.service, app.engine.dialect.name)

    async def citizens() -> list[Turn]:
        starts = [database.turn(TurnRequest(f"telegram:{n}", "telegram", Start("BLB05"), T0))
                  for n in range(20)]
        await asyncio.gather(*starts)
        # One citizen's two answers queued back to back: the second sees the first.
        later = T0 + timedelta(seconds=5)
        return list(await asyncio.gather(
            *(database.turn(TurnRequest(f"telegram:{n}", "telegram", Text("2"), later))
              for n in range(20)),
            database.turn(TurnRequest("telegram:0", "telegram", Text("1"), later))))

    try:
        turns = asyncio.run(citizens())
    finally:
        database.close()
    assert all("(2/11)" in app.catalogs.render(t.replies[0]) for t in turns[:20])
    assert "(3/11)" in app.catalogs.render(turns[20].replies[0])
    with Db(app.engine) as db:
        assert len(db.execute(select(Feedback)).all()) == 20
        assert len(db.execute(select(Answer)).all()) == 21


def test_one_failing_turn_does_not_undo_the_others(app) -> None:  # type: ignore[no-untyped-def]
    requests = [TurnRequest("telegram:1", "telegram", Start("BLB05"), T0, "u1"),
                # A turn that fails in the database (an id no driver can store).
                TurnRequest("telegram:2", "telegram", Text("x"), T0, {"u": 2}),  # type: ignore[arg-type]
                TurnRequest("telegram:3", "telegram", Start("BLB05"), T0, "u3")]
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
