"""Regenerate tests/fixtures/bench/tinybench_go<release>.{txt,json}: real `go test -bench` output of
tests/fixtures/bench/tinybench, as text and as a `go test -json` stream, on Go 1.22.10 and 1.27.3.

The reader tests read them from the clone (no ../shared needed); the counts are fixed (-benchtime 100x,
-count 3), the timings are whatever the machine gave. Usage: .venv/bin/python scripts/gen_bench_fixtures.py
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from mapscope import gotoolchain

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "bench"
RELEASES = ("1.22.10", "1.27.3")
BENCH = ["test", "-run", "^$", "-bench", ".", "-benchtime", "100x", "-count", "3", "-benchmem"]


def main() -> None:
    for release in RELEASES:
        toolchain = gotoolchain.ensure(release)
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch) / "tinybench"
            shutil.copytree(FIXTURES / "tinybench", folder)
            env = {**toolchain.env(), "GOMAXPROCS": "2"}
            for suffix, extra in (("txt", []), ("json", ["-json"])):
                done = subprocess.run(
                    [str(toolchain.go), *BENCH, *extra], cwd=folder, env=env, check=True, capture_output=True
                )
                out = FIXTURES / f"tinybench_go{release}.{suffix}"
                out.write_bytes(done.stdout)
                print(f"wrote {out.relative_to(ROOT)} ({len(done.stdout)} bytes)", flush=True)


if __name__ == "__main__":
    main()
