"""Throughput of mapscope's gctrace reader and of `mapscope gc --json`, in lines per second.

Builds large logs by repeating real lines (shared/samples/gctrace and tests/fixtures/gc) and times:
  * the reader alone (GctraceReader.read: the file into columns; best of --repeat runs),
  * the whole command (`python -m mapscope gc FILE --json > /dev/null`, one run, process start included),
  * `grep -c '^gc '` over the same file, as the floor a line scanner can reach.
Three logs: every kind of trace line as the samples mix them; gc lines only (gctrace=1); and a service-like
stream where one line in ten is a trace line and the rest is program output.

Rates are given per CPU second (user + system time of the work) and per wall second: on a shared machine
the CPU figure is the stable one, the wall figure is what a user waits.

Usage: .venv/bin/python bench/gctrace_throughput.py [--lines 2000000] [--repeat 3] [--no-command]
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from mapscope.readers.gctrace import GctraceReader

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("MAPSCOPE_SHARED", REPO.parent / "shared")) / "samples" / "gctrace"
FIXTURES = REPO / "tests" / "fixtures" / "gc"
PROGRAM_OUTPUT = (
    "2026/11/21 10:00:00 INFO request served path=/api/v1/items status=200 bytes=5123 dur=1.2ms",
    '{"level":"debug","msg":"cache refresh","keys":4096,"evicted":12}',
    "worker 3: processed batch 81723 (512 items) in 4.1ms",
    "",
)


@dataclass(frozen=True)
class Rate:
    """Lines per CPU second and per wall second."""

    cpu: float
    wall: float


@dataclass(frozen=True)
class Measurement:
    log: str
    lines: int
    megabytes: float
    reader: Rate
    command: Rate | None
    grep: Rate | None


def real_lines() -> list[str]:
    logs = sorted(SHARED.glob("*.log")) + sorted(FIXTURES.glob("*.log"))
    if not logs:
        sys.exit(f"no sample logs under {SHARED} or {FIXTURES}")
    lines: list[str] = []
    for log in logs:
        lines += log.read_text(encoding="utf-8", errors="replace").splitlines()
    return lines


def write_log(path: Path, lines: Iterator[str], count: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        for line in itertools.islice(lines, count):
            out.write(line)
            out.write("\n")


def mixed(trace: Sequence[str], program_per_trace: int) -> Iterator[str]:
    program = itertools.cycle(PROGRAM_OUTPUT)
    for line in itertools.cycle(trace):
        yield line
        yield from itertools.islice(program, program_per_trace)


def cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def time_reader(path: Path, repeat: int) -> tuple[int, Rate]:
    best_cpu = best_wall = float("inf")
    lines = 0
    for _ in range(repeat):
        with path.open("rb") as stream:
            reader = GctraceReader(stream)
            cpu, wall = cpu_seconds(resource.RUSAGE_SELF), time.perf_counter()
            reader.read()
            best_wall = min(best_wall, time.perf_counter() - wall)
            best_cpu = min(best_cpu, cpu_seconds(resource.RUSAGE_SELF) - cpu)
            lines = reader.lines
    return lines, Rate(lines / best_cpu, lines / best_wall)


def time_command(command: Sequence[str], lines: int, small_output: bool = False) -> Rate:
    # GNU grep stops at the first match when its output is /dev/null, so small outputs go to a pipe.
    stdout = subprocess.PIPE if small_output else subprocess.DEVNULL
    cpu, wall = cpu_seconds(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run(command, stdout=stdout, check=True)
    wall = time.perf_counter() - wall
    return Rate(lines / (cpu_seconds(resource.RUSAGE_CHILDREN) - cpu), lines / wall)


def measure(name: str, path: Path, repeat: int, with_command: bool) -> Measurement:
    lines, reader = time_reader(path, repeat)
    command = None
    if with_command:
        command = time_command([sys.executable, "-m", "mapscope", "gc", str(path), "--json"], lines)
    grep = (
        time_command(["grep", "-c", "^gc ", str(path)], lines, small_output=True)
        if shutil.which("grep")
        else None
    )
    return Measurement(name, lines, path.stat().st_size / 1e6, reader, command, grep)


def show(rate: Rate | None) -> str:
    return "-" if rate is None else f"{rate.cpu / 1e6:.3f}M / {rate.wall / 1e6:.3f}M"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-command", action="store_true", help="time the reader only")
    options = parser.parse_args()

    trace = real_lines()
    gc_only = [line for line in trace if line.startswith("gc ")]
    logs = {
        "all trace lines (samples mix)": itertools.cycle(trace),
        "gc lines only (gctrace=1)": itertools.cycle(gc_only),
        "1 trace line in 10 (service)": mixed(trace, 9),
    }
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        for index, (name, lines) in enumerate(logs.items()):
            path = Path(scratch) / f"log{index}.txt"
            write_log(path, lines, options.lines)
            results.append(measure(name, path, options.repeat, not options.no_command))

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    print("lines per second, per CPU second / per wall second")
    header = f"{'log':30} {'lines':>9} {'MB':>6} {'reader':>17} {'gc --json':>17} {'grep -c':>17}"
    print(header)
    for r in results:
        print(
            f"{r.log:30} {r.lines:>9} {r.megabytes:>6.1f} {show(r.reader):>17} "
            f"{show(r.command):>17} {show(r.grep):>17}"
        )


if __name__ == "__main__":
    main()
