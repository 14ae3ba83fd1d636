"""The poster as a list of drawing operations in millimetres on A4 portrait.

Pure: no fonts, no files. The PNG and PDF backends draw the same list, so the two
outputs cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import qrcode
from qrcode.constants import ERROR_CORRECT_Q

from conversations.messages import N_

WIDTH, HEIGHT = 210.0, 297.0
NAVY, SAFFRON, INK, GREY, WHITE = "#0b2e6b", "#f28c28", "#1a1a1a", "#555555", "#ffffff"

STEP_SCAN = N_("Scan the QR code with your phone")
STEP_ANSWER = N_("Answer a few short questions")
STEP_DONE = N_("Done! The SP office reads every feedback")
PRIVATE = N_("Your name and number are not shown to anyone here.")  # a thana, chowki or office
CODE_HINT = N_("If the QR code does not work, write this code and send it to:")
CHANNEL_NAMES = {"telegram": N_("Telegram"), "whatsapp": N_("WhatsApp")}
PREFILLED = N_("Feedback {code}")


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float
    fill: str


@dataclass(frozen=True)
class Line:
    """One line of text in [x, x + w], its baseline at y; shrunk to fit w."""

    x: float
    y: float
    w: float
    text: str
    size: float  # points
    bold: bool = False
    color: str = INK
    centred: bool = True


@dataclass(frozen=True)
class Code:
    x: float
    y: float
    size: float
    modules: tuple[tuple[bool, ...], ...]  # with the quiet zone


@dataclass(frozen=True)
class Picture:
    """An image fitted inside the box, keeping its proportions."""

    x: float
    y: float
    w: float
    h: float
    path: str


Op = Box | Line | Code | Picture
DOT = 25.4 / 300  # one printer dot at 300 dpi, in mm


def qr_modules(link: str) -> tuple[tuple[bool, ...], ...]:
    # Level Q survives dirt and a torn corner; a 4-module quiet zone is the standard's.
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_Q, border=4)
    code.add_data(link)
    code.make(fit=True)
    return tuple(tuple(row) for row in code.get_matrix())


@dataclass(frozen=True)
class PosterText:
    """Everything the poster says, already translated (Hindi and English)."""

    title_hi: str
    title_en: str
    station_hi: str
    station_en: str
    office_hi: str
    office_en: str
    steps: tuple[tuple[str, str], ...]  # (hindi, english)
    private: tuple[str, str]
    code_hint: tuple[str, str]
    code: str
    reach: str  # where to send the code by hand: "Telegram @Bot · WhatsApp +91..."
    logo: str  # path of the campaign's logo, or ""
    channels: tuple[tuple[str, str, str], ...]  # (hindi label, english label, link)


def poster(text: PosterText) -> list[Op]:
    """A4 portrait, top to bottom: campaign, station, codes, three steps, privacy, the
    typed-code fallback, the SP office. Sizes chosen to read from 2-3 m."""
    ops: list[Op] = [Box(0, 0, WIDTH, 40, NAVY), Box(0, 40, WIDTH, 2.5, SAFFRON)]
    margin = 10.0
    if text.logo:  # the logo in the header's left corner; the titles move over
        ops.append(Picture(5, 5, 30, 30, text.logo))
        margin = 38.0
    ops += [Line(margin, 19, WIDTH - margin - 10, text.title_hi, 30, True, WHITE),
            Line(margin, 32, WIDTH - margin - 10, text.title_en, 15, False, WHITE)]
    ops += [Line(10, 60, 190, text.station_hi, 38, True, NAVY),
            Line(10, 71, 190, text.station_en, 19, True, INK)]
    ops += _codes(text.channels, top=77)
    y = 184.0
    for n, (hindi, english) in enumerate(text.steps, start=1):
        ops += [Box(22, y - 7.5, 10, 10, SAFFRON), Line(22, y, 10, str(n), 18, True, WHITE),
                Line(37, y - 0.5, 155, hindi, 17, True, INK, centred=False),
                Line(37, y + 5.5, 155, english, 10, False, GREY, centred=False)]
        y += 14.5
    ops += [Box(10, 225, 190, 18, "#eef2fa"),
            Line(12, 233, 186, text.private[0], 15, True, NAVY),
            Line(12, 239.5, 186, text.private[1], 10, False, NAVY)]
    ops += [Line(10, 251, 190, text.code_hint[0], 13, False, INK),
            Line(10, 256, 190, text.code_hint[1], 9, False, GREY),
            Line(10, 262, 190, text.reach, 11, True, NAVY),
            Line(10, 278, 190, text.code, 36, True, INK)]
    ops += [Box(0, HEIGHT - 14, WIDTH, 14, NAVY),
            Line(10, HEIGHT - 8, 190, text.office_hi, 13, True, WHITE),
            Line(10, HEIGHT - 3, 190, text.office_en, 9, False, WHITE)]
    return ops


def _codes(channels: tuple[tuple[str, str, str], ...], top: float) -> list[Op]:
    """One big code, or two side by side: at least 80 mm each, enough for about 1 m."""
    ops: list[Op] = []
    size = 86.0 if len(channels) == 1 else 80.0
    gap = 12.0
    total = len(channels) * size + (len(channels) - 1) * gap
    x = (WIDTH - total) / 2
    for hindi, english, link in channels:
        modules = qr_modules(link)
        # Whole printer dots per module: the PNG's modules are crisp, and the PDF's the same size.
        dots = int(size / DOT // len(modules))
        side = dots * len(modules) * DOT
        ops.append(Code(x + (size - side) / 2, top + (size - side) / 2, side, modules))
        ops.append(Line(x, top + size + 7, size, f"{hindi} / {english}", 17, True, NAVY))
        x += size + gap
    return ops
