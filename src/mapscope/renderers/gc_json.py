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
from collections.abc import Iterator
from dataclasses import fields
from typing import Any, TextIO

import numpy as np
import numpy.typing as npt

from mapscope.analyses.gc_summary import GcReport, Joined
from mapscope.readers.gctrace import GcColumns
from mapscope.renderers.jsonout import dumps, to_jsonable

# Cycles turned into Python objects at a time: bounds the memory of a long log's JSON.
_SLICE = 8192


def _milliseconds(micros: npt.NDArray[np.int64]) -> list[float]:
    """Printed durations as JSON numbers: the double nearest the printed text (a correctly rounded
    division gives the same double as parsing the text)."""
    values: list[float] = (micros / 1000.0).tolist()
    return values


def _optional(values: npt.NDArray[np.int64]) -> list[int | None]:
    return [None if value < 0 else value for value in values.tolist()]


def _objects(columns: dict[str, list[Any]]) -> list[dict[str, Any]]:
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def _table_objects(table: dict[str, npt.NDArray[Any]], rows: npt.NDArray[np.int64]) -> list[dict[str, Any]]:
    """The records of the given rows of a pacer or scavenger table (its columns), as JSON objects."""
    columns = {}
    for name, column in table.items():
        values = column[rows].tolist()
        columns[name] = [to_jsonable(v) for v in values] if column.dtype == np.float64 else values
    return _objects(columns)


def _scan_objects(joined: Joined, rows: npt.NDArray[np.int64]) -> list[dict[str, Any]]:
    scan = joined.log.scan
    objects = []
    for row in rows.tolist():
        record = scan.record(row)
        objects.append({f.name: getattr(record, f.name) for f in fields(record)})
    return objects


def _cycle_objects(joined: Joined) -> Iterator[dict[str, Any]]:
    """Every cycle as a JSON object: the gc line's fields (in GcCycle's order), the derived figures (in
    CycleFigures' order), then the joined lines; built from the columns a slice of cycles at a time."""
    gc = joined.log.gc
    for begin in range(0, len(joined), _SLICE):
        part = slice(begin, begin + _SLICE)
        mark_cpu = joined.mark_cpu_us[part]
        safe = np.where(mark_cpu > 0, mark_cpu, 1)

        def share(column: npt.NDArray[np.int64], mark_cpu: Any = mark_cpu, safe: Any = safe) -> list[Any]:
            return [None if whole == 0 else value for value, whole in zip(
                (column / safe).tolist(), mark_cpu.tolist(), strict=True
            )]  # fmt: skip

        durations = {name: _milliseconds(getattr(gc, name)[part]) for name in GcColumns.DURATIONS}
        cycle = _objects(
            {
                "line": gc.line[part].tolist(),
                "number": gc.number[part].tolist(),
                "start_s": _milliseconds(gc.start_ms[part]),
                "cpu_percent": gc.cpu_percent[part].tolist(),
                "leak_check": gc.leak_check[part].tolist(),
                **{name.removesuffix("_us") + "_ms": values for name, values in durations.items()},
                "heap_before_mb": gc.heap_before_mb[part].tolist(),
                "heap_after_mb": gc.heap_after_mb[part].tolist(),
                "heap_live_mb": gc.heap_live_mb[part].tolist(),
                "heap_goal_mb": gc.heap_goal_mb[part].tolist(),
                "stacks_mb": _optional(gc.stacks_mb[part]),
                "globals_mb": _optional(gc.globals_mb[part]),
                "procs": gc.procs[part].tolist(),
                "forced": gc.forced[part].tolist(),
            }
        )
        derived = _objects(
            {
                "run": joined.run[part].tolist(),
                "periodic": joined.periodic[part].tolist(),
                "stw_ms": _milliseconds(joined.stw_us[part]),
                "mark_cpu_ms": _milliseconds(mark_cpu),
                "assist_share": share(gc.assist_cpu_us[part]),
                "background_share": share(gc.background_cpu_us[part]),
                "idle_share": share(gc.idle_cpu_us[part]),
                "assists_dominate": joined.assists_dominate[part].tolist(),
                "goal_overshoot_mb": joined.goal_overshoot_mb[part].tolist(),
                "goal_overshot": joined.goal_overshot[part].tolist(),
            }
        )
        sides = {}
        for key, table, rows in (
            ("assist", joined.log.assist.columns, joined.assist[part]),
            ("end", joined.log.end.columns, joined.end[part]),
            ("sweep", joined.log.sweep.columns, joined.sweep[part]),
        ):
            present = _table_objects(table, rows[rows >= 0])
            found = iter(present)
            sides[key] = [next(found) if row >= 0 else None for row in rows.tolist()]
        totals = joined.scan_total[part]
        found_totals = iter(_scan_objects(joined, totals[totals >= 0]))
        scan_totals = [next(found_totals) if row >= 0 else None for row in totals.tolist()]
        scav_from, class_from = joined.scav_from, joined.class_from
        for offset, (fields_of_cycle, extra) in enumerate(zip(cycle, derived, strict=True)):
            index = begin + offset
            scav = joined.scav_rows[scav_from[index] : scav_from[index + 1]]
            classes = joined.class_rows[class_from[index] : class_from[index + 1]]
            yield {
                "cycle": fields_of_cycle,
                **extra,
                "assist": sides["assist"][offset],
                "end": sides["end"][offset],
                "sweep": sides["sweep"][offset],
                "scav": _table_objects(joined.log.scav.columns, scav) if len(scav) else [],
                "scan_total": scan_totals[offset],
                "scan_classes": _scan_objects(joined, classes) if len(classes) else [],
            }


def write(report: GcReport, out: TextIO) -> None:
    """Writes the document to `out`, one cycle at a time (a long log's JSON runs to gigabytes)."""
    joined = report.joined
    head = dumps(
        to_jsonable(
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
    encode = json.JSONEncoder(allow_nan=False).encode
    separator = "\n    "
    for cycle in _cycle_objects(joined):
        out.write(separator)
        out.write(encode(cycle))
        separator = ",\n    "
    out.write("\n  ]\n}\n")
