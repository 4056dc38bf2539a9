"""The summary `mapscope run` prints when the program has ended (and `mapscope report` without --html):
how the run ended, the benchmarks as benchstat summarises them, GC cycles and pauses per benchmark op, the
model beside the measured bytes per entry, the GC figures that matter most, and the files collected."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from mapscope.analyses.bench_gc import BenchGc
from mapscope.analyses.run_summary import ModelComparison, PackageSites, RunAnalysis
from mapscope.renderers.bench_terminal import render_plain, render_rich
from mapscope.renderers.profile_terminal import quantity, sites_table
from mapscope.runner.manifest import Manifest, Status
from mapscope.units import human_bytes

_STATUS_STYLE = {
    Status.OK: "green",
    Status.FAILED: "red",
    Status.BUILD_FAILED: "red",
    Status.INTERRUPTED: "yellow",
    Status.RUNNING: "yellow",
}
# Flags shown in the summary; `mapscope gc stderr.txt` has them all with their cycles.
_MAX_FLAGS = 4
# Map sites shown per heap profile; `mapscope profile` and the HTML report show more.
_MAX_SITES = 8


def _headline(run_dir: Path, manifest: Manifest, console: Console) -> None:
    go = f"Go {manifest.go_release}" if manifest.go_release else "Go release unknown"
    took = f" in {manifest.seconds:.1f} s" if manifest.seconds is not None else ""
    console.print(f"Run {run_dir}", style="bold", markup=False, highlight=False)
    if manifest.exit_code is not None:
        ended = f"exit {manifest.exit_code}"
    else:
        ended = "no exit status: mapscope is still running it, or was killed before it could record one"
    console.print(
        f"{manifest.status.value} ({ended}){took}, {go}: {' '.join(manifest.command)}",
        style=_STATUS_STYLE[manifest.status],
        markup=False,
        highlight=False,
    )
    console.print(f"GODEBUG={manifest.godebug}", style="dim", markup=False, highlight=False)


def _number(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def model_cells(row: ModelComparison) -> list[str]:
    """Table cells for one comparison row (shared with the HTML report's wording)."""
    model = _number(row.model_b_per_entry)
    if row.model_low is not None and row.model_high is not None and row.model_low != row.model_high:
        model += f" [{row.model_low:,.1f} … {row.model_high:,.1f}]"
    pointees = f"+{row.pointee_b_per_entry:,}" if row.pointee_b_per_entry else ""
    difference = "-" if row.difference_pct is None else f"{row.difference_pct:+.2f}%"
    return [
        row.benchmark,
        row.phase,
        _number(row.measured_b_per_entry),
        model,
        pointees,
        difference,
        row.note or "",
    ]


MODEL_COLUMNS = ("benchmark", "phase", "measured B/entry", "model B/entry", "pointees", "difference", "note")
GC_PER_OP_COLUMNS = ("benchmark", "samples", "iterations", "GC cycles/op", "STW ns/op", "forced GCs")
GC_PER_OP_TITLE = (
    "GC per benchmark op (cycles the pacer started during each benchmark, from this run's gctrace)"
)
GC_PER_OP_NOTE = (
    "runtime.GC() cycles (one before every benchmark run, and any the benchmark forces) are counted apart; "
    "warm-up runs are included, so per-op figures are slight over-estimates"
)


def gc_per_op_cells(row: BenchGc) -> list[str]:
    """Table cells for one benchmark's GC figures (shared with the HTML report)."""
    return [
        row.benchmark,
        str(row.samples),
        f"{row.iterations:,}",
        "0" if row.cycles == 0 else f"{row.cycles_per_op:.3g}",
        f"{row.stw_ns_per_op:,.1f}",
        str(row.forced_cycles),
    ]


def _gc_per_op(analysis: RunAnalysis, console: Console) -> None:
    if not analysis.gc_per_op:
        return
    table = Table(title=GC_PER_OP_TITLE, title_justify="left")
    for column in GC_PER_OP_COLUMNS:
        left = column == "benchmark"
        table.add_column(column, justify="left" if left else "right", overflow="fold", no_wrap=not left)
    for row in analysis.gc_per_op:
        table.add_row(*(Text(cell) for cell in gc_per_op_cells(row)))
    console.print(table)
    console.print(f"  {GC_PER_OP_NOTE}", style="dim", markup=False, highlight=False)


def _models(analysis: RunAnalysis, console: Console) -> None:
    if not analysis.models:
        return
    target = next((row.target for row in analysis.models if row.target), None)
    title = "Live heap per entry after GC: measured (median) and the model" + (
        f" ({target})" if target else ""
    )
    table = Table(title=title, title_justify="left")
    for column in MODEL_COLUMNS[:-1]:
        left = column in ("benchmark", "phase")
        table.add_column(column, justify="left" if left else "right", overflow="fold", no_wrap=not left)
    notes: list[str] = []
    for row in analysis.models:
        *cells, note = model_cells(row)
        if note:
            if note not in notes:
                notes.append(note)
            cells[-1] += f" ({notes.index(note) + 1})"
        # Text, not markup: a Go type such as map[int]int would otherwise lose its [int].
        table.add_row(*(Text(cell) for cell in cells))
    console.print(table)
    for number, note in enumerate(notes, start=1):
        console.print(f"  ({number}) {note}", style="dim", markup=False, highlight=False)


def _gc(analysis: RunAnalysis, console: Console) -> None:
    report = analysis.gc
    if report is None:
        return
    s = report.summary
    runs = f" in {s.runs} program runs" if s.runs > 1 else ""
    console.print(f"GC: {s.cycles} cycles{runs} ({s.forced_cycles} forced)", style="bold", markup=False)
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("STW pauses total", f"{s.stw_ms_total} ms")
    table.add_row("STW per cycle p50 / p99 / max", f"{s.stw_ms.p50} / {s.stw_ms.p99} / {s.stw_ms.max} ms")
    table.add_row("concurrent mark total", f"{s.mark_ms_total} ms")
    assist = "n/a" if s.assist_share is None else f"{s.assist_share:.0%}"
    table.add_row("mark assists, share of mark CPU", assist)
    table.add_row("GC CPU since start (last cycle)", f"{s.final_cpu_percent}%")
    table.add_row("peak live heap / peak goal", f"{s.peak_live_mb} MB / {s.peak_goal_mb} MB")
    console.print(table)
    for flag in s.flags[:_MAX_FLAGS]:
        console.print(f"  [{flag.code}] {flag.message}", markup=False, highlight=False)


def sites_headline(found: PackageSites) -> str:
    """What a heap profile's map sites are (shared with the HTML report)."""
    report = found.report
    share = f"{100 * report.map_value / report.total:.1f}%" if report.total else "-"
    source = f"source {found.source_dir}" if found.source_dir else "without the source"
    return (
        f"Map sites of {found.package or 'the program'}: {quantity(report.map_value, report.sample_type)} "
        f"({share} of {report.sample_type.type}) at {len(report.sites)} sites, heap profile {found.profile}, "
        f"{source}, map model {report.target}"
    )


def _sites(analysis: RunAnalysis, console: Console) -> None:
    for found in analysis.sites:
        console.print(sites_headline(found), style="bold", markup=False, highlight=False)
        if found.report.sites:
            console.print(sites_table(found.report, _MAX_SITES))


def render(run_dir: Path, manifest: Manifest, analysis: RunAnalysis, console: Console) -> None:
    _headline(run_dir, manifest, console)
    if analysis.bench is not None:
        console.print()
        if console.is_terminal:
            console.print(render_rich(analysis.bench), end="", soft_wrap=True)
        else:
            console.print(render_plain(analysis.bench), end="", markup=False, highlight=False, soft_wrap=True)
    console.print()
    _gc_per_op(analysis, console)
    _models(analysis, console)
    _sites(analysis, console)
    _gc(analysis, console)
    console.print("Files", style="bold")
    for entry in manifest.files:
        console.print(
            f"  {entry.path}  ({human_bytes(entry.bytes)}, {entry.role.value})", markup=False, highlight=False
        )
    for note in (*manifest.notes, *analysis.notes):
        console.print(f"note: {note}", style="dim", markup=False, highlight=False)
