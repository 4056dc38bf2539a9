"""The text of benchstat's tables: scaled numbers, `± x%` ranges, deltas and test results, built once per
table as a view-model that the terminal, HTML and JSON renderers all show.

Numbers are scaled as benchstat prints them: one SI or IEC prefix per row, set by its smallest value, with at
least three significant digits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mapscope.analyses.bench import BenchReport, Cell, Summary, Table, Test, UnitClass, unit_class
from mapscope.renderers.jsonout import to_jsonable

__all__ = ["CellText", "GeomeanText", "RowText", "TableText", "document", "table_text"]


@dataclass(frozen=True)
class Scaler:
    """How to print a group of values: digits after the point, the prefix and its value."""

    precision: int
    factor: float
    prefix: str

    def format(self, value: float) -> str:
        return _go_fixed(value / self.factor, self.precision) + self.prefix


def _prefix_thresholds() -> dict[UnitClass, list[tuple[float, str, float, float, float]]]:
    """(factor, prefix, threshold for 100.0, for 10.00, for 1.000) per class, largest factor first; the
    thresholds are the values that print as 99.995, 9.9995 and .99995 at that factor."""
    decimal = []
    for exponent, prefix in zip(range(12, -10, -3), ("T", "G", "M", "k", "", "m", "µ", "n"), strict=True):
        decimal.append(
            (
                10.0**exponent,
                prefix,
                float(f"99.995e{exponent}"),
                float(f"9.9995e{exponent}"),
                float(f".99995e{exponent}"),
            )
        )
    binary = []
    for exponent, prefix in zip(range(40, -1, -10), ("Ti", "Gi", "Mi", "Ki", ""), strict=True):
        binary.append(
            (
                2.0**exponent,
                prefix,
                float.fromhex(f"0x1.8ffae147ae148p{6 + exponent}"),
                float.fromhex(f"0x1.3ffbe76c8b439p{3 + exponent}"),
                float.fromhex(f"0x1.fff972474538fp{exponent - 1}"),
            )
        )
    return {UnitClass.DECIMAL: decimal, UnitClass.BINARY: binary}


_PREFIXES = _prefix_thresholds()
# Below the smallest prefix, more digits: the first threshold (.99995) gives 3 after the point.
_SMALL_THRESHOLDS = [float(f"9.9995e{exponent}") for exponent in range(-1, -9, -1)]


def common_scale(values: Sequence[float], cls: UnitClass) -> Scaler:
    """The scale showing at least three significant digits of every value, set by the smallest
    non-zero magnitude."""
    smallest = min((abs(v) for v in values if v != 0), default=0.0)
    if smallest == 0:
        return Scaler(3, 1.0, "")
    factors = _PREFIXES[cls]
    for factor, prefix, t100, t10, t1 in factors:
        if smallest >= t100:
            return Scaler(1, factor, prefix)
        if smallest >= t10:
            return Scaler(2, factor, prefix)
        if smallest >= t1:
            return Scaler(3, factor, prefix)
    factor, prefix = factors[-1][0], factors[-1][1]
    scaled = smallest / factor
    for extra, threshold in enumerate(_SMALL_THRESHOLDS):
        if scaled >= threshold or extra == len(_SMALL_THRESHOLDS) - 1:
            return Scaler(3 + extra, factor, prefix)
    raise AssertionError("unreachable")


def scale(value: float, cls: UnitClass) -> str:
    return common_scale([value], cls).format(value)


def _go_fixed(value: float, precision: int) -> str:
    """strconv.FormatFloat(value, 'f', precision, 64)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return f"{value:.{precision}f}"


def range_text(summary: Summary) -> str:
    """benchstat's `± x%`: the larger distance from the center to a bound, in percent of it."""
    if math.isinf(summary.lo) or math.isinf(summary.hi):
        return "∞"
    sign = _sign(summary.center)
    if sign != _sign(summary.lo) or sign != _sign(summary.hi):
        return "?"
    if summary.center == 0:
        return "0%"
    spread = max(summary.hi / summary.center - 1, 1 - summary.lo / summary.center)
    return f"{100 * spread:.0f}%"


def _sign(value: float) -> int:
    return (value > 0) - (value < 0)


def comparison_text(test: Test) -> str:
    """`p=0.000 n=10`, or `n=5+6` when the sizes differ; no p for exact units."""
    prefix = f"p={test.p:.3f} " if test.p != 0 else ""
    return prefix + (f"n={test.n}" if test.n == test.n_base else f"n={test.n_base}+{test.n}")


def delta_text(test: Test, base: float, new: float) -> str:
    """The change of the centers in percent, `~` when not significant, `?` from a zero base."""
    if not test.significant:
        return "~"
    if base == new:
        return "0.00%"
    if base == 0:
        return "?"
    return f"{((new / base) - 1.0) * 100.0:+.2f}%"


@dataclass(frozen=True)
class CellText:
    cell: Cell
    center: str  # scaled with the row's common scale
    spread: str  # the `± x%` range
    delta: str | None  # None in the baseline column or without a baseline cell
    test: str | None


@dataclass(frozen=True)
class RowText:
    label: str
    cells: tuple[CellText | None, ...]  # one per table column


@dataclass(frozen=True)
class GeomeanText:
    value: str | None
    delta: str | None  # None in the baseline column


@dataclass(frozen=True)
class TableText:
    table: Table
    rows: tuple[RowText, ...]
    geomean: tuple[GeomeanText, ...] | None


def table_text(table: Table) -> TableText:
    """Every text of one table; the first column is the baseline the deltas are taken against."""
    cls = unit_class(table.unit)
    rows = []
    for row in table.rows:
        present = [cell for cell in row.cells if cell is not None]
        scaler = common_scale([cell.summary.center for cell in present], cls)
        base = row.cells[0]
        cells: list[CellText | None] = []
        for cell in row.cells:
            if cell is None:
                cells.append(None)
                continue
            delta = test = None
            if cell.test is not None and base is not None:
                delta = delta_text(cell.test, base.summary.center, cell.summary.center)
                test = comparison_text(cell.test)
            cells.append(
                CellText(cell, scaler.format(cell.summary.center), range_text(cell.summary), delta, test)
            )
        rows.append(RowText(row.label, tuple(cells)))
    geomean = None
    if table.geomean is not None:
        geomean = tuple(
            GeomeanText(
                None if mean.value is None else scale(mean.value, cls),
                None if i == 0 else ("?" if mean.ratio is None else f"{(mean.ratio - 1) * 100:+.2f}%"),
            )
            for i, mean in enumerate(table.geomean)
        )
    return TableText(table, tuple(rows), geomean)


def _cell_document(text: CellText) -> dict[str, Any]:
    cell = text.cell
    test = None
    if cell.test is not None:
        test = to_jsonable(cell.test) | {"text": text.test, "significant": cell.test.significant}
    return {
        "column": cell.column,
        "values": list(cell.values),
        "summary": to_jsonable(cell.summary),
        "center_text": text.center,
        "test": test,
        "delta_text": text.delta,
        "delta_pct": cell.delta_pct,
        "range_text": text.spread,
    }


def _table_document(text: TableText) -> dict[str, Any]:
    table = text.table
    geomean = None
    if table.geomean is not None and text.geomean is not None:
        geomean = [
            {
                "column": mean.column,
                "value": mean.value,
                "value_text": shown.value,
                "ratio": mean.ratio,
                "delta_text": shown.delta,
                "warnings": list(mean.warnings),
            }
            for mean, shown in zip(table.geomean, text.geomean, strict=True)
        ]
    return {
        "config": dict(table.config),
        "unit": table.unit,
        "assumption": table.assumption.value,
        "better": table.better,
        "columns": list(table.columns),
        "rows": [
            {
                "label": row.label,
                "cells": [None if cell is None else _cell_document(cell) for cell in row.cells],
            }
            for row in text.rows
        ],
        "geomean": geomean,
    }


def document(report: BenchReport) -> dict[str, Any]:
    """The report as JSON data: every table with its configuration, rows, cells (values, center, interval,
    test, and their text) and geometric means; ±inf interval ends stay floats (the JSON policy writes null)."""
    return {
        "column_key": report.column_key,
        "alpha": report.alpha,
        "confidence": report.confidence,
        "tables": [_table_document(table_text(table)) for table in report.tables],
    }
