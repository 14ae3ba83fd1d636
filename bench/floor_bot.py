"""The floor: the smallest python-telegram-bot bot, one sendMessage per message.

No database, no engine: no bot that does real work can be faster than this on the
same machine, the same library and the same fake Bot API. Its connection pool is
Prayas's (16): httpcore scans every pooled connection on each request, so a bigger
pool only makes the floor slower (64 gave 15 % fewer turns/s).
"""

from __future__ import annotations

import os
import sys

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat is not None
    await context.bot.send_message(update.effective_chat.id, "ठीक है")


def main() -> None:
    root = os.environ["TELEGRAM_BASE_URL"]
    application = (
        Application.builder().token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(f"{root}/bot").concurrent_updates(256).connection_pool_size(16)
        .pool_timeout(30.0).build()
    )
    application.add_handler(MessageHandler(filters.ALL, answer))
    application.run_polling(poll_interval=0.0, timeout=20, allowed_updates=["message"])


if __name__ == "__main__":
    sys.exit(main())
