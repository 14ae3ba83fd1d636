"""The monthly report as a PDF to print for the crime review meeting: A4 landscape, the
district first, then thanas, chowkis and offices, each ranked, with the change against
last month. Hindi shaped by HarfBuzz through fpdf2, in the posters' Noto fonts
(embedded, subset), as the posters are made (bot/posters/vector.py)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from fpdf import FPDF

from scheduler.errors import ConfigError
from scheduler.report import words as msg
from scheduler.report.numbers import Card, MonthlyReport
from scheduler.report.score import KINDS
from scheduler.report.words import Words

# The posters' fonts, shipped in the wheel beside this package: found by their path, as
# scheduler/ may not import bot/ (pyproject's import layers).
FONT_DIR = Path(os.environ.get("PRAYAS_FONT_DIR")
                or Path(__file__).resolve().parents[2] / "bot" / "posters" / "fonts")
FONTS = {("latin", ""): "NotoSans-Regular.ttf", ("latin", "B"): "NotoSans-Bold.ttf",
         ("deva", ""): "NotoSansDevanagari-Regular.ttf",
         ("deva", "B"): "NotoSansDevanagari-Bold.ttf"}
MARGIN, ROW, HEAD = 10.0, 6.0, 9.0  # mm
NAVY, GREY, ZEBRA, RULE = (11, 46, 107), (110, 110, 110), (243, 245, 249), (200, 205, 215)
GOOD, BAD = (30, 123, 52), (192, 57, 43)
Cell = tuple[str, str, tuple[int, int, int] | None]  # text, align (L/C/R), colour
Column = tuple[str, float, Callable[[Card, Words], Cell]]  # header, width, cell


def _plain(text: str) -> Cell:
    return text, "R", None


def _signed(text: str, better: bool | None) -> Cell:
    """A change, green when for the better, red when for the worse; none when it
    rounds to nothing."""
    moved = text[:1] in ("+", "\u2212")
    return text, "R", None if better is None or not moved else GOOD if better else BAD


def _of(kept: int, due: int, words: Words) -> Cell:
    """"3/4": kept of due; a dash when nothing was due."""
    return _plain(f"{kept}/{due}" if due else words(msg.NO_DATA))


def _place(rank: int | None, words: Words, colour: tuple[int, int, int] | None) -> Cell:
    return (words.count(rank) if rank else words(msg.NO_DATA)), "C", colour


def _score_change(card: Card, words: Words) -> Cell:
    change = card.score_change
    return _signed(words.change(change), None if not change else change > 0)


# The numbers every table shows, after its first columns.
NUMBERS: list[Column] = [
    (msg.FEEDBACK, 16, lambda c, w: _plain(w.count(c.numbers.complete))),
    (msg.COMPLETED, 16, lambda c, w: _plain(w.share(c.numbers.completion))),
    (msg.BEHAVIOUR, 16, lambda c, w: _plain(w.score(c.numbers.behaviour))),
    (msg.EXPERIENCE, 16, lambda c, w: _plain(w.score(c.numbers.satisfaction))),
    (msg.SCORE, 14, lambda c, w: _plain(w.score(c.score))),
    (msg.CHANGE, 14, _score_change),
    (msg.NEGATIVE, 17, lambda c, w: _plain(w.share(c.numbers.negative_share))),
    # Red cases are in the district's lines below the table, never a station's row.
    (msg.OPENED, 15, lambda c, w: _plain(w.count(c.shown_cases.opened))),
    (msg.CLOSED, 15, lambda c, w: _plain(w.count(c.shown_cases.closed))),
    (msg.DEADLINES, 19, lambda c, w: _of(c.shown_cases.station_kept,
                                         c.shown_cases.station_judged, w)),
    (msg.SATISFIED, 19, lambda c, w: _of(c.shown_cases.citizens_satisfied,
                                         c.shown_cases.citizens_answered, w)),
]
STATIONS: list[Column] = [
    (msg.RANK, 11, lambda c, w: _place(c.rank, w, None)),
    (msg.RANK_BEFORE, 16, lambda c, w: _place(c.rank_before, w, GREY)),
    (msg.STATION, 0, lambda c, w: (c.name(w.lang), "L", None)),  # 0: what the others leave
    (msg.CODE, 15, lambda c, w: (c.code, "L", GREY)),  # as on its poster and in the workbook
    *NUMBERS,
]


def font_file(name: str) -> Path:
    path = FONT_DIR / name
    if not path.is_file():
        raise ConfigError(f"font file missing: {path}; reinstall Prayas (the fonts ship "
                          "with it)")
    return path


class _Document(FPDF):
    def __init__(self, footer: Callable[[int], str], private: str) -> None:
        super().__init__(orientation="landscape", unit="mm", format="A4")
        self._footer, self._private = footer, private
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(False)  # rows are placed by hand: a table's header repeats
        for (family, style), name in FONTS.items():
            self.add_font(family, style, str(font_file(name)))
        self.set_fallback_fonts(["deva", "latin"], exact_match=False)
        self.set_text_shaping(True)

    def use(self, text: str, size: float, bold: bool = False) -> None:
        """The font for a piece of text: the script of its first letter. Never a fallback
        font first: fpdf2 2.8 then sets the font inside the cell's q/Q, where it is lost
        for the next cell ("no font in show"), and the next cell's text is not drawn."""
        first = next((ch for ch in text if ch.isalpha()), "")
        self.set_font("deva" if "\u0900" <= first <= "\u097f" else "latin",
                      "B" if bold else "", size)

    def footer(self) -> None:
        self.set_xy(MARGIN, self.h - MARGIN + 2)
        self.set_text_color(*GREY)
        width = (self.w - 2 * MARGIN) / 2
        footer = self._footer(self.page_no())
        self.use(footer, 7)
        self.cell(width, 4, footer)
        self.use(self._private, 7)
        self.cell(width, 4, self._private, align="R")

    @property
    def bottom(self) -> float:
        return self.h - MARGIN - 4  # above the footer

    def text_in(self, width: float, text: str, size: float, bold: bool = False,
                align: str = "L", colour: tuple[int, int, int] | None = None) -> None:
        """One cell's text on one line, made smaller rather than cut."""
        self.use(text, size, bold)
        while size > 5.5 and self.get_string_width(text) > width - 2:
            size -= 0.25
            self.set_font_size(size)
        self.set_text_color(*(colour or (20, 20, 20)))
        self.cell(width, ROW, text, align=align)


def render(report: MonthlyReport, words: Words, made: datetime) -> bytes:
    """The report's PDF, `made` at that moment (the footer says when)."""
    moment = words.moment(made, report.zone)
    pdf = _Document(lambda page: words(msg.FOOTER, moment=moment, page=words.count(page)),
                    words(msg.PRIVATE))
    pdf.add_page()
    _title(pdf, report, words)
    _district(pdf, report, words)
    for kind in KINDS:
        cards = [c for c in report.cards if c.kind == kind]
        if cards:
            _stations(pdf, report, words, kind, cards)
    _how_to_read(pdf, report, words)
    return bytes(pdf.output())


def _title(pdf: _Document, report: MonthlyReport, words: Words) -> None:
    pdf.set_fill_color(*NAVY)
    pdf.rect(0, 0, pdf.w, 24, style="F")
    pdf.set_xy(MARGIN, 4)
    pdf.text_in(pdf.w - 2 * MARGIN, words(msg.TITLE, district=report.district.name_hi
                                          if words.lang == "hi" else report.district.name_en),
                17, bold=True, colour=(255, 255, 255))
    pdf.set_xy(MARGIN, 13)
    pdf.text_in(pdf.w - 2 * MARGIN, words(msg.SUBTITLE, month=words.month(report.month.first)),
                11, colour=(225, 230, 240))
    pdf.set_y(29)


def _note(pdf: _Document, text: str, size: float = 9,
          colour: tuple[int, int, int] = (40, 40, 40)) -> None:
    pdf.set_x(MARGIN)
    pdf.use(text, size)
    pdf.set_text_color(*colour)
    pdf.multi_cell(pdf.w - 2 * MARGIN, size * 0.5, text, align="L")
    pdf.ln(1)


def _heading(pdf: _Document, text: str, aside: str = "") -> None:
    pdf.set_x(MARGIN)
    pdf.use(text, 12, bold=True)
    pdf.set_text_color(*NAVY)
    width = pdf.get_string_width(text) + 4
    pdf.cell(width, 8, text)
    if aside:
        pdf.use(aside, 8.5)
        pdf.set_text_color(*GREY)
        pdf.cell(pdf.w - 2 * MARGIN - width, 8, aside)
    pdf.ln(8)


def _widths(columns: list[Column], total: float) -> list[float]:
    fixed = sum(width for _, width, _ in columns)
    return [width or total - fixed for _, width, _ in columns]


def _header(pdf: _Document, columns: list[Column], widths: list[float], words: Words) -> None:
    """The columns' names, up to two lines each, on a grey band."""
    top = pdf.get_y()
    pdf.set_fill_color(228, 232, 240)
    pdf.rect(MARGIN, top, sum(widths), HEAD, style="F")
    x = MARGIN
    for (name, _, _), width in zip(columns, widths, strict=True):
        label = words(name) if name else ""
        size = 7.5
        pdf.use(label, size, bold=True)
        while size > 5.5 and max((pdf.get_string_width(w) for w in label.split()),
                                 default=0) > width - 2 * pdf.c_margin - 0.2:
            size -= 0.25  # smaller, rather than a word broken across the two lines
            pdf.set_font_size(size)
        pdf.set_text_color(*NAVY)
        pdf.set_xy(x, top + 0.6)
        pdf.multi_cell(width, 3.9, label, align="C" if name != msg.STATION else "L",
                       max_line_height=3.9)
        x += width
    pdf.set_y(top + HEAD)


def _row(pdf: _Document, cells: list[Cell], widths: list[float], zebra: bool,
         bold: bool = False) -> None:
    top = pdf.get_y()
    if zebra:
        pdf.set_fill_color(*ZEBRA)
        pdf.rect(MARGIN, top, sum(widths), ROW, style="F")
    pdf.set_x(MARGIN)
    for (text, align, colour), width in zip(cells, widths, strict=True):
        pdf.text_in(width, text, 8.5, bold=bold, align=align, colour=colour)
    pdf.set_draw_color(*RULE)
    pdf.line(MARGIN, top + ROW, MARGIN + sum(widths), top + ROW)
    pdf.set_y(top + ROW)


def _district(pdf: _Document, report: MonthlyReport, words: Words) -> None:
    """The district this month, the month before and the change; then its cases."""
    whole, month = report.whole, report.month
    _heading(pdf, words(msg.THE_DISTRICT))
    columns: list[Column] = [("", 0, lambda c, w: (c.name(w.lang), "L", None)), *NUMBERS]
    widths = _widths(columns, pdf.w - 2 * MARGIN)
    _header(pdf, columns, widths, words)
    cells = [get(whole, words) for _, _, get in NUMBERS]
    _row(pdf, [(words.month(month.first), "L", None), *cells], widths, False, bold=True)
    then = replace(whole, numbers=whole.before, score=whole.score_before,
                   cases=whole.cases_before, shown_cases=whole.cases_before, score_before=None)
    cells = [get(then, words) for _, _, get in NUMBERS]
    _row(pdf, [(words.month(month.previous().first), "L", GREY), *cells], widths, True)
    changes = _changes(whole, words)
    _row(pdf, [(words(msg.CHANGE), "L", GREY),
               *(changes.get(name, _plain("")) for name, _, _ in NUMBERS)], widths, False)
    pdf.ln(2)
    if report.quiet:
        _note(pdf, words(msg.NO_FEEDBACK, month=words.month(month.first)), 11, NAVY)
    if report.under_way:
        _note(pdf, words(msg.UNDER_WAY, moment=words.moment(report.until, report.zone)), 9.5,
              NAVY)
    for line in _case_lines(report, words):
        _note(pdf, line, 9.5)
    pdf.ln(2)


def _case_lines(report: MonthlyReport, words: Words) -> list[str]:
    c, hours, n = report.whole.cases, _hours(report), words.count
    return [
        words(msg.CASES_LINE, opened=n(c.opened), red=n(c.red_opened), closed=n(c.closed),
              reopened=n(c.reopened), open=n(c.open_at_end), overdue=n(c.overdue_at_end)),
        words(msg.SP_OFFICE_LINE, kept=n(c.sp_office_kept), due=n(c.sp_office_judged),
              new=hours["new"], reported=hours["reported"]),
        words(msg.CITIZENS_LINE, asked=n(c.citizens_asked), answered=n(c.citizens_answered),
              satisfied=n(c.citizens_satisfied)),
        *([words(msg.PRESSURE_LINE, count=n(c.possible_pressure))] if c.possible_pressure
          else [])]


def _changes(whole: Card, words: Words) -> dict[str, Cell]:
    """The district's change against the month before, by column."""
    now, then = whole.numbers, whole.before

    def difference(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else a - b

    def better(change: float | None, up: bool = True) -> bool | None:
        return None if not change else (change > 0) == up

    def whole_number(change: int) -> Cell:
        return _plain(words.change(change, digits="0"))

    behaviour = difference(now.behaviour, then.behaviour)
    experience = difference(now.satisfaction, then.satisfaction)
    negative = whole.negative_change
    return {msg.FEEDBACK: whole_number(now.complete - then.complete),
            msg.COMPLETED: _plain(words.points(difference(now.completion, then.completion))),
            msg.BEHAVIOUR: _signed(words.change(behaviour), better(behaviour)),
            msg.EXPERIENCE: _signed(words.change(experience), better(experience)),
            msg.SCORE: _signed(words.change(whole.score_change), better(whole.score_change)),
            msg.NEGATIVE: _signed(words.points(negative), better(negative, up=False)),
            msg.OPENED: whole_number(whole.cases.opened - whole.cases_before.opened),
            msg.CLOSED: whole_number(whole.cases.closed - whole.cases_before.closed)}


def _hours(report: MonthlyReport) -> dict[str, str]:
    return {state: str(hours) for state, hours in report.due_hours.items()}


def _stations(pdf: _Document, report: MonthlyReport, words: Words, kind: str,
              cards: list[Card]) -> None:
    widths = _widths(STATIONS, pdf.w - 2 * MARGIN)
    aside = words(msg.RANKED_OF, ranked=words.count(report.ranked[kind]),
                  total=words.count(len(cards)), minimum=words.count(report.minimum))
    if pdf.get_y() + 8 + HEAD + 3 * ROW > pdf.bottom:  # a heading never ends a page
        pdf.add_page()
    _heading(pdf, words(msg.KIND_HEADINGS[kind]), aside)
    _header(pdf, STATIONS, widths, words)
    for n, card in enumerate(cards):
        if pdf.get_y() + ROW > pdf.bottom:
            pdf.add_page()
            _header(pdf, STATIONS, widths, words)
        _row(pdf, [get(card, words) for _, _, get in STATIONS], widths, n % 2 == 1,
             bold=card.rank == 1)
    pdf.ln(4)


def _how_to_read(pdf: _Document, report: MonthlyReport, words: Words) -> None:
    hours = _hours(report)
    notes = [words(msg.HOW_SCORE, weight=words.count(report.weight)),
             words(msg.HOW_REST, instructed=hours["instructed"], returned=hours["returned"])]
    if pdf.get_y() + 22 > pdf.bottom:
        pdf.add_page()
    for note in notes:
        _note(pdf, note, 8, GREY)
