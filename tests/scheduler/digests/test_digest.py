"""The SP office's daily digest, checked number by number against a seeded database."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from conversations.effects import Start, Text
from scheduler.digests.digest import Digest
from tests.conftest import ROOT, T0


def give(app, urn: str, station: str, behaviour: int, satisfaction: int, start=T0,  # type: ignore[no-untyped-def]
         comment: str = "नहीं") -> None:
    now = start
    app.service.handle(urn, "telegram", Start(station), now)
    for answer in ["5", "1", str(behaviour), "हाँ", "नहीं", str(satisfaction), comment, "नहीं",
                   "नहीं"]:
        now += timedelta(seconds=10)
        app.service.handle(urn, "telegram", Text(answer), now)


def seed(app) -> None:  # type: ignore[no-untyped-def]
    give(app, "telegram:1", "BLB05", 5, 5, comment="मुंशी जी ने जल्दी सुना")
    give(app, "telegram:2", "BLB05", 2, 3, comment="दो घंटे बैठाया")  # negative, an alert
    give(app, "telegram:3", "BLB06", 4, 4)
    give(app, "telegram:4", "BLB06", 4, 4)
    give(app, "telegram:5", "BLB08", 3, 3, start=T0 - timedelta(days=3))
    app.service.handle("telegram:6", "telegram", Start("BLB07"), T0)
    app.service.handle("telegram:6", "telegram", Text("1"), T0)  # begun, never finished


def test_the_daily_digest_adds_up(app) -> None:  # type: ignore[no-untyped-def]
    seed(app)
    config = app.config.model_copy(update={"digests": app.config.digests.model_copy(
        update={"min_responses_to_rank": 2})})
    reply = Digest(app.engine, config, app.catalogs).daily(
        config.districts[0], date(2026, 11, 28), "hi", T0 + timedelta(hours=5))
    lines = app.catalogs.render(reply).splitlines()
    assert lines[0] == "📊 दैनिक रिपोर्ट: बलौदाबाजार-भाटापारा, 28 नवंबर 2026"
    # What needs action first: the case of the negative feedback, new, with its reason.
    assert lines[1:3] == ["पहले इन पर कार्रवाई करें: 1",
                          "🆕 FB-26-000002 · थाना सिमगा · खराब व्यवहार या अनुभव · नया · 4 घंटे"]
    assert lines[3] == "उस दिन के फीडबैक: पूरे 4, अधूरे 1, नकारात्मक 1।"
    assert lines[4] == ("पिछले 7 दिन: 5 पूरे (शुरू किए गए में से 83%); स्टाफ का व्यवहार 3.6, "
                        "कुल अनुभव 3.8 (5 में से); नकारात्मक 20%।")
    assert lines[5] == "पिछले 7 दिनों में केस: 1 खुले, कोई बंद नहीं, 0 की समय सीमा निकल चुकी है।"
    assert lines[6] == "थाने, सबसे अच्छे पहले (7 दिन में कम से कम 2 फीडबैक):"
    assert lines[7] == "1. थाना सुहेला: 2 फीडबैक, व्यवहार 4.0, अनुभव 4.0, नकारात्मक 0%"
    assert lines[8] == "2. थाना सिमगा: 2 फीडबैक, व्यवहार 3.5, अनुभव 4.0, नकारात्मक 50%"
    # Palari had only an attempt left incomplete: it is listed too.
    assert lines[9] == "रैंक के लिए फीडबैक कम: थाना पलारी, थाना कसडोल"
    assert lines[10].startswith("7 दिन से कोई फीडबैक नहीं (क्या पोस्टर लगा है?): "
                                "पुलिस अधीक्षक कार्यालय बलौदाबाजार, थाना सिटी कोतवाली")
    assert "थाना सिमगा" not in lines[10] and "थाना पलारी" not in lines[10]
    assert len(lines) == 11


def test_a_case_opened_within_the_hour_is_not_zero_hours_old(app) -> None:  # type: ignore[no-untyped-def]
    seed(app)
    reply = Digest(app.engine, app.config, app.catalogs).daily(
        app.config.districts[0], date(2026, 11, 28), "hi", T0 + timedelta(minutes=50))
    lines = app.catalogs.render(reply).splitlines()
    assert lines[2] == "🆕 FB-26-000002 · थाना सिमगा · खराब व्यवहार या अनुभव · नया · एक घंटे से कम"


def test_the_digest_in_english(app) -> None:  # type: ignore[no-untyped-def]
    seed(app)
    reply = Digest(app.engine, app.config, app.catalogs).daily(
        app.config.districts[0], date(2026, 11, 28), "en", T0 + timedelta(hours=5))
    text = app.catalogs.render(reply)
    assert text.startswith("📊 Daily report: Balodabazar-Bhatapara, 28 November 2026")
    assert "Too few feedback to rank: Simga, Suhela, Palari, Kasdol" in text  # minimum: 5


def test_prayas_digest_print(tmp_path: Path) -> None:
    prayas = str(Path(sys.executable).parent / "prayas")
    result = subprocess.run([prayas, "digest", "--print", "--date", "2026-11-27"],
                            capture_output=True, text=True, cwd=ROOT, env=dict(os.environ),
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("📊 दैनिक रिपोर्ट: बलौदाबाजार-भाटापारा, 27 नवंबर 2026")
    assert "उस दिन के फीडबैक: पूरे 0, अधूरे 0, नकारात्मक 0।" in result.stdout


def test_the_in_charges_weekly_digest(app) -> None:  # type: ignore[no-untyped-def]
    seed(app)
    config = app.config.model_copy(update={"digests": app.config.digests.model_copy(
        update={"min_responses_to_rank": 2})})
    reply = Digest(app.engine, config, app.catalogs).weekly(
        "BLB05", date(2026, 11, 28), "hi", T0 + timedelta(hours=5))
    lines = app.catalogs.render(reply).splitlines()
    assert lines[0] == "📊 साप्ताहिक रिपोर्ट: थाना सिमगा, 22 नव॰ से 28 नव॰ 2026"
    assert lines[1] == "आपका थाना: 2 फीडबैक, व्यवहार 3.5, अनुभव 4.0, नकारात्मक 50%"
    assert lines[2] == "पूरा जिला: व्यवहार 3.6, अनुभव 3.8, नकारात्मक 20%"
    assert lines[3] == "आपकी रैंक: 2 में से 2"
    assert lines[4:6] == ["खुले अलर्ट: 1",
                          "⚠️ FB-26-000002 · थाना सिमगा · खराब व्यवहार या अनुभव · 4 घंटे पुराना"]
    # the negative feedback's words first; never who wrote them
    assert lines[6:] == ["नागरिकों ने लिखा:", "“दो घंटे बैठाया”", "“मुंशी जी ने जल्दी सुना”"]


def test_unusual_patterns_are_flagged_not_dropped(app) -> None:  # type: ignore[no-untyped-def]
    for n in range(6):  # six identical perfect scores within four minutes
        give(app, f"telegram:{500 + n}", "BLB09", 5, 5, start=T0 + timedelta(seconds=40 * n))
    for n, station in enumerate(["BLB10", "BLB11", "BLB12"]):  # one sender, three stations
        give(app, "telegram:99", station, 4, 4, start=T0 + timedelta(hours=n + 1))
    # Another reaches a third station that day, after two earlier in the week...
    for n, station in enumerate(["BLB13", "BLB14", "BLB15"]):
        give(app, "telegram:98", station, 4, 4, start=T0 - timedelta(days=2 - n))
    # ...and one roamed days before, not that day: flagged the day it happened, not again.
    for n, station in enumerate(["BLB16", "BLB17", "BLB18"]):
        give(app, "telegram:97", station, 4, 4, start=T0 - timedelta(days=3, hours=n))
    reply = Digest(app.engine, app.config, app.catalogs).daily(
        app.config.districts[0], date(2026, 11, 28), "en", T0 + timedelta(hours=5))
    text = app.catalogs.render(reply)
    assert "⚠️ Unusual: Giraudpuri got 6 feedback within 10 minutes." in text
    assert "⚠️ Unusual: Giraudpuri got 6 identical top-score feedback in a row." in text
    assert "⚠️ Unusual: 2 sender(s) gave feedback at 3 or more stations." in text
    assert "That day: 10 feedback completed" in text  # flagged, still counted


def test_prayas_digest_send(make_app, sqlite_url, fake_telegram) -> None:  # type: ignore[no-untyped-def]
    from sqlmodel import Session as Db

    from scheduler.officers.desk import OfficerDesk
    from storage import officers
    from storage.db import writer

    app = make_app(sqlite_url)
    seed(app)
    with Db(writer(app.engine)) as db, db.begin():
        token = officers.invite(db, "sp_office", "BLB", "SP office", T0, timedelta(days=1))
    OfficerDesk(app.engine, app.config).enrol("telegram:900", token, T0)
    prayas = str(Path(sys.executable).parent / "prayas")
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": fake_telegram.token,
           "TELEGRAM_BASE_URL": fake_telegram.url}
    result = subprocess.run([prayas, "digest", "--send", "--date", "2026-11-28"],
                            capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "sent to 1 officer(s)" in result.stderr
    digests = [s.text for s in fake_telegram.sent(900) if s.text.startswith("📊")]
    assert digests and digests[0].startswith("📊 दैनिक रिपोर्ट: बलौदाबाजार-भाटापारा, 28 नवंबर")
