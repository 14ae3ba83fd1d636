"""`prayas serve`: the ASGI app (Starlette + uvicorn) for webhooks, and /healthz.

Telegram's webhook is answered only after the turn is committed and the replies
sent, so a 200 means "done"; anything else and Telegram delivers the update again,
which the update_id dedupe makes harmless. WhatsApp's is in bot/whatsapp/webhook.py.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from telegram import Update
from telegram.ext import Application

from bot.app import Runtime
from bot.environment import Environment
from bot.office.web import Office
from bot.telegram import updates
from bot.telegram.adapter import TURN_FAILED
from bot.telegram.runner import ALLOWED_UPDATES, settle_memory
from bot.web_limits import limited_protocol
from bot.whatsapp.webhook import whatsapp_routes
from scheduler.app import App

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def telegram_route(application: Application, secret: str, path: str) -> Route:
    async def telegram_webhook(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return Response(status_code=403)
        try:
            body = await updates.read_body(request)
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is left to read it
        if body is None:
            log.warning("refused a Telegram webhook over %d bytes", updates.MAX_BODY)
            return Response(status_code=413)
        update: Update | None = updates.from_body(body, application.bot)
        if update is None:
            # It can never be handled (logged): a 200, or Telegram sends it again forever.
            return Response(status_code=200)
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

    return Route(path, telegram_webhook, methods=["POST"])


def create_web_app(runtime: Runtime, secret: str = "", register_webhook: bool = True,
                   scheduler: bool = False) -> Starlette:
    """The webhooks of the runtime's channels, /healthz, and (`scheduler`) the jobs."""
    app = runtime.app
    routes: list[BaseRoute] = [Route("/healthz", _healthz(app), methods=["GET"])]
    if runtime.telegram is not None:
        routes.append(telegram_route(runtime.telegram, secret, app.config.telegram.webhook_path))
    if runtime.whatsapp is not None:
        creds = runtime.whatsapp.creds
        routes += whatsapp_routes(app.config.whatsapp, runtime.whatsapp, creds.auth_token,
                                  creds.webhook_key)
    if app.config.console.enabled:  # the SP office's pages (bot/office)
        routes += Office(app, app.config.console.path).routes()

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await runtime.start(scheduler)
        try:
            if runtime.telegram is not None:
                await _register(app, runtime.telegram, secret, register_webhook)
            yield
        finally:
            await runtime.stop()

    return Starlette(routes=routes, lifespan=lifespan)


def _healthz(app: App) -> Callable[[Request], Awaitable[Response]]:
    def database_answers() -> None:
        with app.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    async def healthz(_: Request) -> Response:
        try:
            await run_in_threadpool(database_answers)  # a hung database must not stall the loop
        except Exception:
            return JSONResponse({"status": "database unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    return healthz


async def _register(app: App, telegram: Application, secret: str,
                    register: bool) -> None:
    config = app.config.telegram
    if register and config.public_url:
        url = config.public_url.rstrip("/") + config.webhook_path
        await telegram.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
        log.info("Telegram webhook registered")


def serve(app: App, env: Environment, host: str, port: int, telegram: bool,
          whatsapp: bool) -> None:
    """Both channels in one process when both are configured; the scheduler runs here."""
    import uvicorn

    runtime = Runtime(app, env, telegram=telegram, whatsapp=whatsapp)
    if whatsapp and not (app.config.whatsapp.public_url
                         or app.config.whatsapp.trust_forwarded_headers):
        log.warning("whatsapp.public_url is not set: Twilio's signatures are checked against "
                    "the URL this server sees; behind a proxy or tunnel, set it to the https "
                    "URL Twilio calls, or every message is refused (403)")
    web = create_web_app(runtime, env.webhook_secret() if telegram else "", scheduler=True)
    settle_memory()
    # proxy_headers off: whether X-Forwarded-* is believed is `trust_forwarded_headers`'
    # alone (bot/whatsapp/webhook.py). uvicorn's default believes any proxy on
    # 127.0.0.1, which would change the URL a signature is checked against.
    limits = app.config.web
    uvicorn.run(web, host=host, port=port, log_level="warning", access_log=False,
                proxy_headers=False, http=limited_protocol(limits),
                limit_concurrency=limits.max_connections, timeout_keep_alive=5)
