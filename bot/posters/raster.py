"""The poster as a 300 dpi PNG, drawn with Pillow and shaped by libraqm."""

from __future__ import annotations

import itertools
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageColor, ImageDraw, ImageFont, features

from bot.posters.fonts import PosterError, font_file, runs
from bot.posters.layout import HEIGHT, WIDTH, Box, Code, Line, Op, Picture

DPI = 300
PX = DPI / 25.4  # pixels per millimetre


def check_shaping() -> None:
    """Refuse to draw Hindi that would come out broken (matras misplaced, no conjuncts)."""
    if not features.check("raqm"):
        raise PosterError("Pillow cannot shape Devanagari here (its libraqm layout needs the "
                          "system's FriBiDi: apt-get install libfribidi0); no poster was made")


@lru_cache(maxsize=64)
def _font(devanagari: bool, bold: bool, size_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_file(devanagari, bold)), size_px,
                              layout_engine=ImageFont.Layout.RAQM)


def _width(pieces: list[tuple[bool, str]], bold: bool, size_px: int) -> float:
    return sum(_font(deva, bold, size_px).getlength(chunk) for deva, chunk in pieces)


def _line(draw: ImageDraw.ImageDraw, line: Line) -> None:
    pieces = runs(line.text)
    size_px = round(line.size * DPI / 72)
    room = line.w * PX
    while size_px > 8 and _width(pieces, line.bold, size_px) > room:
        size_px = int(size_px * 0.95)  # shrink a long name to fit rather than clip it
    x = line.x * PX
    if line.centred:
        x += (room - _width(pieces, line.bold, size_px)) / 2
    y = line.y * PX
    for deva, chunk in pieces:
        font = _font(deva, line.bold, size_px)
        draw.text((x, y), chunk, font=font, fill=line.color, anchor="ls")
        x += font.getlength(chunk)


def _code(image: Image.Image, code: Code) -> None:
    n = len(code.modules)
    module_px = round(code.size * PX / n)  # the layout sized it in whole dots
    small = Image.new("1", (n, n), 1)
    small.putdata([0 if dark else 1 for row in code.modules for dark in row])
    big = small.resize((n * module_px, n * module_px), Image.Resampling.NEAREST)
    image.paste(big.convert("RGB"), (round(code.x * PX), round(code.y * PX)))


def _picture(image: Image.Image, picture: Picture) -> None:
    try:
        with Image.open(picture.path) as opened:
            logo = opened.convert("RGBA")
            logo.thumbnail((round(picture.w * PX), round(picture.h * PX)))
    except OSError as exc:
        raise PosterError(f"campaign.logo {picture.path}: cannot read the image ({exc}); "
                          "use a PNG or JPEG file") from None
    x = round(picture.x * PX + (picture.w * PX - logo.width) / 2)
    y = round(picture.y * PX + (picture.h * PX - logo.height) / 2)
    image.paste(logo, (x, y), logo)


def _palette(ops: list[Op]) -> Image.Image:
    """Every blend between two of the poster's colours: anti-aliased edges survive the
    move to 8-bit colour, and the PNG is a third of the size and quicker to write."""
    colours = sorted({ImageColor.getrgb("white"), (0, 0, 0)} | {
        ImageColor.getrgb(op.fill if isinstance(op, Box) else op.color)
        for op in ops if isinstance(op, Box | Line)})
    entries: list[tuple[int, ...]] = []
    pairs = list(itertools.combinations(colours, 2))
    steps = max(2, min(16, 256 // max(1, len(pairs))))
    for a, b in pairs:
        entries += [tuple(round(x + (y - x) * i / (steps - 1)) for x, y in zip(a, b, strict=True))
                    for i in range(steps)]
    palette = Image.new("P", (1, 1))
    flat = [v for rgb in entries[:256] for v in rgb]
    palette.putpalette(flat + [0] * (768 - len(flat)))
    return palette


def render_png(ops: list[Op], path: Path) -> None:
    check_shaping()
    image = Image.new("RGB", (round(WIDTH * PX), round(HEIGHT * PX)), "white")
    draw = ImageDraw.Draw(image)
    for op in ops:
        if isinstance(op, Box):
            draw.rectangle([op.x * PX, op.y * PX, (op.x + op.w) * PX, (op.y + op.h) * PX],
                           fill=op.fill)
        elif isinstance(op, Line):
            _line(draw, op)
        elif isinstance(op, Picture):
            _picture(image, op)
        else:
            _code(image, op)
    if not any(isinstance(op, Picture) for op in ops):  # a logo keeps its own colours
        image = image.quantize(palette=_palette(ops), dither=Image.Dither.NONE)
    image.save(path, dpi=(DPI, DPI), compress_level=6)
