"""`prayas poll` and `prayas serve` as an operator runs them: real processes, kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import select
from sqlmodel import Session as Db

from storage.db import open_engine
from storage.models import Answer, Feedback
from tests.bot.telegram.conftest import Citizen
from tests.conftest import SAMPLE_CONFIG
from tests.fakes.telegram_api import FakeTelegram
from tests.serving import PRAYAS, fail_if_ended, free_port, serving, wake_on_exit

SECRET = "webhook-secret_0123456789"
ANSWERS = ["1", "1", "4", "हाँ", "2", "हाँ", "नहीं", "5", "धन्यवाद", "नहीं", "नहीं"]


def _env(fake: FakeTelegram, database_url: str) -> dict[str, str]:
    return {**os.environ, "TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_BASE_URL": fake.url,
            "TELEGRAM_WEBHOOK_SECRET": SECRET, "DATABASE_URL": database_url}


def _start_poll(fake: FakeTelegram, database_url: str) -> subprocess.Popen[bytes]:
    polls = fake.polls
    process = subprocess.Popen([PRAYAS, "--config", str(SAMPLE_CONFIG), "poll"],
                               env=_env(fake, database_url), stderr=subprocess.PIPE)
    wake_on_exit(process, fake.wake)
    fake.wait_until(lambda: fake.polls > polls or process.poll() is not None, timeout=30,
                    what="prayas poll to start polling")
    fail_if_ended(process)
    return process


def _stored(database_url: str) -> tuple[list[str], dict[str, str | None]]:
    engine = open_engine(database_url)
    with Db(engine) as db:
        statuses = list(db.execute(select(Feedback.status)).scalars())
        answers = {a.question_id: a.option_id or a.text
                   for a in db.execute(select(Answer)).scalars()}
    engine.dispose()
    return statuses, answers


# Where the process dies around the fourth answer: before the bot fetched it, as soon as
# Telegram handed it over (the turn being stored, or not yet), once the reply was sent
# (its update not yet confirmed, or already).
KILLED = ["pushed", "fetched", "answered"]


@pytest.mark.parametrize("killed", KILLED)
def test_kill_9_mid_conversation_loses_nothing(fake_telegram: FakeTelegram, database_url: str,
                                               killed: str) -> None:
    citizen = Citizen(fake_telegram, 901)
    process = _start_poll(fake_telegram, database_url)
    try:
        citizen.say("/start BLB05")
        for answer in ANSWERS[:3]:
            citizen.say(answer)
        seen = citizen.seen
        update = fake_telegram.message(901, ANSWERS[3])
        if killed == "fetched":
            fake_telegram.wait_until(lambda: fake_telegram.handed >= update, timeout=30,
                                     what="the fourth answer to be fetched")
        elif killed == "answered":
            fake_telegram.wait_for(seen + 1, 901, timeout=30)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        process = _start_poll(fake_telegram, database_url)
        # The citizen sees the question they are on (again, if it was already sent).
        # Wait until the new process confirmed the fourth answer: before that, a
        # repeated question may still be on its way and would be read as the next reply.
        fake_telegram.wait_until(lambda: fake_telegram.pending == 0, timeout=60,
                                 what="the restarted poller to confirm the answer")
        assert "5/11:" in citizen.last, [s.text[:40] for s in fake_telegram.sent(901)]
        for answer in ANSWERS[4:]:
            citizen.say(answer)
        assert "फीडबैक नंबर: FB-" in citizen.last
    finally:
        process.kill()
        process.wait(10)
    statuses, answers = _stored(database_url)
    assert statuses == ["complete"]
    assert answers["receipt"] == "yes" and answers["behaviour"] == "4"
    assert answers["action"] == "in_progress" and answers["comment"] == "धन्यवाद"


def test_serve_answers_webhooks_with_the_secret_only(fake_telegram: FakeTelegram, sqlite_url: str,
                                                     tmp_path: Path) -> None:
    config = yaml.safe_load(SAMPLE_CONFIG.read_text(encoding="utf-8"))
    config["telegram"].update(public_url="https://prayas.example.org", bot_username="PrayasBot")
    config_file = tmp_path / "config.yaml"
    config_file.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with serving(config_file, _env(fake_telegram, sqlite_url), port):
        assert fake_telegram.webhook is not None
        assert fake_telegram.webhook["url"] == "https://prayas.example.org/telegram/webhook"
        assert fake_telegram.webhook["secret_token"] == SECRET

        update = {"update_id": 42, "message": {
            "message_id": 1, "date": 0, "text": "/start BLB05",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            "chat": {"id": 950, "type": "private", "first_name": "C"},
            "from": {"id": 950, "is_bot": False, "first_name": "C"}}}
        url = f"{base}/telegram/webhook"
        assert httpx.post(url, json=update).status_code == 403
        assert httpx.post(url, json=update, headers={
            "X-Telegram-Bot-Api-Secret-Token": "wrong"}).status_code == 403
        assert fake_telegram.sent(950) == []
        ok = httpx.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
        assert ok.status_code == 200
        # Answered before the 200: the reply is already at Telegram.
        assert "थाना सिमगा" in fake_telegram.sent(950)[0].text
        bad = httpx.post(url, content=b"not json",
                         headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
        assert bad.status_code == 200  # it can never be handled: not delivered again
        answer = json.loads(json.dumps(update))
        answer.update(update_id=43)
        answer["message"].update(text="1", entities=[])
        for _ in range(2):  # the same update twice: answered twice, stored once
            httpx.post(url, json=answer, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
        assert ["2/11:" in s.text for s in fake_telegram.sent(950)] == [False, True, True]
    assert _stored(sqlite_url)[1] == {"purpose": "complaint_fir"}
