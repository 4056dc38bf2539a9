"""How well the model matches the oracle: every reading of every case, figure by figure.

A figure the runtime repeated exactly must equal the model's median; a figure that moved with the hash
seed must stay within the model's range on every repetition.
"""

from __future__ import annotations

from dataclasses import dataclass

from mapscope.analyses.model_vs_runtime import Verdict, verdict
from mapscope.model.records import SpreadPoint
from mapscope.model.simulate import simulate
from mapscope.model.versions import Target
from mapscope.oracle.fixtures import FixtureFile
from mapscope.oracle.records import Measurement, Observed
from mapscope.readers.gotype_source import parse_map_type, parse_type

FIGURES = ("retained", "total_alloc", "mallocs", "gc_scan", "peak")
_MODEL_FIELD = {
    "retained": "retained_bytes",
    "total_alloc": "total_alloc_bytes",
    "mallocs": "mallocs",
    "gc_scan": "gc_scan_bytes",
    "peak": "peak_bytes",
}


@dataclass(frozen=True)
class Mismatch:
    case: str
    op_index: int
    op: str
    figure: str
    model: tuple[int, int, int]
    measured: tuple[int, int, int]


@dataclass(frozen=True)
class MatchReport:
    target: str
    checked: int
    exact: int
    in_range: int
    mismatches: tuple[Mismatch, ...]

    @property
    def matched(self) -> int:
        return self.exact + self.in_range

    def keys(self) -> set[str]:
        """One key per deviating reading: `target case #op figure`."""
        return {f"{self.target} {m.case} #{m.op_index} {m.figure}" for m in self.mismatches}


def model_points(measurement: Measurement, target: Target) -> tuple[SpreadPoint, ...]:
    case = measurement.case
    map_type = parse_map_type(case.type_expr, case.declarations)
    boxed = parse_type(case.boxed, case.declarations) if case.boxed else None
    return simulate(map_type, case.ops, target, case.hint, boxed).points


def match_measurement(measurement: Measurement, target: Target) -> MatchReport:
    checked = exact = in_range = 0
    mismatches: list[Mismatch] = []
    points = model_points(measurement, target)
    for reading, point in zip(measurement.readings, points, strict=True):
        for figure in FIGURES:
            seen: Observed | None = getattr(reading.stats, figure)
            if seen is None:
                continue
            model = getattr(point, _MODEL_FIELD[figure])
            checked += 1
            outcome = verdict(model, seen)
            if outcome is Verdict.EXACT:
                exact += 1
            elif outcome is Verdict.IN_RANGE:
                in_range += 1
            else:
                mismatches.append(
                    Mismatch(
                        measurement.case.id,
                        reading.op_index,
                        reading.op,
                        figure,
                        (model.value, model.low, model.high),
                        (seen.median, seen.min, seen.max),
                    )
                )
    return MatchReport(target.label, checked, exact, in_range, tuple(mismatches))


def match_fixture(fixture: FixtureFile) -> MatchReport:
    reports = [match_measurement(m, fixture.target) for m in fixture.measurements]
    return MatchReport(
        fixture.target.label,
        sum(r.checked for r in reports),
        sum(r.exact for r in reports),
        sum(r.in_range for r in reports),
        tuple(m for r in reports for m in r.mismatches),
    )
