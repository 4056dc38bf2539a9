"""GC cycles and STW per benchmark op: cycles go to the benchmark during whose run their gc line arrived.

The hand-made case names its expectations line by line; the live case runs tests/fixtures/run/gcbench
under `mapscope run` and recounts the captured files here with plain text searches.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from mapscope.analyses import gc_summary
from mapscope.analyses.bench_gc import BenchGc, gc_per_benchmark
from mapscope.gotoolchain import Toolchain
from mapscope.pipelines.run import analyze_run
from mapscope.readers.arrivals import parse_arrivals
from mapscope.readers.gctrace import GctraceReader
from mapscope.readers.gobench import parse_bench
from mapscope.runner.manifest import read_manifest

FIXTURES = Path(__file__).parent / "fixtures" / "run"


def gc_line(number: int, sweep: str, term: str, forced: bool = False) -> str:
    return (
        f"gc {number} @0.{number:03d}s 1%: {sweep}+0.50+{term} ms clock, 0.1+0.1/0.1/0.1+0.1 ms cpu, "
        f"4->4->2 MB, 5 MB goal, 0 MB stacks, 0 MB globals, 2 P" + (" (forced)" if forced else "")
    )


STDOUT = (
    "goos: linux\ngoarch: amd64\npkg: x\n"
    "BenchmarkA-2   \t     100\t        50 ns/op\n"  # line 4
    "BenchmarkB-2   \t      10\t         5 ns/op\n"  # line 5
    "BenchmarkA-2   \t     300\t        50 ns/op\n"  # line 6
    "PASS\n"
)
STDERR = (
    "\n".join(
        [
            gc_line(1, "0.20", "0.10"),  # before the configuration lines: a test's
            gc_line(2, "0.10", "0.050"),  # A, first sample
            gc_line(3, "0.30", "0.30", forced=True),  # A, forced
            "program chatter on stderr",
            gc_line(4, "1.0", "0.5"),  # B
            gc_line(5, "0.25", "0.125"),  # A, second sample
            gc_line(6, "9.0", "9.0"),  # after the last result
        ]
    )
    + "\n"
)
# Records in arrival order: stderr lines 1 | stdout 1-3 | stderr 2-4 | stdout 4 | stderr 5 | stdout 5 |
# stderr 6 | stdout 6 | stderr 7 | stdout 7.
ARRIVALS = b"e 1\no 3\ne 4\no 4\ne 5\no 5\ne 6\no 6\ne 7\no 7\n"


def test_cycles_go_to_the_benchmark_they_ran_in() -> None:
    results = parse_bench(STDOUT.encode(), "stdout").results
    joined = gc_summary.join(GctraceReader(io.BytesIO(STDERR.encode())).read())
    rows = gc_per_benchmark(results, joined.log.gc, joined.stw_us, parse_arrivals(ARRIVALS, "arrivals"))
    # A: gc 2 (0.150 ms) and gc 5 (0.375 ms) over 100 + 300 iterations; gc 3 forced. B: gc 4 (1.5 ms).
    assert rows == (
        BenchGc("A-2", 2, 400, 2, 525, 1, 2 / 400, 525_000 / 400),
        BenchGc("B-2", 1, 10, 1, 1500, 0, 1 / 10, 1_500_000 / 10),
    )


def test_same_stream_order_alone_is_not_enough() -> None:
    """All stderr lines arriving after all stdout lines (one late read) belong to no benchmark."""
    results = parse_bench(STDOUT.encode(), "stdout").results
    joined = gc_summary.join(GctraceReader(io.BytesIO(STDERR.encode())).read())
    late = parse_arrivals(b"o 7\ne 7\n", "arrivals")
    rows = gc_per_benchmark(results, joined.log.gc, joined.stw_us, late)
    assert [(row.cycles, row.forced_cycles, row.stw_us) for row in rows] == [(0, 0, 0), (0, 0, 0)]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"o 1\nx 2\n", "arrivals:2: not an arrivals record"),
        (b"e 5\ne 4\n", "stderr line counts go backwards"),
    ],
)
def test_hostile_arrivals_are_refused(data: bytes, problem: str) -> None:
    with pytest.raises(Exception, match=problem):
        parse_arrivals(data, "arrivals")


def arrival(records: list[tuple[str, int]], stream: str, line: int) -> int:
    """The index of the first record of `stream` whose count reaches `line` (len(records) if none)."""
    return next((i for i, (s, count) in enumerate(records) if s == stream and count >= line), len(records))


def stw_us(line: str) -> int:
    sweep, _, term = line.split(": ", 1)[1].split(" ms clock", maxsplit=1)[0].split("+")
    return int((Decimal(sweep) + Decimal(term)) * 1000)


@pytest.mark.live
def test_gc_per_op_of_a_real_run(tmp_path: Path, go_release: Callable[[str], Toolchain]) -> None:
    go_release("1.27.3")
    folder = tmp_path / "gcbench"
    shutil.copytree(FIXTURES / "gcbench", folder)
    run_dir = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "mapscope", "run", "--go", "1.27.3", "--no-profiles", "--out", str(run_dir),
         "--", "go", "test", "-run", ".", "-bench", ".", "-benchtime", "200x", "-count", "2", "."],
        cwd=folder, env=dict(os.environ), capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = [(s, int(n)) for s, n in re.findall(r"([oe]) (\d+)\n", (run_dir / "arrivals.txt").read_text())]
    stdout = (run_dir / "stdout.txt").read_text().splitlines()
    stderr = (run_dir / "stderr.txt").read_text().splitlines()
    results = [
        (number, line.split()) for number, line in enumerate(stdout, 1) if line.startswith("Benchmark")
    ]
    expected: dict[str, list[int]] = {}
    attributed = 0
    for number, fields in results:
        start, end = arrival(records, "o", number - 1), arrival(records, "o", number)
        row = expected.setdefault(fields[0].removeprefix("Benchmark"), [0, 0, 0, 0, 0])
        row[0] += 1
        row[1] += int(fields[1])
        for gc_number, line in enumerate(stderr, 1):
            if line.startswith("gc ") and start < arrival(records, "e", gc_number) < end:
                attributed += 1
                forced = line.endswith("(forced)")
                row[2] += not forced
                row[3] += 0 if forced else stw_us(line)
                row[4] += forced
    analysis = analyze_run(run_dir, read_manifest(run_dir))
    got = {
        row.benchmark: [row.samples, row.iterations, row.cycles, row.stw_us, row.forced_cycles]
        for row in analysis.gc_per_op
    }
    assert got == expected
    garbage, quiet = got["Garbage-2"], got["Quiet-2"]
    # 256 KiB of garbage per op over 400 ops makes the pacer collect; the quiet benchmark allocates nothing.
    assert garbage[2] > 0 and quiet[2] == 0
    # runtime.GC() before each run: b.N = 1 and b.N = 200 per -count sample, 8 in all. A gc line on stderr
    # races the result line on stdout that ends a benchmark, so one may land on either side of a boundary
    # (the very first lands before the configuration lines when it wins, and then belongs to neither).
    assert garbage[4] in (3, 4) and quiet[4] in (3, 4) and garbage[4] + quiet[4] in (7, 8)
    # The test that ran first made garbage too: its cycles belong to no benchmark.
    assert attributed < sum(line.startswith("gc ") for line in stderr)
    assert "GC cycles/op" in done.stdout
