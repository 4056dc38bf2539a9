"""`mapscope gc --csv`: one row per GC cycle, log fields as printed followed by joined and derived ones.

Cells hold the log's own text for its numbers (`0.10` stays `0.10`); empty cells mean "not in the log".
A cycle can have several scavenger lines: their KiB of work are summed, `released` and `util` are the last.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import fields
from typing import TextIO

from mapscope.analyses.gc_summary import CycleFigures
from mapscope.readers.gctrace import GcCycle, PacerAssist, PacerCycleEnd, PacerSweepDone

_DERIVED = (
    "run",
    "periodic",
    "stw_ms",
    "mark_cpu_ms",
    "assist_share",
    "background_share",
    "idle_share",
    "assists_dominate",
    "goal_overshoot_mb",
    "goal_overshot",
)
_SCAV = ("scav_lines", "scav_bg_kib", "scav_eager_kib", "scav_released_kib", "scav_util_percent")
_SCAN = ("scan_objs", "scan_spans", "scan_classes")


def _names(record_type: type, prefix: str) -> list[str]:
    return [prefix + f.name for f in fields(record_type) if f.name != "line"]


HEADER: tuple[str, ...] = (
    *(f.name for f in fields(GcCycle)),
    *_DERIVED,
    *_names(PacerAssist, "pacer_assist_"),
    *_names(PacerCycleEnd, "pacer_end_"),
    *_names(PacerSweepDone, "pacer_sweep_"),
    *_SCAV,
    *_SCAN,
)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _values(record: object | None, record_type: type) -> list[object]:
    names = [f.name for f in fields(record_type) if f.name != "line"]
    return [getattr(record, name) if record is not None else None for name in names]


def _row(figures: CycleFigures) -> list[str]:
    scav = figures.scav
    total = figures.scan_total
    values: list[object] = [
        *(getattr(figures.cycle, f.name) for f in fields(GcCycle)),
        *(getattr(figures, name) for name in _DERIVED),
        *_values(figures.assist, PacerAssist),
        *_values(figures.end, PacerCycleEnd),
        *_values(figures.sweep, PacerSweepDone),
        len(scav),
        sum(s.bg_kib for s in scav) if scav else None,
        sum(s.eager_kib for s in scav) if scav else None,
        scav[-1].released_kib if scav else None,
        scav[-1].util_percent if scav else None,
        total.objs if total is not None else None,
        total.spans if total is not None else None,
        len(figures.scan_classes) if total is not None else None,
    ]
    return [_cell(value) for value in values]


def write(cycles: Iterable[CycleFigures], out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(_row(figures) for figures in cycles)
