"""Regenerates fuzz/seeds/report: a real `mapscope run` directory (Go 1.27.3 benchmarks of
tests/fixtures/run/tinyrun) that seeds the fuzzing of `mapscope report` and `mapscope bench compare`.

Profiles and the test binary are left out to keep the seed small. Usage: .venv/bin/python scripts/gen_fuzz_seeds.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "tests" / "fixtures" / "run" / "tinyrun"
OUT = REPO / "fuzz" / "seeds" / "report"
KEPT = ("manifest.json", "stdout.txt", "stderr.txt", "arrivals.txt", "build.log")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="mapscope-seed-") as folder:
        run = Path(folder) / "run"
        command = [sys.executable, "-m", "mapscope", "run", "--go", "1.27.3", "--out", str(run), "--",
                   "go", "test", "-bench", ".", "-benchtime", "100x", "-count", "3", "."]  # fmt: skip
        subprocess.run(command, cwd=PACKAGE, check=True, stdout=subprocess.DEVNULL)
        shutil.rmtree(OUT, ignore_errors=True)
        OUT.mkdir(parents=True)
        for name in KEPT:
            shutil.copy(run / name, OUT / name)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
