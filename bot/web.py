"""`prayas serve`: the ASGI app (Starlette + uvicorn) for webhooks, and /healthz.

Telegram's webhook is answered only after the turn is committed and the replies
sent, so a 200 means "done"; anything else and Telegram delivers the update again,
which the update_id dedupe makes harmless.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import re
from collections.abc import AsyncIterator

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application

from bot.app import App
from bot.config import ConfigError
from bot.telegram.adapter import TURN_FAILED
from bot.telegram.runner import ALLOWED_UPDATES, bot_token, build_application, settle_memory

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_secret() -> str:
    secret = os.environ.get("TELEGRAM_WEBHOOK_SECRET", "")
    if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", secret):
        raise ConfigError("TELEGRAM_WEBHOOK_SECRET must be set to 16-256 characters of "
                          "A-Z, a-z, 0-9, _ or - (Telegram sends it back on every webhook)")
    return secret


def create_web_app(app: App, application: Application, secret: str,  # type: ignore[type-arg]
                   register_webhook: bool = True) -> Starlette:
    config = app.config.telegram

    async def telegram_webhook(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return Response(status_code=403)
        try:
            update = Update.de_json(await request.json(), application.bot)
        except Exception:
            return Response(status_code=400)
        if update is None:
            return Response(status_code=400)
        # Through the same per-chat ordering as polling: one citizen's updates in order.
        failed = TURN_FAILED.set(False)
        try:
            await application.update_processor.process_update(
                update, application.process_update(update))
            ok = not TURN_FAILED.get()
        finally:
            TURN_FAILED.reset(failed)
        # Not handled (database down, Telegram unreachable): 500, and Telegram tries again;
        # the update_id makes the retry safe.
        return Response(status_code=200 if ok else 500)

    def database_answers() -> None:
        with app.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    async def healthz(_: Request) -> Response:
        try:
            await run_in_threadpool(database_answers)  # a hung database must not stall the loop
        except Exception:
            return JSONResponse({"status": "database unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await application.initialize()
        await application.start()
        if application.post_init:  # the scheduler, as `prayas poll` starts it
            await application.post_init(application)
        if register_webhook and config.public_url:
            url = config.public_url.rstrip("/") + config.webhook_path
            await application.bot.set_webhook(url, secret_token=secret,
                                              allowed_updates=ALLOWED_UPDATES)
            log.info("Telegram webhook registered")
        try:
            yield
        finally:
            if application.post_stop:
                await application.post_stop(application)
            await application.stop()
            await application.shutdown()

    return Starlette(routes=[
        Route(config.webhook_path, telegram_webhook, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ], lifespan=lifespan)


def serve(app: App, host: str, port: int) -> None:
    import uvicorn

    application = build_application(app, bot_token())
    web = create_web_app(app, application, webhook_secret())
    settle_memory()
    uvicorn.run(web, host=host, port=port, log_level="warning", access_log=False)
