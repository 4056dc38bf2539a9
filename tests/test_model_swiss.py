"""The Swiss-table model (Go 1.24+) against real Go: the rules that changed between releases.

Figure-by-figure agreement with every fixture (and the one list of known deviations) is
test_model_oracle's; here, that the runtime really differs between releases where the model says so.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mapscope.model.ops import parse_ops
from mapscope.model.records import Timeline
from mapscope.model.simulate import simulate
from mapscope.model.versions import Implementation, Target
from mapscope.oracle import fixtures
from mapscope.oracle.cases import FIXTURE_TARGETS
from mapscope.oracle.records import Measurement
from mapscope.readers.gotype_source import parse_map_type, parse_type

HERE = Path(__file__).parent / "fixtures"
SWISS_TARGETS = [t for t in FIXTURE_TARGETS if t.implementation is Implementation.SWISS]
FIELDS = {
    "retained": "retained_bytes",
    "total_alloc": "total_alloc_bytes",
    "mallocs": "mallocs",
    "gc_scan": "gc_scan_bytes",
    "peak": "peak_bytes",
}


def modelled(measurement: Measurement, target: Target) -> Timeline:
    case = measurement.case
    boxed = parse_type(case.boxed, case.declarations) if case.boxed else None
    return simulate(parse_map_type(case.type_expr, case.declarations), case.ops, target, case.hint, boxed)


def _file(folder: str, target: Target) -> fixtures.FixtureFile:
    return fixtures.read(HERE / folder / fixtures.file_name(target))


def _final(folder: str, target: Target, case_id: str, figure: str) -> tuple[int, int]:
    """(runtime median, model median) of a figure after a case's last operation."""
    measurement = _file(folder, target).case(case_id)
    observed = getattr(measurement.readings[-1].stats, figure)
    point = modelled(measurement, target).points[-1]
    return observed.median, getattr(point, FIELDS[figure]).value


@pytest.mark.parametrize(
    ("case_id", "figure"),
    [
        ("swiss/queue-int", "retained"),  # 1.24 splits a table full of tombstones, 1.25+ prunes them
        ("swiss/queue-string", "retained"),
        ("swiss/clear-after-deletes", "total_alloc"),  # 1.24's clear of an emptied map keeps tombstones
    ],
)
def test_version_differences(case_id: str, figure: str) -> None:
    old = _final("swiss", SWISS_TARGETS[0], case_id, figure)
    new = _final("swiss", SWISS_TARGETS[1], case_id, figure)
    assert old[0] != new[0], "the runtime no longer differs between 1.24 and 1.25 here"
    assert old == (old[0], old[0])
    assert new == (new[0], new[0])


def test_slow_assignment_path_does_not_prune() -> None:
    """A [16]byte key takes the generic assignment path, which never prunes: 1.25 grows like 1.24."""
    old = _final("swiss", SWISS_TARGETS[0], "swiss/queue-arr16", "retained")
    new = _final("swiss", SWISS_TARGETS[1], "swiss/queue-arr16", "retained")
    assert old[0] == new[0] == old[1] == new[1]


def test_a_billion_keys() -> None:
    """Counts, not per-entry loops: a billion keys is an ordinary answer (its speed is in bench/)."""
    map_type = parse_map_type("map[string]*int")
    timeline = simulate(map_type, parse_ops("insert 1e9; delete 5e8; insert 5e8"), Target.parse("1.27"))
    final = timeline.final
    assert final.entries == 10**9
    assert final.retained_bytes.low <= final.retained_bytes.value <= final.retained_bytes.high
    assert final.retained_bytes.value > 10**9 * 24
