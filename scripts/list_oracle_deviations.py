"""Write tests/fixtures/oracle/known_deviations.json: the readings where the model and the oracle differ.

Covers every committed measurement of real Go: the oracle matrix (tests/fixtures/oracle/<target>.json),
the large-N seed suite (tests/fixtures/oracle/large/) and the Swiss-table rules (tests/fixtures/swiss/).
This is the one list of deviations: tests keep none of their own. Run after regenerating fixtures or
changing the model, and review the diff: the test suite fails on any deviation not listed here and on
any listed one that no longer occurs.
"""

from __future__ import annotations

import json
from pathlib import Path

from mapscope.analyses.oracle_match import match_fixture
from mapscope.model.versions import Implementation, Target
from mapscope.oracle import fixtures
from mapscope.oracle.cases import Case

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
ORACLE = FIXTURES / "oracle"
MEASURED = (ORACLE, ORACLE / "large", FIXTURES / "swiss")

BUCKET_REASONS = {
    "peak": "the oracle reads the heap only after an insert that allocated structure; within a grow the "
    "model places that reading a little earlier or later than the runtime did",
    "gc_scan": "overflow-bucket bookkeeping of pointer-free maps counts a few words differently from the "
    "model on these readings",
    "retained": "hash-seed dependent overflow buckets after deletes/churn: the model's range is an "
    "approximation of the spread of bucket loads",
    "total_alloc": "hash-seed dependent overflow buckets: outside the model's approximate range",
    "mallocs": "hash-seed dependent overflow buckets: outside the model's approximate range",
}
SWISS_REASON = (
    "tombstones after deletes come from a mean-field model of group occupancy; the runtime's rebuilds "
    "fall outside its range here"
)
TRACKED_TINY = (
    "with the peak tracked, the harness reads the heap after every insert, which starts a new tiny block "
    "for each boxed key; the entries model packs them as an untracked run would"
)


def reason(target: Target, case: Case, figure: str) -> str:
    if case.track_peak and case.boxed is None and "any" in case.type_expr and figure != "peak":
        return TRACKED_TINY
    if target.implementation is Implementation.BUCKETS:
        return BUCKET_REASONS[figure]
    return SWISS_REASON


def measured_files() -> list[Path]:
    return [path for folder in MEASURED for path in sorted(folder.glob("go*.json"))]


def main() -> None:
    deviations = []
    for path in measured_files():
        fixture = fixtures.read(path)
        report = match_fixture(fixture)
        cases = {m.case.id: m.case for m in fixture.measurements}
        where = path.parent.relative_to(FIXTURES)
        print(
            f"{where}/{report.target}: {report.matched}/{report.checked} readings agree ({report.exact} exact)"
        )
        for m in report.mismatches:
            deviations.append(
                {
                    "reading": f"{report.target} {m.case} #{m.op_index} {m.figure}",
                    "model": list(m.model),
                    "runtime": list(m.measured),
                    "reason": reason(fixture.target, cases[m.case], m.figure),
                }
            )
    target = ORACLE / "known_deviations.json"
    target.write_text(json.dumps({"deviations": deviations}, indent=1) + "\n")
    print(f"{len(deviations)} deviations listed in {target}")


if __name__ == "__main__":
    main()
