"""A district that puts an SDOP between its in-charges and the SP office: a case the
station owes a report on goes to the SDOP past its deadline, then to the SP office; a
station outside any subdivision goes straight to the SP office. The SDOP sees, and
does not act."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import Session as Db

from scheduler.cases.escalation import escalate_cases
from scheduler.config import load_config
from scheduler.errors import ConfigError
from scheduler.officers.desk import OfficerDesk
from storage import officers
from storage.cases import case_file
from storage.db import writer
from tests.conftest import SAMPLE_CONFIG, T0, dispatched, telegram_sender
from tests.scheduler.alerts.test_alerts import RUDE, feedback

SDOP, SP = "telegram:850", "telegram:900"


def _config(tmp_path: Path, **change: Any) -> Path:
    config = yaml.safe_load(SAMPLE_CONFIG.read_text(encoding="utf-8"))
    district = config["districts"][0]
    district["subdivisions"] = [{"code": "SIMGA", "name_hi": "अनुविभाग सिमगा",
                                 "name_en": "Simga subdivision"}]
    for station in district["stations"]:
        if station["code"] == "BLB05":
            station["subdivision"] = change.pop("subdivision", "SIMGA")
    config["cases"] = {"escalate_to": ["sdop", "sp_office"]}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def with_sdop(make_app, database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    app = make_app(database_url, _config(tmp_path))
    desk = OfficerDesk(app.engine, app.config)
    for urn, role, scope in [("telegram:801", "in_charge", "BLB05"),
                             ("telegram:802", "in_charge", "BLB06"), (SDOP, "sdop", "SIMGA"),
                             (SP, "sp_office", "BLB")]:
        with Db(writer(app.engine)) as db, db.begin():
            token = officers.invite(db, role, scope, "", T0, timedelta(days=1))
        desk.enrol(urn, token, T0)
    yield app, desk
    app.engine.dispose()


def _instructed(app, desk, urn: str, station: str) -> tuple[str, int]:  # type: ignore[no-untyped-def]
    reference = feedback(app, urn, RUDE, station=station)
    with Db(app.engine) as db:
        found = case_file(db, reference)
    assert found is not None and found.case.id is not None
    for option in (f"instruct-{found.case.id}", f"preset-{found.case.id}-inquire",
                   f"send-{found.case.id}-inquire"):
        desk.case_tap(SP, option, T0 + timedelta(minutes=5))
    return reference, found.case.id


def test_an_overdue_case_goes_to_the_sdop_then_the_sp_office(with_sdop, fake_telegram) -> None:  # type: ignore[no-untyped-def]
    app, desk = with_sdop
    reference, case = _instructed(app, desk, "telegram:5", "BLB05")
    hours = app.config.cases.due_hours.instructed
    late = T0 + timedelta(minutes=5, hours=hours, seconds=1)
    assert escalate_cases(app.engine, app.config, late) == 1
    asyncio.run(dispatched(telegram_sender(app, fake_telegram), late))
    [overdue] = fake_telegram.sent(850)
    assert overdue.text.startswith("⏰ समय सीमा (") and reference in overdue.text
    assert overdue.buttons == []  # he sees; the station and the SP office act
    assert escalate_cases(app.engine, app.config, late + timedelta(hours=hours - 1)) == 0
    assert escalate_cases(app.engine, app.config, late + timedelta(hours=hours)) == 1
    asyncio.run(dispatched(telegram_sender(app, fake_telegram), late + timedelta(hours=hours)))
    assert fake_telegram.sent(900)[-1].text.startswith("⏰ समय सीमा (")
    assert escalate_cases(app.engine, app.config, late + timedelta(hours=5 * hours)) == 0
    # The SDOP's list: his subdivision's case, to read; a step of his is refused.
    [listed] = desk.command(SDOP, "cases", late)
    assert listed.choices == () and reference in app.catalogs.render(listed)
    [refused] = desk.case_tap(SDOP, f"instruct-{case}", late)
    assert app.catalogs.render(refused) == "इस केस पर कार्रवाई आपके ज़िम्मे नहीं है।"


def test_a_station_outside_any_subdivision_goes_straight_to_the_sp_office(  # type: ignore[no-untyped-def]
        with_sdop, fake_telegram) -> None:
    app, desk = with_sdop
    reference, _ = _instructed(app, desk, "telegram:6", "BLB06")
    late = T0 + timedelta(minutes=5, hours=app.config.cases.due_hours.instructed, seconds=1)
    assert escalate_cases(app.engine, app.config, late) == 1
    asyncio.run(dispatched(telegram_sender(app, fake_telegram), late))
    assert fake_telegram.sent(900)[-1].text.startswith("⏰ समय सीमा (")
    assert fake_telegram.sent(850) == []  # BLB06 is not his
    with Db(app.engine) as db:
        found = case_file(db, reference)
    assert found is not None and found.case.level == 2


def test_the_sdops_welcome_names_his_subdivision(with_sdop) -> None:  # type: ignore[no-untyped-def]
    app, _ = with_sdop
    desk = OfficerDesk(app.engine, app.config)
    with Db(writer(app.engine)) as db, db.begin():
        token = officers.invite(db, "sdop", "SIMGA", "श्री साहू", T0, timedelta(days=1))
    welcome, _menu = desk.enrol("telegram:851", token, T0)
    assert app.catalogs.render(welcome) == (
        "स्वागत है, श्री साहू। आप अनुविभाग सिमगा के लिए एसडीओपी के रूप में जुड़ गए हैं।")


def test_a_station_in_an_unknown_subdivision_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"stations\[\d+\]\.subdivision: 'NOWHERE' is not "
                                          r"a subdivision of this district \(SIMGA\)"):
        load_config(_config(tmp_path, subdivision="NOWHERE"))
