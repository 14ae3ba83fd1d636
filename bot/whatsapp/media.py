"""A digest's chart and tables on WhatsApp: Twilio sends media only from a URL it can
fetch, so the files are kept in the database (storage/media.py) and served by
`prayas serve` under `whatsapp.media_path`; WhatsApp delivers no CSV, so tables go as
Excel workbooks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Engine
from sqlmodel import Session as Db
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conversations.effects import Reply
from scheduler.config import WhatsApp
from scheduler.digests.tables import XLSX, as_xlsx
from storage import media
from storage.db import writer
from storage.models import Media

log = logging.getLogger(__name__)


_TYPES = {"pdf": "application/pdf", "xlsx": XLSX}


class File(NamedTuple):
    name: str
    content_type: str
    body: bytes


def files(reply: Reply) -> list[File]:
    """What goes after a message's text, in order: the chart, then the tables."""
    found = [File("chart.png", "image/png", reply.image)] if reply.image else []
    for name, body in reply.documents:
        if name.endswith(".csv"):
            found.append(File(name.removesuffix(".csv") + ".xlsx", XLSX, as_xlsx(body)))
        else:  # Twilio checks the type: a PDF or workbook sent as bytes is refused
            found.append(File(name, _TYPES.get(name.rsplit(".", 1)[-1], "application/pdf"), body))
    return found


class Shelf:
    """Files kept for Twilio to fetch; `url` is where it will find one."""

    def __init__(self, engine: Engine, config: WhatsApp,
                 clock: Callable[[], datetime]) -> None:
        self.engine, self.config, self.clock = engine, config, clock

    def put(self, file: File, now: datetime) -> str:
        with Db(writer(self.engine)) as db, db.begin():
            token = media.keep(db, file.name, file.content_type, file.body, now)
        return f"{self.config.public_url}{self.config.media_path}/{token}/{file.name}"

    def route(self) -> Route:
        async def serve(request: Request) -> Response:
            found = await run_in_threadpool(self._find, request.path_params["token"])
            if found is None or found.name != request.path_params["name"]:
                return Response(status_code=404)
            # Twilio checks the type against the file and shows the name to the officer.
            return Response(found.body, media_type=found.content_type, headers={
                "Content-Disposition": f'inline; filename="{found.name}"',
                "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})

        return Route(self.config.media_path + "/{token}/{name}", serve, methods=["GET", "HEAD"])

    def _find(self, token: str) -> Media | None:
        with Db(self.engine) as db:
            found = media.find(db, token, self.clock())
            if found is not None:
                db.expunge(found)  # read after the session closes
            return found
