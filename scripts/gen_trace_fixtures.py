"""Writes the golden execution traces of tests/fixtures/trace: one per Go release, with the wire dump.

Each release builds and runs scripts/trace_fixtures/main.go (with GODEBUG=traceallocfree=1 from 1.23 on,
so the experimental alloc/free batches are present) and writes `trace_go<release>.out`. The expected
text `trace_go<release>.wire.txt.gz` is `go tool trace -d=wire` of the release itself (1.24.11 for 1.22 and
1.23, whose tools have no -d=wire): newer tools reject alloc/free events in traces with a 1.23 or 1.25
header ("invalid event type"). `trace_go<release>.parsed.txt` sums up the same tool's `-d=parsed`: a first
line `events N` (the events it prints), then `stw START END M REASON` per stop-the-world range (ns).
Run: python scripts/gen_trace_fixtures.py [--dumps-only] [release ...]; --dumps-only redoes the expected text of the committed traces without new traces.
"""

from __future__ import annotations

import argparse
import gzip
import re
import subprocess
import tempfile
from pathlib import Path

from mapscope import gotoolchain

REPO = Path(__file__).resolve().parent.parent
PROGRAM = REPO / "scripts" / "trace_fixtures" / "main.go"
OUT = REPO / "tests" / "fixtures" / "trace"
RELEASES = ("1.22.10", "1.23.9", "1.25.5", "1.26.6", "1.27.3")
OLDEST_WIRE_TOOL = "1.24.11"
GO_RUN_SECONDS = 120


def write_trace(release: str, dest: Path) -> None:
    """Builds the program with `release` and runs it so it writes its trace to `dest`."""
    tool = gotoolchain.ensure(release)
    allocfree = {} if release.startswith("1.22.") else {"GODEBUG": "traceallocfree=1"}
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        (folder / "go.mod").write_text("module tracefixture\n\ngo 1.22\n")
        (folder / "main.go").write_text(PROGRAM.read_text())
        binary = folder / "tracefixture"
        env = tool.env(GOCACHE=str(folder / "cache"), GOFLAGS="")
        subprocess.run(
            [str(tool.go), "build", "-o", str(binary), "."],
            cwd=folder,
            env=env,
            check=True,
            timeout=GO_RUN_SECONDS,
        )
        subprocess.run(
            [str(binary), str(dest)],
            env=tool.env(GOMAXPROCS="2", **allocfree),
            check=True,
            timeout=GO_RUN_SECONDS,
        )


def wire_tool(release: str) -> str:
    """The release whose `go tool trace -d=wire` dumps a trace written by `release`."""
    minor = int(release.split(".")[1])
    return release if minor >= 24 else OLDEST_WIRE_TOOL


_STW = re.compile(
    r"^M=(-?\d+) \S+ \S+ Range(Begin|End) Time=(\d+) "
    r'Name="stop-the-world \((.*)\)" Scope=(\S+)'
)


def parsed_summary(trace: Path, release: str) -> str:
    """`go tool trace -d=parsed` summed up: its event count, then its stop-the-world ranges."""
    return summarize_parsed(go_trace_dump(trace, release, "parsed"))


def summarize_parsed(dump: str) -> str:
    """The event count and stop-the-world ranges of a `-d=parsed` dump's text."""
    begins: dict[str, tuple[str, str, str]] = {}
    lines = dump.splitlines()
    summary = [f"events {sum(1 for line in lines if line.startswith('M='))}\n"]
    for line in lines:
        match = _STW.match(line)
        if match is None:
            continue
        m, edge, time, reason, scope = match.groups()
        if edge == "Begin":
            begins[scope] = (time, m, reason)
        elif scope in begins:
            start, begin_m, begin_reason = begins.pop(scope)
            summary.append(f"stw {start} {time} {begin_m} {begin_reason}\n")
    return "".join(summary)


def wire_dump(trace: Path, release: str) -> str:
    """`go tool trace -d=wire` of `trace`."""
    return go_trace_dump(trace, release, "wire")


def go_trace_dump(trace: Path, release: str, mode: str) -> str:
    """`go tool trace -d=<mode>` of `trace`, by the tool that reads what `release` writes."""
    tool = gotoolchain.ensure(wire_tool(release))
    done = subprocess.run(
        [str(tool.go), "tool", "trace", f"-d={mode}", str(trace)],
        env=tool.env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=GO_RUN_SECONDS,
    )
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dumps-only", action="store_true", help="keep the traces, redo the expected text")
    parser.add_argument("releases", nargs="*", default=list(RELEASES))
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for release in args.releases:
        trace = OUT / f"trace_go{release}.out"
        if not args.dumps_only:
            write_trace(release, trace)
        (OUT / f"trace_go{release}.parsed.txt").write_text(parsed_summary(trace, release))
        wire = gzip.compress(wire_dump(trace, release).encode(), mtime=0)
        (OUT / f"trace_go{release}.wire.txt.gz").write_bytes(wire)
        print(f"{trace.name}: {trace.stat().st_size} bytes")


if __name__ == "__main__":
    main()
