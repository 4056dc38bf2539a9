"""Time to answer from the model vs time to build the map in real Go and read runtime.MemStats.

For each map type and N: the model's `size` answer (four simulations: insert, delete all, clear,
churn) against one oracle run of the real runtime doing the insert workload (one repetition, no peak
tracking, binary already built so compile time is excluded). Prints one row per case and the ratio.

    .venv/bin/python bench/model_vs_runtime.py [--go 1.27.3] [--max-n 1000000] [--model-only]

Then the model alone: `size` of map[int]int at 1e6 and 1e9 on Go 1.22 (buckets) and 1.27 (Swiss tables),
best of five, in wall and CPU time (CPU time stays honest on a shared machine).
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
    parser.add_argument("--model-only", action="store_true", help="only time the model's size answers")
    args = parser.parse_args()
    if not args.model_only:
        _against_runtime(args.go, args.max_n)
    _model_only()


def _model_only() -> None:
    print(f"{'model only: size of':<22} {'Go':>5} {'N':>14} {'wall':>10} {'cpu':>10}")
    for release in ("1.22", "1.27"):
        target = Target.parse(release)
        for n in (10**6, 10**9):
            wall, cpu = [], []
            for _ in range(5):
                start, start_cpu = time.perf_counter(), time.process_time()
                size_report(parse_map_type("map[int]int"), n, target)
                wall.append(time.perf_counter() - start)
                cpu.append(time.process_time() - start_cpu)
            print(
                f"{'map[int]int':<22} {release:>5} {n:>14,} {min(wall) * 1e3:>8.1f}ms {min(cpu) * 1e3:>8.1f}ms"
            )


def _against_runtime(release: str, max_n: int) -> None:
    target = Target(GoVersion.from_release(release))
    gotoolchain.ensure(release)
    cases = [
        Case(f"bench/{i}-{n}", t, hint=None, ops=(Op(OpKind.INSERT, n),), track_peak=False)
        for i, t in enumerate(TYPES)
        for n in SIZES
        if n <= max_n and not (t == "map[int][1024]byte" and n > 1_000_000)
    ]
    binary = runner.build(cases, target)
    print(f"Go {release}: model answer vs real runtime (insert N, then GC + MemStats), best of 3")
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
    print(f"geometric mean speed-up: {statistics.geometric_mean(ratios):.0f}x")


if __name__ == "__main__":
    main()
