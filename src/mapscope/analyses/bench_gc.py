"""GC cycles and stop-the-world time per benchmark op, from the gctrace of the same run.

A `go test -bench` binary prints a benchmark's result line on stdout when the benchmark has finished,
while the runtime prints a gc line on stderr at the end of every cycle. With the arrival order of both
streams' lines (readers/arrivals.py), every cycle that ended after the stdout line before a result line
and before the result line itself ran during that benchmark: its warm-up runs (b.N = 1 and the runs that
size b.N) and the measured run. The testing package prints its configuration lines (`goos:` … `cpu:`)
once the first benchmark's b.N = 1 run is over, so cycles of tests that ran before the benchmarks are
left out, and so is that one warm-up run; every later warm-up run is counted with its benchmark.

Cycles forced by runtime.GC() are counted apart: the testing package forces one before every run and
benchmarks often force more to measure the live heap, so only the cycles the pacer started - the
benchmark's own allocation - and their stop-the-world pauses are divided by the iterations. Iterations
are the result lines' b.N summed over the run (every -count sample). The warm-up iterations are not in
that sum, so the figures are over-estimates by about the warm-up's share of all iterations (1/N with
-benchtime Nx, around 1% with a time goal).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mapscope.arrays import Ints
from mapscope.readers.arrivals import Arrivals
from mapscope.readers.gctrace import GcColumns
from mapscope.readers.gobench import BenchResult


@dataclass(frozen=True)
class BenchGc:
    """One benchmark (full name) over all its result lines: pacer-started cycles and their summed STW
    (exact, microseconds as printed), the cycles runtime.GC() forced, and the per-op figures."""

    benchmark: str
    samples: int
    iterations: int
    cycles: int
    stw_us: int
    forced_cycles: int
    cycles_per_op: float
    stw_ns_per_op: float


def gc_per_benchmark(
    results: Sequence[BenchResult], gc: GcColumns, stw_us: Ints, arrivals: Arrivals
) -> tuple[BenchGc, ...]:
    """Per benchmark, in order of first appearance; `results` are one stdout's result lines in order,
    `gc` the gc lines of the stderr captured beside it and `stw_us` each cycle's STW."""
    if not results:
        return ()
    lines = np.array([result.line for result in results], dtype=np.int64)
    result_at = arrivals.of_stdout(lines)
    previous_at = np.where(lines > 1, arrivals.of_stdout(np.maximum(lines - 1, 1)), -1)
    cycle_at = arrivals.of_stderr(gc.line)
    # The first result to arrive after a cycle is the one whose run it ended in, unless a stdout line
    # arrived in between (the cycle ran between benchmarks).
    slot = np.searchsorted(result_at, cycle_at, side="right")
    during = slot < len(results)
    during[during] &= previous_at[slot[during]] < cycle_at[during]
    paced = during & ~gc.forced
    cycles = np.bincount(slot[paced], minlength=len(results))
    forced = np.bincount(slot[during & gc.forced], minlength=len(results))
    stw = np.zeros(len(results), dtype=np.int64)
    np.add.at(stw, slot[paced], stw_us[paced])
    totals: dict[str, list[int]] = {}
    for index, result in enumerate(results):
        total = totals.setdefault(result.full_name, [0, 0, 0, 0, 0])
        total[0] += 1
        total[1] += result.iterations
        total[2] += int(cycles[index])
        total[3] += int(stw[index])
        total[4] += int(forced[index])
    return tuple(
        BenchGc(
            benchmark=name,
            samples=samples,
            iterations=iterations,
            cycles=paced_cycles,
            stw_us=stw_total,
            forced_cycles=forced_cycles,
            cycles_per_op=paced_cycles / iterations if iterations else 0.0,
            stw_ns_per_op=stw_total * 1000 / iterations if iterations else 0.0,
        )
        for name, (samples, iterations, paced_cycles, stw_total, forced_cycles) in totals.items()
    )
