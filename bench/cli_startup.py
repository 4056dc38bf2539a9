"""CPU time of `mapscope --version`, `--help` and a small `size` against `python -c "import click"`.

The budget: `--version` and `--help` cost at most 2.5x the CPU of importing click alone, since they
import nothing but click and the command table. Each command runs --runs times, the commands taking turns
so that a busy machine weighs on all of them alike; the CPU of each run (user + sys of the child, from
getrusage(RUSAGE_CHILDREN)) is recorded and the median is compared. `mapscope` is the console script
beside this Python when there is one (what users run), else `python -m mapscope`.

Usage: .venv/bin/python bench/cli_startup.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

BUDGET = 2.5
BUDGETED = ("mapscope --version", "mapscope --help")


def _mapscope() -> list[str]:
    script = Path(sys.executable).parent / "mapscope"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "mapscope"]


def _cpu_of(command: list[str]) -> float:
    """Seconds of user + system CPU the command's process used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=20, help="runs of each command")
    args = parser.parse_args()
    mapscope = _mapscope()
    commands = {
        'python -c "import click"': [sys.executable, "-c", "import click"],
        "mapscope --version": [*mapscope, "--version"],
        "mapscope --help": [*mapscope, "--help"],
        "mapscope size 'map[int]int' -n 1000": [*mapscope, "size", "map[int]int", "-n", "1000"],
    }
    for command in commands.values():
        _cpu_of(command)  # warm the file cache and the .pyc files
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, command in commands.items():
            samples[name].append(_cpu_of(command))
    baseline = statistics.median(samples['python -c "import click"'])
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    print(f"mapscope = {' '.join(mapscope)}; CPU = user + sys per run, median of {args.runs}")
    print(f"{'command':<40} {'median ms':>10} {'mean ms':>9} {'vs import click':>16}")
    for name, seconds in samples.items():
        median = statistics.median(seconds)
        ratio = median / baseline
        verdict = f" (budget {BUDGET}x: {'ok' if ratio <= BUDGET else 'OVER'})" if name in BUDGETED else ""
        print(
            f"{name:<40} {median * 1e3:>10.1f} {statistics.fmean(seconds) * 1e3:>9.1f} {ratio:>15.2f}x{verdict}"
        )


if __name__ == "__main__":
    main()
