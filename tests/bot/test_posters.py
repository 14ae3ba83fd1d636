"""QR posters: every code decodes to its link, also as a phone sees it at 1 m; Hindi is shaped."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import cv2
import numpy as np
import pytest
import yaml
from PIL import Image, ImageChops, ImageDraw, ImageFont

from bot.posters.fonts import font_file, runs
from bot.posters.links import telegram_link, whatsapp_link
from scheduler.config import ConfigError
from tests.conftest import ROOT, SAMPLE_CONFIG

PRAYAS = str(Path(sys.executable).parent / "prayas")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PRAYAS, *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **(env or {})}, timeout=300)


def decode(image: np.ndarray) -> set[str]:
    found, texts, _, _ = cv2.QRCodeDetector().detectAndDecodeMulti(image)
    return {t for t in texts if t} if found else set()


def as_phone_sees_it(path: Path) -> np.ndarray:
    """A 12 MP photo (4000 px across) of 1.4 m of wall, taken from 1 m: ~2.9 px per mm."""
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    width = round(210 * 4000 / 1400)
    height = round(image.shape[0] * width / image.shape[1])
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


@pytest.fixture
def two_channel_config(tmp_path: Path) -> Path:
    config = yaml.safe_load(SAMPLE_CONFIG.read_text(encoding="utf-8"))
    config["whatsapp"]["number"] = "+91 77000 12345"
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def test_both_codes_decode_to_their_links_up_close_and_from_a_metre(
        two_channel_config: Path, tmp_path: Path) -> None:
    out = tmp_path / "posters"
    result = run("--config", str(two_channel_config), "qr", "--out", str(out),
                 "--station", "BLB05", "--station", "BLB17")
    assert result.returncode == 0, result.stderr
    for code in ("BLB05", "BLB17"):
        telegram = f"https://t.me/BalodabazarPrayasBot?start={code}"
        whatsapp = ("https://wa.me/917700012345?text="
                    f"%E0%A4%AB%E0%A5%80%E0%A4%A1%E0%A4%AC%E0%A5%88%E0%A4%95%20{code}")
        assert unquote(whatsapp.split("text=")[1]) == f"फीडबैक {code}"
        png = out / f"{code}.png"
        with Image.open(png) as image:
            assert image.size == (2480, 3508) and round(image.info["dpi"][0]) == 300
        assert decode(cv2.imread(str(png), cv2.IMREAD_GRAYSCALE)) == {telegram, whatsapp}
        assert decode(as_phone_sees_it(png)) == {telegram, whatsapp}
        assert (out / f"{code}.pdf").read_bytes().startswith(b"%PDF")
    with (out / "index.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["code"] for r in rows] == ["BLB05", "BLB17"]
    assert rows[0]["telegram_link"].endswith("start=BLB05") and rows[0]["name_hi"] == "थाना सिमगा"


def test_every_station_of_the_sample_gets_a_poster(tmp_path: Path) -> None:
    out = tmp_path / "posters"
    result = run("qr", "--out", str(out), "--format", "png")
    assert result.returncode == 0, result.stderr
    codes = [s["code"] for d in yaml.safe_load(SAMPLE_CONFIG.read_text(encoding="utf-8"))[
        "districts"] for s in d["stations"]]
    for code in codes:
        assert decode(as_phone_sees_it(out / f"{code}.png")) == {
            f"https://t.me/BalodabazarPrayasBot?start={code}"}


def _draw(text: str, layout: ImageFont.Layout) -> Image.Image:
    font = ImageFont.truetype(str(font_file(True, False)), 60, layout_engine=layout)
    image = Image.new("L", (400, 100), 255)
    ImageDraw.Draw(image).text((10, 10), text, font=font, fill=0)
    return image


@pytest.mark.parametrize("word", ["सिमगा", "क्षेत्र", "प्रयास", "किरायेदार"])
def test_hindi_is_shaped_not_just_strung_together(word: str) -> None:
    shaped, unshaped = _draw(word, ImageFont.Layout.RAQM), _draw(word, ImageFont.Layout.BASIC)
    assert ImageChops.difference(shaped, unshaped).getbbox() is not None


def test_the_i_matra_is_drawn_before_its_consonant() -> None:
    # In "कि" the matra ि comes after क in memory but stands to its left on paper.
    ki, ka = _draw("कि", ImageFont.Layout.RAQM), _draw("क", ImageFont.Layout.RAQM)
    left_ki = ImageChops.invert(ki).getbbox()[0]  # type: ignore[index]
    left_ka = ImageChops.invert(ka).getbbox()[0]  # type: ignore[index]
    assert left_ki <= left_ka


def test_mixed_text_goes_to_fonts_that_have_it() -> None:
    assert runs("थाना सिमगा · Simga") == [(True, "थाना सिमगा "), (False, "· Simga")]


def test_links_follow_the_platform_rules() -> None:
    assert telegram_link("PrayasBot", "BLB05") == "https://t.me/PrayasBot?start=BLB05"
    with pytest.raises(ConfigError):
        telegram_link("PrayasBot", "BLB 05")
    with pytest.raises(ConfigError):
        telegram_link("", "BLB05")
    assert whatsapp_link("+91 77000-12345", "a b&c") == "https://wa.me/917700012345?text=a%20b%26c"
    with pytest.raises(ConfigError):
        whatsapp_link("call me", "x")


@pytest.mark.parametrize(("args", "env", "needle"), [
    (["--station", "NOPE"], {}, "no station with code 'NOPE'"),
    (["--channel", "whatsapp"], {}, "whatsapp.number is empty"),
    (["--format", "gif"], {}, "'gif'; use any of png, pdf"),
])
def test_mistakes_get_one_clear_line(tmp_path: Path, args: list[str], env: dict[str, str],
                                     needle: str) -> None:
    result = run("qr", "--out", str(tmp_path / "p"), *args, env=env)
    assert result.returncode == 2 and needle in result.stderr and "Traceback" not in result.stderr


def test_unwritable_out_and_missing_fonts(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run("qr", "--out", str(blocker / "posters"), "--station", "BLB05")
    assert result.returncode == 2 and "cannot write posters there" in result.stderr
    result = run("qr", "--out", str(tmp_path / "p"), "--station", "BLB05",
                 env={"PRAYAS_FONT_DIR": str(tmp_path)})
    assert result.returncode == 2 and "font file missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_logo_from_the_config(tmp_path: Path) -> None:
    logo = tmp_path / "logo.png"
    badge = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    ImageDraw.Draw(badge).ellipse((10, 10, 390, 390), fill=(200, 30, 30, 255))
    badge.save(logo)
    config = yaml.safe_load(SAMPLE_CONFIG.read_text(encoding="utf-8"))
    config["campaign"]["logo"] = "logo.png"  # relative to the config file
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "posters"
    result = run("--config", str(path), "qr", "--out", str(out), "--station", "BLB05")
    assert result.returncode == 0, result.stderr
    with Image.open(out / "BLB05.png") as poster:
        corner = poster.convert("RGB").crop((60, 60, 410, 410))
        assert (200, 30, 30) in {c for _, c in corner.getcolors(1 << 16)}  # type: ignore[union-attr]
    assert decode(as_phone_sees_it(out / "BLB05.png")) == {
        "https://t.me/BalodabazarPrayasBot?start=BLB05"}
    logo.unlink()
    result = run("--config", str(path), "qr", "--out", str(out), "--station", "BLB05")
    assert result.returncode == 2 and "campaign.logo" in result.stderr


def test_png_and_pdf_codes_are_the_same_size(tmp_path: Path) -> None:
    from bot.posters.layout import DOT, Code, poster
    from bot.posters.make import links, poster_text
    from scheduler.catalogs import Catalogs
    from scheduler.config import load_config

    config, catalogs = load_config(SAMPLE_CONFIG), Catalogs.load(["hi", "en"])
    district, station = next(config.stations())
    text = poster_text(config, catalogs, district, station,
                       links(config, catalogs, station.code, ("telegram",)))
    code = next(op for op in poster(text) if isinstance(op, Code))
    module = code.size / len(code.modules)
    assert abs(module / DOT - round(module / DOT)) < 1e-6 and code.size >= 80


def test_the_svg_poster_carries_the_same_codes(tmp_path: Path) -> None:
    import re
    import xml.etree.ElementTree as ET

    out = tmp_path / "posters"
    result = run("qr", "--out", str(out), "--station", "BLB05", "--format", "svg")
    assert result.returncode == 0, result.stderr
    root = ET.parse(out / "BLB05.svg").getroot()
    assert root.get("viewBox") == "0 0 210.0 297.0"
    paths = [p.get("d") or "" for p in root.iter("{http://www.w3.org/2000/svg}path")]
    assert len(paths) > 20 and all(paths)  # text is outlined: one path per line of text
    # Draw the QR path's rectangles back onto a bitmap and read the code from it.
    qr = next(p for p in root.iter("{http://www.w3.org/2000/svg}path")
              if p.get("shape-rendering") == "crispEdges").get("d")
    scale = 10  # pixels per mm
    canvas = Image.new("L", (210 * scale, 297 * scale), 255)
    draw = ImageDraw.Draw(canvas)
    for x, y, w, h in re.findall(r"M([\d.]+) ([\d.]+)h([\d.]+)v([\d.]+)h-[\d.]+z", qr or ""):
        x0, y0 = float(x) * scale, float(y) * scale
        draw.rectangle([x0, y0, x0 + float(w) * scale - 1, y0 + float(h) * scale - 1], fill=0)
    assert decode(np.array(canvas)) == {"https://t.me/BalodabazarPrayasBot?start=BLB05"}
