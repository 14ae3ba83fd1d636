"""The environment, read once into a typed object: the secrets and the few settings that
belong outside config.yaml. Everything else is handed this object, never `os.environ`."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from scheduler.errors import ConfigError

if TYPE_CHECKING:  # not imported at run time: `prayas --help` answers at once
    from bot.whatsapp.twilio_api import Credentials
    from scheduler.config import Config


@dataclass(frozen=True)
class Environment:
    telegram_token: str = ""
    telegram_webhook_secret: str = ""
    telegram_base_url: str = ""  # a self-hosted Bot API server, or a test's fake
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_webhook_key: str = ""  # a Shared Key's secret, if webhooks are signed with one
    twilio_api_base_url: str = ""  # a test's fake Twilio
    database_url: str = ""
    data_dir: str = ""
    xdg_data_home: str = ""
    hmac_key: str = ""
    locale_dir: str = ""  # other catalogs than the ones installed

    @classmethod
    def read(cls, environ: Mapping[str, str] | None = None) -> Environment:
        env = os.environ if environ is None else environ
        return cls(
            telegram_token=env.get("TELEGRAM_BOT_TOKEN", ""),
            telegram_webhook_secret=env.get("TELEGRAM_WEBHOOK_SECRET", ""),
            telegram_base_url=env.get("TELEGRAM_BASE_URL", ""),
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID", ""),
            twilio_auth_token=env.get("TWILIO_AUTH_TOKEN", ""),
            twilio_webhook_key=env.get("TWILIO_WEBHOOK_SHARED_KEY", ""),
            twilio_api_base_url=env.get("TWILIO_API_BASE_URL", ""),
            database_url=env.get("DATABASE_URL", ""),
            data_dir=env.get("PRAYAS_DATA_DIR", ""),
            xdg_data_home=env.get("XDG_DATA_HOME", ""),
            hmac_key=env.get("PRAYAS_HMAC_KEY", ""),
            locale_dir=env.get("PRAYAS_LOCALE_DIR", ""),
        )

    def bot_token(self) -> str:
        if not self.telegram_token:
            raise ConfigError("TELEGRAM_BOT_TOKEN is not set; put the token from @BotFather "
                              "in the environment (never in config.yaml)")
        return self.telegram_token

    def webhook_secret(self) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", self.telegram_webhook_secret):
            raise ConfigError("TELEGRAM_WEBHOOK_SECRET must be set to 16-256 characters of "
                              "A-Z, a-z, 0-9, _ or - (Telegram sends it back on every "
                              "webhook)")
        return self.telegram_webhook_secret

    def twilio(self) -> Credentials:
        from bot.whatsapp.twilio_api import Credentials

        if not self.twilio_account_sid.startswith("AC") or not self.twilio_auth_token:
            raise ConfigError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set in the "
                              "environment (Twilio console, Account info); never in "
                              "config.yaml")
        return Credentials(self.twilio_account_sid, self.twilio_auth_token,
                           self.twilio_webhook_key)

    def telegram_api_root(self, config: Config) -> str:
        """TELEGRAM_BASE_URL, then the config's; empty for Telegram's own."""
        return (self.telegram_base_url or config.telegram.base_url).rstrip("/")

    def twilio_api_root(self, config: Config) -> str:
        return self.twilio_api_base_url or config.whatsapp.api_base_url

    def locale_folder(self) -> Path | None:
        """PRAYAS_LOCALE_DIR; None for the catalogs that came with the install."""
        return Path(self.locale_dir) if self.locale_dir else None

    def data_folder(self, config: Config) -> Path:
        chosen = self.data_dir or config.data_dir
        if chosen:
            return Path(chosen).expanduser()
        base = self.xdg_data_home or Path.home() / ".local" / "share"
        return Path(base) / "prayas"

    def database(self, config: Config) -> str:
        """DATABASE_URL overrides the file; the default is SQLite in the data folder."""
        url = self.database_url or config.database.url
        if not url:
            return f"sqlite:///{self.data_folder(config) / 'prayas.db'}"
        if url.startswith(("postgres://", "postgresql://")):
            # psycopg 3 is the driver we ship; SQLAlchemy would otherwise look for psycopg2.
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url
