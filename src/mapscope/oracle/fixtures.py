"""The committed oracle fixtures: one JSON file per target holding every case's readings.

Each reading is one line holding, for the figures named in "figures" (retained, total_alloc, mallocs,
gc_scan, peak), four lists: the lower median, min, max and deterministic (min == max) over the
repetitions; peak is null unless the case tracks it. Keys keep a fixed order, so regenerating shows as a
readable diff.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mapscope.atomicfile import write_atomic
from mapscope.errors import MapscopeError
from mapscope.model.ops import parse_ops
from mapscope.oracle.cases import Case, Target
from mapscope.oracle.records import Measurement, Observed, Reading, Stats

GENERATOR = "scripts/gen_oracle_fixtures.py"
FIGURES = ("retained", "total_alloc", "mallocs", "gc_scan", "peak")


@dataclass(frozen=True)
class FixtureFile:
    target: Target
    runtime_version: str
    reps: int
    measurements: tuple[Measurement, ...]

    def case(self, case_id: str) -> Measurement:
        for measurement in self.measurements:
            if measurement.case.id == case_id:
                return measurement
        raise KeyError(case_id)


def file_name(target: Target) -> str:
    return f"{target.label}.json"


def _reading_line(reading: Reading) -> str:
    observed = [getattr(reading.stats, figure) for figure in FIGURES]
    record: dict[str, Any] = {"op": reading.op, "live": reading.live}
    for part in ("median", "min", "max", "deterministic"):
        record[part] = [getattr(o, part) if o is not None else None for o in observed]
    return json.dumps(record, separators=(", ", ": "))


def _case_header(case: Case) -> str:
    header = {
        "id": case.id,
        "type": case.type_expr,
        "declarations": case.declarations,
        "hint": case.hint,
        "ops": case.ops_text,
        "boxed": case.boxed,
        "track_peak": case.track_peak,
    }
    return json.dumps(header, separators=(", ", ": "))[:-1]


def dumps(target: Target, measurements: Sequence[Measurement]) -> str:
    if not measurements:
        raise ValueError("no measurements")
    first = measurements[0]
    top = {
        "target": target.label,
        "go": target.version.release,
        "goexperiment": target.goexperiment,
        "runtime_version": first.runtime_version,
        "reps": first.reps,
        "generator": GENERATOR,
        "figures": FIGURES,
    }
    lines = ["{"]
    lines += [f"  {json.dumps(key)}: {json.dumps(value)}," for key, value in top.items()]
    lines.append('  "cases": [')
    for case_index, measurement in enumerate(measurements):
        lines.append(f'    {_case_header(measurement.case)}, "readings": [')
        for index, reading in enumerate(measurement.readings):
            comma = "," if index < len(measurement.readings) - 1 else ""
            lines.append(f"      {_reading_line(reading)}{comma}")
        lines.append("    ]}" + ("," if case_index < len(measurements) - 1 else ""))
    lines += ["  ]", "}"]
    return "\n".join(lines) + "\n"


def write(path: Path, target: Target, measurements: Sequence[Measurement]) -> None:
    """Write atomically (atomicfile): a reader never sees half a fixture."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, dumps(target, measurements))


def _load_stats(item: dict[str, Any], source: str) -> Stats:
    columns = [item[part] for part in ("median", "min", "max", "deterministic")]
    if not all(isinstance(column, list) and len(column) == len(FIGURES) for column in columns):
        raise MapscopeError(source, f"reading {item.get('op')!r} does not have {len(FIGURES)} figures")
    observed: list[Observed | None] = []
    for median, low, high, deterministic in zip(*columns, strict=True):
        if median is None:
            observed.append(None)
        elif all(isinstance(v, int) for v in (median, low, high)):
            observed.append(Observed(median, low, high, bool(deterministic)))
        else:
            raise MapscopeError(source, f"reading {item.get('op')!r} has a figure that is not a number")
    retained, total_alloc, mallocs, gc_scan, peak = observed
    if retained is None or total_alloc is None or mallocs is None or gc_scan is None:
        raise MapscopeError(source, f"reading {item.get('op')!r} lacks a figure")
    return Stats(retained, total_alloc, mallocs, gc_scan, peak)


def _load_measurement(
    record: dict[str, Any], target: Target, version: str, reps: int, source: str
) -> Measurement:
    ops = parse_ops(record["ops"]) if record["ops"] else ()
    case = Case(
        record["id"],
        record["type"],
        record["declarations"],
        record["hint"],
        ops,
        record["boxed"],
        record["track_peak"],
    )
    readings = []
    for index, item in enumerate(record["readings"]):
        readings.append(Reading(index, item["op"], item["live"], _load_stats(item, source)))
    return Measurement(case, target.label, version, reps, tuple(readings))


def read(path: Path) -> FixtureFile:
    """Load a fixture file written by `write`."""
    source = str(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        target = Target.parse(document["go"], document["goexperiment"])
        version, reps = str(document["runtime_version"]), int(document["reps"])
        measurements = tuple(
            _load_measurement(record, target, version, reps, source) for record in document["cases"]
        )
    except OSError as error:
        raise MapscopeError(source, f"cannot read: {error.strerror}") from None
    except (ValueError, KeyError, TypeError) as error:
        raise MapscopeError(source, f"not an oracle fixture: {error}") from None
    return FixtureFile(target, version, reps, measurements)
