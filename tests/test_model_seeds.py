"""Swiss maps at large N: the model's seed ranges against many real runs (tests/fixtures/oracle/large).

Without a hint, a Swiss map's tables split by hash bits, so how many tables a map of N keys ends with
depends on its seed. Every repetition of every reading (30 fresh maps per case and release, made by
scripts/gen_oracle_fixtures.py --suite large) must lie inside the model's range, whether or not the 30 of
them happened to agree; a hinted map's figures are exact.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mapscope.model.ops import parse_ops
from mapscope.model.simulate import simulate
from mapscope.model.swiss_loads import SPLIT_AT, binomial_quantile, split_profile
from mapscope.model.versions import Target
from mapscope.oracle import fixtures
from mapscope.oracle.cases import LARGE_MATRIX, LARGE_TARGETS
from mapscope.readers.gotype_source import parse_map_type

LARGE = Path(__file__).parent / "fixtures" / "oracle" / "large"
FIGURES = {"retained": "retained_bytes", "total_alloc": "total_alloc_bytes", "mallocs": "mallocs"}


@pytest.fixture(scope="module", params=LARGE_TARGETS, ids=lambda t: t.label)
def large(request: pytest.FixtureRequest) -> fixtures.FixtureFile:
    target: Target = request.param
    return fixtures.read(LARGE / fixtures.file_name(target))


def test_every_release_measured_enough(large: fixtures.FixtureFile) -> None:
    ids = {m.case.id for m in large.measurements}
    assert ids <= {case.id for case in LARGE_MATRIX}
    assert {"seeds/int-int-1000000", "seeds/string-int-1000000", "seeds/any-any-1000000"} <= ids
    assert large.reps >= 30


def test_every_run_lies_in_the_model_range(large: fixtures.FixtureFile) -> None:
    """The split rule's envelope: every run of a map filled from empty, up to its first delete."""
    outside = []
    for measurement in large.measurements:
        case = measurement.case
        points = simulate(parse_map_type(case.type_expr), case.ops, large.target, case.hint).points
        for reading, point in zip(measurement.readings, points, strict=True):
            if reading.op.startswith(("delete", "clear")):
                break  # after deletes, tombstones decide; test_model_oracle checks those readings
            for figure, field in FIGURES.items():
                seen = getattr(reading.stats, figure)
                model = getattr(point, field)
                if not model.low <= seen.min <= seen.max <= model.high:
                    outside.append(
                        f"{case.id} after {reading.op} {figure}: runtime [{seen.min}..{seen.max}]"
                        f" model {model.value} [{model.low}..{model.high}]"
                    )
    assert not outside, "\n".join(outside)


def test_hinted_maps_are_exact(large: fixtures.FixtureFile) -> None:
    for measurement in large.measurements:
        if measurement.case.hint is None:
            continue
        case = measurement.case
        final = simulate(parse_map_type(case.type_expr), case.ops, large.target, case.hint).final
        for figure, field in FIGURES.items():
            model = getattr(final, field)
            assert model.low == model.value == model.high, (case.id, figure)
            assert getattr(measurement.readings[-1].stats, figure).deterministic, (case.id, figure)


def test_a_million_keys_split_by_luck() -> None:
    """At 1e6 keys the 1024 prefixes of 10 hash bits hold 977 keys on average (sd 31): about 0.5% of them
    stay under SPLIT_AT, so the map ends with 2048 tables less a handful that varies by seed."""
    tables = [1 + sum(split_profile(10**6, luck)) for luck in (0.0005, 0.5, 0.9995)]
    assert 2030 <= tables[0] < tables[1] < tables[2] <= 2048
    assert SPLIT_AT == 897
    timeline = simulate(parse_map_type("map[int]int"), parse_ops("insert 1000000"), Target.parse("1.27"))
    retained = timeline.final.retained_bytes
    assert retained.low < retained.value < retained.high


def test_binomial_quantile_near_certainty() -> None:
    """Splits that almost always happen: counted from the side that does not underflow."""
    assert binomial_quantile(1024, 0.995, 0.5)[0] == 1019
    assert binomial_quantile(1024, 0.995, 0.9995)[0] == 1024
    assert binomial_quantile(1024, 0.995, 0.0005)[0] in range(1008, 1016)
