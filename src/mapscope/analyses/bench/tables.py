"""benchstat's tables for Go benchmark results, as data: which table, row and column each value lands in, and
each cell's summary and test against the baseline (text is the renderers' business: renderers/bench_text.py).

This follows golang/perf's cmd/benchstat (v2) with its default projection: one table per file configuration
(all `key: value` lines) and unit, one row per full benchmark name, one column per input file (or per value
of a chosen configuration or sub-benchmark key), the first column being the baseline. Per cell it gives the
median and a confidence interval for it from order statistics (binomial, normal approximation above 30
samples); per comparison the two-sided Mann-Whitney U p-value (exact distribution, with ties when present,
normal approximation for large samples) and the change of the medians; per column the geometric mean of
the medians and of the ratios to the baseline. Units marked `assume=exact` are summarised by their mode and
compared without a test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from mapscope.analyses.bench.stats import Assumption, Summary, Test, compare_samples, geomean, summarize
from mapscope.analyses.bench.units import better_direction, tidy_unit
from mapscope.errors import MapscopeError
from mapscope.readers.gobench import BenchFile, BenchResult

__all__ = [
    "DEFAULT_ALPHA",
    "DEFAULT_CONFIDENCE",
    "BenchReport",
    "Cell",
    "Geomean",
    "LabeledFile",
    "Row",
    "Table",
    "compare",
    "parse_key",
]

DEFAULT_ALPHA = 0.05
DEFAULT_CONFIDENCE = 0.95


@dataclass(frozen=True)
class Cell:
    column: str
    values: tuple[float, ...]  # tidied, ascending
    summary: Summary
    test: Test | None  # None in the baseline column or without a baseline cell
    delta_pct: float | None  # change of the center against the baseline, significant or not


@dataclass(frozen=True)
class Row:
    label: str
    cells: tuple[Cell | None, ...]  # one per table column


@dataclass(frozen=True)
class Geomean:
    column: str
    value: float | None
    ratio: float | None  # None in the baseline column, or when undefined (a zero or negative center)
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    config: tuple[tuple[str, str], ...]  # every configuration key seen, "" where this table has none
    unit: str
    assumption: Assumption
    better: int
    columns: tuple[str, ...]  # the first is the baseline
    rows: tuple[Row, ...]
    geomean: tuple[Geomean, ...] | None  # only with two rows or more


@dataclass(frozen=True)
class BenchReport:
    column_key: str
    alpha: float
    confidence: float
    tables: tuple[Table, ...]


@dataclass(frozen=True)
class LabeledFile:
    label: str
    file: BenchFile


def parse_key(key: str, option: str) -> str:
    """Check a grouping key given to --col (`.file` allowed) or --ignore: a sub-benchmark key `/name` or a
    file configuration key."""
    if key == ".file" and option == "col":
        return key
    if key.startswith("/") and len(key) > 1:
        return key
    if key and not key.startswith(".") and not any(c.isspace() or c in ":," for c in key):
        return key
    kinds = ".file, " if option == "col" else ""
    raise MapscopeError(f"--{option}", f"{key!r} is not {kinds}/<sub-benchmark key> or a configuration key")


def _name_part(result: BenchResult, key: str) -> str:
    """The value of sub-benchmark key `/key` (`/gomaxprocs` from the -N suffix), "" when absent."""
    parts = result.parts
    if key == "/gomaxprocs" and parts and parts[-1].startswith("-"):
        return parts[-1][1:]
    prefix = key + "="
    for part in parts:
        if part.startswith(prefix):
            return part[len(prefix) :]
    return ""


def _row_label(result: BenchResult, dropped: Sequence[str]) -> str:
    """The full name without the dropped sub-benchmark keys (their `/key=value` parts)."""
    prefixes = [key + "=" for key in dropped]
    no_procs = "/gomaxprocs" in dropped
    full = result.full_name
    if not any(p in full for p in prefixes) and not (no_procs and "-" in full):
        return full
    kept = [
        part
        for part in result.parts
        if not any(part.startswith(p) for p in prefixes) and not (no_procs and part.startswith("-"))
    ]
    return result.name + "".join(kept)


@dataclass
class _TableDraft:
    config: dict[str, str]
    unit: str
    cells: dict[tuple[str, str], list[float]] = field(default_factory=dict)


def _unit_notes(inputs: Sequence[LabeledFile]) -> dict[tuple[str, str], str]:
    """Unit metadata of all inputs by (tidied unit, key); a unit given two values for one key is an error."""
    notes: dict[tuple[str, str], tuple[str, str]] = {}
    for item in inputs:
        for note in item.file.unit_notes:
            key = (tidy_unit(note.unit)[0], note.key)
            have = notes.get(key)
            if have is None:
                notes[key] = (note.value, note.unit)
            elif have[0] != note.value:
                raise MapscopeError(
                    f"{item.file.source}:{note.line}",
                    f"unit {note.unit}: {note.key}={note.value} contradicts earlier {note.key}={have[0]}",
                )
    return {key: value for key, (value, _) in notes.items()}


def compare(
    inputs: Sequence[LabeledFile],
    column_key: str = ".file",
    ignore: Sequence[str] = (),
    alpha: float = DEFAULT_ALPHA,
    confidence: float = DEFAULT_CONFIDENCE,
) -> BenchReport:
    """benchstat's tables for these inputs: columns by `column_key`, rows by full name, tables by file
    configuration and unit; `ignore` drops keys from the grouping (a configuration key stops splitting
    tables, a `/key` is removed from row names)."""
    if not 0 <= alpha <= 1:
        raise MapscopeError("--alpha", f"{alpha} is not in [0, 1]")
    if not 0 <= confidence <= 1:
        raise MapscopeError("--confidence", f"{confidence} is not in [0, 1]")
    parse_key(column_key, "col")
    keys = [parse_key(key, "ignore") for key in ignore]
    dropped_config = {key for key in [column_key, *keys] if not key.startswith(("/", "."))}
    dropped_names = [key for key in [column_key, *keys] if key.startswith("/")]
    for item in inputs:
        if not item.file.results:
            raise MapscopeError(item.file.source, "no benchmark results")
    notes = _unit_notes(inputs)

    fields: dict[str, None] = {}
    rows: dict[str, int] = {}
    columns: dict[str, int] = {}
    units: dict[str, int] = {}
    drafts: dict[tuple[frozenset[tuple[str, str]], str], _TableDraft] = {}
    for item in inputs:
        for result in item.file.results:
            row = _row_label(result, dropped_names)
            if column_key == ".file":
                column = item.label
            elif column_key.startswith("/"):
                column = _name_part(result, column_key)
            else:
                column = result.config_value(column_key)
            rows.setdefault(row, len(rows))
            columns.setdefault(column, len(columns))
            config = [(k, v) for k, v in result.config if k not in dropped_config]
            for key, _ in config:
                fields.setdefault(key)
            for metric in result.metrics:
                unit, factor = tidy_unit(metric.unit)
                value = metric.value * factor
                if value == metric.value:
                    # benchfmt keeps the unit as written when tidying leaves the number alone (zero, ...),
                    # so a zero `ns/op` lands in an `ns/op` table of its own, not in `sec/op`.
                    unit = metric.unit
                units.setdefault(unit, len(units))
                draft = drafts.setdefault((frozenset(config), unit), _TableDraft(dict(config), unit))
                draft.cells.setdefault((row, column), []).append(value)

    def order(draft: _TableDraft) -> tuple[tuple[str, ...], int]:
        # benchstat orders tables by configuration values as strings, then units by first appearance.
        return tuple(draft.config.get(key, "") for key in fields), units[draft.unit]

    tables = tuple(
        _table(draft, fields, rows, columns, notes, alpha, confidence)
        for draft in sorted(drafts.values(), key=order)
    )
    return BenchReport(column_key, alpha, confidence, tables)


def _table(
    draft: _TableDraft,
    fields: dict[str, None],
    row_order: dict[str, int],
    column_order: dict[str, int],
    notes: dict[tuple[str, str], str],
    alpha: float,
    confidence: float,
) -> Table:
    tidied = tidy_unit(draft.unit)[0]  # metadata is filed under tidied units
    assumption = Assumption.EXACT if notes.get((tidied, "assume")) == "exact" else Assumption.MEDIAN
    labels = sorted({row for row, _ in draft.cells}, key=row_order.__getitem__)
    columns = sorted({column for _, column in draft.cells}, key=column_order.__getitem__)
    base = columns[0]
    samples = {key: tuple(sorted(values)) for key, values in draft.cells.items()}
    summaries = {key: summarize(values, assumption, confidence) for key, values in samples.items()}

    table_rows = []
    for label in labels:
        cells: list[Cell | None] = []
        for column in columns:
            key = (label, column)
            if key not in samples:
                cells.append(None)
                continue
            summary = summaries[key]
            test = pct = None
            if column != base and (label, base) in samples:
                old = summaries[label, base].center
                test = compare_samples(samples[label, base], samples[key], assumption, alpha)
                pct = (summary.center / old - 1.0) * 100.0 if old != 0 else None
            cells.append(Cell(column, samples[key], summary, test, pct))
        table_rows.append(Row(label, tuple(cells)))

    geomeans = None
    if len(labels) > 1:
        with_base = sum(1 for label in labels if (label, base) in samples)
        geomeans = tuple(
            _geomean(column, column == base, labels, base, summaries, with_base) for column in columns
        )
    return Table(
        config=tuple((key, draft.config.get(key, "")) for key in fields),
        unit=draft.unit,
        assumption=assumption,
        better=better_direction(draft.unit, notes),
        columns=tuple(columns),
        rows=tuple(table_rows),
        geomean=geomeans,
    )


def _geomean(
    column: str,
    is_base: bool,
    labels: Sequence[str],
    base: str,
    summaries: dict[tuple[str, str], Summary],
    with_base: int,
) -> Geomean:
    """The column's geometric mean of centers and of ratios to the baseline (the mean of ratios, not the
    ratio of means, so differing benchmark sets still give a column-wise figure)."""
    centers: list[float] = []
    ratios: list[float] = []
    zero_base = False
    for label in labels:
        if (label, column) not in summaries:
            continue
        center = summaries[label, column].center
        centers.append(center)
        if is_base or (label, base) not in summaries:
            continue
        old = summaries[label, base].center
        if center == old:
            ratios.append(1.0)
        elif old == 0:
            zero_base = True
            ratios.append(0.0)
        else:
            ratios.append(center / old)
    warnings = []
    if not is_base and with_base != len(ratios):
        warnings.append("benchmark set differs from baseline; geomeans may not be comparable")
    mean = geomean(centers)
    value = None if math.isnan(mean) else mean
    if value is None:
        warnings.append("summaries must be >0 to compute geomean")
    ratio = None
    if not is_base and not zero_base:
        mean_ratio = geomean(ratios)
        ratio = None if math.isnan(mean_ratio) else mean_ratio
        if ratio is None:
            warnings.append("ratios must be >0 to compute geomean")
    return Geomean(column, value, ratio, tuple(warnings))
