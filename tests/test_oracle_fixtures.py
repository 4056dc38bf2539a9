"""The committed oracle fixtures: complete, self-consistent, and readable back into measurements."""

from __future__ import annotations

from pathlib import Path

import pytest

from mapscope.errors import MapscopeError
from mapscope.model.versions import Implementation
from mapscope.oracle import fixtures
from mapscope.oracle.cases import FIXTURE_TARGETS, MATRIX, Target
from mapscope.oracle.runner import op_labels

FIXTURES = Path(__file__).parent / "fixtures" / "oracle"


@pytest.fixture(scope="module", params=FIXTURE_TARGETS, ids=lambda t: t.label)
def fixture_file(request: pytest.FixtureRequest) -> fixtures.FixtureFile:
    target: Target = request.param
    return fixtures.read(FIXTURES / fixtures.file_name(target))


def test_every_target_has_every_case(fixture_file: fixtures.FixtureFile) -> None:
    assert [m.case for m in fixture_file.measurements] == list(MATRIX)
    for measurement in fixture_file.measurements:
        assert [(r.op, r.live) for r in measurement.readings] == op_labels(measurement.case)
        assert measurement.runtime_version.startswith(f"go{fixture_file.target.version.release}")


def test_figures_are_consistent(fixture_file: fixtures.FixtureFile) -> None:
    for measurement in fixture_file.measurements:
        for reading in measurement.readings:
            stats = reading.stats
            assert (stats.peak is not None) == measurement.case.track_peak
            for observed in (stats.retained, stats.total_alloc, stats.mallocs, stats.gc_scan, stats.peak):
                if observed is None:
                    continue
                assert observed.min <= observed.median <= observed.max
                assert observed.deterministic == (observed.min == observed.max)
            assert stats.retained.max <= stats.total_alloc.max
            if stats.peak is not None:
                assert stats.peak.min >= stats.retained.min


def test_control_reads_only_the_map_header(fixture_file: fixtures.FixtureFile) -> None:
    header = 64 if fixture_file.target.noswissmap else 48
    for case_id in ("control/make", "control/noop"):
        for reading in fixture_file.case(case_id).readings:
            assert reading.stats.deterministic
            assert (reading.stats.retained.median, reading.stats.mallocs.median) == (header, 1)
            assert reading.stats.total_alloc.median == header


def test_swiss_maps_depend_on_the_seed_only_in_rare_cases(fixture_file: fixtures.FixtureFile) -> None:
    seeded = {m.case.id for m in fixture_file.measurements if not m.deterministic}
    if fixture_file.target.implementation is Implementation.SWISS:
        assert len(seeded) <= 3
    else:
        assert "walk/int-int" in seeded


def test_round_trip(tmp_path: Path, fixture_file: fixtures.FixtureFile) -> None:
    path = tmp_path / "again.json"
    fixtures.write(path, fixture_file.target, fixture_file.measurements)
    again = fixtures.read(path)
    assert again == fixture_file
    assert path.read_text() == (FIXTURES / fixtures.file_name(fixture_file.target)).read_text()


def test_broken_fixture_is_one_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"go": "1.24.11"}')
    with pytest.raises(MapscopeError, match="not an oracle fixture"):
        fixtures.read(path)
    with pytest.raises(MapscopeError, match="cannot read"):
        fixtures.read(tmp_path / "missing.json")
