"""Regenerate tests/fixtures/swiss/<target>.json: Swiss-table behaviour that changed between releases.

    .venv/bin/python scripts/gen_swiss_fixtures.py [--target go1.26.6 ...]

Each case isolates one rule of the Swiss-table model on the real runtimes (Go 1.24, 1.25, 1.26, 1.27):
tombstones piling up under queue-like churn until a table splits (1.24) or being pruned before it
does (1.25+, on the fast assignment paths only: 8-byte and string keys prune, a [16]byte key does not),
clear of a map whose keys were all deleted (a no-op on 1.24, a reset on 1.25+), hints that size tables
at 512 slots or spread them over a directory, and churn over many tables. Measured with the oracle's
harness (the same program `mapscope measure` builds), targets one after the other.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from mapscope.errors import MapscopeError
from mapscope.model.ops import parse_ops
from mapscope.model.versions import GoVersion, Target
from mapscope.oracle import fixtures, runner
from mapscope.oracle.cases import Case

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "swiss"
REPS = 15
TARGETS = tuple(Target(GoVersion.from_release(r)) for r in ("1.24.11", "1.25.5", "1.26.6", "1.27.3"))
_QUEUE = "insert 700" + "; delete 150; insert 150" * 12


def _case(id: str, type_expr: str, ops: str, hint: int | None = None, peak: bool = False) -> Case:
    return Case(id, type_expr, "", hint, parse_ops(ops), None, peak)


CASES: tuple[Case, ...] = (
    _case("swiss/queue-int", "map[int]int", _QUEUE),
    _case("swiss/queue-string", "map[string]int", _QUEUE),
    _case("swiss/queue-arr16", "map[[16]byte]int", _QUEUE),
    _case("swiss/clear-after-deletes", "map[int]int", "insert 896; delete 896; clear; insert 896"),
    _case("swiss/hint-512-slot-tables", "map[int]int", "insert 897; insert 1103", hint=897),
    _case("swiss/hint-directory", "map[int]int", "insert 5000; insert 30000", hint=20000),
    _case(
        "swiss/churn-many-tables",
        "map[int]int",
        "insert 100000; delete 90000; insert 50000; delete 50000; insert 90000",
    ),
    _case("swiss/empty-value", "map[int32]struct{}", "insert 9; insert 1000; delete 1000; insert 10"),
    _case("swiss/peak-arr129", "map[int][129]byte", "insert 3000", peak=True),
)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--target", action="append", help="target label, e.g. go1.26.6 (repeatable)")
    args = parser.parse_args()
    started = time.monotonic()
    try:
        for target in TARGETS:
            if args.target and target.label not in args.target:
                continue
            binary = runner.build(CASES, target)
            measured = [runner.run_case(binary, case, target, REPS) for case in CASES]
            fixtures.write(OUT / fixtures.file_name(target), target, measured)
            seeded = [m.case.id for m in measured if not m.deterministic]
            print(f"{target.label}: {len(CASES)} cases; seed-dependent: {', '.join(seeded) or 'none'}")
    except MapscopeError as error:
        print(f"gen_swiss_fixtures: error: {error}", file=sys.stderr)
        return 1
    print(f"total {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
