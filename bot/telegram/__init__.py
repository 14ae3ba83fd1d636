"""The Telegram channel: python-telegram-bot as transport; the conversation lives in our engine."""

import os

# Opt in to python-telegram-bot's future: durations as timedelta (no deprecation warnings).
os.environ.setdefault("PTB_TIMEDELTA", "true")
