"""GC summary and MMU figures, checked against sums and curves computed here from the raw log text."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapscope.analyses import gc_summary, mmu
from mapscope.analyses.gc_summary import CycleFigures, Joined
from mapscope.readers.gctrace import GcColumns, GcCycle, GctraceReader

FIXTURES = Path(__file__).parent / "fixtures" / "gc"


def joined(data: bytes) -> Joined:
    return gc_summary.join(GctraceReader(io.BytesIO(data)).read())


def cycles(result: Joined) -> list[CycleFigures]:
    return list(result.figures())


def mmu_of(result: Joined, windows_ms: tuple[float, ...] = mmu.DEFAULT_WINDOWS_MS) -> mmu.MmuCurve:
    return mmu.mmu_curve(result.log.gc, result.run, windows_ms)


def raw_fields(line: str) -> dict[str, list[str]]:
    """The gc line split by hand: clock and cpu groups, heap triple."""
    after_colon = line.split(": ", 1)[1]
    clock = after_colon.split(" ms clock, ")[0].split("+")
    cpu_text = after_colon.split(" ms clock, ")[1].split(" ms cpu")[0]
    first, middle, last = cpu_text.split("+")
    cpu = [first, *middle.split("/"), last]
    heap = after_colon.split(" ms cpu, ")[1].split(" MB,")[0].split("->")
    goal = after_colon.split(" MB goal")[0].rsplit(" ", 1)[1]
    return {"clock": clock, "cpu": cpu, "heap": [*heap, goal]}


def gc_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.startswith("gc ")]


def test_totals_and_percentiles_equal_the_printed_figures(shared_samples: Path) -> None:
    path = shared_samples / "gctrace" / "gctrace_go1.21.13.log"
    fields = [raw_fields(line) for line in gc_lines(path)]
    summary = gc_summary.summarize(joined(path.read_bytes()))
    sweep = [Decimal(f["clock"][0]) for f in fields]
    mark_term = [Decimal(f["clock"][2]) for f in fields]
    stw = sorted(a + b for a, b in zip(sweep, mark_term, strict=True))
    assert summary.sweep_term_ms_total == sum(sweep)
    assert summary.mark_term_ms_total == sum(mark_term)
    assert summary.stw_ms_total == sum(stw)
    assert summary.mark_ms_total == sum(Decimal(f["clock"][1]) for f in fields)
    assert summary.assist_cpu_ms_total == sum(Decimal(f["cpu"][1]) for f in fields)
    # Ten values: nearest rank p50 is the 5th, p90 the 9th, p99 the 10th.
    assert (summary.stw_ms.p50, summary.stw_ms.p90, summary.stw_ms.p99) == (stw[4], stw[8], stw[9])
    assert summary.stw_ms.max == max(stw) == Decimal("0.116")
    assert summary.cycles == 10 and summary.forced_cycles == 4
    assert summary.peak_live_mb == max(int(f["heap"][2]) for f in fields)
    assert summary.final_cpu_percent == 3


def test_flags_follow_the_printed_figures(shared_samples: Path) -> None:
    path = shared_samples / "gctrace" / "gctrace_go1.21.13.log"
    lines = gc_lines(path)
    fields = [raw_fields(line) for line in lines]
    dominated = tuple(
        i + 1
        for i, f in enumerate(fields)
        if Decimal(f["cpu"][1]) > Decimal(f["cpu"][2]) + Decimal(f["cpu"][3])
    )
    over = tuple(i + 1 for i, f in enumerate(fields) if int(f["heap"][1]) > int(f["heap"][3]))
    forced = tuple(i + 1 for i, line in enumerate(lines) if line.endswith("(forced)"))
    summary = gc_summary.summarize(joined(path.read_bytes()))
    by_code = {flag.code: flag for flag in summary.flags}
    assert by_code["assists-dominate"].cycles == dominated == (4, 6)
    assert by_code["heap-goal-overshot"].cycles == over == (3, 4)
    assert by_code["forced-cycles"].cycles == forced
    assert "long-stw" not in by_code


def test_pacer_lines_join_their_cycle() -> None:
    """The assist line's `a->b MB` starts at the heap the gc line prints first (both are heapLive at start)."""
    for log in ("chatter_all_go1.25.5.log", "chatter_all_go1.27.3.log", "leakcheck_go1.27.3.log"):
        result = joined((FIXTURES / log).read_bytes())
        assert result.unjoined_lines == 0
        with_assist = [f for f in cycles(result) if f.assist is not None]
        assert len(with_assist) == len(result)
        for figures in with_assist:
            assert figures.assist is not None
            assert figures.assist.heap_start_mb == figures.cycle.heap_before_mb
        assert sum(f.sweep is not None for f in cycles(result)) == (FIXTURES / log).read_bytes().count(
            b"sweep done"
        )


def test_scav_and_scan_lines_join() -> None:
    data = (FIXTURES / "chatter_all_go1.27.3.log").read_bytes()
    result = joined(data)
    assert sum(len(f.scav) for f in cycles(result)) == data.count(b"scav ")
    green = (FIXTURES / "gctrace2_greenteagc_go1.25.5.log").read_bytes()
    result = joined(green)
    assert all(f.scan_total is not None for f in cycles(result))
    assert sum(len(f.scan_classes) for f in cycles(result)) == green.count(b"scan: class")


def test_periodic_gc_marks_the_next_cycle() -> None:
    data = (
        b"GC forced\n"
        b"gc 7 @120.051s 0%: 0.012+1.1+0.004 ms clock, 0.024+0/0.21/0.95+0.008 ms cpu, "
        b"4->4->2 MB, 8 MB goal, 0 MB stacks, 0 MB globals, 2 P\n"
    )
    result = joined(data)
    assert cycles(result)[0].periodic
    summary = gc_summary.summarize(result)
    assert summary.periodic_cycles == 1
    assert {flag.code for flag in summary.flags} >= {"periodic-gc"}


def test_several_runs_and_missing_cycles() -> None:
    log = (FIXTURES / "leakcheck_go1.27.3.log").read_bytes()  # gc 1 to gc 8
    without_third = b"".join(line for line in log.splitlines(keepends=True) if not line.startswith(b"gc 3 "))
    result = joined(log + without_third)
    summary = gc_summary.summarize(result)
    assert summary.runs == 2 and summary.cycles == 15 and summary.missing_cycles == 1
    codes = {flag.code for flag in summary.flags}
    assert {"several-runs", "missing-cycles"} <= codes
    assert np.bincount(result.run).tolist() == [8, 7]


def test_percentiles_nearest_rank() -> None:
    # 5, 1, 4, 2, 3 ms as printed ("5", "1.0", "4", "2.0", "3"): each pick keeps its printed decimals.
    micros = np.array([5000, 1000, 4000, 2000, 3000])
    spread = gc_summary.percentiles(micros, np.array([0, 1, 0, 1, 0]))
    assert (spread.p50, spread.p90, spread.p99, spread.max) == (
        Decimal(3),
        Decimal(5),
        Decimal(5),
        Decimal(5),
    )
    assert str(spread.p50) == "3"
    assert str(gc_summary.percentiles(micros[[1, 3]], np.array([1, 1])).p50) == "1.0"
    with pytest.raises(ValueError):
        gc_summary.summarize(joined(b"no gc lines here\n"))


def one_cycle_curve() -> mmu.MmuCurve:
    # Placed at 10 ms: sweep termination 10-11, mark 11-19, mark termination 19-20 (ms); 2 Ps;
    # assist 2 + background 2 of 8 x 2 CPU ms during mark: the mutator keeps 75%.
    line = (
        b"gc 1 @0.010s 0%: 1.0+8.0+1.0 ms clock, 2.0+2.0/2.0/4.0+2.0 ms cpu, "
        b"4->4->4 MB, 4 MB goal, 0 MB stacks, 0 MB globals, 2 P\n"
    )
    return mmu_of(joined(line), (0.5, 1.0, 2.0, 10.0, 20.0, 25.0))


def test_mmu_by_hand() -> None:
    points = {p.window_ms: p for p in one_cycle_curve().points}
    assert points[0.5].stw == 0.0 and points[1.0].stw == 0.0
    assert points[2.0].stw == pytest.approx(0.5)  # [18, 20]: one ms of mark termination
    assert points[2.0].mark == pytest.approx((1 * 0.75) / 2)
    assert points[10.0].stw == pytest.approx(0.8)  # [10, 20]: both pauses
    assert points[10.0].mark == pytest.approx(8 * 0.75 / 10)
    assert points[20.0].stw == pytest.approx(0.9)  # the whole run from process start
    assert points[25.0].stw is None and points[25.0].mark is None


def grid_mmu(cycles: list[GcCycle], window: float, with_mark: bool) -> float | None:
    """MMU on a 1 µs grid, built straight from the cycles: every printed time is a whole number of µs."""
    spans = []
    end = 0
    for c in cycles:
        start = max(int(c.start_s * 1_000_000), end)
        sweep, mark, term = (int(v * 1000) for v in (c.sweep_term_ms, c.mark_ms, c.mark_term_ms))
        rate = 1.0
        if with_mark and mark:
            rate = min(
                max(1 - float(c.assist_cpu_ms + c.background_cpu_ms) / (float(c.mark_ms) * c.procs), 0), 1
            )
        spans.append((start, sweep, mark, term, rate))
        end = start + sweep + mark + term
    utilization = np.ones(end)
    for start, sweep, mark, term, rate in spans:
        utilization[start : start + sweep] = 0.0
        utilization[start + sweep : start + sweep + mark] = rate
        utilization[start + sweep + mark : start + sweep + mark + term] = 0.0
    k = round(window * 1000)
    if k > end:
        return None
    cumulative = np.concatenate(([0.0], np.cumsum(utilization)))
    return float((cumulative[k:] - cumulative[:-k]).min() / k)


MS_TEXTS = st.sampled_from(["0", "0.001", "0.040", "0.35", "1.0", "2.7", "9.9", "12"])


@st.composite
def runs_of_cycles(draw: st.DrawFn) -> list[GcCycle]:
    cycles = []
    at = 0
    for number in range(1, draw(st.integers(1, 5)) + 1):
        at += draw(st.integers(0, 30))
        mark = Decimal(draw(MS_TEXTS))
        cycles.append(
            GcCycle(
                line=number,
                number=number,
                start_s=Decimal(at) / 1000,
                cpu_percent=1,
                leak_check=False,
                sweep_term_ms=Decimal(draw(MS_TEXTS)),
                mark_ms=mark,
                mark_term_ms=Decimal(draw(MS_TEXTS)),
                sweep_term_cpu_ms=Decimal(0),
                assist_cpu_ms=Decimal(draw(MS_TEXTS)),
                background_cpu_ms=Decimal(draw(MS_TEXTS)),
                idle_cpu_ms=Decimal(0),
                mark_term_cpu_ms=Decimal(0),
                heap_before_mb=4,
                heap_after_mb=4,
                heap_live_mb=4,
                heap_goal_mb=4,
                stacks_mb=0,
                globals_mb=0,
                procs=draw(st.integers(1, 4)),
                forced=False,
            )
        )
    return cycles


@settings(max_examples=60, deadline=None)
@given(runs_of_cycles())
def test_mmu_matches_a_grid_built_independently(cycles: list[GcCycle]) -> None:
    windows = (0.5, 1.0, 2.5, 7.3, 20.0)
    columns = GcColumns.from_records(cycles)
    result = mmu.mmu_curve(columns, np.zeros(len(cycles), dtype=np.int64), windows)
    for point in result.points:
        for with_mark, value in ((False, point.stw), (True, point.mark)):
            expected = grid_mmu(cycles, point.window_ms, with_mark)
            if expected is None:
                assert value is None
            else:
                assert value == pytest.approx(expected, abs=1e-6)


def brute_force_mmu(edges: np.ndarray, integral: np.ndarray, window: float, step: float) -> float:
    rates = np.diff(integral) / np.maximum(np.diff(edges), 1e-12)
    grid = np.arange(edges[0], edges[-1], step)
    utilization = rates[np.clip(np.searchsorted(edges, grid, side="right") - 1, 0, len(rates) - 1)]
    cumulative = np.concatenate(([0.0], np.cumsum(utilization) * step))
    k = round(window / step)
    return float(((cumulative[k:] - cumulative[:-k]) / window).min())


@pytest.mark.parametrize("with_mark", [False, True])
def test_mmu_matches_brute_force(with_mark: bool) -> None:
    result = joined((FIXTURES / "leakcheck_go1.27.3.log").read_bytes())
    assert int(result.run.max()) == 0
    timeline = mmu._timelines(result.log.gc, result.run)[with_mark]
    edges, integral = timeline.edges, timeline.integral
    for point in mmu_of(result, (1.0, 5.0, 50.0)).points:
        expected = brute_force_mmu(edges, integral, point.window_ms, 0.001)
        assert (point.mark if with_mark else point.stw) == pytest.approx(expected, abs=2e-3)


def test_mmu_of_several_runs_is_the_worst_run() -> None:
    short = (FIXTURES / "gctrace2_greenteagc_go1.25.5.log").read_bytes()
    long = (FIXTURES / "chatter_all_go1.27.3.log").read_bytes()
    windows = (1.0, 3.0, 30.0, 80.0, 400.0)
    alone = [mmu_of(joined(data), windows) for data in (short, long)]
    both = mmu_of(joined(short + long + short), windows)
    for index, point in enumerate(both.points):
        for model in ("stw", "mark"):
            values = [getattr(curve.points[index], model) for curve in alone]
            present = [v for v in values if v is not None]
            if present:
                assert getattr(point, model) == pytest.approx(min(present), abs=1e-9)
            else:
                assert getattr(point, model) is None
    assert both.longest_run_ms == pytest.approx(max(curve.longest_run_ms for curve in alone), abs=1e-9)


def test_mmu_is_bounded_and_mark_cpu_only_lowers_it() -> None:
    result = mmu_of(joined((FIXTURES / "leakcheck_go1.26.6.log").read_bytes()))
    values = [(p.stw, p.mark) for p in result.points if p.stw is not None and p.mark is not None]
    assert values
    for stw, mark in values:
        assert 0.0 <= mark <= stw <= 1.0
