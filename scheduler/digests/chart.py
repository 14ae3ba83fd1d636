"""The digest's chart: each station's 7-day experience score and number of feedback.

Labels are station codes: matplotlib draws text without shaping, so Devanagari names
would come out broken; the codes are on every poster and in every digest line.
This module imports nothing of the app: chart_process.py draws with it in a process
that loads matplotlib and no more.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.digest import StationNumbers

MOST = 40  # bars a phone's screen can still read
Rows = tuple[tuple[str, float | None, int], ...]  # code, average experience, feedback


def chart_rows(week: Mapping[str, StationNumbers], codes: Sequence[str],
               title: str) -> tuple[Rows, str]:
    """What the chart shows. More stations than a phone can show: the lowest scores,
    those that need a look."""
    if len(codes) > MOST:
        scored = sorted((n for n in map(week.get, codes)
                         if n is not None and n.satisfaction is not None),
                        key=lambda n: (n.satisfaction, -n.complete, n.code))
        title = f"{title} · lowest {min(MOST, len(scored))} of {len(codes)} stations"
        return tuple((n.code, n.satisfaction, n.complete) for n in scored[:MOST]), title
    numbers = [week.get(code) for code in codes]
    return tuple((code, None, 0) if n is None else (n.code, n.satisfaction, n.complete)
                 for code, n in zip(codes, numbers, strict=True)), title


@lru_cache(maxsize=8)
def drawn(rows: Rows, title: str) -> bytes:
    """A PNG: bars of the average overall experience (1-5), feedback counts beside them.
    Drawn once per content: the SP office's several officers, and a retry, get the
    same picture without another half second of drawing."""
    # Imported here: matplotlib costs a bot process ~30 MB and most of a second at start,
    # and is needed once a day, for the digest.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    height = max(2.5, 0.32 * len(rows) + 1.2)
    # No pyplot: its global state is not for a server's threads. Margins in inches, not
    # tight_layout, which measures every label again and costs more than the drawing.
    figure = Figure(figsize=(7, height), dpi=120)
    figure.subplots_adjust(left=1.0 / 7, right=0.97, top=1 - 0.45 / height,
                           bottom=0.6 / height)
    axes = figure.add_subplot()
    scores = [satisfaction or 0 for _, satisfaction, _ in rows]
    colours = ["#c0392b" if 0 < s <= 2.5 else "#f28c28" if 0 < s < 3.5 else "#0b2e6b"
               for s in scores]
    axes.barh([code for code, _, _ in rows], scores, color=colours)
    for y, (_, satisfaction, complete) in enumerate(rows):
        score = f"{satisfaction:.1f}" if satisfaction is not None else "–"
        label = f"{score}  (n={complete})" if complete else "n=0"
        axes.text((satisfaction or 0) + 0.05, y, label, va="center", fontsize=8)
    axes.set_xlim(0, 5.8)
    axes.invert_yaxis()
    # English on purpose: matplotlib cannot shape Devanagari (see the module's docstring).
    axes.set_xlabel("overall experience, 7 days (1-5)")
    # A fixed place for the title: left to matplotlib, it measures every tick label first.
    axes.set_title(title, fontsize=10, y=1.0, pad=6)
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()
