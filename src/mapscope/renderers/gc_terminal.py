"""`mapscope gc` on a terminal: summary tables, findings, the MMU at round windows and the notable cycles."""

from __future__ import annotations

from decimal import Decimal

from rich.console import Console
from rich.table import Table

from mapscope.analyses.gc_summary import CycleFigures, GcReport, Joined, Percentiles

# Beyond this many cycles the per-cycle table shows the ones with the longest pauses.
MAX_CYCLE_ROWS = 30
_MMU_WINDOWS_MS = (1.0, 10.0, 100.0, 1000.0)
# Width used when stdout is not a terminal: wide enough for the cycle table without folding.
PIPE_WIDTH = 132


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _phase_row(name: str, total: Decimal, spread: Percentiles) -> list[str]:
    return [name, str(total), str(spread.p50), str(spread.p90), str(spread.p99), str(spread.max)]


def _pauses(report: GcReport) -> Table:
    summary = report.summary
    table = Table(title="Pauses and mark phase (wall ms, as printed)", title_justify="left")
    for column in ("phase", "total", "p50", "p90", "p99", "max"):
        table.add_column(column, justify="left" if column == "phase" else "right")
    table.add_row(*_phase_row("sweep termination (STW)", summary.sweep_term_ms_total, summary.sweep_term_ms))
    table.add_row(*_phase_row("mark termination (STW)", summary.mark_term_ms_total, summary.mark_term_ms))
    table.add_row(*_phase_row("STW per cycle (sum)", summary.stw_ms_total, summary.stw_ms), style="bold")
    table.add_row(*_phase_row("concurrent mark", summary.mark_ms_total, summary.mark_ms))
    return table


def _cpu_and_heap(report: GcReport) -> Table:
    summary = report.summary
    table = Table(title="Mark CPU and heap", title_justify="left", show_header=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row(
        "assist CPU ms (share)", f"{summary.assist_cpu_ms_total} ({_percent(summary.assist_share)})"
    )
    table.add_row(
        "background CPU ms (share)",
        f"{summary.background_cpu_ms_total} ({_percent(summary.background_share)})",
    )
    table.add_row("idle CPU ms (share)", f"{summary.idle_cpu_ms_total} ({_percent(summary.idle_share)})")
    table.add_row("GC CPU since start, last cycle", f"{summary.final_cpu_percent}%")
    table.add_row("peak heap after mark", f"{summary.peak_heap_after_mb} MB")
    table.add_row(
        "peak live heap / last live heap", f"{summary.peak_live_mb} MB / {summary.final_live_mb} MB"
    )
    table.add_row("peak heap goal", f"{summary.peak_goal_mb} MB")
    table.add_row("cycles above their goal", str(summary.goal_overshot_cycles))
    return table


def _mmu(report: GcReport) -> Table:
    table = Table(title="Minimum mutator utilization", title_justify="left")
    table.add_column("window", justify="right")
    table.add_column("STW only", justify="right")
    table.add_column("STW + mark CPU", justify="right")
    for point in report.mmu.points:
        if point.window_ms in _MMU_WINDOWS_MS:
            table.add_row(f"{point.window_ms:g} ms", _percent(point.stw), _percent(point.mark))
    return table


def _notable(joined: Joined) -> tuple[list[CycleFigures], str]:
    shown = list(joined.figures(joined.longest_pauses(MAX_CYCLE_ROWS).tolist()))
    if len(joined) <= MAX_CYCLE_ROWS:
        return shown, f"{len(joined)} cycles"
    return shown, f"the {MAX_CYCLE_ROWS} of {len(joined)} cycles with the longest pauses (all: --csv)"


def _marks(figures: CycleFigures) -> str:
    marks = []
    if figures.cycle.forced:
        marks.append("forced")
    if figures.periodic:
        marks.append("periodic")
    if figures.cycle.leak_check:
        marks.append("leak check")
    if figures.assists_dominate:
        marks.append("assists")
    if figures.goal_overshot:
        marks.append("over goal")
    return ", ".join(marks)


def _cycles(report: GcReport) -> Table:
    shown, caption = _notable(report.joined)
    table = Table(title=f"Cycles: {caption}", title_justify="left")
    columns = ("gc", "@s", "STW ms", "mark ms", "assist/bg/idle cpu ms", "heap MB", "goal MB", "notes")
    for column in columns:
        # Fold rather than cut: a truncated number would be a wrong number.
        table.add_column(
            column, justify="right" if column in ("gc", "@s", "goal MB") else "left", overflow="fold"
        )
    for figures in shown:
        c = figures.cycle
        table.add_row(
            str(c.number),
            str(c.start_s),
            f"{c.sweep_term_ms}+{c.mark_term_ms}={figures.stw_ms}",
            str(c.mark_ms),
            f"{c.assist_cpu_ms}/{c.background_cpu_ms}/{c.idle_cpu_ms}",
            f"{c.heap_before_mb}->{c.heap_after_mb}->{c.heap_live_mb}",
            str(c.heap_goal_mb),
            _marks(figures),
        )
    return table


def _headline(report: GcReport) -> str:
    summary = report.summary
    rate = "" if summary.cycles_per_second is None else f", {summary.cycles_per_second:.3g} cycles/s"
    procs = "/".join(str(p) for p in summary.procs)
    runs = f" in {summary.runs} runs" if summary.runs > 1 else ""
    return (
        f"{report.source}: {summary.cycles} GC cycles (gc {summary.first_cycle}…{summary.last_cycle}){runs} "
        f"between @{summary.first_start_s}s and @{summary.last_start_s}s{rate}, GOMAXPROCS {procs}"
    )


def _input_notes(report: GcReport) -> list[str]:
    joined, stats = report.joined, report.input
    notes = [f"{stats.lines} lines read, {stats.foreign_lines} of them program output"]
    if joined.unrecognized_lines:
        first = joined.unrecognized_examples[0]
        notes.append(
            f"{joined.unrecognized_lines} lines look like trace lines but match no known format "
            f"(first: line {first.line}: {first.text!r})"
        )
    if joined.unjoined_lines:
        notes.append(f"{joined.unjoined_lines} pacer/scavenger/scan lines could not be placed in a cycle")
    if stats.unterminated_last_line:
        notes.append("the last line has no newline (log cut off?)")
    return notes


def render(report: GcReport, console: Console) -> None:
    console.print(_headline(report), markup=False, highlight=False)
    console.print(_pauses(report))
    console.print(_cpu_and_heap(report))
    console.print(_mmu(report))
    if report.summary.flags:
        console.print("Findings", style="bold")
        for flag in report.summary.flags:
            console.print(f"  [{flag.code}] {flag.message}", markup=False, highlight=False)
    console.print(_cycles(report))
    for note in _input_notes(report):
        console.print(note, style="dim", markup=False, highlight=False)
