"""The poster as SVG, text turned into outlines after HarfBuzz shaping.

Outlines, not <text>: the SVG then looks the same everywhere, with correct Devanagari
even where the viewer has no Devanagari font or no shaping of its own.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

import uharfbuzz as hb
from fontTools.pens.svgPathPen import SVGPathPen
from fontTools.pens.transformPen import TransformPen
from fontTools.ttLib import TTFont

from bot.posters.fonts import font_file, runs
from bot.posters.layout import HEIGHT, WIDTH, Box, Code, Line, Op, Picture

PT = 25.4 / 72  # millimetres per point


class _Face:
    def __init__(self, devanagari: bool, bold: bool) -> None:
        path = font_file(devanagari, bold)
        self.glyphs = TTFont(path).getGlyphSet()
        self.names = TTFont(path).getGlyphOrder()
        blob = hb.Blob.from_file_path(str(path))
        self.face = hb.Face(blob)
        self.font = hb.Font(self.face)
        self.upem = self.face.upem

    def shape(self, text: str) -> list[tuple[int, int, int, int]]:
        buffer = hb.Buffer()
        buffer.add_str(text)
        buffer.guess_segment_properties()
        hb.shape(self.font, buffer)
        return [(info.codepoint, pos.x_advance, pos.x_offset, pos.y_offset)
                for info, pos in zip(buffer.glyph_infos, buffer.glyph_positions, strict=True)]


@lru_cache(maxsize=4)
def _face(devanagari: bool, bold: bool) -> _Face:
    return _Face(devanagari, bold)


def _width(line: Line, size: float) -> float:
    total = 0.0
    for deva, chunk in runs(line.text):
        face = _face(deva, line.bold)
        total += sum(g[1] for g in face.shape(chunk)) * size * PT / face.upem
    return total


def _text(line: Line) -> str:
    size = line.size
    while size > 6 and _width(line, size) > line.w:
        size *= 0.95
    x = line.x + ((line.w - _width(line, size)) / 2 if line.centred else 0)
    parts = []
    for deva, chunk in runs(line.text):
        face = _face(deva, line.bold)
        scale = size * PT / face.upem
        for gid, advance, dx, dy in face.shape(chunk):
            pen = SVGPathPen(face.glyphs)
            # font units, y up -> millimetres, y down, at the baseline
            moved = TransformPen(pen, (scale, 0, 0, -scale, x + dx * scale, line.y - dy * scale))
            face.glyphs[face.names[gid]].draw(moved)
            if d := pen.getCommands():
                parts.append(d)
            x += advance * scale
    return f'<path fill="{line.color}" d="{" ".join(parts)}"/>'


def _code(code: Code) -> str:
    module = code.size / len(code.modules)
    d = []
    for r, row in enumerate(code.modules):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            d.append(f"M{code.x + start * module:.3f} {code.y + r * module:.3f}"
                     f"h{(c - start) * module:.3f}v{module:.3f}h{-(c - start) * module:.3f}z")
    return f'<path fill="#000" shape-rendering="crispEdges" d="{"".join(d)}"/>'


def _picture(picture: Picture) -> str:
    data = base64.b64encode(Path(picture.path).read_bytes()).decode()
    kind = "png" if picture.path.lower().endswith(".png") else "jpeg"
    return (f'<image x="{picture.x}" y="{picture.y}" width="{picture.w}" height="{picture.h}" '
            f'preserveAspectRatio="xMidYMid meet" href="data:image/{kind};base64,{data}"/>')


def render_svg(ops: list[Op], path: Path, title: str = "") -> None:
    body = []
    for op in ops:
        if isinstance(op, Box):
            body.append(f'<rect x="{op.x}" y="{op.y}" width="{op.w}" height="{op.h}" '
                        f'fill="{op.fill}"/>')
        elif isinstance(op, Line):
            body.append(_text(op))
        elif isinstance(op, Picture):
            body.append(_picture(op))
        else:
            body.append(_code(op))
    path.write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}mm" height="{HEIGHT}mm" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}"><title>{escape(title)}</title>'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>{"".join(body)}</svg>\n',
        encoding="utf-8")
