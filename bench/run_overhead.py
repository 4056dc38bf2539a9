"""What `mapscope run` costs over running the same `go test` directly: wall time of one run each.

The workload is the bundled example's benchmarks (examples/ordercache). Each variant runs once, after one
untimed build that fills Go's build cache, so both sides start from the same cache:
  * `go test …` directly, as a user would;
  * `mapscope run --no-profiles -- go test …`: the run directory, a separate build, gctrace and
    gcpacertrace on, output captured and analysed (GC log, benchmarks, the model beside them);
  * `mapscope run -- go test …`: the same plus CPU and heap profiles and the execution trace.
Ratios are mapscope's wall time over the direct run's. One run each on a shared 2-core machine: read the
ratios as "about", not to the percent.

Usage: .venv/bin/python bench/run_overhead.py [--go 1.27.3] [--bench REGEXP] [--benchtime 200ms] [--count 1]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mapscope import gotoolchain

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "ordercache"


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(
            f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr.decode(errors='replace')[-2000:]}"
        )
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--go", default="1.27.3")
    parser.add_argument("--bench", default=".")
    parser.add_argument("--benchtime", default="200ms")
    parser.add_argument("--count", default="1")
    options = parser.parse_args()
    toolchain = gotoolchain.ensure(options.go)
    env = {**os.environ, "GOTOOLCHAIN": "local"}
    go_test = ["go", "test", "-run", "^$", "-bench", options.bench, "-benchmem",
               "-benchtime", options.benchtime, "-count", options.count, "."]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="mapscope-overhead-") as scratch:
        work = Path(scratch) / "ordercache"
        shutil.copytree(EXAMPLE, work)
        subprocess.run(
            [str(toolchain.go), "test", "-c", "-o", os.devnull, "."], cwd=work, env=env, check=True
        )
        direct = timed([str(toolchain.go), *go_test[1:]], work, env)
        mapscope = [sys.executable, "-m", "mapscope", "run", "--go", options.go]
        bare = timed([*mapscope, "--no-profiles", "--out", f"{scratch}/bare", "--", *go_test], work, env)
        full = timed([*mapscope, "--out", f"{scratch}/full", "--", *go_test], work, env)
        sizes = {name: sum(f.stat().st_size for f in Path(scratch, name).rglob("*") if f.is_file())
                 for name in ("bare", "full")}  # fmt: skip
    print(f"workload: {' '.join(go_test)}  (examples/ordercache, Go {toolchain.release})")
    print(f"{'variant':44} {'wall s':>8} {'ratio':>7} {'run dir':>10}")
    print(f"{'go test (direct)':44} {direct:8.2f} {1:7.2f} {'':>10}")
    for name, seconds, size in (
        ("mapscope run --no-profiles (gctrace, capture)", bare, sizes["bare"]),
        ("mapscope run (+ cpu/heap profiles, trace)", full, sizes["full"]),
    ):
        print(f"{name:44} {seconds:8.2f} {seconds / direct:7.2f} {size / 1e6:8.1f} MB")


if __name__ == "__main__":
    main()
