"""The environment, read once: what it overrides in config.yaml, and what it must hold."""

from __future__ import annotations

import pytest

from bot.environment import Environment
from scheduler.config import ConfigError, load_config
from tests.conftest import SAMPLE_CONFIG


def test_the_database_url_from_the_environment_wins() -> None:
    config = load_config(SAMPLE_CONFIG)
    url = Environment.read({"PRAYAS_DATA_DIR": "data"}).database(config)
    assert url.startswith("sqlite:///") and url.endswith("data/prayas.db")
    env = Environment.read({"DATABASE_URL": "postgresql://u@h/db"})
    assert env.database(config) == "postgresql+psycopg://u@h/db"


def test_secrets_that_are_missing_or_malformed_say_what_to_set() -> None:
    env = Environment.read({"TELEGRAM_WEBHOOK_SECRET": "short", "TWILIO_ACCOUNT_SID": "x"})
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN is not set"):
        env.bot_token()
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET must be set"):
        env.webhook_secret()
    with pytest.raises(ConfigError, match="TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"):
        env.twilio()
    good = Environment.read({"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "t",
                             "TWILIO_WEBHOOK_SHARED_KEY": "k"})
    assert (good.twilio().account_sid, good.twilio().webhook_key) == ("AC" + "0" * 32, "k")
