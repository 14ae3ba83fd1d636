"""Officers enrolled the way they would be: by redeeming an invitation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session as Db

from scheduler.officers.desk import OfficerDesk
from storage import officers
from storage.db import writer
from tests.conftest import T0


@pytest.fixture
def officers_enrolled(app):  # type: ignore[no-untyped-def]
    """The in-charge of BLB05 (chat 801), of BLB06 (802), and the SP office (900)."""
    desk = OfficerDesk(app.engine, app.config)
    for chat, role, scope in [(801, "in_charge", "BLB05"), (802, "in_charge", "BLB06"),
                              (900, "sp_office", "BLB")]:
        with Db(writer(app.engine)) as db, db.begin():
            token = officers.invite(db, role, scope, f"officer {chat}", T0, timedelta(days=1))
        desk.enrol(f"telegram:{chat}", token, T0)
    return desk
