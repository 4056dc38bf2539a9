"""Benchmark units as benchstat treats them: tidied (`ns` → `sec`, `MB` → `B` in the numerator), classed for
their prefixes (SI or IEC), and which direction is better (from `Unit ... better=` metadata or the unit)."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["UnitClass", "better_direction", "tidy_unit", "unit_class"]


class UnitClass(StrEnum):
    DECIMAL = "decimal"  # SI prefixes, powers of 1000
    BINARY = "binary"  # IEC prefixes, powers of 1024, for units that count bytes


def _unit_tokens(unit: str) -> list[tuple[str, int, bool]]:
    """(token, offset, in denominator) for each token of a unit; `*` and `/` switch numerator and
    denominator, `-` and spaces separate."""
    tokens: list[tuple[str, int, bool]] = []
    denominator, start = False, -1
    for at, char in enumerate(unit + " "):
        if char in "*/-" or char.isspace():
            if start >= 0:
                tokens.append((unit[start:at], start, denominator))
                start = -1
            if char == "*":
                denominator = False
            elif char == "/":
                denominator = True
        elif start < 0:
            start = at
    return tokens


def tidy_unit(unit: str) -> tuple[str, float]:
    """(tidied unit, factor to multiply values by): `ns` becomes `sec` and `MB` becomes `B` in the
    numerator, so that prefixes can be applied without producing units like `µns/op`."""
    if unit == "ns/op":
        return "sec/op", 1e-9
    if unit == "MB/s":
        return "B/s", 1e6
    if "ns" not in unit and "MB" not in unit:
        return unit, 1.0
    factor = 1.0
    edits: list[tuple[int, int, str]] = []
    for token, at, denominator in _unit_tokens(unit):
        if denominator:
            continue
        if token == "ns":
            edits.append((at, 2, "sec"))
            factor /= 1e9
        elif token == "MB":
            edits.append((at, 2, "B"))
            factor *= 1e6
    for at, length, replacement in reversed(edits):
        unit = unit[:at] + replacement + unit[at + length :]
    return unit, factor


def unit_class(unit: str) -> UnitClass:
    """Binary when the numerator counts bytes (`B`, `MB` or `bytes`), else decimal."""
    for token, _, denominator in _unit_tokens(unit):
        if token in ("B", "MB", "bytes") and not denominator:
            return UnitClass.BINARY
    return UnitClass.DECIMAL


def better_direction(unit: str, notes: dict[tuple[str, str], str]) -> int:
    """+1 when higher values are better, -1 when lower, 0 when unknown (`better=` metadata first)."""
    declared = notes.get((tidy_unit(unit)[0], "better"))
    if declared is not None:
        return {"higher": 1, "lower": -1}.get(declared, 0)
    if unit in ("ns/op", "sec/op", "B/op", "allocs/op"):
        return -1
    if unit in ("MB/s", "B/s"):
        return 1
    return 0
