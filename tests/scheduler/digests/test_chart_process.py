"""The chart drawn in a process of its own: the same picture, and never lost to it."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from scheduler.digests.chart import Rows, drawn
from scheduler.digests.chart_process import ChartProcess

ROWS: Rows = (*((f"S{n:05d}", 1 + (n % 40) / 10, 3 * n) for n in range(40)),
              ("S99999", None, 0))


@pytest.fixture
def charts():  # type: ignore[no-untyped-def]
    process = ChartProcess(wait=60.0)  # a busy machine's first import of matplotlib
    process.ready()
    yield process
    process.close()


def test_the_chart_process_draws_the_picture_this_process_would(charts) -> None:  # type: ignore[no-untyped-def]
    png = charts.draw(ROWS, "CG 2026-11-22 – 2026-11-28")()
    assert png.startswith(b"\x89PNG") and charts.pid != os.getpid()
    assert png == drawn(ROWS, "CG 2026-11-22 – 2026-11-28")


def test_a_dead_chart_process_costs_time_not_the_chart(charts) -> None:  # type: ignore[no-untyped-def]
    dead = charts.pid
    os.kill(dead, signal.SIGKILL)
    assert charts.draw(ROWS, "after the crash")() == drawn(ROWS, "after the crash")
    assert charts.draw(ROWS, "next")() == drawn(ROWS, "next")
    assert charts.pid not in (None, dead)  # another process draws from now on


def test_a_hung_chart_process_is_stopped_and_the_chart_drawn_here(charts) -> None:  # type: ignore[no-untyped-def]
    charts.wait = 1.0
    hung = charts.pid
    os.kill(hung, signal.SIGSTOP)
    # Waited for in a thread of its own: were the hung child waited for without end, the
    # bound (a failure, not a measure) would end the test instead of hanging it.
    chart = charts.draw(ROWS, "while hung")
    got: list[bytes] = []
    waiting = threading.Thread(target=lambda: got.append(chart()), daemon=True)
    waiting.start()
    waiting.join(60)
    assert got == [drawn(ROWS, "while hung")]
    # Stopped before the chart was drawn here: gone for good, not left behind.
    with pytest.raises(ProcessLookupError):
        os.kill(hung, 0)


def test_the_chart_process_ends_with_its_owner(charts) -> None:  # type: ignore[no-untyped-def]
    child = charts.pid
    charts.close()
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)
    # a digest still being built as the service stops still gets its chart
    assert charts.draw(ROWS, "stopping")() == drawn(ROWS, "stopping")
