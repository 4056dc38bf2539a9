"""`mapscope gc --json`: the whole report as JSON, numbers exactly as the log printed them.

Durations are exact decimals in the log; they become JSON numbers through their shortest float form, which
for figures of at most 15 significant digits reads back as the same digits (`0.10` becomes `0.1`). Pacer
floats that are not finite (`NaN`, `+Inf`, `-Inf`) become those strings, since JSON has no such numbers.

The document is laid out by `jsonout.dumps` except the `cycles` array, which has one compact object per
line: a long log has hundreds of thousands of cycles, and the indenting encoder is pure Python and about
ten times slower than the compact one.
"""

from __future__ import annotations

import json
import math
from dataclasses import fields
from decimal import Decimal
from typing import Any, TextIO

from mapscope.analyses.gc_summary import CycleFigures, GcReport
from mapscope.readers.gctrace import (
    GcCycle,
    PacerAssist,
    PacerCycleEnd,
    PacerSweepDone,
    ScanClass,
    ScanTotal,
    ScavLine,
)
from mapscope.renderers.jsonout import dumps, to_jsonable

_RECORD_TYPES = (GcCycle, PacerAssist, PacerCycleEnd, PacerSweepDone, ScavLine, ScanTotal, ScanClass)
_FIELDS: dict[type, tuple[str, ...]] = {kind: tuple(f.name for f in fields(kind)) for kind in _RECORD_TYPES}
# Only these can hold NaN or ±Inf (the pacer's floats).
_FLOAT_FIELDS: dict[type, tuple[str, ...]] = {
    kind: tuple(f.name for f in fields(kind) if f.type == "float") for kind in _RECORD_TYPES
}
_DERIVED = tuple(
    f.name
    for f in fields(CycleFigures)
    if f.name not in {"cycle", "assist", "end", "sweep", "scav", "scan_total", "scan_classes"}
)


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return _number(value)


def _record(record: object | None) -> dict[str, Any] | None:
    """A record's fields; Decimals are left to the encoder's `default`, floats made JSON-safe here."""
    if record is None:
        return None
    kind = type(record)
    plain = {name: getattr(record, name) for name in _FIELDS[kind]}
    for name in _FLOAT_FIELDS[kind]:
        plain[name] = _number(plain[name])
    return plain


def _cycle_object(figures: CycleFigures) -> dict[str, Any]:
    """One cycle as a JSON object: the gc line's fields, derived figures, then the joined lines."""
    return {
        "cycle": _record(figures.cycle),
        **{name: getattr(figures, name) for name in _DERIVED},
        "assist": _record(figures.assist),
        "end": _record(figures.end),
        "sweep": _record(figures.sweep),
        "scav": [_record(line) for line in figures.scav],
        "scan_total": _record(figures.scan_total),
        "scan_classes": [_record(line) for line in figures.scan_classes],
    }


def write(report: GcReport, out: TextIO) -> None:
    """Writes the document to `out`, one cycle at a time (a long log's JSON runs to gigabytes)."""
    joined = report.joined
    head = dumps(
        _plain(
            to_jsonable(
                {
                    "source": report.source,
                    "input": {
                        **to_jsonable(report.input),
                        "unrecognized_lines": joined.unrecognized_lines,
                        "unrecognized_examples": joined.unrecognized_examples,
                        "unjoined_lines": joined.unjoined_lines,
                        "unjoined_examples": joined.unjoined_examples,
                    },
                    "summary": report.summary,
                    "mmu": report.mmu,
                }
            )
        )
    )
    # `head` is an indented object, so it ends with a newline and "}": reopen it to add the last member.
    out.write(head.removesuffix("\n}"))
    out.write(',\n  "cycles": [')
    encode = json.JSONEncoder(allow_nan=False, default=float).encode
    separator = "\n    "
    for figures in joined.cycles:
        out.write(separator)
        out.write(encode(_cycle_object(figures)))
        separator = ",\n    "
    out.write("\n  ]\n}\n")
