"""The poster fonts (Noto Sans and Noto Sans Devanagari, OFL, shipped in fonts/) and
splitting mixed Hindi/English text into runs, one font each."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

FONT_DIR = Path(os.environ.get("PRAYAS_FONT_DIR") or Path(__file__).with_name("fonts"))
# Each weight for both scripts: a line mixing Hindi and Latin ("QR कोड") is one weight.
FILES = {
    (True, False): "NotoSansDevanagari-Regular.ttf",
    (True, True): "NotoSansDevanagari-Bold.ttf",
    (False, False): "NotoSans-Regular.ttf",
    (False, True): "NotoSans-Bold.ttf",
}


class PosterError(Exception):
    """Posters cannot be made as asked; the message says why and what to do."""


def font_file(devanagari: bool, bold: bool) -> Path:
    path = FONT_DIR / FILES[(devanagari, bold)]
    if not path.is_file():
        raise PosterError(f"font file missing: {path}; reinstall Prayas (the fonts ship with it)")
    return path


def _is_devanagari(ch: str) -> bool:
    return "\u0900" <= ch <= "\u097f" or "\ua8e0" <= ch <= "\ua8ff" or ch in "\u200c\u200d"


@lru_cache(maxsize=1)
def _devanagari_covers() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(font_file(True, False), lazy=True) as font:
        return frozenset(font.getBestCmap())


def runs(text: str) -> list[tuple[bool, str]]:
    """Split into (is_devanagari, chunk), so each chunk is drawn with a font that has it.

    A space or punctuation mark stays in a Devanagari run when that font has the glyph
    (so a word and its matras are shaped together); otherwise it goes to the Latin font.
    """
    covered = _devanagari_covers()
    result: list[tuple[bool, str]] = []
    for ch in text:
        deva = _is_devanagari(ch)
        neutral = not deva and not ch.isalnum()
        if result and neutral and result[-1][0] and ord(ch) not in covered:
            neutral = False  # e.g. "·": the Devanagari font would draw a box
        if result and (neutral or result[-1][0] == deva):
            result[-1] = (result[-1][0], result[-1][1] + ch)
        else:
            result.append((deva, ch))
    return result
