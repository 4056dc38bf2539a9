"""The oracle against a real Go toolchain: the program compiles, the control reads only the map header, the
live subset reproduces the committed fixtures, and broken cases fail with one clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from mapscope.errors import MapscopeError
from mapscope.model.ops import parse_ops
from mapscope.oracle import fixtures, runner
from mapscope.oracle.cases import LIVE_SUBSET, LIVE_TARGET, Case
from mapscope.oracle.records import Measurement

pytestmark = pytest.mark.live

FIXTURES = Path(__file__).parent / "fixtures" / "oracle"
COLLIDING = Case("broken/colliding-keys", "map[bool]int", ops=parse_ops("insert 3"))
NOT_IMPLEMENTED = Case("broken/error-keys", "map[error]int", ops=parse_ops("insert 1"))
CASES = (*LIVE_SUBSET, COLLIDING, NOT_IMPLEMENTED)


@pytest.fixture(scope="module")
def binary() -> Path:
    """One program for the whole module, built (or found in the cache) once."""
    return runner.build(CASES, LIVE_TARGET)


@pytest.fixture(scope="module")
def live(binary: Path) -> dict[str, Measurement]:
    return {case.id: runner.run_case(binary, case, LIVE_TARGET, reps=3) for case in LIVE_SUBSET}


def test_control_reads_exactly_the_map_header(live: dict[str, Measurement]) -> None:
    for reading in live["control/noop"].readings:
        stats = reading.stats
        assert stats.deterministic
        assert stats.mallocs.median == 1
        assert stats.retained.median == stats.total_alloc.median
        assert 0 < stats.retained.median <= 64
    assert live["control/make"].readings[0].stats == live["control/noop"].readings[-1].stats


def test_live_subset_matches_the_fixture(live: dict[str, Measurement]) -> None:
    committed = fixtures.read(FIXTURES / fixtures.file_name(LIVE_TARGET))
    for case_id, measurement in live.items():
        expected = committed.case(case_id)
        assert measurement.case == expected.case
        for now, then in zip(measurement.readings, expected.readings, strict=True):
            for figure in fixtures.FIGURES:
                seen, fixed = getattr(now.stats, figure), getattr(then.stats, figure)
                if fixed is not None and fixed.deterministic:
                    assert seen == fixed, f"{case_id} after {now.op}: {figure}"


def test_colliding_keys_fail_with_one_error(binary: Path) -> None:
    with pytest.raises(MapscopeError, match="collide"):
        runner.run_case(binary, COLLIDING, LIVE_TARGET, reps=1)


def test_interface_the_box_does_not_implement_fails(binary: Path) -> None:
    with pytest.raises(MapscopeError, match="does not implement"):
        runner.run_case(binary, NOT_IMPLEMENTED, LIVE_TARGET, reps=1)


def test_unknown_case_and_bad_reps_fail(binary: Path) -> None:
    with pytest.raises(MapscopeError, match="no case"):
        runner.run_case(binary, Case("not-built", "map[int]int"), LIVE_TARGET, reps=1)
    with pytest.raises(MapscopeError, match="--reps"):
        runner.run_case(binary, LIVE_SUBSET[0], LIVE_TARGET, reps=0)


def test_compile_errors_are_one_line() -> None:
    with pytest.raises(MapscopeError, match="undefined: Nope") as caught:
        runner.build([Case("bad", "map[Nope]int")], LIVE_TARGET)
    assert "\n" not in str(caught.value)
