"""Symbolizing raw PCs with a Go binary: mapscope's gobinary (Python, pclntab + inline tree) vs
`go tool addr2line`, on the biggest Go binary at hand (the toolchain's own `compile`, ~20k functions).

N addresses are drawn at random over the whole text (the worst case for per-function caching: a real
profile's PCs crowd into far fewer functions). Two child processes take turns, --repeat times: mapscope
(open the ELF, name every PC with its inlined frames, and find the call target before each) and
`go tool addr2line` (one frame per PC, no inlining, no call targets). The fastest run of each counts;
wall time, CPU time and peak RSS (os.wait4) are reported with the ratios. Every PC's physical function and
innermost file:line are checked to agree with addr2line's answer. The goal is symbolizing 100k PCs
well under a second once the table is loaded (reported separately, from inside the child).

Usage: .venv/bin/python bench/symbolize.py [--pcs 100000] [--go 1.27.3] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mapscope import gotoolchain
from mapscope.readers.gobinary import GoBinary

OURS = """
import sys, time
from pathlib import Path
from mapscope.readers.gobinary import GoBinary
addresses = [int(line, 16) for line in open(sys.argv[2])]
start = time.perf_counter()
binary = GoBinary.open(Path(sys.argv[1]))
opened = time.perf_counter()
found = binary.frames(addresses)
named = time.perf_counter()
binary.callees(addresses)
called = time.perf_counter()
print(f"# open {opened - start:.3f} frames {named - opened:.3f} callees {called - named:.3f}",
      file=sys.stderr)
out = []
for symbolized in found:
    if symbolized.frames:
        leaf, outer = symbolized.frames[0], symbolized.frames[-1]
        out.append(f"{outer.function}\\n{leaf.file}:{leaf.line}")
    else:
        out.append("?\\n?:0")
print("\\n".join(out))
"""


def run_child(command: list[str], stdin: Path | None = None) -> tuple[float, float, float, str, str]:
    """(wall s, CPU s, peak RSS MiB, stdout, stderr) of one child, waited for with wait4."""
    start = time.monotonic()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        with stdin.open() if stdin else open(os.devnull) as feed:
            child = subprocess.Popen(command, stdin=feed, stdout=out, stderr=err, text=True)
            _, status, usage = os.wait4(child.pid, 0)
        wall = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"{command[0]} failed: {err.read().strip()[-500:]}")
        return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.read(), err.read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pcs", type=int, default=100_000)
    parser.add_argument("--go", default="1.27.3")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command; the fastest counts")
    args = parser.parse_args()

    toolchain = gotoolchain.ensure(args.go)

    binary, addr2line = toolchain.tool("compile"), str(toolchain.tool("addr2line"))
    opened = GoBinary.open(binary)
    text = opened.text_range()
    rng = random.Random(1)
    addresses = [rng.randrange(*text) for _ in range(args.pcs)]
    folder = Path(tempfile.mkdtemp(prefix="mapscope-bench-"))
    queries = folder / "pcs.txt"
    queries.write_text("".join(f"{a:#x}\n" for a in addresses))
    print(
        f"binary: {binary} ({binary.stat().st_size / 2**20:.0f} MiB, Go {opened.go_version}); {args.pcs} PCs"
    )

    runs: dict[str, list[tuple[float, float, float, str, str]]] = {"ours": [], "addr2line": []}
    for _ in range(args.repeat):
        runs["ours"].append(run_child([sys.executable, "-c", OURS, str(binary), str(queries)]))
        runs["addr2line"].append(run_child([addr2line, str(binary)], stdin=queries))
    ours = min(runs["ours"], key=lambda run: run[0])
    theirs = min(runs["addr2line"], key=lambda run: run[0])
    if args.repeat > 1:
        print(f"best of {args.repeat} runs each (the two commands take turns); all walls:")
        for name, timed in runs.items():
            print(f"  {name:10} " + " ".join(f"{run[0]:.2f}s" for run in timed))
    print(f"{'':44} {'wall':>8} {'CPU':>8} {'peak RSS':>10}")
    for name, (wall, cpu, rss, _, _) in (
        ("mapscope gobinary (frames + inlining + calls)", ours),
        (f"go tool addr2line (Go {toolchain.release})", theirs),
    ):
        print(f"{name:44} {wall:7.2f}s {cpu:7.2f}s {rss:6.0f} MiB")
    print(f"ratio mapscope / addr2line: wall {ours[0] / theirs[0]:.2f}, CPU {ours[1] / theirs[1]:.2f}, "
          f"peak RSS {ours[2] / theirs[2]:.2f}")  # fmt: skip
    print("inside mapscope's child (seconds):", ours[4].strip().removeprefix("# "))
    mine, expected = ours[3].splitlines(), theirs[3].splitlines()
    pairs = len(expected) // 2
    differ = sum(mine[2 * i : 2 * i + 2] != expected[2 * i : 2 * i + 2] for i in range(pairs))
    print(f"agreeing with addr2line (physical function, innermost file:line): {pairs - differ}/{pairs}")
    if differ or len(mine) != len(expected):
        sys.exit(1)


if __name__ == "__main__":
    main()
