"""Load benchmark: simulated citizens through a fake Bot API against a real `prayas poll`.

Run:  .venv/bin/python bench/telegram_load.py [--citizens 200] [--think 0.5] [--arrive 1]
                                              [--open 10000]

In the same run, the same load goes to bench/floor_bot.py (one sendMessage per
message, nothing else): the floor no bot can beat. Reported: turns/s, p50/p99 reply
latency (update queued at the fake -> reply received by the fake), peak RSS of the
bot process; and the peak RSS after --open citizens each opened a conversation.
Only loopback traffic; every loop is bounded.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.telegram_api import FakeTelegram  # noqa: E402

SCRIPT = ["/start BLB05", "1", "1", "4", "हाँ", "2", "हाँ", "नहीं", "5", "अच्छा व्यवहार",
          "नहीं", "नहीं"]
PRAYAS = str(Path(sys.executable).parent / "prayas")


class Load:
    """Citizens as threads; each waits for the bot's reply before thinking and answering."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake
        self.events: dict[int, threading.Event] = {}
        self.replied_at: dict[int, float] = {}
        self.latencies: list[float] = []
        self.lock = threading.Lock()
        fake.on_send = self._on_send

    def _on_send(self, chat_id: int, _sent: object) -> None:
        self.replied_at[chat_id] = time.monotonic()
        event = self.events.get(chat_id)
        if event is not None:
            event.set()

    def citizen(self, chat_id: int, script: list[str], think: float, rng: random.Random,
                arrive: float = 0.0) -> None:
        event = self.events.setdefault(chat_id, threading.Event())
        time.sleep(rng.uniform(0, arrive))
        for text in script:
            event.clear()
            sent_at = time.monotonic()
            self.fake.message(chat_id, text)
            if not event.wait(60):
                raise RuntimeError(f"citizen {chat_id}: no reply to {text!r} within 60 s")
            with self.lock:
                self.latencies.append(self.replied_at[chat_id] - sent_at)
            if think:
                time.sleep(rng.uniform(0.5 * think, 1.5 * think))

    def run(self, chat_ids: range, script: list[str], think: float, parallel: int,
            arrive: float = 0.0) -> float:
        rng = random.Random(7)
        started = time.monotonic()
        pending = list(chat_ids)
        threads: list[threading.Thread] = []
        while pending or threads:
            while pending and len(threads) < parallel:
                chat = pending.pop(0)
                t = threading.Thread(target=self.citizen,
                                     args=(chat, script, think, random.Random(rng.random()),
                                           arrive))
                t.start()
                threads.append(t)
            threads[0].join()
            threads = [t for t in threads if t.is_alive()]
        return time.monotonic() - started


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start(argv: list[str], env: dict[str, str], fake: FakeTelegram) -> subprocess.Popen[bytes]:
    polls = fake.polls
    process = subprocess.Popen(argv, env=env)
    deadline = time.monotonic() + 60
    while fake.polls == polls:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{argv[1]} did not start")
        time.sleep(0.05)
    return process


def measure(name: str, argv: list[str], env: dict[str, str], citizens: int, think: float,
            arrive: float, open_conversations: int) -> dict[str, float]:
    fake = FakeTelegram().start()
    env = {**env, "TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_BASE_URL": fake.url}
    process = start(argv, env, fake)
    try:
        load = Load(fake)
        elapsed = load.run(range(1, citizens + 1), SCRIPT, think, parallel=citizens,
                           arrive=arrive)
        turns = len(load.latencies)
        latencies = sorted(load.latencies)
        result = {
            "turns": turns, "seconds": elapsed, "turns_per_s": turns / elapsed,
            "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[int(0.99 * (turns - 1))],
            "rss_mb": peak_rss_mb(process.pid),
        }
        if open_conversations:
            # Many citizens who scanned and stopped answering: state lives in the database.
            opener = Load(fake)
            first = 1_000_000
            opener.run(range(first, first + open_conversations), ["/start BLB06", "1"], 0.0,
                       parallel=64)
            result["rss_open_mb"] = peak_rss_mb(process.pid)
        print(f"{name}: {result}", flush=True)
        return result
    finally:
        process.terminate()
        process.wait(30)
        fake.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=200)
    parser.add_argument("--think", type=float, default=0.5, help="mean seconds between answers")
    parser.add_argument("--arrive", type=float, default=1.0,
                        help="citizens' first messages spread over this many seconds "
                             "(0: all at the same instant)")
    parser.add_argument("--floor-aiohttp", action="store_true",
                        help="the floor sends through Prayas's transport (aiohttp), "
                             "not python-telegram-bot's default (httpx)")
    parser.add_argument("--open", type=int, default=10_000,
                        help="conversations to open for the memory figure (0 to skip)")
    args = parser.parse_args()

    data = Path(tempfile.mkdtemp(prefix="prayas-bench-"))
    env = {**os.environ, "PRAYAS_DATA_DIR": str(data), "PRAYAS_HMAC_KEY": "b" * 40}
    env.pop("DATABASE_URL", None)
    try:
        floor_argv = [sys.executable, str(ROOT / "bench" / "floor_bot.py")]
        floor = measure("floor", floor_argv + (["--aiohttp"] if args.floor_aiohttp else []), env,
                        args.citizens, args.think, args.arrive, 0)
        prayas = measure("prayas", [PRAYAS, "--config", str(ROOT / "config.yaml"), "poll"], env,
                         args.citizens, args.think, args.arrive, args.open)
    finally:
        shutil.rmtree(data, ignore_errors=True)
    print()
    print(f"citizens={args.citizens} think={args.think}s arrive={args.arrive}s "
          f"turns={prayas['turns']:.0f}")
    print(f"turns/s   prayas {prayas['turns_per_s']:.1f}  floor {floor['turns_per_s']:.1f}  "
          f"ratio {prayas['turns_per_s'] / floor['turns_per_s']:.2f}  (target >= 0.85)")
    print(f"p50 ms    prayas {prayas['p50_ms']:.1f}  floor {floor['p50_ms']:.1f}")
    print(f"p99 ms    prayas {prayas['p99_ms']:.1f}  floor {floor['p99_ms']:.1f}  "
          f"ratio {prayas['p99_ms'] / floor['p99_ms']:.2f}  (target <= 1.5)")
    print(f"peak RSS  prayas {prayas['rss_mb']:.0f} MB  floor {floor['rss_mb']:.0f} MB")
    if "rss_open_mb" in prayas:
        print(f"peak RSS with {args.open} conversations open: {prayas['rss_open_mb']:.0f} MB "
              "(target <= 150)")


if __name__ == "__main__":
    main()
