"""Minimum mutator utilization (MMU) curves from gctrace cycles.

MMU(w) is the smallest share of CPU the program's own goroutines (the mutator) had in any time window of
length w (Cheng & Blelloch; the curve `go tool trace` plots). The gc line gives, per cycle, its start
(whole milliseconds), the wall time of its three phases and the CPU time the GC spent in them, so a
utilization u(t) is built per program run:

* `stw`: u = 0 during the two stop-the-world phases (sweep termination, mark termination), 1 elsewhere.
  This is exact up to the log's rounding and the millisecond placement of each cycle.
* `mark`: additionally, during concurrent mark u = 1 - (assist + background mark CPU) / (mark wall x P),
  spread evenly over the phase. Idle-priority mark workers are left out because they run only on Ps the
  mutator left idle; Go's trace-based MMU (internal/trace MutatorUtilizationV2) excludes "GC (idle)"
  workers the same way. Evenly spreading a cycle's CPU is an estimate: the trace would show bursts.

A run's timeline starts at process start when its first cycle is gc 1 (no GC ran before it), else at its
first cycle, and ends when its last cycle ends; windows longer than every run have no value. A cycle is
placed at its printed start, or at the end of the previous cycle if that is later (starts are truncated
to whole ms). With several runs in one log, MMU(w) is the minimum over the runs long enough for w.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mapscope.arrays import Ints
from mapscope.readers.gctrace import GcColumns

# 1 ms … 1 s, ten windows per decade.
DEFAULT_WINDOWS_MS: tuple[float, ...] = tuple(float(f"{10 ** (k / 10):.4g}") for k in range(31))

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class MmuPoint:
    """MMU at one window size for both utilization models (None: longer than every run)."""

    window_ms: float
    stw: float | None
    mark: float | None


@dataclass(frozen=True)
class MmuCurve:
    points: tuple[MmuPoint, ...]
    longest_run_ms: float


@dataclass(frozen=True)
class _Timeline:
    """Utilization of all runs on one axis: `edges` where it changes, `integral` of it at each edge.

    Runs are laid one after another with a gap between them; `first`/`last` bound each run. A window is
    worst where it starts at a drop of utilization (`drops`, each with the integral there and the end of
    its run) or ends at a rise (`rises`, with the integral and the start of its run), or where it is
    pressed against an end of its run.
    """

    edges: FloatArray
    integral: FloatArray
    drops: FloatArray
    drops_integral: FloatArray
    drops_run_last: FloatArray
    rises: FloatArray
    rises_integral: FloatArray
    rises_run_first: FloatArray
    first: FloatArray
    last: FloatArray


def _ms(micros: Ints) -> FloatArray:
    return micros / 1000.0


def _timelines(gc: GcColumns, run: Ints) -> tuple[_Timeline, _Timeline]:
    """The `stw` and the `mark` model of the same runs (`run`: each cycle's run, 0, 1, … in order)."""
    lengths = np.bincount(run)
    run_of_cycle = run
    run_begins = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    printed = gc.start_ms.astype(np.float64)
    sweep_term = _ms(gc.sweep_term_us)
    mark = _ms(gc.mark_us)
    mark_term = _ms(gc.mark_term_us)
    duration = sweep_term + mark + mark_term
    # A run ends before its latest printed start plus all its cycles' durations: shifting every run past
    # those bounds of the runs before it keeps the runs apart on the one axis.
    bound = np.maximum.reduceat(printed, run_begins) + np.add.reduceat(duration, run_begins) + 1.0
    offset = np.concatenate(([0.0], np.cumsum(bound)[:-1]))
    printed += offset[run_of_cycle]
    # Cycles cannot overlap: start_i = max(printed_i, end_{i-1}). Without a loop, with elapsed_i the
    # durations before i: start_i = elapsed_i + max over j <= i of (printed_j - elapsed_j). The shift above
    # makes every run's first cycle start at its printed time.
    elapsed = np.concatenate(([0.0], np.cumsum(duration)[:-1]))
    start = elapsed + np.maximum.accumulate(printed - elapsed)
    busy = _ms(gc.assist_cpu_us + gc.background_cpu_us)
    capacity = mark * gc.procs
    safe = np.where(capacity > 0, capacity, 1.0)
    mark_rate = np.where(capacity > 0, np.clip(1.0 - busy / safe, 0.0, 1.0), 1.0)
    # Per cycle: [start, +sweep term) u=0, [.., +mark) u=mark_rate, [.., end) u=0, [end, next start) u=1.
    end = start + duration
    phase_edges = np.stack((start, start + sweep_term, start + sweep_term + mark, end), axis=1).ravel()
    edges = np.concatenate(([0.0], phase_edges))
    ones, zeros = np.ones(len(run)), np.zeros(len(run))
    # A run that starts with gc 1 is observed from process start; otherwise from its first cycle.
    from_process_start = gc.number[run_begins] == 1
    first = np.where(from_process_start, offset, start[run_begins])
    last = end[np.cumsum(lengths) - 1]
    # Per cycle the edges are start, mark start, mark end, end: utilization drops at the first and third
    # (into a stop-the-world phase) and rises at the second and fourth.
    at_drop = np.concatenate((np.arange(1, len(edges), 4), np.arange(3, len(edges), 4)))
    at_rise = np.concatenate((np.arange(2, len(edges), 4), np.arange(4, len(edges), 4)))
    cycle_run = np.concatenate((run_of_cycle, run_of_cycle))

    def timeline(during_mark: FloatArray) -> _Timeline:
        rates = np.stack((ones, zeros, during_mark, zeros), axis=1).ravel()
        integral = np.concatenate(([0.0], np.cumsum(np.diff(edges) * rates)))
        return _Timeline(
            edges=edges,
            integral=integral,
            drops=edges[at_drop],
            drops_integral=integral[at_drop],
            drops_run_last=last[cycle_run],
            rises=edges[at_rise],
            rises_integral=integral[at_rise],
            rises_run_first=first[cycle_run],
            first=first,
            last=last,
        )

    return timeline(ones), timeline(mark_rate)


def _minimum(timeline: _Timeline, window: float) -> float | None:
    """Exact minimum over window positions inside each run long enough for the window.

    The windowed integral is piecewise linear in the window's start s, with slope u(s + w) - u(s); it can
    only turn from falling to rising where u drops at the start or rises at the end, or at a run's ends.
    A drop too late for a whole window, or a rise too early, is covered by the run's end or start.
    """
    t = timeline
    fits = t.last - t.first >= window
    if not fits.any():
        return None
    edges, integral = t.edges, t.integral
    drop = t.drops <= t.drops_run_last - window
    from_drops = np.interp(t.drops[drop] + window, edges, integral) - t.drops_integral[drop]
    rise = t.rises - window >= t.rises_run_first
    from_rises = t.rises_integral[rise] - np.interp(t.rises[rise] - window, edges, integral)
    ends = np.concatenate((t.first[fits], t.last[fits] - window))
    from_ends = np.interp(ends + window, edges, integral) - np.interp(ends, edges, integral)
    worst = min(part.min() for part in (from_drops, from_rises, from_ends) if part.size)
    return float(np.clip(worst / window, 0.0, 1.0))


def mmu_curve(gc: GcColumns, run: Ints, windows_ms: Sequence[float] = DEFAULT_WINDOWS_MS) -> MmuCurve:
    """MMU at each window for both models; `gc` are a log's gc lines in order, `run` the program run of
    each (0, 1, … : see gc_summary.Joined)."""
    if not len(run):
        return MmuCurve(points=tuple(MmuPoint(w, None, None) for w in windows_ms), longest_run_ms=0.0)
    stw, mark = _timelines(gc, run)
    points = tuple(MmuPoint(window, _minimum(stw, window), _minimum(mark, window)) for window in windows_ms)
    return MmuCurve(points=points, longest_run_ms=float((stw.last - stw.first).max()))
