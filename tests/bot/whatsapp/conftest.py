"""The WhatsApp channel in-process: signed webhooks in, a fake Twilio REST API out."""

from __future__ import annotations

import asyncio
import itertools
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml
from starlette.datastructures import ImmutableMultiDict
from starlette.testclient import TestClient
from twilio.request_validator import RequestValidator

from bot.app import Runtime
from bot.environment import Environment
from bot.web import create_web_app
from tests.conftest import SAMPLE_CONFIG, T0
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

NUMBER = "+91 77000 12345"
OURS = "whatsapp:+917700012345"  # NUMBER as Twilio writes it
PUBLIC = "https://prayas.example.in"
TEMPLATES = {kind: {"hi": f"HX{n:032x}", "en": f"HX{n + 100:032x}"}
             for n, kind in enumerate(["alert", "red_alert", "escalation", "digest",
                                       "follow_up", "closure_check"], start=1)}


@pytest.fixture
def fake_twilio(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTwilio]:
    fake = FakeTwilio().start()
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", ACCOUNT_SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    monkeypatch.setenv("TWILIO_API_BASE_URL", fake.url)
    yield fake
    fake.stop()


def whatsapp_config(tmp_path: Path, **whatsapp: Any) -> Path:
    config = yaml.safe_load(SAMPLE_CONFIG.read_text(encoding="utf-8"))
    config["whatsapp"] = {"number": NUMBER, "public_url": PUBLIC, "templates": TEMPLATES,
                          **whatsapp}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def wa_app(make_app, database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    built = make_app(database_url, whatsapp_config(tmp_path))
    yield built
    built.engine.dispose()


class Clock:
    """A clock the test moves; every message is a second after the last."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


_sids = itertools.count(1)


def message_sid() -> str:
    return f"SM{next(_sids):032x}"


def sign(path: str, form: Mapping[str, str], url: str = PUBLIC) -> str:
    return RequestValidator(AUTH_TOKEN).compute_signature(url + path, form)


def bodies(twiml: str) -> list[str]:
    root = ET.fromstring(twiml)
    assert root.tag == "Response"
    return [m.text or "" for m in root.iter("Message")]


class Phone:
    """One WhatsApp user, writing to the bot through signed webhooks."""

    def __init__(self, client: TestClient, number: str) -> None:
        self.client, self.urn = client, f"whatsapp:{number}"

    def form(self, body: str = "", **extra: str) -> dict[str, str]:
        """A message as Twilio posts it: every field of a real inbound WhatsApp webhook."""
        sid = message_sid()
        return {"SmsMessageSid": sid, "NumMedia": "0", "ProfileName": "Citizen",
                "MessageType": "text", "SmsSid": sid,
                "WaId": self.urn.removeprefix("whatsapp:+"), "SmsStatus": "received",
                "Body": body, "To": OURS, "NumSegments": "1", "ReferralNumMedia": "0",
                "MessageSid": sid, "AccountSid": ACCOUNT_SID, "From": self.urn,
                "ApiVersion": "2010-04-01", **extra}

    def report(self, sid: str, status: str = "delivered", **extra: str) -> dict[str, str]:
        """Twilio's delivery report of a message we sent to this user."""
        return {"ChannelPrefix": "whatsapp", "ApiVersion": "2010-04-01",
                "MessageStatus": status, "SmsSid": sid, "SmsStatus": status,
                "ChannelInstallSid": "XE" + "0" * 32, "To": self.urn, "From": OURS,
                "MessageSid": sid, "StructuredMessage": "false", "AccountSid": ACCOUNT_SID,
                "ChannelToAddress": self.urn.removeprefix("whatsapp:"), **extra}

    def post(self, form: dict[str, str] | list[tuple[str, str]],
             path: str = "/whatsapp/webhook", signature: str | None = None,
             headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        """Signed as Twilio signs; a list of pairs may repeat a key, each value signed."""
        signed = ImmutableMultiDict(form) if isinstance(form, list) else form
        headers = {"X-Twilio-Signature": sign(path, signed) if signature is None else signature,
                   **(headers or {})}
        if isinstance(form, list):
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            return self.client.post(path, content=urlencode(form), headers=headers, **kwargs)
        return self.client.post(path, data=form, headers=headers, **kwargs)

    def say(self, body: str = "", **extra: str) -> list[str]:
        answer = self.post(self.form(body, **extra))
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"].startswith("application/xml")
        return bodies(answer.text)


@pytest.fixture
def whatsapp_web(wa_app, fake_twilio: FakeTwilio) -> Callable[..., TestClient]:  # type: ignore[no-untyped-def]
    """A running web app with the WhatsApp channel, for `with whatsapp_web() as client`."""
    def make(clock: Clock | None = None, app=None) -> TestClient:  # type: ignore[no-untyped-def]
        return TestClient(create_web_app(whatsapp_runtime(app or wa_app, clock or Clock())))

    return make


def whatsapp_runtime(app, clock: Callable[[], datetime] | None = None) -> Runtime:  # type: ignore[no-untyped-def]
    """The process's parts with the WhatsApp channel, on the fake Twilio (`fake_twilio`
    has put it in the environment)."""
    return Runtime(app, Environment.read(), whatsapp=True, retry_backoff=0.01, clock=clock)


def dispatched_at(app, now: datetime) -> int:  # type: ignore[no-untyped-def]
    """What the outbox has due at `now`, sent through the WhatsApp channel at that clock."""
    async def go() -> int:
        runtime = whatsapp_runtime(app, lambda: now)
        await runtime.start(scheduler=False)
        try:
            return await runtime.dispatcher.run_once(now)
        finally:
            await runtime.stop()

    return asyncio.run(go())
