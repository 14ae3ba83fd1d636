"""The Telegram channel: python-telegram-bot as transport; the conversation lives in our engine."""
