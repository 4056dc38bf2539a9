"""`mapscope compare`: several map types across Go releases, and the advice the numbers support."""

from __future__ import annotations

from dataclasses import dataclass

from mapscope.analyses.map_size import SizeReport, size_report
from mapscope.model.gotypes import MAX_INLINE, GoType, Kind, MapType
from mapscope.model.versions import Target
from mapscope.units import human_bytes


@dataclass(frozen=True)
class Cell:
    map_type: MapType
    target: Target
    report: SizeReport
    hinted: SizeReport


@dataclass(frozen=True)
class Comparison:
    n: int
    cells: tuple[Cell, ...]
    advice: tuple[str, ...]


def _pct(smaller: int, larger: int) -> str:
    return f"{100 * (larger - smaller) / larger:.0f}%" if larger else "0%"


def _advice_for_type(map_type: MapType, cell: Cell, n: int) -> list[str]:
    notes: list[str] = []
    for role, t in (("key", map_type.key), ("value", map_type.elem)):
        if t.size > MAX_INLINE:
            notes.append(
                f"{map_type.name}: the {role} type {t.name} is {t.size} bytes (> {MAX_INLINE}), so each entry's "
                f"{role} is a separate heap allocation; at {MAX_INLINE} bytes or less it would be stored inline."
            )
    report, hinted = cell.report, cell.hinted
    saved = report.total_alloc_bytes.value - hinted.total_alloc_bytes.value
    if n and saved > 0:
        peak = (
            f", peak {human_bytes(hinted.peak_bytes.value)} instead of {human_bytes(report.peak_bytes.value)}"
            if hinted.peak_bytes.value < report.peak_bytes.value * 0.99
            else ""
        )
        notes.append(
            f"{map_type.name}: make(m, {n}) avoids growth: {human_bytes(saved)} less allocated in total "
            f"({_pct(hinted.total_alloc_bytes.value, report.total_alloc_bytes.value)}){peak}."
        )
    if n and report.after_delete_bytes.value > report.retained_bytes.value // 2:
        notes.append(
            f"{map_type.name}: deleting all {n:,} keys still leaves {human_bytes(report.after_delete_bytes.value)} "
            f"on the heap ({report.implementation} maps never shrink); replace the map with a new one to free it."
        )
    if map_type.key.is_interface or map_type.elem.is_interface:
        notes.append(
            f"{map_type.name}: interface keys/values box non-pointer values on the heap and make every slot "
            f"pointer-bearing, so the GC scans {human_bytes(report.gc_scan_bytes.value)}; a concrete type avoids both."
        )
    return notes


def _advice_across(cells: list[Cell], n: int) -> list[str]:
    notes: list[str] = []
    by_target: dict[str, list[Cell]] = {}
    for cell in cells:
        by_target.setdefault(cell.target.label, []).append(cell)
    for label, group in by_target.items():
        if len(group) < 2:
            continue
        best = min(group, key=lambda c: c.report.retained_bytes.value)
        least_scan = min(group, key=lambda c: c.report.gc_scan_bytes.value)
        for other in group:
            if other is best:
                continue
            mallocs = (
                f", with {best.report.mallocs.value:,} allocations instead of {other.report.mallocs.value:,}"
                if best.report.mallocs.value != other.report.mallocs.value
                else ""
            )
            pointees = (
                f" (not counting the {best.map_type.elem.elem.name} objects its pointers refer to, which the "
                "program allocates itself)"
                if best.map_type.elem.kind is Kind.POINTER and best.map_type.elem.elem is not None
                else ""
            )
            notes.append(
                f"{label}: {best.map_type.name} retains {human_bytes(best.report.retained_bytes.value)}"
                f"{pointees}, {_pct(best.report.retained_bytes.value, other.report.retained_bytes.value)} less "
                f"than {other.map_type.name} ({human_bytes(other.report.retained_bytes.value)}){mallocs}."
            )
        if least_scan.report.gc_scan_bytes.value < max(c.report.gc_scan_bytes.value for c in group):
            notes.append(
                f"{label}: {least_scan.map_type.name} gives the GC the least to scan "
                f"({human_bytes(least_scan.report.gc_scan_bytes.value)})."
            )
    by_type: dict[str, list[Cell]] = {}
    for cell in cells:
        by_type.setdefault(cell.map_type.name, []).append(cell)
    for name, group in by_type.items():
        values = [c.report.retained_bytes.value for c in group]
        if len(group) > 1 and max(values) > 1.1 * min(values):
            low = min(group, key=lambda c: c.report.retained_bytes.value)
            high = max(group, key=lambda c: c.report.retained_bytes.value)
            notes.append(
                f"{name}: {human_bytes(low.report.retained_bytes.value)} on {low.target.label} vs "
                f"{human_bytes(high.report.retained_bytes.value)} on {high.target.label} "
                f"({low.report.implementation} vs {high.report.implementation})."
            )
    return notes


def compare(
    map_types: list[MapType], targets: list[Target], n: int, hint: int | None, boxed: GoType | None
) -> Comparison:
    cells = [
        Cell(
            map_type,
            target,
            size_report(map_type, n, target, hint, boxed),
            size_report(map_type, n, target, max(n, hint or 0), boxed),
        )
        for map_type in map_types
        for target in targets
    ]
    advice: list[str] = []
    newest = max(targets, key=lambda t: t.version)
    for cell in cells:
        if cell.target == newest:
            advice += _advice_for_type(cell.map_type, cell, n)
    advice += _advice_across(cells, n)
    return Comparison(n, tuple(cells), tuple(advice))
