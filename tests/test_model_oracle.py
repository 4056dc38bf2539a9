"""The model against every committed measurement of real Go, and against live Go on a subset.

Every reading of every case on every target, in the oracle matrix, the large-N seed suite
(fixtures/oracle/large) and the Swiss-table rules (fixtures/swiss): a figure the runtime repeated exactly
must equal the model's median; a figure that moved with the hash seed must lie within the model's range
on every repetition. The few readings the model does not yet reproduce are listed with their reason in
tests/fixtures/oracle/known_deviations.json, written by scripts/list_oracle_deviations.py (the one list:
no test keeps its own); a new deviation fails, and so does a listed one that has been fixed.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from mapscope import gotoolchain
from mapscope.analyses.oracle_match import MatchReport, match_fixture, match_measurement
from mapscope.model.versions import GoVersion, Target
from mapscope.oracle import fixtures, runner
from mapscope.oracle.cases import LIVE_SUBSET

FIXTURES = Path(__file__).parent / "fixtures"
ORACLE = FIXTURES / "oracle"
FILES = [
    path
    for folder in (ORACLE, ORACLE / "large", FIXTURES / "swiss")
    for path in sorted(folder.glob("go*.json"))
]


@cache
def _known() -> frozenset[str]:
    listed = json.loads((ORACLE / "known_deviations.json").read_text())
    return frozenset(entry["reading"] for entry in listed["deviations"])


@cache
def _report(path: Path) -> MatchReport:
    return match_fixture(fixtures.read(path))


def _describe(report: MatchReport, keys: list[str]) -> str:
    details = {f"{report.target} {m.case} #{m.op_index} {m.figure}": m for m in report.mismatches}
    return "; ".join(f"{k}: model {details[k].model} vs runtime {details[k].measured}" for k in keys[:20])


def test_fixtures_cover_every_target() -> None:
    names = {path.stem for path in FILES if path.parent == ORACLE}
    assert {"go1.22.10", "go1.23.9", "go1.24.11", "go1.24.11+noswissmap", "go1.25.5", "go1.27.3"} <= names


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_model_matches_oracle(path: Path) -> None:
    report = _report(path)
    cases = {m.case.id for m in fixtures.read(path).measurements}
    known = {key for key in _known() if key.split()[:1] == [report.target] and key.split()[1] in cases}
    unexpected = sorted(report.keys() - known)
    assert not unexpected, "new deviations: " + _describe(report, unexpected)
    assert not sorted(known - report.keys()), "fixed deviations are still listed as known"
    assert report.checked > (1000 if path.parent == ORACLE else 40)


@pytest.mark.live
@pytest.mark.parametrize("release", ["1.22.10", "1.27.3"])
def test_live_subset_against_real_go(release: str) -> None:
    """A fresh run of real Go on every CI run: the subset must agree as the fixtures do."""
    target = Target(GoVersion.from_release(release))
    gotoolchain.ensure(release)
    for measurement in runner.measure(LIVE_SUBSET, target, reps=5):
        report = match_measurement(measurement, target)
        unexpected = sorted(report.keys() - _known())
        assert not unexpected, _describe(report, unexpected)
