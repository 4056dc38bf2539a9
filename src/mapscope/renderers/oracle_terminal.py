"""Terminal view of one oracle measurement: a row per operation, ranges where the hash seed mattered."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from mapscope.oracle.records import Measurement, Observed


def _figure(observed: Observed | None) -> Text:
    """The median; below it, dimmed, the range when repetitions disagreed."""
    if observed is None:
        return Text("-")
    text = Text(f"{observed.median:,}")
    if not observed.deterministic:
        text.append(f"\n{observed.min:,} … {observed.max:,}", style="dim")
    return text


def measurement_view(measurement: Measurement) -> Group:
    case = measurement.case
    title = Text(f"{case.type_expr}", style="bold")
    title.append(
        f"  measured on {measurement.runtime_version}, {measurement.reps} repetitions (a fresh hash seed each)",
        style="dim",
    )
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("after")
    table.add_column("keys", justify="right")
    for name in ("retained B", "total alloc B", "mallocs", "gc-scan B"):
        table.add_column(name, justify="right")
    if case.track_peak:
        table.add_column("peak B", justify="right")
    for reading in measurement.readings:
        stats = reading.stats
        cells: list[str | Text] = [
            reading.op,
            f"{reading.live:,}",
            _figure(stats.retained),
            _figure(stats.total_alloc),
            _figure(stats.mallocs),
            _figure(stats.gc_scan),
        ]
        if case.track_peak:
            cells.append(_figure(stats.peak))
        table.add_row(*cells)
    parts: list[Text | Table] = [title, table]
    if not measurement.deterministic:
        parts.append(
            Text(
                "min … max below a figure: the repetitions disagreed (it depends on the hash seed).",
                style="dim",
            )
        )
    return Group(*parts)
