"""The poster as a vector PDF (fpdf2, text shaped by HarfBuzz; fonts embedded)."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

from bot.posters.fonts import font_file
from bot.posters.layout import Box, Code, Line, Op, Picture

PT = 25.4 / 72  # millimetres per point


def _rgb(color: str) -> tuple[int, int, int]:
    color = color.lstrip("#")
    return int(color[0:2], 16), int(color[2:4], 16), int(color[4:6], 16)


def _document() -> FPDF:
    pdf = FPDF(orientation="portrait", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margin(0)
    pdf.add_font("latin", "", str(font_file(False, False)))
    pdf.add_font("latin", "B", str(font_file(False, True)))
    pdf.add_font("deva", "B", str(font_file(True, True)))  # Hindi is always bold
    pdf.set_fallback_fonts(["deva"], exact_match=False)
    pdf.set_text_shaping(True)
    pdf.add_page()
    return pdf


def _line(pdf: FPDF, line: Line) -> None:
    size = line.size
    pdf.set_font("latin", "B" if line.bold else "", size)
    while size > 6 and pdf.get_string_width(line.text) > line.w:
        size *= 0.95
        pdf.set_font_size(size)
    pdf.set_text_color(*_rgb(line.color))
    height = size * PT
    pdf.set_xy(line.x, line.y - 0.8 * height)  # cell top, so the baseline lands near y
    pdf.cell(line.w, height, line.text, align="C" if line.centred else "L")


def _code(pdf: FPDF, code: Code) -> None:
    n = len(code.modules)
    module = code.size / n
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(code.modules):
        c = 0
        while c < n:  # one rectangle per run of dark modules: a small, exact PDF
            if not row[c]:
                c += 1
                continue
            start = c
            while c < n and row[c]:
                c += 1
            pdf.rect(code.x + start * module, code.y + r * module, (c - start) * module,
                     module, style="F")


def render_pdf(ops: list[Op], path: Path) -> None:
    pdf = _document()
    for op in ops:
        if isinstance(op, Box):
            pdf.set_fill_color(*_rgb(op.fill))
            pdf.rect(op.x, op.y, op.w, op.h, style="F")
        elif isinstance(op, Line):
            _line(pdf, op)
        elif isinstance(op, Picture):
            pdf.image(op.path, x=op.x, y=op.y, w=op.w, h=op.h, keep_aspect_ratio=True)
        else:
            _code(pdf, op)
    pdf.output(str(path))
