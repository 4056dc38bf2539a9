"""Regenerate tests/fixtures/profile_sites/go<release>/{rate1,default}/ with the real Go toolchains.

Builds tests/fixtures/profile_sites/program (stdlib only; its map sites are known by construction, see
main.go) with Go 1.22.10 (bucket maps) and Go 1.27.3 (Swiss tables), -trimpath and -buildvcs=false, runs
each binary with MemProfileRate=1 and with the default rate, and keeps the allocs profile (proto) and the
heap profile as legacy text (gzipped). manifest.json records how each binary was built and its Go build
ID: the live tests rebuild the same binary (reproducible without VCS stamping) to symbolize the text
profiles' raw PCs, runtime frames included.

Usage: .venv/bin/python scripts/gen_profile_sites_fixtures.py
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from mapscope import gotoolchain

RELEASES = ("1.22.10", "1.27.3")
ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "profile_sites"
PROGRAM = FIXTURES / "program"
BUILD_FLAGS = ["-trimpath", "-buildvcs=false"]
RATES = {"default": "", "rate1": "1"}


def build(toolchain: gotoolchain.Toolchain, output: Path) -> str:
    """Build the program; returns its Go build ID."""
    subprocess.run(
        [str(toolchain.go), "build", *BUILD_FLAGS, "-o", str(output), "."],
        cwd=PROGRAM,
        env=toolchain.env(),
        check=True,
    )
    done = subprocess.run(
        [str(toolchain.go), "tool", "buildid", str(output)],
        env=toolchain.env(),
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def run(binary: Path, target: Path, rate: str) -> None:
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    env = {**os.environ, "MAPSCOPE_RATE": rate, "GOMAXPROCS": "2"}
    subprocess.run([str(binary), str(target)], env=env, check=True)
    text = target / "heap.debug1.txt"
    (target / "heap.debug1.txt.gz").write_bytes(gzip.compress(text.read_bytes(), mtime=0))
    text.unlink()


def main() -> None:
    manifest: dict[str, object] = {
        "build": ["go", "build", *BUILD_FLAGS, "-o", "sitesprog", "."],
        "releases": {},
    }
    releases: dict[str, object] = {}
    for release in RELEASES:
        toolchain = gotoolchain.ensure(release)
        with tempfile.TemporaryDirectory() as scratch:
            binary = Path(scratch) / "sitesprog"
            build_id = build(toolchain, binary)
            for name, rate in RATES.items():
                run(binary, FIXTURES / f"go{release}" / name, rate)
        releases[release] = {"build_id": build_id}
    manifest["releases"] = releases
    manifest["runs"] = {name: {"MAPSCOPE_RATE": rate} for name, rate in RATES.items()}
    (FIXTURES / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    for path in sorted(FIXTURES.glob("go*/*/*")):
        print(f"{path.stat().st_size:8d}  {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
