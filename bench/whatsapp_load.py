"""Load benchmark: signed Twilio webhooks against a real `prayas serve` (WhatsApp).

Run:  .venv/bin/python bench/whatsapp_load.py [--citizens 400] [--parallel 32] [--rounds 5]
                                             [--pin]

Each citizen sends a whole Hindi feedback (12 messages) as Twilio would: a form,
signed with RequestValidator's algorithm over the public URL, one message after the
reply to the last. `--parallel` citizens talk at once (a closed loop: as fast as the
server answers). In the same run, the same load goes to bench/floor_twiml.py, the
same web stack answering fixed TwiML. Both servers run throughout, and the load goes to
one then the other, `--rounds` times: the machine is shared, its speed drifts from
minute to minute, and rounds taken in turns let the drift weigh on both alike.
Reported: the medians over the rounds of turns/s and p50/p99 latency of each, the
ratio of each round, and the peak RSS of each server. Only loopback traffic.

The load generator is Python too, and by default shares both cores with the server it
measures. `--pin` gives each server core 1 and the generator core 0, as a load test
on separate machines would: the server's figures are then its own, not how the
scheduler happened to share a core with its client.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import yaml
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
PRAYAS = str(Path(sys.executable).parent / "prayas")
SCRIPT = ["फीडबैक BLB05", "1", "1", "4", "हाँ", "2", "हाँ", "नहीं", "5", "अच्छा व्यवहार",
          "नहीं", "नहीं"]
ACCOUNT_SID, AUTH_TOKEN = "AC" + "0" * 32, "bench-auth-token"
PATH = "/whatsapp/webhook"
_sids = itertools.count(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process (all its threads) has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    """This process's CPU seconds: the load generator's (signing, HTTP client)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def citizen(session: aiohttp.ClientSession, url: str, public: str, number: int,
                  latencies: list[float], check: bool) -> None:
    validator = RequestValidator(AUTH_TOKEN)
    urn = f"whatsapp:+9198{number:08d}"
    last = ""
    for text in SCRIPT:
        sid = f"SM{next(_sids):032x}"
        form = {"SmsMessageSid": sid, "MessageSid": sid, "AccountSid": ACCOUNT_SID,
                "From": urn, "To": "whatsapp:+917700012345", "Body": text, "NumMedia": "0",
                "ProfileName": "Citizen", "WaId": urn.removeprefix("whatsapp:+"),
                "ApiVersion": "2010-04-01"}
        signature = validator.compute_signature(public + PATH, form)
        started = time.perf_counter()
        async with session.post(url + PATH, data=form,
                                headers={"X-Twilio-Signature": signature}) as response:
            last = await response.text()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status} for citizen {number}")
        latencies.append(time.perf_counter() - started)
    if check and "FB-" not in last:
        raise RuntimeError(f"citizen {number} did not complete: {last[-200:]}")


async def load(url: str, public: str, citizens: range, parallel: int,
               check: bool) -> tuple[float, list[float]]:
    latencies: list[float] = []
    gate = asyncio.Semaphore(parallel)
    connector = aiohttp.TCPConnector(limit=parallel)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def one(number: int) -> None:
            async with gate:
                await citizen(session, url, public, number, latencies, check)

        started = time.perf_counter()
        await asyncio.gather(*(one(n) for n in citizens))
        return time.perf_counter() - started, latencies


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(process.stderr.read().decode())  # type: ignore[union-attr]
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except Exception as exc:  # 405 on the floor's POST-only route means it is up
            if getattr(exc, "code", None) in (200, 404, 405):
                return
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not start")


def start(argv: list[str], env: dict[str, str], port: int,
          pin: bool) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE)
    if pin:  # the server on one core, this load generator on another: no fight for either
        os.sched_setaffinity(process.pid, {1})
        os.sched_setaffinity(0, {0})
    try:
        wait_ready(f"http://127.0.0.1:{port}/healthz", process)
    except BaseException:
        stop(process)
        raise
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(20)


def measure(process: subprocess.Popen[bytes], port: int, citizens: range, parallel: int,
            check: bool) -> dict[str, float]:
    """One round of load on one running server."""
    url = f"http://127.0.0.1:{port}"
    cpu, own = cpu_seconds(process.pid), _own_cpu()
    seconds, latencies = asyncio.run(load(url, url, citizens, parallel, check))
    cpu, own = cpu_seconds(process.pid) - cpu, _own_cpu() - own
    latencies.sort()
    return {"turns_s": len(latencies) / seconds, "cpu_ms": cpu / len(latencies) * 1000,
            "load_cpu_ms": own / len(latencies) * 1000,
            "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=400, help="citizens a round")
    parser.add_argument("--parallel", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5,
                        help="rounds of Prayas then the floor, taken in turns")
    parser.add_argument("--pin", action="store_true",
                        help="run each server on CPU 1 and the load generator on CPU 0")
    args = parser.parse_args()
    if args.pin and not {0, 1} <= os.sched_getaffinity(0):
        parser.error("--pin needs CPUs 0 and 1")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    work = Path(tempfile.mkdtemp(prefix="prayas-bench-"))
    servers: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
    rounds: dict[str, list[dict[str, float]]] = {"prayas": [], "floor": []}
    try:
        port, floor_port = free_port(), free_port()
        config = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
        config["whatsapp"] = {"number": "+91 77000 12345",
                              "public_url": f"http://127.0.0.1:{port}"}
        (work / "config.yaml").write_text(yaml.safe_dump(config, allow_unicode=True),
                                          encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
        env.update({"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                    "TWILIO_API_BASE_URL": "http://127.0.0.1:9", "PRAYAS_DATA_DIR": str(work),
                    "DATABASE_URL": f"sqlite:///{work / 'prayas.db'}"})
        servers["prayas"] = (start([PRAYAS, "--config", str(work / "config.yaml"), "serve",
                                    "--port", str(port)], env, port, args.pin), port)
        servers["floor"] = (start([sys.executable, str(ROOT / "bench" / "floor_twiml.py"),
                                   str(floor_port)], env, floor_port, args.pin), floor_port)
        # Taken in turns, so that the machine's mood (it is shared) weighs on both alike.
        for number in range(args.rounds):
            citizens = range(number * args.citizens, (number + 1) * args.citizens)
            for name, (process, server_port) in servers.items():
                rounds[name].append(measure(process, server_port, citizens, args.parallel,
                                            check=name == "prayas"))
            print(f"round {number + 1}: prayas {rounds['prayas'][-1]['turns_s']:.1f}, floor "
                  f"{rounds['floor'][-1]['turns_s']:.1f} turns/s, ratio "
                  f"{rounds['prayas'][-1]['turns_s'] / rounds['floor'][-1]['turns_s']:.2f}",
                  file=sys.stderr)
        rss = {name: peak_rss_mb(process.pid) for name, (process, _) in servers.items()}
    finally:
        for process, _ in servers.values():
            stop(process)
        shutil.rmtree(work, ignore_errors=True)
    report(args, rounds, rss)


def report(args: argparse.Namespace, rounds: dict[str, list[dict[str, float]]],
           rss: dict[str, float]) -> None:
    def median(name: str, key: str) -> float:
        return statistics.median(r[key] for r in rounds[name])

    ratios = [p["turns_s"] / f["turns_s"] for p, f in zip(rounds["prayas"], rounds["floor"],
                                                         strict=True)]
    print(f"{args.citizens} citizens x {len(SCRIPT)} messages a round, {args.parallel} at once, "
          f"{args.rounds} rounds each; medians")
    print(f"turns/s   prayas {median('prayas', 'turns_s'):.1f}  floor "
          f"{median('floor', 'turns_s'):.1f}  ratio {statistics.median(ratios):.2f} "
          f"(rounds: {', '.join(f'{r:.2f}' for r in ratios)}; target >= 0.7)")
    print(f"p50       prayas {median('prayas', 'p50_ms'):.1f} ms  floor "
          f"{median('floor', 'p50_ms'):.1f} ms")
    print(f"p99       prayas {median('prayas', 'p99_ms'):.1f} ms  floor "
          f"{median('floor', 'p99_ms'):.1f} ms  ratio "
          f"{median('prayas', 'p99_ms') / median('floor', 'p99_ms'):.2f}")
    print(f"CPU/turn  prayas {median('prayas', 'cpu_ms'):.2f} ms  floor "
          f"{median('floor', 'cpu_ms'):.2f} ms (the server process, all threads)")
    print(f"load generator CPU/turn  {median('prayas', 'load_cpu_ms'):.2f} ms (with prayas)  "
          f"{median('floor', 'load_cpu_ms'):.2f} ms (with the floor); the machine has "
          f"{os.cpu_count()} cores for both")
    print(f"peak RSS  prayas {rss['prayas']:.0f} MB  floor {rss['floor']:.0f} MB")


if __name__ == "__main__":
    main()
