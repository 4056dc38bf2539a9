"""JSON shapes of the model's answers: each seed-dependent figure is its median plus `<field>_range`."""

from __future__ import annotations

from typing import Any

from mapscope.analyses.map_size import SizeReport
from mapscope.analyses.model_vs_runtime import FigureCheck
from mapscope.model.records import Event, Spread, SpreadPoint, Timeline
from mapscope.renderers.jsonout import to_jsonable

SEED_NOTE = (
    "some figures depend on the random hash seed: each is the median, with [min, max] in <field>_range"
)


def _put(out: dict[str, Any], name: str, spread: Spread) -> None:
    out[name] = spread.value
    if not spread.exact:
        out[f"{name}_range"] = [spread.low, spread.high]


def events_json(events: tuple[Event, ...]) -> list[Any]:
    return [to_jsonable(event) for event in events]


def size_json(report: SizeReport) -> dict[str, Any]:
    out: dict[str, Any] = {
        "go_version": report.go_version,
        "goexperiment": report.goexperiment,
        "implementation": report.implementation,
        "map_type": report.map_type,
        "n": report.n,
        "hint": report.hint,
    }
    for name in (
        "retained_bytes",
        "total_alloc_bytes",
        "mallocs",
        "gc_scan_bytes",
        "peak_bytes",
    ):
        _put(out, name, getattr(report, name))
    per_entry = report.bytes_per_entry
    out["bytes_per_entry"] = round(per_entry, 3) if per_entry is not None else None
    for name in ("after_delete_bytes", "after_clear_bytes", "after_churn_bytes"):
        _put(out, name, getattr(report, name))
    out["seed_dependent"] = report.seed_dependent
    if report.seed_dependent:
        out["note"] = SEED_NOTE
    out["events"] = events_json(report.events)
    return out


def point_json(point: SpreadPoint) -> dict[str, Any]:
    out: dict[str, Any] = {"op_index": point.op_index, "op": point.op, "entries": point.entries}
    for name in ("retained_bytes", "gc_scan_bytes", "total_alloc_bytes", "mallocs", "peak_bytes"):
        _put(out, name, getattr(point, name))
    return out


def timeline_json(timeline: Timeline) -> dict[str, Any]:
    out: dict[str, Any] = {
        "go_version": timeline.go_version,
        "goexperiment": timeline.goexperiment,
        "implementation": timeline.implementation,
        "map_type": timeline.map_type,
        "hint": timeline.hint,
        "seed_dependent": timeline.seed_dependent,
        "points": [point_json(p) for p in timeline.points],
        "events": events_json(timeline.events),
    }
    if timeline.seed_dependent:
        out["note"] = SEED_NOTE
    return out


def checks_json(checks: tuple[FigureCheck, ...]) -> list[dict[str, Any]]:
    return [
        {
            "figure": check.figure,
            "model": check.model.value,
            "model_range": [check.model.low, check.model.high],
            "measured": check.measured.median,
            "measured_range": [check.measured.min, check.measured.max],
            "agreement": check.verdict.value,
        }
        for check in checks
    ]
