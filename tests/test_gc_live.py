"""Fresh GC logs from real Go toolchains (old and new pacer float styles) through the reader and the CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from mapscope.gotoolchain import Toolchain
from mapscope.readers.gctrace import GcCycle, GctraceReader, PacerAssist, UnrecognizedLine

PROGRAM = """package main

import (
	"fmt"
	"os"
	"time"
)

var keep []map[int][]byte

func main() {
	for round := 0; round < 8; round++ {
		m := make(map[int][]byte)
		for i := 0; i < 30000; i++ {
			m[i] = make([]byte, 64)
		}
		keep = append(keep, m)
		// The runtime prints a gctrace line in pieces: a write of ours while a cycle is still printing
		// could land inside it. Once the cycle this round started has ended, the line is whole.
		time.Sleep(30 * time.Millisecond)
		fmt.Fprintf(os.Stderr, "round %d\\n", round)
	}
	fmt.Println(len(keep))
	// A GC still printing its gctrace line when main returns is cut off mid-line: let it finish.
	time.Sleep(100 * time.Millisecond)
}
"""

# Go <= 1.25 prints runtime floats as +d.dddddde±ddd; 1.26+ prints strconv's shortest form.
OLD_FLOAT = re.compile(r"ratio=[+-]\d\.\d{6}e[+-]\d{3} ")


@pytest.mark.live
@pytest.mark.parametrize("release", ["1.22.10", "1.27.3"])
def test_fresh_log(release: str, go_release: Callable[[str], Toolchain], tmp_path: Path) -> None:
    toolchain = go_release(release)
    (tmp_path / "main.go").write_text(PROGRAM)
    (tmp_path / "go.mod").write_text("module alloc\n\ngo 1.22\n")
    env = toolchain.env()
    subprocess.run([str(toolchain.go), "build", "-o", "alloc", "."], cwd=tmp_path, env=env, check=True)
    env["GODEBUG"] = "gctrace=1,gcpacertrace=1"
    done = subprocess.run([str(tmp_path / "alloc")], env=env, capture_output=True, check=True, timeout=60)
    log = tmp_path / "stderr.log"
    log.write_bytes(done.stderr)

    lines = done.stderr.decode().splitlines()
    reader = GctraceReader(log.open("rb"))
    records = list(reader)
    assert not [r for r in records if isinstance(r, UnrecognizedLine)]
    cycles = [r for r in records if isinstance(r, GcCycle)]
    assert len(cycles) == sum(line.startswith("gc ") for line in lines) > 0
    assert len([r for r in records if isinstance(r, PacerAssist)]) == sum(
        "assist ratio=" in line for line in lines
    )
    assert reader.foreign_lines == sum(line.startswith("round ") for line in lines) == 8
    assert bool(OLD_FLOAT.search(done.stderr.decode())) == (release == "1.22.10")

    report = subprocess.run(
        [sys.executable, "-m", "mapscope", "gc", str(log), "--json"], capture_output=True, check=True
    )
    assert len(json.loads(report.stdout)["cycles"]) == len(cycles)
