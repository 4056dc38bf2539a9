"""Time to answer from the model vs time to build the map in real Go and read runtime.MemStats.

For each map type and N: the model's `size` answer (four simulations: insert, delete all, clear,
churn) against one oracle run of the real runtime doing the insert workload (one repetition, no peak
tracking, binary already built so compile time is excluded). Prints one row per case and the ratio.

    .venv/bin/python bench/model_vs_runtime.py [--go 1.27.3] [--max-n 1000000]
"""

from __future__ import annotations

import argparse
import statistics
import time

from mapscope import gotoolchain
from mapscope.analyses.map_size import size_report
from mapscope.model.ops import Op, OpKind
from mapscope.model.versions import GoVersion, Target
from mapscope.oracle import runner
from mapscope.oracle.cases import Case
from mapscope.readers.gotype_source import parse_map_type

TYPES = ("map[int]int", "map[string]*int", "map[int][1024]byte", "map[any]any")
SIZES = (1_000, 100_000, 1_000_000, 10_000_000)


def _best(seconds: list[float]) -> float:
    return min(seconds) if seconds else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--go", default="1.27.3", help="exact Go release for the runtime side")
    parser.add_argument("--max-n", type=int, default=1_000_000, help="largest N run on the real runtime")
    args = parser.parse_args()
    target = Target(GoVersion.from_release(args.go))
    gotoolchain.ensure(args.go)
    cases = [
        Case(f"bench/{i}-{n}", t, hint=None, ops=(Op(OpKind.INSERT, n),), track_peak=False)
        for i, t in enumerate(TYPES)
        for n in SIZES
        if n <= args.max_n and not (t == "map[int][1024]byte" and n > 1_000_000)
    ]
    binary = runner.build(cases, target)
    print(f"Go {args.go}: model answer vs real runtime (insert N, then GC + MemStats), best of 3")
    print(f"{'map type':<22} {'N':>12} {'model':>10} {'runtime':>10} {'runtime/model':>14}")
    ratios = []
    for case in cases:
        map_type = parse_map_type(case.type_expr)
        n = case.ops[0].count
        model = []
        for _ in range(3):
            start = time.perf_counter()
            size_report(map_type, n, target)
            model.append(time.perf_counter() - start)
        real = []
        for _ in range(3):
            start = time.perf_counter()
            runner.run_case(binary, case, target, reps=1)
            real.append(time.perf_counter() - start)
        ratio = _best(real) / _best(model)
        ratios.append(ratio)
        print(
            f"{case.type_expr:<22} {n:>12,} {_best(model) * 1e3:>8.1f}ms {_best(real) * 1e3:>8.1f}ms {ratio:>13.0f}x"
        )
    for n in (10**8, 10**9):
        start = time.perf_counter()
        size_report(parse_map_type("map[int]int"), n, target)
        print(
            f"{'map[int]int':<22} {n:>12,} {(time.perf_counter() - start) * 1e3:>8.1f}ms {'(model only)':>10}"
        )
    print(f"geometric mean speed-up: {statistics.geometric_mean(ratios):.0f}x")


if __name__ == "__main__":
    main()
