"""Events per second: mapscope's execution-trace reader against `go tool trace -d=wire`, side by side.

Both decode every event of the same trace (default: the largest v2 sample in
$MAPSCOPE_SHARED/samples/trace).
The event count is Go's: the lines of `-d=wire` that start an event. mapscope's time is the CPU of
decoding all generations in this process; Go's is the CPU (user + sys) of its trace tool binary (run
directly, so the `go` command's start-up is not counted) writing the dump to /dev/null. Each side runs
--runs times, taking turns; medians are compared.

Usage: .venv/bin/python bench/trace_read.py [--trace FILE] [--release 1.27.3] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import time
from pathlib import Path

from mapscope import gotoolchain
from mapscope.readers.gotrace.reader import read_trace_file

REPO = Path(__file__).resolve().parent.parent


def _largest_sample() -> Path:
    """The largest v2 trace of $MAPSCOPE_SHARED/samples/trace (default ../shared beside the clone)."""
    samples = Path(os.environ.get("MAPSCOPE_SHARED", REPO.parent / "shared")) / "samples" / "trace"
    candidates = [p for p in samples.glob("trace_go*.out") if not p.name.startswith("trace_go1.21")]
    return max(candidates, key=lambda p: p.stat().st_size)


def _go_cpu(command: list[str], env: dict[str, str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _mapscope_cpu(trace: Path) -> float:
    start = time.process_time()
    for _ in read_trace_file(trace):
        pass
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trace", type=Path, default=None, help="trace file (default: largest sample)")
    parser.add_argument("--release", default="1.27.3", help="Go release whose trace tool is measured")
    parser.add_argument("--runs", type=int, default=5, help="runs of each side")
    args = parser.parse_args()
    trace = args.trace or _largest_sample()
    tool = gotoolchain.ensure(args.release)
    env = tool.env()
    binary = str(tool.tool("trace"))
    command = [binary, "-d=wire", str(trace)]
    dump = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    events = sum(1 for line in dump.splitlines() if not line.startswith("\t"))
    go_times: list[float] = []
    our_times: list[float] = []
    for _ in range(args.runs):
        go_times.append(_go_cpu(command, env))
        our_times.append(_mapscope_cpu(trace))
    go_median, our_median = statistics.median(go_times), statistics.median(our_times)
    print(
        f"{trace.name}: {trace.stat().st_size} bytes, {events} events; {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.2f}; CPU medians of {args.runs} runs"
    )
    print(f"{'reader':<34}{'CPU s':>10}{'events/s':>14}")
    print(
        f"{'go tool trace -d=wire (' + args.release + ')':<34}{go_median:>10.3f}{events / go_median:>14,.0f}"
    )
    print(f"{'mapscope gotrace reader':<34}{our_median:>10.3f}{events / our_median:>14,.0f}")
    print(f"ratio mapscope/go events per second: {go_median / our_median:.2f}")


if __name__ == "__main__":
    main()
