"""Benchmark: posters (PNG 300 dpi + vector PDF) for a state-sized batch of stations.

Run:  .venv/bin/python bench/posters_bench.py [--stations 1000]

Builds a config with N stations from the sample district's names, then times the same
code `prayas qr` runs (all cores). Target: 1,000 stations' PNG + PDF in at most 120 s on
2 cores.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.posters.make import make_posters  # noqa: E402
from scheduler.catalogs import Catalogs  # noqa: E402
from scheduler.config import Config  # noqa: E402


def state_config(stations: int) -> Config:
    sample = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    template = sample["districts"][0]["stations"]
    sample["districts"][0]["stations"] = [
        {**template[n % len(template)], "code": f"ST{n:05d}"} for n in range(stations)]
    sample["whatsapp"]["number"] = "+91 77000 12345"  # both codes on every poster
    return Config.model_validate(sample)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=1000)
    args = parser.parse_args()
    config = state_config(args.stations)
    catalogs = Catalogs.load(["hi", "en"])
    out = Path(tempfile.mkdtemp(prefix="prayas-posters-"))
    try:
        started = time.monotonic()
        made = make_posters(config, catalogs, None, None, ("png", "pdf"), out)
        elapsed = time.monotonic() - started
        size = sum(p.stat().st_size for p in out.iterdir()) / 1e6
    finally:
        shutil.rmtree(out, ignore_errors=True)
    print(f"{made} posters (PNG + PDF, two QR codes each) in {elapsed:.1f} s "
          f"({elapsed / made * 1000:.0f} ms each), {size:.0f} MB; target <= 120 s for 1,000")


if __name__ == "__main__":
    main()
