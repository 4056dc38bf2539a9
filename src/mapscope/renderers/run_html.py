"""`mapscope report RUNDIR --html FILE`: one self-contained offline page for a run directory.

All markup is in templates/run_report.html with autoescaping on; this module hands it plain strings and
numbers only (table cells, chart coordinates), so no name from a benchmark, a command line or a log can
turn into markup. The GC charts are the ones `mapscope gc --html` draws (renderers/gc_html.py); the bars
that put the model beside the measured bytes per entry are laid out here.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from mapscope import __version__
from mapscope.analyses.bench import BenchReport
from mapscope.analyses.run_summary import ModelComparison, PackageSites, RunAnalysis
from mapscope.renderers import gc_html
from mapscope.renderers.bench_text import table_text
from mapscope.renderers.html import environment
from mapscope.renderers.profile_terminal import quantity
from mapscope.renderers.run_terminal import (
    GC_PER_OP_COLUMNS,
    GC_PER_OP_NOTE,
    GC_PER_OP_TITLE,
    MODEL_COLUMNS,
    gc_per_op_cells,
    model_cells,
    sites_headline,
)
from mapscope.renderers.site_rows import site_rows
from mapscope.runner.manifest import Manifest
from mapscope.units import human_bytes

BAR_WIDTH = 880
BAR_LABEL = 330
BAR_TEXT_ROOM = 130
# Characters of a benchmark name that fit beside a bar; longer names keep their end (the distinctive part).
BAR_LABEL_CHARS = 50
BAR_HEIGHT = 12
BAR_GAP = 10
# Map sites listed per heap profile (`mapscope profile --json PROFILE` has them all).
MAX_SITES = 40


@dataclass(frozen=True)
class BenchCell:
    center: str
    spread: str
    samples: int
    notes: str


@dataclass(frozen=True)
class BenchRow:
    label: str
    cells: tuple[BenchCell | None, ...]


@dataclass(frozen=True)
class BenchTable:
    unit: str
    config: tuple[tuple[str, str], ...]
    columns: tuple[str, ...]
    rows: tuple[BenchRow, ...]
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class ModelBar:
    """Two bars for one benchmark: measured and model (+ pointees); widths in pixels."""

    label: str
    short_label: str
    y: float
    measured_width: float | None
    model_width: float | None
    measured_text: str
    model_text: str


@dataclass(frozen=True)
class SiteLine:
    """One cause of one map site; the site's own cells only on its first line."""

    function: str
    place: str
    map_type: str
    cause: str
    value: str
    count: str
    share: str
    confidence: str
    first: bool


@dataclass(frozen=True)
class SitesTable:
    headline: str
    sample_type: str
    count_type: str
    lines: tuple[SiteLine, ...]
    more: int


def _sites_table(found: PackageSites) -> SitesTable:
    report = found.report
    lines = [
        SiteLine(
            function=row.function,
            place=row.place,
            map_type=row.map_type,
            cause=row.cause,
            value=quantity(row.value, report.sample_type),
            count=f"{row.count:,}",
            share=f"{100 * row.value / report.total:.1f}%" if report.total else "-",
            confidence=row.confidence,
            first=row.first,
        )
        for row in site_rows(report, MAX_SITES)
    ]
    return SitesTable(
        headline=sites_headline(found),
        sample_type=report.sample_type.type,
        count_type=report.count_type.type if report.count_type is not None else "count",
        lines=tuple(lines),
        more=max(len(report.sites) - MAX_SITES, 0),
    )


def _bench_tables(report: BenchReport) -> tuple[BenchTable, ...]:
    tables = []
    for table in report.tables:
        warnings: list[str] = []
        rows = []
        for row in table_text(table).rows:
            cells: list[BenchCell | None] = []
            for shown in row.cells:
                if shown is None:
                    cells.append(None)
                    continue
                cell = shown.cell
                marks = []
                for warning in cell.summary.warnings:
                    if warning not in warnings:
                        warnings.append(warning)
                    marks.append(str(warnings.index(warning) + 1))
                cells.append(BenchCell(shown.center, shown.spread, len(cell.values), ",".join(marks)))
            rows.append(BenchRow(row.label, tuple(cells)))
        tables.append(BenchTable(table.unit, table.config, table.columns, tuple(rows), tuple(warnings)))
    return tuple(tables)


def _model_bars(rows: tuple[ModelComparison, ...]) -> tuple[tuple[ModelBar, ...], float]:
    """Bars scaled to the largest figure; returns them and the chart height."""
    figures = [v for row in rows for v in (row.measured_b_per_entry, row.model_total) if v is not None]
    top = max(figures, default=0.0) or 1.0
    span = BAR_WIDTH - BAR_LABEL - BAR_TEXT_ROOM
    bars = []
    y = 8.0
    for row in rows:
        measured, model = row.measured_b_per_entry, row.model_total
        bars.append(
            ModelBar(
                label=row.benchmark,
                short_label=row.benchmark
                if len(row.benchmark) <= BAR_LABEL_CHARS
                else "…" + row.benchmark[-(BAR_LABEL_CHARS - 1) :],
                y=y,
                measured_width=None if measured is None else round(span * measured / top, 1),
                model_width=None if model is None else round(span * model / top, 1),
                measured_text="no measurement" if measured is None else f"{measured:,.1f} B measured",
                model_text="no model" if model is None else f"{model:,.1f} B model",
            )
        )
        y += 2 * BAR_HEIGHT + BAR_GAP
    return tuple(bars), y


def render(run_dir: Path, manifest: Manifest, analysis: RunAnalysis) -> str:
    template = environment().get_template("run_report.html")
    joined = analysis.gc.joined if analysis.gc is not None else None
    charts = (
        (gc_html.pause_chart(joined), gc_html.heap_chart(joined))
        if joined is not None and len(joined)
        else ()
    )
    bars, bars_height = _model_bars(analysis.models)
    target = next((row.target for row in analysis.models if row.target), None)
    return template.render(
        version=__version__,
        run_dir=str(run_dir),
        manifest=manifest,
        command=shlex.join(manifest.command),
        files=[(entry, human_bytes(entry.bytes)) for entry in manifest.files],
        steps=[(step, shlex.join(step.argv)) for step in manifest.steps],
        bench_tables=_bench_tables(analysis.bench) if analysis.bench is not None else (),
        sites=[_sites_table(found) for found in analysis.sites],
        gc_per_op_title=GC_PER_OP_TITLE,
        gc_per_op_note=GC_PER_OP_NOTE,
        gc_per_op_columns=GC_PER_OP_COLUMNS,
        gc_per_op_rows=[gc_per_op_cells(row) for row in analysis.gc_per_op],
        model_columns=MODEL_COLUMNS,
        model_rows=[model_cells(row) for row in analysis.models],
        model_target=target,
        bars=bars,
        bars_height=bars_height,
        bar_width=BAR_WIDTH,
        bar_label=BAR_LABEL,
        bar_height=BAR_HEIGHT,
        gc=analysis.gc,
        charts=charts,
        width=gc_html.WIDTH,
        height=gc_html.HEIGHT,
        plot_left=gc_html.LEFT,
        plot_right=gc_html.WIDTH - gc_html.RIGHT,
        plot_bottom=gc_html.HEIGHT - gc_html.BOTTOM,
        plot_top=gc_html.TOP,
        notes=(*manifest.notes, *analysis.notes),
    )
