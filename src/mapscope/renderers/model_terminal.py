"""Terminal views of the model's answers (rich tables and a bar chart)."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from mapscope.analyses.compare import Comparison
from mapscope.analyses.map_size import SizeReport
from mapscope.analyses.model_vs_runtime import FigureCheck, Verdict
from mapscope.model.records import Event, Timeline
from mapscope.renderers.model_json import SEED_NOTE
from mapscope.renderers.units import spread_bytes, spread_count
from mapscope.units import human_bytes

MAX_EVENTS = 40
BAR_WIDTH = 40


def _target(version: str, goexperiment: str, implementation: str) -> str:
    experiment = f" GOEXPERIMENT={goexperiment}" if goexperiment else ""
    return f"Go {version}{experiment} ({implementation})"


def events_table(events: tuple[Event, ...]) -> Table:
    table = Table(title="Events", title_justify="left", show_edge=False)
    for column in ("op", "entries", "", "cause", "why", "objects", "bytes"):
        table.add_column(column, justify="right" if column in ("entries", "objects", "bytes") else "left")
    for event in events[:MAX_EVENTS]:
        table.add_row(
            str(event.op_index),
            f"{event.entries:,}",
            event.action.value,
            event.cause.value,
            event.reason,
            f"{event.objects:,}",
            f"{event.bytes:,}",
        )
    if len(events) > MAX_EVENTS:
        table.caption = f"{len(events) - MAX_EVENTS} more events in --json"
    return table


def size_view(report: SizeReport, events: bool = True) -> Group:
    hint = f", hint {report.hint:,}" if report.hint is not None else ""
    table = Table(
        title=f"{report.map_type} with {report.n:,} entries{hint} on "
        f"{_target(report.go_version, report.goexperiment, report.implementation)}",
        title_justify="left",
        show_header=False,
        show_edge=False,
    )
    table.add_column("figure", style="bold")
    table.add_column("value", justify="right")
    table.add_row("retained after GC", spread_bytes(report.retained_bytes))
    per_entry = report.bytes_per_entry
    table.add_row("bytes per entry", f"{per_entry:,.1f}" if per_entry is not None else "-")
    table.add_row("total allocated", spread_bytes(report.total_alloc_bytes))
    table.add_row("allocations", spread_count(report.mallocs))
    table.add_row("GC-scanned bytes", spread_bytes(report.gc_scan_bytes))
    table.add_row("peak during growth", spread_bytes(report.peak_bytes))
    table.add_row("after deleting every key", spread_bytes(report.after_delete_bytes))
    table.add_row("after clear(m)", spread_bytes(report.after_clear_bytes))
    table.add_row("after delete all + N new keys", spread_bytes(report.after_churn_bytes))
    parts: list[Table | Text] = [table, Text()]
    if report.seed_dependent:
        parts += [Text(SEED_NOTE, style="yellow"), Text()]
    if events:
        parts.append(events_table(report.events))
    return Group(*parts)


def timeline_view(timeline: Timeline) -> Group:
    top = max((p.peak_bytes.high for p in timeline.points), default=0) or 1
    chart = Table(
        title=f"{timeline.map_type} on "
        f"{_target(timeline.go_version, timeline.goexperiment, timeline.implementation)}",
        title_justify="left",
        show_edge=False,
    )
    for column in ("#", "operation", "entries", "retained", "", "peak so far", "allocated", "mallocs"):
        chart.add_column(column, justify="left" if column in ("operation", "") else "right")
    for point in timeline.points:
        filled = round(BAR_WIDTH * point.retained_bytes.value / top)
        chart.add_row(
            str(point.op_index),
            point.op,
            f"{point.entries:,}",
            spread_bytes(point.retained_bytes),
            Text("█" * filled + "░" * (BAR_WIDTH - filled), style="cyan"),
            human_bytes(point.peak_bytes.value),
            human_bytes(point.total_alloc_bytes.value),
            spread_count(point.mallocs),
        )
    parts: list[Table | Text] = [chart, Text()]
    if timeline.seed_dependent:
        parts += [Text(SEED_NOTE, style="yellow"), Text()]
    parts.append(events_table(timeline.events))
    return Group(*parts)


def comparison_view(comparison: Comparison) -> Group:
    table = Table(title=f"{comparison.n:,} entries", title_justify="left", show_edge=False)
    for column in ("map type", "Go", "retained", "B/entry", "peak", "allocated", "mallocs", "GC scan",
                   "after delete", "with hint"):  # fmt: skip
        table.add_column(column, justify="left" if column in ("map type", "Go") else "right", no_wrap=True)
    for cell in comparison.cells:
        report = cell.report
        per_entry = report.bytes_per_entry
        table.add_row(
            report.map_type,
            f"{cell.target.label.removeprefix('go')} {report.implementation}",
            human_bytes(report.retained_bytes.value) + ("*" if not report.retained_bytes.exact else ""),
            f"{per_entry:,.1f}" if per_entry is not None else "-",
            human_bytes(report.peak_bytes.value),
            human_bytes(report.total_alloc_bytes.value),
            f"{report.mallocs.value:,}",
            human_bytes(report.gc_scan_bytes.value),
            human_bytes(report.after_delete_bytes.value),
            human_bytes(cell.hinted.retained_bytes.value),
        )
    parts: list[Table | Text] = [table]
    if any(cell.report.seed_dependent for cell in comparison.cells):
        parts.append(
            Text("* depends on the hash seed: the median is shown (--json has the ranges)", style="yellow")
        )
    parts.append(Text())
    parts += [Text(f"• {line}") for line in comparison.advice]
    return Group(*parts)


def checks_view(title: str, checks: tuple[FigureCheck, ...]) -> Table:
    table = Table(title=title, title_justify="left", show_edge=False)
    for column in ("figure", "model", "real runtime", "agreement"):
        table.add_column(column, justify="left" if column in ("figure", "agreement") else "right")
    styles = {Verdict.EXACT: "green", Verdict.IN_RANGE: "green", Verdict.DIFFERS: "red"}
    for check in checks:
        seen = check.measured
        measured = f"{seen.median:,}" + ("" if seen.deterministic else f"  [{seen.min:,} … {seen.max:,}]")
        table.add_row(
            check.figure,
            spread_count(check.model),
            measured,
            Text(check.verdict.value, style=styles[check.verdict]),
        )
    return table
