"""Terminal view of `mapscope profile`: the map sites of a profile, then the rest of its top."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from mapscope.analyses.map_sites import LEGEND, SiteReport
from mapscope.analyses.profile_diff import ProfileDiff
from mapscope.analyses.profile_totals import Top
from mapscope.readers.pprof import ValueType
from mapscope.renderers.site_rows import site_rows
from mapscope.units import human_bytes

DEFAULT_TOP_ROWS = 15
DEFAULT_SITES = 25


def quantity(value: int, unit: ValueType | None) -> str:
    """An exact value in the profile's unit, with a readable scale beside it for bytes and time."""
    if unit is None:
        return f"{value:,}"
    if unit.unit == "bytes":
        return f"{value:,} B" if abs(value) < 1024 else f"{human_bytes(value)} ({value:,} B)"
    if unit.unit == "nanoseconds":
        return f"{value / 1e9:.2f}s" if abs(value) >= 10_000_000 else f"{value:,}ns"
    return f"{value:,}"


def _short(value: int, unit: ValueType) -> str:
    if unit.unit == "bytes":
        return human_bytes(value)
    if unit.unit == "nanoseconds":
        return f"{value / 1e9:.2f}s" if abs(value) >= 10_000_000 else f"{value / 1e6:.2f}ms"
    return f"{value:,}"


def _percent(part: int, total: int) -> str:
    return f"{100 * part / total:.1f}%" if total else "-"


def sites_table(report: SiteReport, limit: int = DEFAULT_SITES) -> Table:
    unit = report.sample_type
    counted = report.count_type is not None and report.count_type.type != unit.type
    table = Table(
        title=f"Map sites ({unit.type})",
        title_justify="left",
        show_edge=False,
        caption="confidence: " + "; ".join(f"{label.value} = {meaning}" for label, meaning in LEGEND.items()),
        caption_justify="left",
    )
    columns = ["site", "line", "map type", "cause", unit.type]
    if counted and report.count_type is not None:
        columns.append(report.count_type.type)
    for column in (*columns, "share", "confidence"):
        right = column not in ("site", "line", "map type", "cause", "confidence")
        table.add_column(column, justify="right" if right else "left", overflow="fold")
    for row in site_rows(report, limit):
        cells: list[str | Text] = [
            Text(row.function) if row.first else "",
            row.place if row.first else "",
            row.map_type if row.first else "",
            row.cause,
            _short(row.value, unit),
        ]
        if counted:
            cells.append(f"{row.count:,}")
        cells.extend([_percent(row.value, report.total), row.confidence])
        table.add_row(*cells, end_section=row.last)
    if len(report.sites) > limit:
        table.caption = (
            f"{len(report.sites) - limit} more sites (--sites to show them, --json has all); "
            + str(table.caption)
        )
    return table


def top_table(top: Top, rows: int) -> Table:
    """pprof's -top rows: flat, flat%, sum%, cum, cum%, name."""
    total = top.total
    table = Table(
        title=f"Top of the profile ({top.sample_type.type}): showing nodes accounting for "
        f"{quantity(top.shown, top.sample_type)}, {_percent(top.shown, total)} of "
        f"{quantity(total, top.sample_type)} total",
        title_justify="left",
        show_edge=False,
    )
    for column in ("flat", "flat%", "sum%", "cum", "cum%", "name"):
        table.add_column(column, justify="left" if column == "name" else "right", overflow="fold")
    running = 0
    for row in top.rows[:rows]:
        running += row.flat
        name = f"{row.name} ({row.inline})" if row.inline else row.name
        table.add_row(
            _short(row.flat, top.sample_type),
            _percent(row.flat, total),
            _percent(running, total),
            _short(row.cum, top.sample_type),
            _percent(row.cum, total),
            Text(name),
        )
    hidden = len(top.rows) - rows
    notes = []
    if hidden > 0:
        notes.append(f"{hidden} more rows (--top to show them)")
    if top.dropped_nodes:
        notes.append(
            f"dropped {top.dropped_nodes} nodes (cum <= {quantity(top.node_cutoff, top.sample_type)})"
        )
    if notes:
        table.caption = "; ".join(notes)
        table.caption_justify = "left"
    return table


def _source_line(files: tuple[str, ...], shown: int = 3) -> str:
    """One line however many files were read: how many, and the first few."""
    named = ", ".join(files[:shown])
    more = f" and {len(files) - shown} more (--json lists them)" if len(files) > shown else ""
    return f"Source read: {len(files)} file{'s' if len(files) != 1 else ''} ({named}{more})"


def report_view(report: SiteReport, top_rows: int = DEFAULT_TOP_ROWS, sites: int = DEFAULT_SITES) -> Group:
    unit = report.sample_type
    kind = (
        f"diff of two {report.profile_kind.value} profiles"
        if report.diff
        else f"{report.profile_kind.value} profile"
    )
    lines = [
        Text(f"{report.source}: {kind}, {unit.type}", style="bold"),
        Text(f"Total {unit.type}: {quantity(report.total, unit)}"),
        Text(
            f"Map sites: {quantity(report.map_value, unit)} ({_percent(report.map_value, report.total)} "
            f"of the profile) at {len(report.sites)} sites"
        ),
        Text(f"Map model: {report.target} ({report.target_from})"),
    ]
    if report.diff:
        lines.append(
            Text(
                "Values are changes, NEW minus BASE (the profile has negative values, which Go never writes: "
                "pprof's -diff_base made it); a negative figure is memory or time that went away."
            )
        )
    if report.symbolization:
        lines.append(Text(f"Symbols: {report.symbolization}"))
    if report.source_files:
        lines.append(Text(_source_line(report.source_files)))
    if report.stdlib:
        lines.append(Text(f"Standard library source: Go {report.stdlib}'s (its lines match the profile's)"))
    other = sum(site.other for site in report.sites)
    ambiguous = [site for site in report.sites if site.ambiguous]
    if other or ambiguous:
        aside = f"Not counted at map sites' lines: {quantity(other, unit)} allocated by other calls"
        if ambiguous:
            value = sum(site.ambiguous for site in ambiguous)
            candidates = "; ".join(dict.fromkeys(site.ambiguous_with for site in ambiguous))
            aside += f", {quantity(value, unit)} ambiguous ({candidates})"
        lines.append(Text(aside))
    parts: list[Table | Text] = [*lines, Text("")]
    if report.sites:
        parts.extend([sites_table(report, sites), Text("")])
    else:
        parts.append(Text("No map sites found (runtime frames, --source and object sizes gave none)."))
    parts.append(top_table(report.top, top_rows))
    return Group(*parts)


def _share_text(share: float | None) -> str:
    return f"{100 * share:.1f}%" if share is not None else "-"


def diff_view(found: ProfileDiff, rows: int) -> Group:
    unit = found.sample_type
    header = [
        Text(
            f"base: {found.base_source} ({found.base_target}), {unit.type} {quantity(found.base_total, unit)}"
        ),
        Text(f"new:  {found.new_source} ({found.new_target}), {unit.type} {quantity(found.new_total, unit)}"),
        Text(""),
    ]
    table = Table(title=f"Map sites, base → new ({unit.type})", title_justify="left", show_edge=False)
    for column, right in (
        ("site", False),
        ("line", False),
        ("map type", False),
        ("cause", False),
        ("base", True),
        ("new", True),
        ("delta", True),
        ("base share", True),
        ("new share", True),
    ):
        table.add_column(column, justify="right" if right else "left", overflow="fold")
    for row in found.rows[:rows]:
        sign = "+" if row.delta > 0 else ""
        table.add_row(
            Text(row.function),
            f"{row.file}:{row.line}",
            row.map_type or "",
            row.cause,
            _short(row.base, unit),
            _short(row.new, unit),
            f"{sign}{_short(row.delta, unit)}",
            _share_text(row.base_share),
            _share_text(row.new_share),
        )
    if len(found.rows) > rows:
        table.caption = f"{len(found.rows) - rows} more rows (--sites to show them, --json has all)"
        table.caption_justify = "left"
    return Group(*header, table)
