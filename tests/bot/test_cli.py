"""The `prayas` command as an operator runs it: real subprocesses, real files."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from scheduler.identity import Identity
from tests.conftest import ROOT, SAMPLE_CONFIG

PRAYAS = shutil.which("prayas", path=str(Path(sys.executable).parent)) or "prayas"
HINDI_FEEDBACK = "\n".join(
    ["शिकायत", "तुरंत", "४", "हाँ", "चल रही है", "हाँ", "नहीं", "😊",
     "मुंशी जी ने अच्छे से बात की", "हाँ", "नहीं"]) + "\n"
SUBCOMMANDS = [[], ["chat"], ["export"], ["stations"], ["check"], ["contact"], ["db"],
               ["db", "upgrade"],
               ["db", "current"], ["serve"], ["poll"], ["officer", "invite"], ["digest"],
               ["case"], ["case", "list"], ["case", "show"], ["case", "instruct"],
               ["case", "close"], ["case", "return"], ["report"], ["console", "user", "add"]]


def run(*args: str, stdin: str = "", env: dict[str, str] | None = None,
        cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([PRAYAS, *args], input=stdin, capture_output=True, text=True,
                          env=full_env, cwd=cwd, timeout=120)


def _operator_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0]


@pytest.mark.parametrize("args", SUBCOMMANDS, ids=lambda a: " ".join(a) or "prayas")
def test_every_command_has_help(args: list[str]) -> None:
    result = run(*args, "--help")
    assert result.returncode == 0 and "Usage:" in result.stdout


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_piped_hindi_feedback_lands_and_is_exported(backend: str, tmp_path: Path,
                                                      request: pytest.FixtureRequest) -> None:
    env = {}
    if backend == "postgres":
        env["DATABASE_URL"] = request.getfixturevalue("postgres_url")
    chat = run("chat", "--station", "BLB05", "--sender", "citizen42", stdin=HINDI_FEEDBACK,
               env=env)
    assert chat.returncode == 0, chat.stderr
    assert "नमस्ते! यह फीडबैक थाना सिमगा के बारे में है।" in chat.stdout
    assert "फीडबैक नंबर: FB-26-" in chat.stdout
    reference = chat.stdout.split("फीडबैक नंबर: ")[1].split()[0]

    out = tmp_path / "feedback.csv"
    export = run("export", "--format", "csv", "--out", str(out), env=env)
    assert export.returncode == 0, export.stderr
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1
    row = rows[0]
    assert row["reference"] == reference and row["status"] == "complete"
    assert row["station_code"] == "BLB05" and row["station_hi"] == "थाना सिमगा"
    assert (row["behaviour"], row["behaviour_hi"], row["behaviour_en"]) == ("4", "अच्छा", "Good")
    assert (row["satisfaction"], row["satisfaction_en"]) == ("5", "Very good")
    assert row["comment"] == "मुंशी जी ने अच्छे से बात की"
    assert row["channel"] == "console"
    sender_hash = Identity(os.environ["PRAYAS_HMAC_KEY"].encode()).sender("console:citizen42")
    for secret in ("citizen42", sender_hash):
        assert secret not in out.read_text(encoding="utf-8-sig")

    xlsx = tmp_path / "feedback.xlsx"
    assert run("export", "--out", str(xlsx), env=env).returncode == 0
    sheet = load_workbook(xlsx).active
    values = [[c.value for c in r] for r in sheet.iter_rows()]
    assert values[0][:2] == ["reference", "station_code"] and values[1][0] == reference
    scores = {column: value for column, value in zip(values[0], values[1], strict=True)
              if column in ("behaviour", "satisfaction", "behaviour_hi")}
    assert scores == {"behaviour": 4, "satisfaction": 5, "behaviour_hi": "अच्छा"}  # numbers
    assert not any(sender_hash in str(v) or "citizen42" in str(v) for r in values for v in r)


def test_the_sp_office_lists_and_reads_cases_on_its_computer() -> None:
    rude = ["शिकायत", "तुरंत", "1", "नहीं", "चल रही है", "हाँ", "नहीं", "1", "कुछ नहीं",
            "नहीं", "नहीं"]
    chat = run("chat", "--station", "BLB05", stdin="\n".join(rude) + "\n")
    assert chat.returncode == 0, chat.stderr
    reference = chat.stdout.split("फीडबैक नंबर: ")[1].split()[0]
    listed = run("case", "list", "--station", "blb05")
    assert listed.returncode == 0, listed.stderr
    [line] = listed.stdout.splitlines()
    cells = line.split("\t")
    assert cells[:3] == [reference, "BLB05", "new"]
    assert cells[5] == "Poor treatment or experience, Not heard / no receipt / no action"
    assert run("case", "list", "--state", "closed").stdout == ""
    shown = run("case", "show", reference)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"case of {reference} · BLB05 · new\n")
    assert "reasons: Poor treatment or experience (open), Not heard" in shown.stdout
    assert "  opened  system" in shown.stdout
    _operator_error(run("case", "show", "FB-26-999999"), "no case for feedback FB-26-999999")
    _operator_error(run("case", "list", "--station", "XX99"), "--station XX99")


def test_the_sp_office_instructs_and_closes_from_its_computer(app) -> None:  # type: ignore[no-untyped-def]
    """The same steps as the chat's, by a named SP-office officer; the in-charge hears of
    them in the outbox; every refusal is one line and exit code 2, nothing changed."""
    from datetime import timedelta

    from sqlmodel import Session as Db

    from scheduler.officers.desk import OfficerDesk
    from storage import officers
    from storage.cases import case_file
    from storage.db import writer
    from tests.conftest import T0
    from tests.scheduler.alerts.test_alerts import BRIBE, FINE, RUDE, feedback

    desk = OfficerDesk(app.engine, app.config)
    for chat, role, scope, name in [(801, "in_charge", "BLB05", "SI Verma"),
                                    (900, "sp_office", "BLB", "Reader Sahu")]:
        with Db(writer(app.engine)) as db, db.begin():
            token = officers.invite(db, role, scope, name, T0, timedelta(days=1))
        desk.enrol(f"telegram:{chat}", token, T0)
    rude = feedback(app, "telegram:5", RUDE)
    red = feedback(app, "telegram:6", BRIBE, start=T0 + timedelta(minutes=2))

    def events(reference: str) -> list[str]:
        with Db(app.engine) as db:
            found = case_file(db, reference)
        assert found is not None
        return [e.event for e in found.events]

    _operator_error(run("case", "instruct", rude, "--preset", "pray", "--as", "Reader Sahu"),
                    "--preset pray", "register_fir")
    _operator_error(run("case", "instruct", rude, "--preset", "inquire", "--as", "SI Verma"),
                    "--as SI Verma", "prayas officer list")
    _operator_error(run("case", "instruct", red, "--preset", "inquire", "--as", "reader sahu"),
                    "a red case is the SP office's alone")
    _operator_error(run("case", "return", rude, "--text", "more", "--as", "Reader Sahu"),
                    "no report to return yet")
    _operator_error(run("case", "close", "FB-26-999999", "--text", "x", "--as", "Reader Sahu"),
                    "no case for feedback FB-26-999999")
    assert events(rude) == ["opened"]
    done = run("case", "instruct", rude.lower(), "--preset", "inquire", "--text",
               "दो दिन में रिपोर्ट दें", "--as", "reader sahu")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{rude}: instruct done; the case is instructed\n"
    closed = run("case", "close", red, "--text", "एसपी कार्यालय ने जाँच की", "--as",
                 "Reader Sahu")
    assert closed.returncode == 0, closed.stderr
    _operator_error(run("case", "close", red, "--text", "again", "--as", "Reader Sahu"),
                    "the case is closed already")
    shown = run("case", "show", rude).stdout
    assert "  instruct  Reader Sahu — दो दिन में रिपोर्ट दें" in shown
    assert "\nanswers: " in shown and "behaviour=1" in shown
    assert events(rude) == ["opened", "instruct"] and events(red) == ["opened", "close"]
    with Db(app.engine) as db:
        from sqlalchemy import select

        from storage.models import Outbox
        kinds = [(m.kind, m.recipient) for m in db.execute(
            select(Outbox).where(Outbox.kind == "case")).scalars()]
    assert kinds == [("case", "telegram:801")]  # the red case's station hears nothing
    # Updated the same day, all fine now: both answer sets, the case flagged.
    feedback(app, "telegram:5", FINE, start=T0 + timedelta(hours=3))
    shown = run("case", "show", rude).stdout
    assert "answers before update 1: " in shown and "behaviour=1" in shown.split(
        "answers before update 1: ")[1]
    assert "behaviour=5" in shown.split("\nanswers: ")[1].splitlines()[0]
    assert "  pressure  system" in shown


def test_a_formula_in_a_comment_stays_text(tmp_path: Path) -> None:
    answers = ["5", "1", "4", "no", "no", "4", '=HYPERLINK("http://x","y")', "no", "no"]
    assert run("chat", "--station", "BLB05", "--lang", "en",
               stdin="\n".join(answers) + "\n").returncode == 0
    out, xlsx = tmp_path / "f.csv", tmp_path / "f.xlsx"
    assert run("export", "--out", str(out)).returncode == 0
    assert run("export", "--out", str(xlsx)).returncode == 0
    with out.open(encoding="utf-8-sig", newline="") as handle:
        assert next(csv.DictReader(handle))["comment"] == "\'=HYPERLINK(\"http://x\",\"y\")"
    cell = next(c for c in list(load_workbook(xlsx).active.iter_rows())[1]
                if str(c.value).startswith("=HYPER"))
    assert cell.data_type == "s"


def test_stdin_ending_early_keeps_the_answers_and_says_so() -> None:
    result = run("chat", "--station", "BLB05", "--lang", "en", stdin="1\n2\n")
    assert result.returncode == 1
    assert "Question 3/11: How did the police staff treat you?" in result.stdout
    assert "not completed" in result.stderr


def test_hostile_input_gets_polite_answers(tmp_path: Path) -> None:
    long_text = "क" * 10_000
    lines = ["\x00\x07\x1b[31m", "🙏" * 50, "1", "1", "5", "1", "1", "1", "2", "5", long_text,
             "no", "no"]
    result = run("chat", "--station", "BLB01", stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    assert "माफ़ कीजिए, समझ नहीं आया।" in result.stdout
    assert "आपका संदेश लंबा था, इसलिए पहले 1000 अक्षर रखे गए हैं।" in result.stdout
    assert "Traceback" not in result.stderr


def test_unknown_station() -> None:
    _operator_error(run("chat", "--station", "NOPE1"), "no station with code 'NOPE1'",
                    "prayas stations")


def test_missing_config_file(tmp_path: Path) -> None:
    _operator_error(run("--config", str(tmp_path / "x.yaml"), "check"),
                    "config file not found", "--config")


def test_config_from_the_environment(tmp_path: Path) -> None:
    _operator_error(run("check", env={"PRAYAS_CONFIG": str(tmp_path / "y.yaml")}), "y.yaml")


def test_bad_config(tmp_path: Path) -> None:
    bad = tmp_path / "config.yaml"
    bad.write_text(SAMPLE_CONFIG.read_text(encoding="utf-8").replace("sessions:", "sesions:"),
                   encoding="utf-8")
    _operator_error(run("--config", str(bad), "chat", "--station", "BLB05"),
                    str(bad), "sesions: unknown key")


def test_unwritable_data_dir(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    _operator_error(run("chat", "--station", "BLB05", env={"PRAYAS_DATA_DIR": str(blocker / "x")}),
                    "cannot create the database folder", "PRAYAS_DATA_DIR")


def test_an_export_of_days_in_the_wrong_order_says_so(tmp_path: Path) -> None:
    result = run("export", "--out", str(tmp_path / "x.csv"), "--since", "2026-12-01",
                 "--until", "2026-11-01")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "2026-12-01 is after --until 2026-11-01; swap them" in result.stderr
    assert not (tmp_path / "x.csv").exists()


def test_unwritable_export(tmp_path: Path) -> None:
    _operator_error(run("export", "--out", str(tmp_path / "no" / "such" / "dir.csv")),
                    "cannot write the export", "--out")


def test_newer_database_schema_is_refused(tmp_path: Path) -> None:
    assert run("db", "upgrade").returncode == 0
    import sqlite3

    db = Path(os.environ["PRAYAS_DATA_DIR"]) / "prayas.db"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'ffff'")
    conn.close()
    _operator_error(run("chat", "--station", "BLB05"), "newer than this version")


def test_db_commands() -> None:
    first = run("db", "upgrade")
    assert first.returncode == 0 and "was empty" in first.stdout
    assert "up to date" in run("db", "upgrade").stdout
    from storage.db import head_revision
    newest = head_revision()
    assert f"database: {newest}; newest: {newest}" in run("db", "current").stdout


def test_stations_lists_the_sample() -> None:
    result = run("stations")
    assert result.returncode == 0
    assert "BLB05\tBLB\tthana\tथाना सिमगा\tSimga" in result.stdout


def test_officer_invite_list_remove() -> None:
    invite = run("officer", "invite", "--role", "in_charge", "--station", "BLB05",
                 "--name", "SI Verma")
    assert invite.returncode == 0, invite.stderr
    link = invite.stdout.strip()
    assert link.startswith("https://t.me/BalodabazarPrayasBot?start=enrol_")
    assert len(link.split("start=")[1]) <= 64 and "one use, valid for 72 hours" in invite.stderr
    sp = run("officer", "invite", "--role", "sp_office")
    assert sp.returncode == 0 and "scope BLB" in sp.stderr
    _operator_error(run("officer", "invite", "--role", "in_charge", "--station", "NOPE"),
                    "--station CODE of a known station")
    # The sample district has no subdivisions (config districts[].subdivisions) yet.
    _operator_error(run("officer", "invite", "--role", "sdop", "--subdivision", "SIMGA"),
                    "an SDOP needs --subdivision CODE", "they are: none yet")
    _operator_error(run("officer", "invite", "--role", "in_charge", "--station", "BLB05",
                        "--channel", "whatsapp"), "whatsapp.number is empty")
    nobody = run("officer", "list")  # nobody has opened a link yet
    assert nobody.returncode == 0 and nobody.stdout == ""
    assert "No officer is enrolled yet" in nobody.stderr
    _operator_error(run("officer", "remove", "7"), "no officer with id 7")


def test_serve_needs_a_channel_and_its_secrets(tmp_path: Path) -> None:
    env = {k: "" for k in os.environ if k.startswith(("TELEGRAM_", "TWILIO_"))}
    _operator_error(run("serve", env=env), "no channel to serve")
    config = tmp_path / "config.yaml"
    config.write_text(SAMPLE_CONFIG.read_text(encoding="utf-8").replace(
        'number: ""                 # the Twilio', 'number: "+91 77000 12345" # the Twilio'),
        encoding="utf-8")
    _operator_error(run("--config", str(config), "serve", env=env),
                    "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set")


def test_serve_on_a_port_in_use_says_so(tmp_path: Path) -> None:
    import socket

    config = tmp_path / "config.yaml"
    config.write_text(SAMPLE_CONFIG.read_text(encoding="utf-8").replace(
        'number: ""                 # the Twilio', 'number: "+91 77000 12345" # the Twilio'),
        encoding="utf-8")
    env = {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "t",
           "PRAYAS_DATA_DIR": str(tmp_path)}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        _operator_error(run("--config", str(config), "serve", "--port", port, env=env),
                        f"cannot listen on 127.0.0.1:{port}", "--port")


def test_the_sp_office_reaches_a_citizen_only_with_their_consent(make_app, sqlite_url) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from conversations.effects import Start, Text
    from tests.conftest import T0

    app = make_app(sqlite_url)
    for n, contact in ((1, "हाँ"), (2, "नहीं")):
        now, urn = T0 + timedelta(hours=n), f"whatsapp:+91980000000{n}"
        app.service.handle(urn, "whatsapp", Start("BLB05"), now)
        for answer in ["1", "1", "4", "हाँ", "2", "हाँ", "नहीं", "5", "नहीं", contact, "नहीं"]:
            app.service.handle(urn, "whatsapp", Text(answer), now)
    app.engine.dispose()
    env = {"DATABASE_URL": sqlite_url}
    agreed = run("contact", "fb-26-000001", env=env)
    assert agreed.returncode == 0, agreed.stderr
    assert agreed.stdout == "FB-26-000001: +919800000001 (WhatsApp)\n"
    refused = run("contact", "FB-26-000002", env=env)
    assert refused.returncode == 1
    assert refused.stdout == "FB-26-000002: the citizen did not agree to be contacted\n"
    assert "9800000002" not in refused.stdout + refused.stderr
    _operator_error(run("contact", "FB-26-999999", env=env), "no feedback numbered")
    app = make_app(sqlite_url)
    now = T0 + timedelta(hours=5)
    app.service.handle("telegram:4242", "telegram", Start("BLB05"), now)
    for answer in ["1", "1", "4", "हाँ", "2", "हाँ", "नहीं", "5", "नहीं", "हाँ", "नहीं"]:
        turn = app.service.handle("telegram:4242", "telegram", Text(answer), now)
    app.engine.dispose()
    assert turn.completed_reference is not None
    telegram = run("contact", turn.completed_reference, env=env)
    assert telegram.returncode == 1 and "no phone number is known" in telegram.stdout
    assert "4242" not in telegram.stdout + telegram.stderr


def test_check_finds_a_missing_logo(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(SAMPLE_CONFIG.read_text(encoding="utf-8").replace(
        "campaign:\n", "campaign:\n  logo: logo.png\n", 1), encoding="utf-8")
    _operator_error(run("--config", str(config), "check"), "campaign.logo: no file",
                    "logo.png")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG")
    assert run("--config", str(config), "check").returncode == 0


def test_a_quick_reply_for_an_unknown_question(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(SAMPLE_CONFIG.read_text(encoding="utf-8").replace(
        "  quick_replies: {}", "  quick_replies: {purpse: {hi: HX" + "0" * 32 + "}}"),
        encoding="utf-8")
    _operator_error(run("--config", str(config), "check"),
                    "whatsapp.quick_replies.purpse", "purpose")
