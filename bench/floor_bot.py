"""The floor: the smallest python-telegram-bot bot, one sendMessage per message.

No database, no engine: no bot that does real work can be faster than this on the
same machine, the same library and the same fake Bot API. By default it sends with
python-telegram-bot's own HTTP library (httpx), its pool the size of Prayas's (16:
httpcore checks every pooled connection on each request, and 64 was 15 % slower);
with `--aiohttp` it sends through Prayas's transport (bot/telegram/transport.py).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_chat is not None
    await context.bot.send_message(update.effective_chat.id, "ठीक है")


def main() -> None:
    root = os.environ["TELEGRAM_BASE_URL"]
    builder = (Application.builder().token(os.environ["TELEGRAM_BOT_TOKEN"])
               .base_url(f"{root}/bot").concurrent_updates(256))
    if "--aiohttp" in sys.argv:  # Prayas's own transport: the floor for its HTTP library
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from bot.telegram.transport import AiohttpRequest

        builder = builder.request(AiohttpRequest(pool_size=16)).get_updates_request(
            AiohttpRequest(pool_size=1))
    else:  # python-telegram-bot's defaults (httpx), with Prayas's pool size
        builder = builder.connection_pool_size(16).pool_timeout(30.0)
    application = builder.build()
    application.add_handler(MessageHandler(filters.ALL, answer))
    application.run_polling(poll_interval=0.0, timeout=20, allowed_updates=["message"])


if __name__ == "__main__":
    sys.exit(main())
