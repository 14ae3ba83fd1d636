"""The WhatsApp turn's own CPU: the `prayas serve` ASGI app driven in-process.

Run:  .venv/bin/python bench/whatsapp_turn_cpu.py [ROOT] [--citizens 420] [--parallel 32]
      bench/turn_instructions.sh [ROOT]    # the same turns counted in instructions

No sockets and no load generator: pre-signed Twilio forms go straight into the ASGI
app (a real WhatsAppChannel, FeedbackService and SQLite), 32 citizens at once, and the
process's CPU (getrusage) is divided by the turns. `bench/whatsapp_load.py` measures
the same server behind uvicorn, sharing the machine with its load generator; this one
shows what a change to the turn itself is worth, with much less noise. ROOT (default:
this checkout) may be another worktree, to compare two commits in the same hour.
`--parallel 8` makes groups of about the size `prayas serve` stores under
whatsapp_load.py's load (32 at once there, most of them in the load generator).
`--presign` signs that many citizens' forms before anything is measured, so that two
runs of different lengths differ by their turns alone (turn_instructions.sh).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml

SCRIPT = ["फीडबैक BLB05", "1", "1", "4", "हाँ", "2", "हाँ", "नहीं", "5", "अच्छा व्यवहार",
          "नहीं", "नहीं"]
ACCOUNT_SID, AUTH_TOKEN, PUBLIC = "AC" + "0" * 32, "bench-auth-token", "http://bench.local"
WARM_UP = 20  # citizens before the measurement: caches, statements, the first pages


def _environment(root: Path) -> Path:
    work = Path(tempfile.mkdtemp(prefix="prayas-turn-"))
    config = yaml.safe_load((root / "config.yaml").read_text(encoding="utf-8"))
    config["whatsapp"] = {"number": "+91 77000 12345", "public_url": PUBLIC}
    (work / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True),
                                      encoding="utf-8")
    os.environ.update({"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                       "TWILIO_API_BASE_URL": "http://127.0.0.1:9",
                       "PRAYAS_DATA_DIR": str(work), "PRAYAS_HMAC_KEY": "b" * 40,
                       "DATABASE_URL": f"sqlite:///{work / 'prayas.db'}"})
    return work


async def run(root: Path, citizens: int, parallel: int, presign: int) -> None:
    work = _environment(root)
    try:
        await _measure(root, work, citizens, parallel, max(presign, citizens))
    finally:
        shutil.rmtree(work, ignore_errors=True)


async def _measure(root: Path, work: Path, citizens: int, parallel: int,
                   presign: int) -> None:
    from twilio.request_validator import RequestValidator

    from bot.app import Runtime, build_app
    from bot.environment import Environment
    from bot.web import create_web_app

    app = build_app(work / "config.yaml")
    web = create_web_app(Runtime(app, Environment.read(), whatsapp=True))
    validator, sids = RequestValidator(AUTH_TOKEN), itertools.count(1)

    def signed(number: int, text: str) -> tuple[bytes, str]:
        sid, urn = f"SM{next(sids):032x}", f"whatsapp:+9198{number:08d}"
        form = {"SmsMessageSid": sid, "MessageSid": sid, "AccountSid": ACCOUNT_SID,
                "From": urn, "To": "whatsapp:+917700012345", "Body": text, "NumMedia": "0",
                "ProfileName": "Citizen", "WaId": urn.removeprefix("whatsapp:+"),
                "ApiVersion": "2010-04-01"}
        signature = validator.compute_signature(f"{PUBLIC}/whatsapp/webhook", form)
        return urlencode(form).encode(), signature

    async def post(body: bytes, signature: str) -> None:
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "POST", "scheme": "http", "path": "/whatsapp/webhook",
                 "raw_path": b"/whatsapp/webhook", "query_string": b"", "root_path": "",
                 "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 50000),
                 "headers": [(b"host", b"127.0.0.1:8000"),
                             (b"content-type", b"application/x-www-form-urlencoded"),
                             (b"x-twilio-signature", signature.encode())]}
        incoming = iter([{"type": "http.request", "body": body, "more_body": False}])
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return next(incoming, {"type": "http.disconnect"})

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await web(scope, receive, send)
        if sent[0]["status"] != 200:
            raise RuntimeError(f"HTTP {sent[0]['status']}")

    lifespan: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    stopping = asyncio.Event()
    steps = iter([{"type": "lifespan.startup"}])

    async def life_receive() -> dict[str, Any]:
        step = next(steps, None)
        if step is None:
            await stopping.wait()
            return {"type": "lifespan.shutdown"}
        return step

    async def life_send(message: dict[str, Any]) -> None:
        await lifespan.put(message)

    life = asyncio.create_task(web({"type": "lifespan", "asgi": {"version": "3.0"}},
                                   life_receive, life_send))
    await lifespan.get()
    forms = {n: [signed(n, text) for text in SCRIPT] for n in range(presign)}
    gate = asyncio.Semaphore(parallel)

    async def citizen(number: int) -> None:
        async with gate:
            for body, signature in forms[number]:
                await post(body, signature)

    await asyncio.gather(*(citizen(n) for n in range(WARM_UP)))
    before, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    await asyncio.gather(*(citizen(n) for n in range(WARM_UP, citizens)))
    after, elapsed = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - started
    turns = (citizens - WARM_UP) * len(SCRIPT)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    print(f"{turns} turns: CPU {1000 * cpu / turns:.3f} ms a turn, "
          f"wall {1000 * elapsed / turns:.3f} ms a turn ({root})")
    stopping.set()
    await life


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default=str(Path(__file__).resolve().parent.parent))
    parser.add_argument("--citizens", type=int, default=420)
    parser.add_argument("--parallel", type=int, default=32, help="citizens at once")
    parser.add_argument("--presign", type=int, default=0,
                        help="citizens whose forms are signed first (at least --citizens)")
    args = parser.parse_args()
    if args.citizens <= WARM_UP:
        parser.error(f"--citizens must be more than the {WARM_UP} who warm up")
    root = Path(args.root).resolve()
    sys.path.insert(0, str(root))  # that checkout's code, not the installed one
    asyncio.run(run(root, args.citizens, args.parallel, args.presign))


if __name__ == "__main__":
    main()
