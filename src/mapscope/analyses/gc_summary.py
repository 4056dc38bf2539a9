"""Per-cycle and overall GC figures from gctrace records: pauses, mark time, GC CPU, heap against goal.

Everything that comes straight from the log stays `Decimal`/`int` in the log's units, so totals and
percentiles are exact sums and picks of printed figures; shares and rates are floats.

Pacer, scavenger and gctrace=2 lines carry no cycle number, so they are joined by position. Each cycle's
pacer output starts with its `assist ratio` line (printed when the cycle starts) and everything up to the
next cycle's start belongs to it: real logs print the `sweep done` and `scav` lines of a cycle before or
after its gc line depending on a race (runtime.GC() sweeps while the gc line waits for the print lock),
but never after the next cycle has started, because a cycle finishes the previous sweep before starting.
Without pacer lines, a cycle's group starts at its gc line. `GC forced` (the periodic GC) marks the
cycle that starts next.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from itertools import pairwise

from mapscope.analyses.mmu import MmuCurve
from mapscope.readers.gctrace import (
    GcCycle,
    GcForced,
    GctraceRecord,
    PacerAssist,
    PacerCycleEnd,
    PacerSweepDone,
    ScanClass,
    ScanTotal,
    ScavLine,
    UnrecognizedLine,
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
    """Cycles with their side lines, plus what could not be placed (a few examples of each, and counts)."""

    cycles: tuple[CycleFigures, ...]
    unjoined_lines: int
    unjoined_examples: tuple[int, ...]
    unrecognized_lines: int
    unrecognized_examples: tuple[UnrecognizedLine, ...]

    def runs(self) -> tuple[tuple[GcCycle, ...], ...]:
        """The gc lines of each program run in the log, in order."""
        grouped: dict[int, list[GcCycle]] = {}
        for figures in self.cycles:
            grouped.setdefault(figures.run, []).append(figures.cycle)
        return tuple(tuple(cycles) for cycles in grouped.values())


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


@dataclass
class _Group:
    """A cycle being assembled while the stream is joined (local to one join call)."""

    periodic: bool
    assist: PacerAssist | None = None
    cycle: GcCycle | None = None
    end: PacerCycleEnd | None = None
    sweep: PacerSweepDone | None = None
    scav: list[ScavLine] = field(default_factory=list)
    scan_total: ScanTotal | None = None
    scan_classes: list[ScanClass] = field(default_factory=list)

    def side_lines(self) -> list[int]:
        found = [self.assist, self.end, self.sweep, self.scan_total, *self.scav, *self.scan_classes]
        return [record.line for record in found if record is not None]


def _share(part: Decimal, whole: Decimal) -> float | None:
    return float(part) / float(whole) if whole else None


def _figures(group: _Group, cycle: GcCycle, run: int) -> CycleFigures:
    mark_cpu = cycle.assist_cpu_ms + cycle.background_cpu_ms + cycle.idle_cpu_ms
    overshoot = cycle.heap_after_mb - cycle.heap_goal_mb
    # MB figures are truncated; the pacer's ∆goal is exact in bytes when the line is there.
    overshot = overshoot > 0 or (group.end is not None and group.end.goal_delta_b > 0)
    return CycleFigures(
        cycle=cycle,
        run=run,
        periodic=group.periodic,
        stw_ms=cycle.sweep_term_ms + cycle.mark_term_ms,
        mark_cpu_ms=mark_cpu,
        assist_share=_share(cycle.assist_cpu_ms, mark_cpu),
        background_share=_share(cycle.background_cpu_ms, mark_cpu),
        idle_share=_share(cycle.idle_cpu_ms, mark_cpu),
        assists_dominate=cycle.assist_cpu_ms > cycle.background_cpu_ms + cycle.idle_cpu_ms,
        goal_overshoot_mb=overshoot,
        goal_overshot=overshot,
        assist=group.assist,
        end=group.end,
        sweep=group.sweep,
        scav=tuple(group.scav),
        scan_total=group.scan_total,
        scan_classes=tuple(group.scan_classes),
    )


def join(records: Iterable[GctraceRecord]) -> Joined:
    """Groups a record stream into cycles (see the module docstring for the rules); consumes it once."""
    cycles: list[CycleFigures] = []
    unjoined: list[int] = []
    unjoined_count = 0
    unrecognized: list[UnrecognizedLine] = []
    unrecognized_count = 0
    group: _Group | None = None
    periodic_pending = False
    run = 0

    def not_placed(lines: list[int]) -> None:
        nonlocal unjoined_count
        unjoined_count += len(lines)
        unjoined.extend(lines[: KEPT_EXAMPLES - len(unjoined)])

    def close(finished: _Group | None) -> None:
        nonlocal run
        if finished is None:
            return
        if finished.cycle is None:
            not_placed(finished.side_lines())
            return
        if cycles and finished.cycle.number <= cycles[-1].cycle.number:
            run += 1
        cycles.append(_figures(finished, finished.cycle, run))

    for record in records:
        if isinstance(record, GcCycle):
            if group is None or group.cycle is not None:
                close(group)
                group = _Group(periodic=periodic_pending)
                periodic_pending = False
            group.cycle = record
        elif isinstance(record, PacerAssist):
            close(group)
            group = _Group(periodic=periodic_pending, assist=record)
            periodic_pending = False
        elif isinstance(record, GcForced):
            periodic_pending = True
        elif isinstance(record, UnrecognizedLine):
            unrecognized_count += 1
            if len(unrecognized) < KEPT_EXAMPLES:
                unrecognized.append(record)
        elif not _attach(group, record):
            not_placed([record.line])
    close(group)
    return Joined(
        cycles=tuple(cycles),
        unjoined_lines=unjoined_count,
        unjoined_examples=tuple(unjoined),
        unrecognized_lines=unrecognized_count,
        unrecognized_examples=tuple(unrecognized),
    )


def _attach(
    group: _Group | None, record: PacerCycleEnd | PacerSweepDone | ScavLine | ScanTotal | ScanClass
) -> bool:
    """Puts a side line into the open cycle; False when it does not fit there."""
    if group is None:
        return False
    if isinstance(record, ScavLine):
        group.scav.append(record)
        return True
    if isinstance(record, PacerCycleEnd):
        if group.end is not None or group.cycle is not None:
            return False
        group.end = record
        return True
    if isinstance(record, PacerSweepDone):
        if group.sweep is not None:
            return False
        group.sweep = record
        return True
    # gctrace=2 lines follow their gc line under the same print lock.
    if group.cycle is None:
        return False
    if isinstance(record, ScanTotal):
        if group.scan_total is not None:
            return False
        group.scan_total = record
    else:
        group.scan_classes.append(record)
    return True


def percentiles(values: Sequence[Decimal]) -> Percentiles:
    """Nearest-rank p50/p90/p99/max of a non-empty sequence."""
    ordered = sorted(values)

    def rank(p: int) -> Decimal:
        return ordered[max(math.ceil(p * len(ordered) / 100), 1) - 1]

    return Percentiles(p50=rank(50), p90=rank(90), p99=rank(99), max=ordered[-1])


def _cycles_per_second(cycles: Sequence[CycleFigures]) -> float | None:
    """Cycles per second between the first and last start of each run, pooled over runs."""
    intervals = 0
    seconds = Decimal(0)
    first: dict[int, CycleFigures] = {}
    last: dict[int, CycleFigures] = {}
    for figures in cycles:
        first.setdefault(figures.run, figures)
        last[figures.run] = figures
    for run, start in first.items():
        end = last[run]
        intervals += end.cycle.number - start.cycle.number
        seconds += end.cycle.start_s - start.cycle.start_s
    return intervals / float(seconds) if seconds > 0 else None


def _missing(cycles: Sequence[CycleFigures]) -> tuple[int, list[int]]:
    """How many cycle numbers are absent between consecutive cycles of a run, and the first few."""
    count = 0
    examples: list[int] = []
    for before, after in pairwise(cycles):
        gap = after.cycle.number - before.cycle.number - 1
        if after.run == before.run and gap > 0:
            count += gap
            room = KEPT_EXAMPLES - len(examples)
            examples.extend(range(before.cycle.number + 1, before.cycle.number + 1 + min(gap, room)))
    return count, examples


def summarize(cycles: Sequence[CycleFigures]) -> GcSummary:
    """Overall figures and flags for a non-empty sequence of cycles."""
    if not cycles:
        raise ValueError("summarize needs at least one cycle")
    gc = [figures.cycle for figures in cycles]
    assist = sum((c.assist_cpu_ms for c in gc), Decimal(0))
    background = sum((c.background_cpu_ms for c in gc), Decimal(0))
    idle = sum((c.idle_cpu_ms for c in gc), Decimal(0))
    mark_cpu = assist + background + idle
    stw = [figures.stw_ms for figures in cycles]
    missing, missing_examples = _missing(cycles)
    summary = GcSummary(
        cycles=len(cycles),
        runs=cycles[-1].run + 1,
        first_cycle=gc[0].number,
        last_cycle=gc[-1].number,
        missing_cycles=missing,
        forced_cycles=sum(c.forced for c in gc),
        periodic_cycles=sum(figures.periodic for figures in cycles),
        leak_check_cycles=sum(c.leak_check for c in gc),
        first_start_s=gc[0].start_s,
        last_start_s=gc[-1].start_s,
        cycles_per_second=_cycles_per_second(cycles),
        procs=tuple(sorted({c.procs for c in gc})),
        final_cpu_percent=gc[-1].cpu_percent,
        stw_ms_total=sum(stw, Decimal(0)),
        sweep_term_ms_total=sum((c.sweep_term_ms for c in gc), Decimal(0)),
        mark_term_ms_total=sum((c.mark_term_ms for c in gc), Decimal(0)),
        mark_ms_total=sum((c.mark_ms for c in gc), Decimal(0)),
        stw_ms=percentiles(stw),
        sweep_term_ms=percentiles([c.sweep_term_ms for c in gc]),
        mark_term_ms=percentiles([c.mark_term_ms for c in gc]),
        mark_ms=percentiles([c.mark_ms for c in gc]),
        assist_cpu_ms_total=assist,
        background_cpu_ms_total=background,
        idle_cpu_ms_total=idle,
        assist_share=_share(assist, mark_cpu),
        background_share=_share(background, mark_cpu),
        idle_share=_share(idle, mark_cpu),
        peak_heap_after_mb=max(c.heap_after_mb for c in gc),
        peak_live_mb=max(c.heap_live_mb for c in gc),
        final_live_mb=gc[-1].heap_live_mb,
        peak_goal_mb=max(c.heap_goal_mb for c in gc),
        goal_overshot_cycles=sum(figures.goal_overshot for figures in cycles),
        flags=(),
    )
    return replace(summary, flags=_flags(cycles, summary, missing_examples))


def _numbers(cycles: Iterable[CycleFigures]) -> tuple[int, ...]:
    return tuple(figures.cycle.number for figures in cycles)


def _flags(
    cycles: Sequence[CycleFigures], summary: GcSummary, missing_examples: Sequence[int]
) -> tuple[Flag, ...]:
    """The findings, most actionable first."""
    found: list[Flag] = []
    dominated = [f for f in cycles if f.assists_dominate]
    if dominated:
        share = f"{summary.assist_share:.0%}" if summary.assist_share is not None else "n/a"
        found.append(
            Flag(
                "assists-dominate",
                f"mark assists exceeded background+idle mark CPU in {len(dominated)} of {len(cycles)} "
                f"cycles (assists are {share} of all mark CPU): goroutines were drafted into marking "
                "because allocation outran the pacer",
                _numbers(dominated),
            )
        )
    overshot = [f for f in cycles if f.goal_overshot]
    if overshot:
        worst = max(f.goal_overshoot_mb for f in overshot)
        found.append(
            Flag(
                "heap-goal-overshot",
                f"the heap ended marking above its goal in {len(overshot)} of {len(cycles)} cycles "
                f"(worst by {max(worst, 0)} MB as printed): the GC started too late for the allocation rate",
                _numbers(overshot),
            )
        )
    long_pauses = [f for f in cycles if f.stw_ms >= LONG_STW_MS]
    if long_pauses:
        found.append(
            Flag(
                "long-stw",
                f"{len(long_pauses)} cycles stopped the world for {LONG_STW_MS} ms or more "
                f"(longest {summary.stw_ms.max} ms)",
                _numbers(long_pauses),
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
    forced = [f for f in cycles if f.cycle.forced]
    if forced:
        found.append(
            Flag(
                "forced-cycles",
                f"{len(forced)} cycles were forced by runtime.GC() or debug.FreeOSMemory(); their "
                "heap goals and pauses do not reflect the pacer",
                _numbers(forced),
            )
        )
    periodic = [f for f in cycles if f.periodic]
    if periodic:
        found.append(
            Flag(
                "periodic-gc",
                f"{len(periodic)} cycles were started by the 2-minute periodic GC (`GC forced`)",
                _numbers(periodic),
            )
        )
    leak_checks = [f for f in cycles if f.cycle.leak_check]
    if leak_checks:
        found.append(
            Flag(
                "goroutine-leak-checks",
                f"{len(leak_checks)} cycles ran goroutine leak detection (goroutineleak profile)",
                _numbers(leak_checks),
            )
        )
    if summary.runs > 1:
        restarts = [f for before, f in pairwise(cycles) if f.run != before.run]
        found.append(
            Flag(
                "several-runs",
                f"the cycle numbering restarts {summary.runs - 1} times: the log holds {summary.runs} "
                "program runs, each timed from its own start",
                _numbers(restarts),
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
