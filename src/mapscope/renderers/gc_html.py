"""`mapscope gc --html FILE`: one self-contained offline page with inline SVG charts.

All markup lives in templates/gc_report.html with autoescaping on; this module only computes numbers and
plain strings (chart coordinates, tick labels, table cells), so nothing from the input can inject markup.
Charts are downsampled to one mark per horizontal pixel column (keeping each column's maximum), so the
page stays small for logs with millions of cycles.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from mapscope import __version__
from mapscope.analyses.gc_summary import CycleFigures, GcReport, Joined
from mapscope.analyses.mmu import MmuPoint
from mapscope.arrays import Ints
from mapscope.renderers.html import environment

WIDTH = 880
HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 12, 36
# The HTML table lists every cycle up to this many, else the ones with the longest pauses.
MAX_HTML_ROWS = 500

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    height: float
    title: str


@dataclass(frozen=True)
class Series:
    name: str
    css: str
    points: str


@dataclass(frozen=True)
class Chart:
    title: str
    x_label: str
    y_label: str
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    bars: tuple[Bar, ...]
    series: tuple[Series, ...]


def _nice_step(span: float, count: int) -> float:
    raw = span / max(count, 1)
    magnitude = 10.0 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)


def _linear_ticks(top: float, count: int, place: Callable[[float], float]) -> tuple[Tick, ...]:
    step = _nice_step(top, count)
    ticks = []
    value = 0.0
    while value <= top * (1 + 1e-9):
        ticks.append(Tick(place(value), f"{value:.6g}"))
        value += step
    return tuple(ticks)


def _plot_x(value: float, top: float) -> float:
    return LEFT + (WIDTH - LEFT - RIGHT) * (value / top if top else 0.0)


def _plot_y(value: float, top: float) -> float:
    return HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * (value / top if top else 0.0)


def _nice_top(value: float) -> float:
    """The axis end: the smallest round number at or above `value`."""
    if value <= 0:
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(value))
    return next(m * magnitude for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if m * magnitude >= value)


def _timeline_s(joined: Joined) -> FloatArray:
    """Seconds on one axis: each later program run continues where the previous one's last cycle was."""
    seconds = joined.log.gc.start_ms / 1000.0
    run = joined.run
    last = np.flatnonzero(np.concatenate((run[1:] != run[:-1], [True])))
    offsets = np.concatenate(([0.0], np.cumsum(seconds[last])))[:-1]
    return seconds + offsets[run]


def _columns(times: FloatArray, top: float) -> Ints:
    """The pixel column of each time (rounded half to even, like round())."""
    return np.round((WIDTH - LEFT - RIGHT) * (times / top if top else 0.0)).astype(np.int64)


def _peaks(columns: Ints, values: Ints) -> Ints:
    """Per pixel column, the first row with the column's largest value; rows in order."""
    rows = np.arange(len(columns))
    order = np.lexsort((rows, -values, columns))
    first = np.concatenate(([True], columns[order][1:] != columns[order][:-1]))
    return np.sort(order[first])


def pause_chart(joined: Joined) -> Chart:
    gc = joined.log.gc
    times = _timeline_s(joined)
    x_top = _nice_top(float(times.max()))
    y_top = _nice_top(float(joined.stw_us.max()) / 1000.0)
    bars = []
    for row in _peaks(_columns(times, x_top), joined.stw_us).tolist():
        stw = joined.stw_ms(row)
        y = _plot_y(float(stw), y_top)
        start = Decimal(int(gc.start_ms[row])).scaleb(-3)
        sweep_term, mark_term = gc.duration("sweep_term_us", row), gc.duration("mark_term_us", row)
        bars.append(
            Bar(
                x=round(_plot_x(float(times[row]), x_top), 1),
                y=round(y, 1),
                height=round(HEIGHT - BOTTOM - y, 1),
                title=f"gc {gc.number[row]} @{start}s: STW {sweep_term}+{mark_term} = {stw} ms",
            )
        )
    return Chart(
        title="Stop-the-world pause per cycle",
        x_label="seconds since program start",
        y_label="ms",
        x_ticks=_linear_ticks(x_top, 6, lambda v: _plot_x(v, x_top)),
        y_ticks=_linear_ticks(y_top, 4, lambda v: _plot_y(v, y_top)),
        bars=tuple(bars),
        series=(),
    )


def heap_chart(joined: Joined) -> Chart:
    gc = joined.log.gc
    times = _timeline_s(joined)
    x_top = _nice_top(float(times.max()))
    y_top = _nice_top(float(max(gc.heap_after_mb.max(), gc.heap_goal_mb.max())))
    lines = (
        ("heap after mark", "after", gc.heap_after_mb),
        ("live heap", "live", gc.heap_live_mb),
        ("heap goal", "goal", gc.heap_goal_mb),
    )
    columns = _columns(times, x_top)
    series = []
    for name, css, values in lines:
        rows = _peaks(columns, values)
        points = " ".join(
            f"{_plot_x(float(times[row]), x_top):.1f},{_plot_y(float(values[row]), y_top):.1f}"
            for row in rows.tolist()
        )
        series.append(Series(name, css, points))
    return Chart(
        title="Heap against goal (MB, as printed)",
        x_label="seconds since program start",
        y_label="MB",
        x_ticks=_linear_ticks(x_top, 6, lambda v: _plot_x(v, x_top)),
        y_ticks=_linear_ticks(y_top, 4, lambda v: _plot_y(v, y_top)),
        bars=(),
        series=tuple(series),
    )


def mmu_chart(report: GcReport) -> Chart:
    points = report.mmu.points
    low = math.log10(points[0].window_ms)
    high = math.log10(points[-1].window_ms)

    def place_x(window: float) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * (math.log10(window) - low) / ((high - low) or 1.0)

    series = []
    models: tuple[tuple[str, str, Callable[[MmuPoint], float | None]], ...] = (
        ("STW only", "stw", lambda p: p.stw),
        ("STW + mark CPU", "mark", lambda p: p.mark),
    )
    for name, css, pick in models:
        coords = [
            f"{place_x(p.window_ms):.1f},{_plot_y(value, 1.0):.1f}"
            for p in points
            if (value := pick(p)) is not None
        ]
        series.append(Series(name, css, " ".join(coords)))
    decades = [10.0**k for k in range(math.ceil(low), math.floor(high) + 1)]
    return Chart(
        title="Minimum mutator utilization",
        x_label="window (ms, log scale)",
        y_label="MMU",
        x_ticks=tuple(Tick(place_x(w), f"{w:g} ms") for w in decades),
        y_ticks=tuple(Tick(_plot_y(v, 1.0), f"{v:.0%}") for v in (0.0, 0.25, 0.5, 0.75, 1.0)),
        bars=(),
        series=tuple(series),
    )


def _table_rows(joined: Joined) -> tuple[list[CycleFigures], str]:
    rows = list(joined.figures(joined.longest_pauses(MAX_HTML_ROWS).tolist()))
    if len(joined) <= MAX_HTML_ROWS:
        return rows, f"all {len(joined)} cycles"
    return rows, f"the {MAX_HTML_ROWS} of {len(joined)} cycles with the longest pauses"


def render(report: GcReport) -> str:
    joined = report.joined
    rows, rows_caption = _table_rows(joined)
    template = environment().get_template("gc_report.html")
    return template.render(
        version=__version__,
        report=report,
        summary=report.summary,
        charts=(pause_chart(joined), heap_chart(joined), mmu_chart(report)),
        width=WIDTH,
        height=HEIGHT,
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        plot_bottom=HEIGHT - BOTTOM,
        plot_top=TOP,
        rows=rows,
        rows_caption=rows_caption,
    )
