"""Regenerates tests/fixtures/gc/*.log: real GODEBUG GC traces from scripts/gc_fixtures/main.go.

They cover what the shared samples lack: Go 1.25's gctrace=2 lines (with and without the Green Tea
collector), the goroutine-leak marker of 1.26+/1.27, and trace lines interleaved with (and glued behind)
program output. Usage: .venv/bin/python scripts/gen_gc_fixtures.py
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mapscope import gotoolchain

REPO = Path(__file__).resolve().parent.parent
PROGRAM = REPO / "scripts" / "gc_fixtures" / "main.go"
OUT = REPO / "tests" / "fixtures" / "gc"


@dataclass(frozen=True)
class Fixture:
    name: str
    release: str
    godebug: str
    args: tuple[str, ...] = ()
    goexperiment: str = ""


FIXTURES = (
    Fixture("gctrace2_go1.25.5.log", "1.25.5", "gctrace=2", ("-rounds", "4")),
    Fixture("gctrace2_greenteagc_go1.25.5.log", "1.25.5", "gctrace=2", ("-rounds", "4"), "greenteagc"),
    Fixture(
        "leakcheck_go1.26.6.log",
        "1.26.6",
        "gctrace=1,gcpacertrace=1",
        ("-leakprofile",),
        "goroutineleakprofile",
    ),
    Fixture("leakcheck_go1.27.3.log", "1.27.3", "gctrace=1,gcpacertrace=1", ("-leakprofile",)),
    Fixture("chatter_go1.22.10.log", "1.22.10", "gctrace=1", ("-chatter",)),
    Fixture("chatter_all_go1.25.5.log", "1.25.5", "gctrace=1,gcpacertrace=1,scavtrace=1", ("-chatter",)),
    Fixture("chatter_all_go1.27.3.log", "1.27.3", "gctrace=1,gcpacertrace=1,scavtrace=1", ("-chatter",)),
)


def build(release: str, goexperiment: str, folder: Path) -> Path:
    """Builds the program with one toolchain (and GOEXPERIMENT) into `folder`."""
    toolchain = gotoolchain.ensure(release)
    folder.mkdir(parents=True)
    shutil.copy(PROGRAM, folder / "main.go")
    (folder / "go.mod").write_text("module gcchurn\n\ngo 1.22\n")
    binary = folder / "gcchurn"
    subprocess.run(
        [str(toolchain.go), "build", "-o", str(binary), "."],
        cwd=folder,
        env=toolchain.env(goexperiment),
        check=True,
    )
    return binary


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        for fixture in FIXTURES:
            folder = Path(scratch) / fixture.name
            binary = build(fixture.release, fixture.goexperiment, folder)
            env = gotoolchain.ensure(fixture.release).env(fixture.goexperiment, GODEBUG=fixture.godebug)
            done = subprocess.run(
                [str(binary), *fixture.args], env=env, capture_output=True, check=True, timeout=120
            )
            (OUT / fixture.name).write_bytes(done.stderr)
            lines = done.stderr.count(b"\n")
            print(f"{fixture.name}: {lines} lines")


if __name__ == "__main__":
    main()
