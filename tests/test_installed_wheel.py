"""What ships: the wheel, built from this checkout, installed into a bare virtual
environment outside it, and run from a folder that is not the checkout, as an operator
would run it. Every other test runs on the editable install, which sees the whole tree:
a package or data file the wheel leaves out is caught here and nowhere else."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import venv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import yaml
from twilio.request_validator import RequestValidator

from tests.conftest import SAMPLE_CONFIG
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from tests.serving import free_port, serving

ROOT = Path(__file__).resolve().parent.parent
ANSWERS = "शिकायत\nतुरंत\n४\nहाँ\nचल रही है\nहाँ\nनहीं\n😊\nअच्छा व्यवहार\nहाँ\nनहीं\n"
NUMBER = "+917700012345"
SECRET = "webhook-secret_0123456789"


@dataclass(frozen=True)
class Installed:
    bin: Path  # the virtual environment's bin/
    work: Path  # an operator's folder: config.yaml and nothing of the checkout

    def run(self, *args: str, stdin: str | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(self.bin / "prayas"), *args], cwd=self.work, input=stdin,
                              env=env or self.env(), capture_output=True, text=True,
                              timeout=120)

    def env(self, **extra: str) -> dict[str, str]:
        # Nothing that could lead Python back to the checkout or its virtual environment.
        kept = {k: v for k, v in os.environ.items()
                if k in ("HOME", "LANG", "LC_ALL", "TMPDIR", "PRAYAS_HMAC_KEY")}
        return {**kept, "PATH": f"{self.bin}:/usr/bin:/bin",
                "PRAYAS_DATA_DIR": str(self.work / "data"), **extra}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                            str(base / "dist"), str(ROOT)], capture_output=True, text=True,
                           timeout=300)
    assert build.returncode == 0, build.stderr
    wheel = next((base / "dist").glob("prayas-*.whl"))
    venv.EnvBuilder(with_pip=True).create(base / "venv")
    install = subprocess.run([str(base / "venv" / "bin" / "pip"), "install", "-q", str(wheel)],
                             capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr
    work = base / "operator"
    work.mkdir()
    config = yaml.safe_load(SAMPLE_CONFIG.read_text(encoding="utf-8"))
    config["whatsapp"] = {"number": NUMBER}
    (work / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True),
                                      encoding="utf-8")
    return Installed(base / "venv" / "bin", work)


def test_the_installed_code_is_the_wheels_not_the_checkouts(installed: Installed) -> None:
    where = subprocess.run(
        [str(installed.bin / "python"), "-c",
         "import bot.whatsapp.webhook, conversations, storage.migrations, scheduler; "
         "print(bot.whatsapp.webhook.__file__)"],
        cwd=installed.work, env=installed.env(), capture_output=True, text=True, timeout=60)
    assert where.returncode == 0, where.stderr
    assert "site-packages" in where.stdout and str(ROOT) not in where.stdout


def _commands(help_text: str) -> list[str]:
    listed = help_text.split("Commands:", 1)[1].splitlines() if "Commands:" in help_text else []
    return [line.split()[0] for line in listed if line.startswith("  ") and line.strip()
            and not line.startswith("   ")]


def test_every_command_has_help_and_the_config_checks(installed: Installed) -> None:
    top = installed.run("--help")
    assert top.returncode == 0 and "Usage:" in top.stdout, top.stderr
    commands = [[name] for name in _commands(top.stdout)]
    assert {"serve", "chat", "export", "qr", "check"} <= {c[0] for c in commands}
    while commands:
        command = commands.pop()
        done = installed.run(*command, "--help")
        assert done.returncode == 0 and "Usage:" in done.stdout, (command, done.stderr)
        commands += [[*command, name] for name in _commands(done.stdout)]  # a group's own
    check = installed.run("check")
    assert check.returncode == 0, check.stderr
    assert "21 stations" in check.stdout


def test_a_piped_chat_gets_a_reference_then_export_and_poster(installed: Installed) -> None:
    chat = installed.run("chat", "--station", "BLB05", stdin=ANSWERS)
    assert chat.returncode == 0, chat.stderr
    assert "थाना सिमगा" in chat.stdout  # the Hindi catalog travelled with the wheel
    assert "फीडबैक नंबर: FB-26-" in chat.stdout
    export = installed.run("export", "--out", "feedback.csv")
    assert export.returncode == 0, export.stderr
    rows = (installed.work / "feedback.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(rows) == 2 and ",BLB05,थाना सिमगा," in rows[1]
    poster = installed.run("qr", "--out", "posters", "--station", "BLB05")
    assert poster.returncode == 0, poster.stderr
    png = installed.work / "posters" / "BLB05.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 50_000
    # The month so far, in the district's time: its PDF drawn with the shipped fonts.
    month = datetime.now(ZoneInfo("Asia/Kolkata")).strftime("%Y-%m")
    report = installed.run("report", "--month", month, "--out", "report")
    assert report.returncode == 0, report.stderr
    pdf = installed.work / "report" / f"prayas-report-BLB-{month}.pdf"
    assert pdf.read_bytes()[:5] == b"%PDF-" and b"NotoSansDevanagari" in pdf.read_bytes()
    assert (installed.work / "report" / f"prayas-report-BLB-{month}.xlsx").stat().st_size


@pytest.fixture
def fakes() -> Iterator[tuple[FakeTelegram, FakeTwilio]]:
    telegram, twilio = FakeTelegram().start(), FakeTwilio().start()
    yield telegram, twilio
    telegram.stop()
    twilio.stop()


def test_serve_with_both_channels(installed: Installed,
                                  fakes: tuple[FakeTelegram, FakeTwilio]) -> None:
    telegram, twilio = fakes
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    config = yaml.safe_load((installed.work / "config.yaml").read_text(encoding="utf-8"))
    config["telegram"].update(public_url=public, bot_username="PrayasTestBot")
    config["whatsapp"].update(public_url=public)
    (installed.work / "serve.yaml").write_text(yaml.safe_dump(config, allow_unicode=True),
                                               encoding="utf-8")
    env = installed.env(TELEGRAM_BOT_TOKEN=telegram.token, TELEGRAM_BASE_URL=telegram.url,
                        TELEGRAM_WEBHOOK_SECRET=SECRET, TWILIO_ACCOUNT_SID=ACCOUNT_SID,
                        TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_API_BASE_URL=twilio.url)
    with serving("serve.yaml", env, port, prayas=str(installed.bin / "prayas"),
                 cwd=installed.work) as process:
        assert telegram.webhook is not None  # registered on start, at the public URL
        form = {"SmsMessageSid": "SM" + "a1" * 16, "NumMedia": "0", "ProfileName": "x",
                "MessageType": "text", "SmsSid": "SM" + "a1" * 16, "WaId": "919800000001",
                "SmsStatus": "received", "Body": "फीडबैक BLB05", "To": f"whatsapp:{NUMBER}",
                "NumSegments": "1", "ReferralNumMedia": "0", "MessageSid": "SM" + "a1" * 16,
                "AccountSid": ACCOUNT_SID, "From": "whatsapp:+919800000001",
                "ApiVersion": "2010-04-01"}
        url = f"{public}/whatsapp/webhook"
        signature = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
        answer = httpx.post(url, data=form, headers={"X-Twilio-Signature": signature},
                            timeout=30)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/xml")
        assert "<Response><Message>" in answer.text and "थाना सिमगा" in answer.text
        update = {"update_id": 1, "message": {
            "message_id": 1, "date": int(time.time()), "text": "/start BLB05",
            "chat": {"id": 4242, "type": "private"},
            "from": {"id": 4242, "is_bot": False, "first_name": "A"}}}
        hook = httpx.post(f"{public}{config['telegram']['webhook_path']}",
                          content=json.dumps(update),
                          headers={"X-Telegram-Bot-Api-Secret-Token": SECRET,
                                   "Content-Type": "application/json"}, timeout=30)
        assert hook.status_code == 200
        assert "थाना सिमगा" in telegram.wait_for(1, 4242)[0].text
    code = process.returncode  # stopped with SIGTERM as the block ended
    log = process.stderr.read().decode()  # type: ignore[union-attr]
    # uvicorn shuts down cleanly, then raises the signal again so the exit status says
    # what stopped it (systemd counts a SIGTERM exit as a clean stop).
    assert code in (0, -signal.SIGTERM), log
    assert "Traceback" not in log and "9800000001" not in log and "4242" not in log


def test_no_folder_of_code_is_left_out_of_the_wheel() -> None:
    """setuptools finds only folders with an __init__.py: one without would be missing
    from the wheel (bot/whatsapp/ was, and a wheel install could not serve)."""
    for top in ("bot", "conversations", "storage", "scheduler"):
        for folder in [ROOT / top, *(p for p in (ROOT / top).rglob("*") if p.is_dir())]:
            if any(folder.glob("*.py")):
                assert (folder / "__init__.py").exists(), f"{folder} has no __init__.py"
