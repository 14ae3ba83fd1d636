"""An officer's welcome, as read on the phone: natural without a name, and the
in-charge of a chowki called a chowki in-charge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session as Db

from scheduler.officers.desk import OfficerDesk
from storage import officers as store


def _welcome(app: Any, role: str, scope: str, name: str) -> str:
    now = datetime.now(UTC)
    with Db(app.engine) as db, db.begin():
        token = store.invite(db, role, scope, name, now, timedelta(hours=1))
    replies = OfficerDesk(app.engine, app.config).enrol("telegram:777", token, now)
    return app.catalogs.render(replies[0])


@pytest.mark.parametrize(("role", "scope", "name", "expected"), [
    ("in_charge", "BLB05", "", "स्वागत है। आप थाना सिमगा के लिए थाना प्रभारी के रूप में"),
    ("in_charge", "BLB16", "", "स्वागत है। आप चौकी गिधपुरी के लिए चौकी प्रभारी के रूप में"),
    ("in_charge", "BLB16", "प्रधान आरक्षक साहू",
     "स्वागत है, प्रधान आरक्षक साहू। आप चौकी गिधपुरी के लिए चौकी प्रभारी के रूप में"),
    ("sp_office", "BLB", "  ", "स्वागत है। आप "),
])
def test_the_welcome_reads_naturally(app: Any, role: str, scope: str, name: str,
                                     expected: str) -> None:
    text = _welcome(app, role, scope, name)
    assert text.startswith(expected), text
    assert "है, ।" not in text and "  " not in text
