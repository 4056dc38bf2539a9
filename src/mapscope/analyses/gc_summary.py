"""Per-cycle and overall GC figures from a gctrace log: pauses, mark time, GC CPU, heap against goal.

Everything works on the reader's columns (readers/gctrace.py), so a log of millions of cycles costs
numpy operations, not Python objects; `Joined.figures` builds a record per cycle for the renderers that
list cycles. Figures that come straight from the log stay exact integers in the log's units (durations in
microseconds with their printed decimals), so totals and percentiles are exact sums and picks of printed
figures and come out as the `Decimal` milliseconds the log shows; shares and rates are floats.

Pacer, scavenger and gctrace=2 lines carry no cycle number, so they are joined by position. Each cycle's
pacer output starts with its `assist ratio` line (printed when the cycle starts) and everything up to the
next cycle's start belongs to it: real logs print the `sweep done` and `scav` lines of a cycle before or
after its gc line depending on a race (runtime.GC() sweeps while the gc line waits for the print lock),
but never after the next cycle has started, because a cycle finishes the previous sweep before starting.
Without pacer lines, a cycle's group starts at its gc line. Within a group, the first `% CPU` line before
the gc line, the first `sweep done` line, every `scav` line, and the `scan:` lines after the gc line (the
first total, every class) are the cycle's; any other side line, and every side line of a group without a
gc line, is unjoined. `GC forced` (the periodic GC) marks the cycle that starts next.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal

import numpy as np

from mapscope.analyses.mmu import MmuCurve
from mapscope.arrays import Bools, Ints
from mapscope.readers.gctrace import (
    Flat,
    GcCycle,
    GctraceLog,
    PacerAssist,
    PacerCycleEnd,
    PacerSweepDone,
    RecordColumns,
    ScanClass,
    ScanTotal,
    ScavLine,
    UnrecognizedLine,
    ms_decimal,
)

# A pause this long is noticeable to latency-sensitive services; Go's own target is well below it.
LONG_STW_MS = Decimal(1)
# GC CPU share since program start (the gc line's `P%`) at or above which GC cost deserves a look.
HIGH_GC_CPU_PERCENT = 10
# How many unrecognized lines / unjoined line numbers are kept for the report.
KEPT_EXAMPLES = 20


@dataclass(frozen=True, slots=True)
class CycleFigures:
    """One GC cycle: its gc line, what the pacer/scavenger/gctrace=2 said about it, and derived figures.

    `run` counts restarts of the cycle numbering (several program runs in one log). Shares are of the
    mark phase's GC CPU (assist + background + idle), None when that was 0.
    """

    cycle: GcCycle
    run: int
    periodic: bool
    stw_ms: Decimal
    mark_cpu_ms: Decimal
    assist_share: float | None
    background_share: float | None
    idle_share: float | None
    assists_dominate: bool
    goal_overshoot_mb: int
    goal_overshot: bool
    assist: PacerAssist | None
    end: PacerCycleEnd | None
    sweep: PacerSweepDone | None
    scav: tuple[ScavLine, ...]
    scan_total: ScanTotal | None
    scan_classes: tuple[ScanClass, ...]


@dataclass(frozen=True, slots=True)
class Percentiles:
    """Nearest-rank percentiles: each one is a value that appears in the log."""

    p50: Decimal
    p90: Decimal
    p99: Decimal
    max: Decimal


@dataclass(frozen=True, slots=True)
class Flag:
    """A finding worth a look; `cycles` are the gc numbers it concerns (empty when it is about the whole log)."""

    code: str
    message: str
    cycles: tuple[int, ...]


@dataclass(frozen=True)
class GcSummary:
    """Figures over all cycles: counts, exact totals and percentiles of the phases, CPU split, heap peaks."""

    cycles: int
    runs: int
    first_cycle: int
    last_cycle: int
    missing_cycles: int
    forced_cycles: int
    periodic_cycles: int
    leak_check_cycles: int
    first_start_s: Decimal
    last_start_s: Decimal
    cycles_per_second: float | None
    procs: tuple[int, ...]
    final_cpu_percent: int
    stw_ms_total: Decimal
    sweep_term_ms_total: Decimal
    mark_term_ms_total: Decimal
    mark_ms_total: Decimal
    stw_ms: Percentiles
    sweep_term_ms: Percentiles
    mark_term_ms: Percentiles
    mark_ms: Percentiles
    assist_cpu_ms_total: Decimal
    background_cpu_ms_total: Decimal
    idle_cpu_ms_total: Decimal
    assist_share: float | None
    background_share: float | None
    idle_share: float | None
    peak_heap_after_mb: int
    peak_live_mb: int
    final_live_mb: int
    peak_goal_mb: int
    goal_overshot_cycles: int
    flags: tuple[Flag, ...]


@dataclass(frozen=True)
class Joined:
    """The log's cycles (its gc lines, in order) with their side lines as row numbers into the log's tables
    (-1: none), derived per-cycle columns, and what could not be placed (a few examples, and counts).

    A cycle's scav rows are `scav_rows[scav_from[i]:scav_from[i + 1]]`, its scan classes likewise.
    Durations derived from printed ones keep the most decimals of their parts, as a `Decimal` sum would.
    """

    log: GctraceLog
    run: Ints
    periodic: Bools
    assist: Ints
    end: Ints
    sweep: Ints
    scan_total: Ints
    scav_from: Ints
    scav_rows: Ints
    class_from: Ints
    class_rows: Ints
    stw_us: Ints
    stw_decimals: Ints
    mark_cpu_us: Ints
    mark_cpu_decimals: Ints
    assists_dominate: Bools
    goal_overshoot_mb: Ints
    goal_overshot: Bools
    unjoined_lines: int
    unjoined_examples: tuple[int, ...]
    unrecognized_lines: int
    unrecognized_examples: tuple[UnrecognizedLine, ...]

    def __len__(self) -> int:
        return len(self.run)

    def stw_ms(self, row: int) -> Decimal:
        return ms_decimal(int(self.stw_us[row]), int(self.stw_decimals[row]))

    def figure(self, row: int) -> CycleFigures:
        """One cycle as a record."""
        log = self.log
        mark_cpu = int(self.mark_cpu_us[row])
        gc = log.gc

        def share(column: Ints) -> float | None:
            return int(column[row]) / mark_cpu if mark_cpu else None

        def side(table_row: int, table: RecordColumns[Flat]) -> Flat | None:
            return None if table_row < 0 else table.record(table_row)

        scav = self.scav_rows[self.scav_from[row] : self.scav_from[row + 1]]
        classes = self.class_rows[self.class_from[row] : self.class_from[row + 1]]
        total = int(self.scan_total[row])
        return CycleFigures(
            cycle=gc.record(row),
            run=int(self.run[row]),
            periodic=bool(self.periodic[row]),
            stw_ms=self.stw_ms(row),
            mark_cpu_ms=ms_decimal(mark_cpu, int(self.mark_cpu_decimals[row])),
            assist_share=share(gc.assist_cpu_us),
            background_share=share(gc.background_cpu_us),
            idle_share=share(gc.idle_cpu_us),
            assists_dominate=bool(self.assists_dominate[row]),
            goal_overshoot_mb=int(self.goal_overshoot_mb[row]),
            goal_overshot=bool(self.goal_overshot[row]),
            assist=side(int(self.assist[row]), log.assist),
            end=side(int(self.end[row]), log.end),
            sweep=side(int(self.sweep[row]), log.sweep),
            scav=tuple(log.scav.record(int(r)) for r in scav),
            scan_total=None if total < 0 else log.scan.total_record(total),
            scan_classes=tuple(log.scan.class_record(int(r)) for r in classes),
        )

    def figures(self, rows: Iterable[int] | None = None) -> Iterator[CycleFigures]:
        """Records of the given cycles (default: all, in order), built one at a time."""
        for row in range(len(self)) if rows is None else rows:
            yield self.figure(row)

    def longest_pauses(self, count: int) -> Ints:
        """The rows of the `count` cycles with the longest pauses (ties: earlier first), in log order."""
        if len(self) <= count:
            return np.arange(len(self))
        longest = np.argsort(-self.stw_us, kind="stable")[:count]
        return np.sort(longest)


@dataclass(frozen=True)
class InputStats:
    """What the reader saw besides records."""

    lines: int
    foreign_lines: int
    unterminated_last_line: bool


@dataclass(frozen=True)
class GcReport:
    """Everything `mapscope gc` shows, in one value for the renderers."""

    source: str
    input: InputStats
    joined: Joined
    summary: GcSummary
    mmu: MmuCurve


def _groups_of(lines: Ints, openings: Ints) -> Ints:
    """For each line, the group open at it (-1 before the first)."""
    return np.searchsorted(openings, lines, side="right") - 1


def _first_per_group(groups: Ints, eligible: Bools, count: int) -> tuple[Ints, Bools]:
    """Per group, the first eligible row (-1 when none); and which rows those are."""
    chosen = np.full(count, -1, dtype=np.int64)
    rows = np.flatnonzero(eligible)
    kept = np.zeros(len(groups), dtype=np.bool_)
    if len(rows):
        unique, first = np.unique(groups[rows], return_index=True)
        chosen[unique] = rows[first]
        kept[rows[first]] = True
    return chosen, kept


def _offsets(owners: Ints, count: int) -> Ints:
    return np.concatenate(([0], np.cumsum(np.bincount(owners, minlength=count)))).astype(np.int64)


def join(log: GctraceLog) -> Joined:
    """Groups the log's lines into cycles (see the module docstring for the rules)."""
    gc = log.gc
    cycles = len(gc)
    # Openers in line order: an assist line always opens a group, a gc line when the previous opener was
    # a gc line (its group has its cycle already) or there is none.
    opener_lines = np.concatenate((log.assist.line, gc.line))
    is_gc = np.concatenate((np.zeros(len(log.assist), np.bool_), np.ones(cycles, np.bool_)))
    order = np.argsort(opener_lines, kind="stable")
    opener_lines, is_gc = opener_lines[order], is_gc[order]
    opens = ~is_gc | np.concatenate(([True], is_gc[:-1]))
    group_of_opener = np.cumsum(opens) - 1
    openings = opener_lines[opens]
    groups = len(openings)
    gc_group = group_of_opener[is_gc]
    group_cycle = np.full(groups, -1, dtype=np.int64)
    group_cycle[gc_group] = np.arange(cycles)
    group_gc_line = np.full(groups, np.iinfo(np.int64).max, dtype=np.int64)
    group_gc_line[gc_group] = gc.line
    group_assist = np.full(groups, -1, dtype=np.int64)
    group_assist[group_of_opener[~is_gc]] = np.arange(len(log.assist))
    # Indexed by group, with one more entry for "before the first group" (-1).
    has_cycle = np.append(group_cycle >= 0, False)
    gc_line_of = np.append(group_gc_line, np.iinfo(np.int64).max)

    def placed(lines: Ints) -> tuple[Ints, Bools]:
        """Each line's group and whether that group has a cycle."""
        group = _groups_of(lines, openings)
        return group, has_cycle[group]

    end_group, end_ok = placed(log.end.line)
    group_end, end_kept = _first_per_group(end_group, end_ok & (log.end.line < gc_line_of[end_group]), groups)
    sweep_group, sweep_ok = placed(log.sweep.line)
    group_sweep, sweep_kept = _first_per_group(sweep_group, sweep_ok, groups)
    scav_group, scav_kept = placed(log.scav.line)
    scan_group, scan_ok = placed(log.scan.line)
    scan_ok &= log.scan.line > gc_line_of[scan_group]
    group_total, total_kept = _first_per_group(scan_group, scan_ok & log.scan.total, groups)
    class_kept = scan_ok & ~log.scan.total
    unjoined = np.concatenate(
        (
            log.assist.line[~has_cycle[group_of_opener[~is_gc]]],
            log.end.line[~end_kept],
            log.sweep.line[~sweep_kept],
            log.scav.line[~scav_kept],
            log.scan.line[~(total_kept | class_kept)],
        )
    )
    # `GC forced` marks the group opened next.
    forced_before = np.searchsorted(log.forced, openings)
    periodic = np.diff(np.concatenate(([0], forced_before))) > 0
    number = gc.number
    run = np.cumsum(np.concatenate(([False], number[1:] <= number[:-1])))[:cycles].astype(np.int64)
    decimals = gc.decimals.astype(np.int64)
    mark_cpu = gc.assist_cpu_us + gc.background_cpu_us + gc.idle_cpu_us
    end = group_end[gc_group]
    overshoot = gc.heap_after_mb - gc.heap_goal_mb
    # MB figures are truncated; the pacer's ∆goal is exact in bytes when the line is there.
    delta = np.where(end >= 0, log.end.column("goal_delta_b")[np.maximum(end, 0)] if len(log.end) else 0, 0)
    scav_cycles = group_cycle[scav_group[scav_kept]]
    class_cycles = group_cycle[scan_group[class_kept]]
    return Joined(
        log=log,
        run=run,
        periodic=periodic[gc_group],
        assist=group_assist[gc_group],
        end=end,
        sweep=group_sweep[gc_group],
        scan_total=group_total[gc_group],
        scav_from=_offsets(scav_cycles, cycles),
        scav_rows=np.flatnonzero(scav_kept),
        class_from=_offsets(class_cycles, cycles),
        class_rows=np.flatnonzero(class_kept),
        stw_us=gc.sweep_term_us + gc.mark_term_us,
        stw_decimals=np.maximum(decimals[:, 0], decimals[:, 2]),
        mark_cpu_us=mark_cpu,
        mark_cpu_decimals=decimals[:, 4:7].max(axis=1, initial=0),
        assists_dominate=gc.assist_cpu_us > gc.background_cpu_us + gc.idle_cpu_us,
        goal_overshoot_mb=overshoot,
        goal_overshot=(overshoot > 0) | (delta > 0),
        unjoined_lines=len(unjoined),
        unjoined_examples=tuple(np.sort(unjoined)[:KEPT_EXAMPLES].tolist()),
        unrecognized_lines=len(log.unrecognized),
        unrecognized_examples=log.unrecognized[:KEPT_EXAMPLES],
    )


def _total(micros: Ints, decimals: Ints) -> Decimal:
    """The exact sum of printed durations, with as many decimals as the most precise of them."""
    return ms_decimal(int(micros.sum()), int(decimals.max(initial=0)))


def percentiles(micros: Ints, decimals: Ints) -> Percentiles:
    """Nearest-rank p50/p90/p99/max of a non-empty column of durations, each as printed in the log."""
    if not len(micros):
        raise ValueError("percentiles need at least one value")
    order = np.argsort(micros, kind="stable")

    def rank(p: int) -> Decimal:
        row = order[max(math.ceil(p * len(order) / 100), 1) - 1]
        return ms_decimal(int(micros[row]), int(decimals[row]))

    return Percentiles(p50=rank(50), p90=rank(90), p99=rank(99), max=rank(100))


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _cycles_per_second(joined: Joined) -> float | None:
    """Cycles per second between the first and last start of each run, pooled over runs."""
    run, gc = joined.run, joined.log.gc
    first = np.flatnonzero(np.concatenate(([True], run[1:] != run[:-1])))
    last = np.concatenate((first[1:] - 1, [len(run) - 1]))
    intervals = int((gc.number[last] - gc.number[first]).sum())
    millis = int((gc.start_ms[last] - gc.start_ms[first]).sum())
    return intervals / (millis / 1000) if millis > 0 else None


def _missing(joined: Joined) -> tuple[int, list[int]]:
    """How many cycle numbers are absent between consecutive cycles of a run, and the first few."""
    number = joined.log.gc.number
    gaps = np.diff(number) - 1
    gaps[np.diff(joined.run) != 0] = 0
    examples: list[int] = []
    for at in np.flatnonzero(gaps > 0)[:KEPT_EXAMPLES].tolist():
        room = KEPT_EXAMPLES - len(examples)
        examples.extend(range(int(number[at]) + 1, int(number[at]) + 1 + min(int(gaps[at]), room)))
    return int(np.maximum(gaps, 0).sum()), examples


def summarize(joined: Joined) -> GcSummary:
    """Overall figures and flags for a log with at least one cycle."""
    if not len(joined):
        raise ValueError("summarize needs at least one cycle")
    gc = joined.log.gc
    decimals = gc.decimals.astype(np.int64)
    assist, background, idle = (
        int(c.sum()) for c in (gc.assist_cpu_us, gc.background_cpu_us, gc.idle_cpu_us)
    )
    mark_cpu = assist + background + idle
    missing, missing_examples = _missing(joined)
    summary = GcSummary(
        cycles=len(joined),
        runs=int(joined.run[-1]) + 1,
        first_cycle=int(gc.number[0]),
        last_cycle=int(gc.number[-1]),
        missing_cycles=missing,
        forced_cycles=int(gc.forced.sum()),
        periodic_cycles=int(joined.periodic.sum()),
        leak_check_cycles=int(gc.leak_check.sum()),
        first_start_s=Decimal(int(gc.start_ms[0])).scaleb(-3),
        last_start_s=Decimal(int(gc.start_ms[-1])).scaleb(-3),
        cycles_per_second=_cycles_per_second(joined),
        procs=tuple(np.unique(gc.procs).tolist()),
        final_cpu_percent=int(gc.cpu_percent[-1]),
        stw_ms_total=_total(joined.stw_us, joined.stw_decimals),
        sweep_term_ms_total=_total(gc.sweep_term_us, decimals[:, 0]),
        mark_term_ms_total=_total(gc.mark_term_us, decimals[:, 2]),
        mark_ms_total=_total(gc.mark_us, decimals[:, 1]),
        stw_ms=percentiles(joined.stw_us, joined.stw_decimals),
        sweep_term_ms=percentiles(gc.sweep_term_us, decimals[:, 0]),
        mark_term_ms=percentiles(gc.mark_term_us, decimals[:, 2]),
        mark_ms=percentiles(gc.mark_us, decimals[:, 1]),
        assist_cpu_ms_total=_total(gc.assist_cpu_us, decimals[:, 4]),
        background_cpu_ms_total=_total(gc.background_cpu_us, decimals[:, 5]),
        idle_cpu_ms_total=_total(gc.idle_cpu_us, decimals[:, 6]),
        assist_share=_share(assist, mark_cpu),
        background_share=_share(background, mark_cpu),
        idle_share=_share(idle, mark_cpu),
        peak_heap_after_mb=int(gc.heap_after_mb.max()),
        peak_live_mb=int(gc.heap_live_mb.max()),
        final_live_mb=int(gc.heap_live_mb[-1]),
        peak_goal_mb=int(gc.heap_goal_mb.max()),
        goal_overshot_cycles=int(joined.goal_overshot.sum()),
        flags=(),
    )
    return replace(summary, flags=_flags(joined, summary, missing_examples))


def _numbers(joined: Joined, mask: Bools) -> tuple[int, ...]:
    return tuple(joined.log.gc.number[mask].tolist())


def _flags(joined: Joined, summary: GcSummary, missing_examples: list[int]) -> tuple[Flag, ...]:
    """The findings, most actionable first."""
    found: list[Flag] = []
    cycles = len(joined)
    gc = joined.log.gc
    dominated = joined.assists_dominate
    if dominated.any():
        share = f"{summary.assist_share:.0%}" if summary.assist_share is not None else "n/a"
        found.append(
            Flag(
                "assists-dominate",
                f"mark assists exceeded background+idle mark CPU in {int(dominated.sum())} of {cycles} "
                f"cycles (assists are {share} of all mark CPU): goroutines were drafted into marking "
                "because allocation outran the pacer",
                _numbers(joined, dominated),
            )
        )
    overshot = joined.goal_overshot
    if overshot.any():
        worst = int(joined.goal_overshoot_mb[overshot].max())
        found.append(
            Flag(
                "heap-goal-overshot",
                f"the heap ended marking above its goal in {int(overshot.sum())} of {cycles} cycles "
                f"(worst by {max(worst, 0)} MB as printed): the GC started too late for the allocation rate",
                _numbers(joined, overshot),
            )
        )
    long_pauses = joined.stw_us >= int(LONG_STW_MS * 1000)
    if long_pauses.any():
        found.append(
            Flag(
                "long-stw",
                f"{int(long_pauses.sum())} cycles stopped the world for {LONG_STW_MS} ms or more "
                f"(longest {summary.stw_ms.max} ms)",
                _numbers(joined, long_pauses),
            )
        )
    if summary.final_cpu_percent >= HIGH_GC_CPU_PERCENT:
        found.append(
            Flag(
                "high-gc-cpu",
                f"GC had used {summary.final_cpu_percent}% of the CPU since program start by the last cycle",
                (),
            )
        )
    if gc.forced.any():
        found.append(
            Flag(
                "forced-cycles",
                f"{int(gc.forced.sum())} cycles were forced by runtime.GC() or debug.FreeOSMemory(); their "
                "heap goals and pauses do not reflect the pacer",
                _numbers(joined, gc.forced),
            )
        )
    if joined.periodic.any():
        found.append(
            Flag(
                "periodic-gc",
                f"{int(joined.periodic.sum())} cycles were started by the 2-minute periodic GC (`GC forced`)",
                _numbers(joined, joined.periodic),
            )
        )
    if gc.leak_check.any():
        found.append(
            Flag(
                "goroutine-leak-checks",
                f"{int(gc.leak_check.sum())} cycles ran goroutine leak detection (goroutineleak profile)",
                _numbers(joined, gc.leak_check),
            )
        )
    if summary.runs > 1:
        restarts = np.concatenate(([False], np.diff(joined.run) != 0))
        found.append(
            Flag(
                "several-runs",
                f"the cycle numbering restarts {summary.runs - 1} times: the log holds {summary.runs} "
                "program runs, each timed from its own start",
                _numbers(joined, restarts),
            )
        )
    if summary.missing_cycles:
        found.append(
            Flag(
                "missing-cycles",
                f"{summary.missing_cycles} cycle numbers are missing from the log; time-based figures treat "
                "their time as mutator time",
                tuple(missing_examples),
            )
        )
    return tuple(found)
