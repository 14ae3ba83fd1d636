"""config.yaml: the sample loads; every mistake names the file, the key and the fix."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest
import yaml

from scheduler.config import ConfigError, load_config
from tests.conftest import SAMPLE_CONFIG


def test_the_sample_district_loads() -> None:
    config = load_config(SAMPLE_CONFIG)
    district = config.districts[0]
    assert district.name_en == "Balodabazar-Bhatapara"
    kinds = {s.kind for s in district.stations}
    assert {"thana", "chowki", "office"} <= kinds
    assert len(district.stations) >= 15
    assert config.digests.sp_office_daily_at == time(9, 0)
    assert config.timezone == "Asia/Kolkata"
    assert config.station("blb05") is not None and config.station("BLB05").name_en == "Simga"


def _broken(tmp_path: Path, change) -> Path:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(SAMPLE_CONFIG.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _dup(data: dict) -> None:
    data["districts"][0]["stations"][1]["code"] = "BLB05"


CASES = [
    (lambda d: d.update(campain={"title_hi": "x"}), r"campain: unknown key"),
    (_dup, r"stations\[5\]\.code: station code 'BLB05' is already used at "
     r"districts\[0\]\.stations\[1\]\.code; every station needs its own code"),
    (lambda d: d["digests"].update(sp_office_daily_at="25:00"),
     r"digests\.sp_office_daily_at: '25:00' is not a time of day; write it as HH:MM"),
    (lambda d: d.update(timezone="India/Raipur"), r"timezone: unknown time zone"),
    (lambda d: d["districts"][0]["stations"][0].update(code="BLB 00"),
     r"stations\[0\]\.code: use 1-64 characters"),
    (lambda d: d["districts"][0]["stations"][0].update(kind="thanaa"),
     r"stations\[0\]\.kind: Input should be 'thana', 'chowki' or 'office'"),
    (lambda d: d.pop("campaign"), r"campaign: required key is missing"),
    (lambda d: d["alerts"]["rules"][0]["any"][0].update(at_most=2),
     r"give exactly one of `in: \[option ids\]` or `at_most: N`"),
    (lambda d: d["follow_ups"].update(after_days=1) or d["sessions"].update(
        update_window_hours=48),
     r"follow_ups\.after_days \(1\) must come after sessions\.update_window_hours \(48 h\)"),
    (lambda d: d["districts"][0]["stations"][2].update(cod=d["districts"][0]["stations"][2]
                                                       .pop("code")),
     r"stations\[2\]\.cod: unknown key; check its spelling"),
    (lambda d: d["sessions"].update(idle_timeout_minutes="half an hour"),
     r"sessions\.idle_timeout_minutes: 'half an hour' is not a whole number"),
    (lambda d: d["follow_ups"].update(send_from="9.30"),
     r"follow_ups\.send_from: '9\.30' is not a time of day; write it as HH:MM"),
    (lambda d: d.setdefault("whatsapp", {}).update(status_path="/whatsapp/webhook"),
     r"whatsapp\.status_path: '/whatsapp/webhook' is already whatsapp\.webhook_path's path; "
     r"give each its own"),
    (lambda d: d.setdefault("telegram", {}).update(webhook_path="/healthz"),
     r"telegram\.webhook_path: '/healthz' is already the health check's path"),
]


@pytest.mark.parametrize(("change", "message"), CASES)
def test_a_broken_config_says_where_and_how_to_fix(tmp_path: Path, change, message: str) -> None:  # type: ignore[no-untyped-def]
    path = _broken(tmp_path, change)
    with pytest.raises(ConfigError, match=message) as caught:
        load_config(path)
    assert str(caught.value).startswith(str(path))
    assert "\n" not in str(caught.value)


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found; pass --config FILE"):
        load_config(tmp_path / "nope.yaml")


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("campaign:\n  title_hi: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"line \d+ is not valid YAML"):
        load_config(path)


def test_an_unquoted_time_is_understood(tmp_path: Path) -> None:
    text = SAMPLE_CONFIG.read_text(encoding="utf-8").replace('"09:00"', "07:30")
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_config(path).digests.sp_office_daily_at == time(7, 30)


def test_every_time_of_day_is_read_alike(tmp_path: Path) -> None:
    """Unquoted (YAML 1.1 would read 9:30 as the number 570), quoted, short: the
    follow-ups' hours too; a bare number is not a time."""
    text = SAMPLE_CONFIG.read_text(encoding="utf-8")
    text = text.replace('send_from: "09:00"', "send_from: 9:30").replace(
        'send_until: "20:00"', 'send_until: "8:05 "')
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    config = load_config(path)
    assert (config.follow_ups.send_from, config.follow_ups.send_until) == (time(9, 30),
                                                                            time(8, 5))
    assert config.follow_ups.send_from.tzinfo is None
    path.write_text(text.replace("send_from: 9:30", "send_from: 900"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"follow_ups\.send_from: 900 is not a time of day"):
        load_config(path)
    weekly = _broken(tmp_path, lambda d: d["digests"]["in_charge_weekly"].update(
        weekday="Monday", at="20:00"))
    assert load_config(weekly).digests.in_charge_weekly.weekday == "monday"
