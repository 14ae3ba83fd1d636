"""`prayas qr`: a poster per station (PNG and PDF), and an index of every station's links."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bot.posters import layout as L
from bot.posters.fonts import PosterError
from bot.posters.links import telegram_link, whatsapp_link
from conversations.effects import Msg
from scheduler.catalogs import Catalogs
from scheduler.config import Config, ConfigError, District, Station

FORMATS = ("png", "pdf", "svg")
CHANNELS = ("telegram", "whatsapp")


@dataclass(frozen=True)
class Job:
    code: str
    text: L.PosterText
    formats: tuple[str, ...]
    out: Path


def configured_channels(config: Config) -> tuple[str, ...]:
    found = []
    if config.telegram.bot_username:
        found.append("telegram")
    if config.whatsapp.number:
        found.append("whatsapp")
    return tuple(found)


def links(config: Config, catalogs: Catalogs, code: str,
          channels: Iterable[str]) -> dict[str, str]:
    result = {}
    for channel in channels:
        if channel == "telegram":
            result[channel] = telegram_link(config.telegram.bot_username, code)
        else:
            prefilled = catalogs.text("hi", Msg.of(L.PREFILLED, code=code))
            result[channel] = whatsapp_link(config.whatsapp.number, prefilled)
    return result


def poster_text(config: Config, catalogs: Catalogs, district: District, station: Station,
                channel_links: dict[str, str], logo: Path | None = None) -> L.PosterText:
    def both(msgid: str) -> tuple[str, str]:
        return catalogs.text("hi", msgid), catalogs.text("en", msgid)

    return L.PosterText(
        title_hi=config.campaign.title_hi, title_en=config.campaign.title_en,
        station_hi=station.name_hi, station_en=station.name_en,
        office_hi=_footer(district.sp_office.name_hi, district.name_hi),
        office_en=_footer(district.sp_office.name_en, district.name_en),
        steps=(both(L.STEP_SCAN), both(L.STEP_ANSWER), both(L.STEP_DONE)),
        private=both(L.PRIVATE), code_hint=both(L.CODE_HINT), code=station.code,
        reach="  ·  ".join(_reach(config, catalogs.text("hi", L.CHANNEL_NAMES[c]), c)
                           for c in channel_links),
        logo=str(logo) if logo else "",
        channels=tuple((*both(L.CHANNEL_NAMES[c]), link) for c, link in channel_links.items()),
    )


def _footer(office: str, district: str) -> str:
    """The SP office, and the district unless the office's name already says where."""
    places = [p for p in district.replace("-", " ").split() if len(p) > 2]
    return office if any(p in office for p in places) else f"{office} · {district}"


def _reach(config: Config, name: str, channel: str) -> str:
    """Where to send the code by hand, the channel named in Hindi: "टेलीग्राम @…"."""
    if channel == "telegram":
        return f"{name} @{config.telegram.bot_username}"
    return f"{name} {config.whatsapp.number}"


def _render(job: Job) -> str:
    from bot.posters.raster import render_png
    from bot.posters.vector import render_pdf
    from bot.posters.vector_svg import render_svg

    ops = L.poster(job.text)
    if "png" in job.formats:
        render_png(ops, job.out / f"{job.code}.png")
    if "pdf" in job.formats:
        render_pdf(ops, job.out / f"{job.code}.pdf")
    if "svg" in job.formats:
        render_svg(ops, job.out / f"{job.code}.svg", f"{job.text.station_hi} · {job.code}")
    return job.code


def make_posters(config: Config, catalogs: Catalogs, codes: list[str] | None,
                 channels: tuple[str, ...] | None, formats: tuple[str, ...], out: Path,
                 tick: Callable[[], None] = lambda: None, logo: Path | None = None) -> int:
    """Write the posters and `index.csv`; returns how many stations got a poster."""
    channels = channels or configured_channels(config)
    if not channels:
        raise ConfigError("no channel to put on the posters: set telegram.bot_username "
                          "and/or whatsapp.number in the config")
    stations = _chosen(config, codes)
    if "png" in formats:
        from bot.posters.raster import check_shaping

        check_shaping()
    if logo is not None and not logo.is_file():
        raise PosterError(f"campaign.logo {logo}: file not found; give a PNG or JPEG path "
                          "relative to the config file, or leave it empty")
    _writable(out)
    jobs, index = [], []
    for district, station in stations:
        channel_links = links(config, catalogs, station.code, channels)
        text = poster_text(config, catalogs, district, station, channel_links, logo)
        jobs.append(Job(station.code, text, formats, out))
        index.append([station.code, station.kind, station.name_hi, station.name_en,
                      district.code, channel_links.get("telegram", ""),
                      channel_links.get("whatsapp", ""),
                      " ".join(f"{station.code}.{f}" for f in formats)])
    workers = min(os.cpu_count() or 1, len(jobs))
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            for _ in pool.map(_render, jobs, chunksize=4):
                tick()
    else:
        for job in jobs:
            _render(job)
            tick()
    with (out / "index.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["code", "kind", "name_hi", "name_en", "district", "telegram_link",
                         "whatsapp_link", "files"])
        writer.writerows(index)
    return len(jobs)


def _chosen(config: Config, codes: list[str] | None) -> list[tuple[District, Station]]:
    everything = list(config.stations())
    if not codes:
        return everything
    chosen = []
    for code in codes:
        match = [(d, s) for d, s in everything if s.code.upper() == code.upper()]
        if not match:
            raise ConfigError(f"no station with code {code!r} (see `prayas stations`)")
        chosen += match
    return chosen


def _writable(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".prayas-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise PosterError(f"{out}: cannot write posters there ({exc.strerror}); "
                          "choose another --out") from None
