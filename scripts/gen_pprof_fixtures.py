"""Regenerate tests/fixtures/pprof/{default,rate1}/ with the real Go toolchain.

Builds tests/fixtures/pprof/program (stdlib only) with Go 1.27.3, -trimpath and -buildvcs=false, runs it
once with the default MemProfileRate and once with MemProfileRate=1, and records in manifest.json how the
binary was built and its Go build ID: the live tests rebuild the same binary (Go builds are reproducible
when no VCS state is stamped in) to symbolize the raw PCs of the debug=1 text profiles, and check the
build ID first.

Usage: .venv/bin/python scripts/gen_pprof_fixtures.py
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from mapscope import gotoolchain

RELEASE = "1.27.3"
ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "pprof"
PROGRAM = FIXTURES / "program"
BUILD_FLAGS = ["-trimpath", "-buildvcs=false"]  # no git state in the binary: rebuilds must match
RATES = {"default": "", "rate1": "1"}


def build(toolchain: gotoolchain.Toolchain, output: Path) -> str:
    """Build the program; returns its Go build ID."""
    command = [str(toolchain.go), "build", *BUILD_FLAGS, "-o", str(output), "."]
    subprocess.run(command, cwd=PROGRAM, env=toolchain.env(), check=True)
    done = subprocess.run(
        [str(toolchain.go), "tool", "buildid", str(output)],
        env=toolchain.env(),
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def main() -> None:
    toolchain = gotoolchain.ensure(RELEASE)
    with tempfile.TemporaryDirectory() as scratch:
        binary = Path(scratch) / "pprofprog"
        build_id = build(toolchain, binary)
        for name, rate in RATES.items():
            target = FIXTURES / name
            if target.exists():
                shutil.rmtree(target)
            target.mkdir(parents=True)
            env = {**os.environ, "MAPSCOPE_RATE": rate, "GOMAXPROCS": "2"}
            subprocess.run([str(binary), str(target)], env=env, check=True)
    manifest = {
        "go": RELEASE,
        "build": ["go", "build", *BUILD_FLAGS, "-o", "pprofprog", "."],
        "build_id": build_id,
        "runs": {name: {"MAPSCOPE_RATE": rate} for name, rate in RATES.items()},
    }
    (FIXTURES / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    for path in sorted(FIXTURES.glob("*/*")):
        if path.parent.name != "program":
            print(f"{path.stat().st_size:8d}  {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
