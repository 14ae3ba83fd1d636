"""The floor for WhatsApp: the same web stack (Starlette on uvicorn) answering every
webhook with one fixed TwiML message. No signature, no database, no engine: no real
webhook can be faster on this machine.

Run:  python bench/floor_twiml.py PORT
"""

from __future__ import annotations

import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

FIXED = ('<?xml version="1.0" encoding="UTF-8"?><Response><Message>ठीक है</Message>'
         '</Response>').encode()


async def webhook(request: Request) -> Response:
    await request.body()  # the request is read, as any endpoint must
    return Response(FIXED, media_type="application/xml")


if __name__ == "__main__":
    web = Starlette(routes=[Route("/whatsapp/webhook", webhook, methods=["POST"])])
    uvicorn.run(web, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
                access_log=False)
