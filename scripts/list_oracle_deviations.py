"""Write tests/fixtures/oracle/known_deviations.json: the readings where the model and the oracle differ.

Run after regenerating the fixtures or changing the model, and review the diff: the test suite fails on
any deviation not listed here and on any listed one that no longer occurs.
"""

from __future__ import annotations

import json
from pathlib import Path

from mapscope.analyses.oracle_match import match_fixture
from mapscope.oracle import fixtures

ORACLE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "oracle"

REASONS = {
    "peak": "the oracle reads the heap only after an insert that allocated structure; within a grow the "
    "model places that reading a little earlier or later than the runtime did",
    "gc_scan": "overflow-bucket bookkeeping of pointer-free maps or the 1.26+ span scanner counts a few "
    "words differently from the model on these readings",
    "retained": "hash-seed dependent overflow buckets after deletes/churn: the model's range is an "
    "approximation of the spread of bucket loads",
    "total_alloc": "hash-seed dependent overflow buckets: outside the model's approximate range",
    "mallocs": "hash-seed dependent overflow buckets: outside the model's approximate range",
}


def main() -> None:
    deviations = []
    for path in sorted(ORACLE.glob("go*.json")):
        report = match_fixture(fixtures.read(path))
        print(f"{report.target}: {report.matched}/{report.checked} readings agree ({report.exact} exact)")
        for m in report.mismatches:
            deviations.append(
                {
                    "reading": f"{report.target} {m.case} #{m.op_index} {m.figure}",
                    "model": list(m.model),
                    "runtime": list(m.measured),
                    "reason": REASONS[m.figure],
                }
            )
    target = ORACLE / "known_deviations.json"
    target.write_text(json.dumps({"deviations": deviations}, indent=1) + "\n")
    print(f"{len(deviations)} deviations listed in {target}")


if __name__ == "__main__":
    main()
