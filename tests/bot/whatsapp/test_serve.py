"""`prayas serve` with WhatsApp as an operator runs it: a real process, signed webhooks,
and the outbox sending to a WhatsApp officer through the fake Twilio."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx

from tests.bot.whatsapp.conftest import bodies, whatsapp_config
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from tests.serving import PRAYAS, free_port, serving

RUDE = ["फीडबैक BLB05", "1", "1", "1", "हाँ", "2", "हाँ", "नहीं", "2", "और कुछ नहीं", "नहीं",
        "नहीं"]


def test_serve_whatsapp_end_to_end(fake_twilio: FakeTwilio, sqlite_url: str,
                                   tmp_path: Path) -> None:
    from twilio.request_validator import RequestValidator

    port = free_port()
    public = f"http://127.0.0.1:{port}"
    config = whatsapp_config(tmp_path, public_url=public)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    env.update(DATABASE_URL=sqlite_url, TWILIO_ACCOUNT_SID=ACCOUNT_SID,
               TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_API_BASE_URL=fake_twilio.url)
    invite = subprocess.run([PRAYAS, "--config", str(config), "officer", "invite", "--role",
                             "in_charge", "--station", "BLB05", "--channel", "whatsapp"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert invite.returncode == 0, invite.stderr
    assert invite.stdout.startswith("https://wa.me/917700012345?text=enrol_")
    token = invite.stdout.strip().split("text=")[1]
    validator = RequestValidator(AUTH_TOKEN)
    count = iter(range(1, 1000))

    def send(number: str, body: str) -> list[str]:
        form = {"MessageSid": f"SM{next(count):032x}", "From": f"whatsapp:{number}",
                "To": "whatsapp:+917700012345", "Body": body, "NumMedia": "0",
                "AccountSid": ACCOUNT_SID}
        signature = validator.compute_signature(f"{public}/whatsapp/webhook", form)
        answer = httpx.post(f"{public}/whatsapp/webhook", data=form,
                            headers={"X-Twilio-Signature": signature}, timeout=30)
        assert answer.status_code == 200, answer.text
        return bodies(answer.text)

    with serving(config, env, port) as process:
        unsigned = httpx.post(f"{public}/whatsapp/webhook", data={"Body": "फीडबैक BLB05"})
        assert unsigned.status_code == 403
        assert "थाना सिमगा" in send("+919900000001", token)[0]  # the officer enrols
        replies = [send("+919800000001", line) for line in RUDE]
        assert "FB-26-" in replies[-1][-1] or "FB-" in replies[-1][-1]
        # The scheduler inside `serve` sends the alert to the officer within seconds.
        alert = fake_twilio.wait_for(1, "whatsapp:+919900000001", timeout=30)[0]
        assert "थाना सिमगा" in alert.body and "9800000001" not in alert.body
    log = process.stderr.read().decode()  # type: ignore[union-attr]
    assert f"serving WhatsApp on http://127.0.0.1:{port} " in log  # where it listens, said once
    assert "9800000001" not in log and "9900000001" not in log  # no number in the logs


def test_serve_believes_a_proxys_headers_only_when_configured(sqlite_url: str,
                                                              tmp_path: Path) -> None:
    """No public URL and no trusted proxy: the URL signed is the one called, whatever an
    X-Forwarded-Proto says, even from 127.0.0.1 (uvicorn would believe it by default)."""
    from twilio.request_validator import RequestValidator

    port = free_port()
    config = whatsapp_config(tmp_path, public_url="", trust_forwarded_headers=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    env.update(DATABASE_URL=sqlite_url, TWILIO_ACCOUNT_SID=ACCOUNT_SID,
               TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_API_BASE_URL="http://127.0.0.1:9")
    validator = RequestValidator(AUTH_TOKEN)
    form = {"MessageSid": "SM" + "1" * 32, "From": "whatsapp:+919800000002",
            "To": "whatsapp:+917700012345", "Body": "फीडबैक BLB05", "NumMedia": "0",
            "AccountSid": ACCOUNT_SID}
    called = f"http://127.0.0.1:{port}/whatsapp/webhook"
    with serving(config, env, port) as process:
        as_if_https = validator.compute_signature(called.replace("http:", "https:"), form)
        forwarded = httpx.post(called, data=form, timeout=30, headers={
            "X-Twilio-Signature": as_if_https, "X-Forwarded-Proto": "https"})
        assert forwarded.status_code == 403
        answer = httpx.post(called, data=form, timeout=30, headers={
            "X-Twilio-Signature": validator.compute_signature(called, form),
            "X-Forwarded-Proto": "https"})
        assert answer.status_code == 200 and "थाना सिमगा" in bodies(answer.text)[0]
    assert "whatsapp.public_url is not set" in process.stderr.read().decode()  # type: ignore[union-attr]
