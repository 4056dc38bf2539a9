"""`mapscope profile` (read + map attribution + top) vs `go tool pprof -top`, on one large synthetic heap profile.

The profile is written with mapscope's generated profile.proto module, shaped like a big service's heap
profile: a call tree of 200k locations (a third with inlined frames) over 40k functions, and
samples whose stacks are root paths of random tree nodes (up to ~45 frames), 4 values each and Go's
numeric `bytes` label. Three child processes take turns, --repeat times, in one run: the reader with the
totals and top table alone, the whole `mapscope profile` command (read, find the map sites and their
causes, print them and the top), and `go tool pprof -top`. The fastest run of each counts; wall time,
CPU time and peak RSS (os.wait4) are reported with the ratios, and the totals are checked to agree.
The goal is `mapscope profile` in at most half of pprof's wall time.

Usage: .venv/bin/python bench/pprof_parse.py [--samples N] [--go 1.27.3] [--keep DIR] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from mapscope import gotoolchain
from mapscope.readers import profile_pb2

OURS = """
import sys
from mapscope.readers import profile_source, pprof
from mapscope.analyses import profile_totals
profile = profile_source.load(sys.argv[1]).profiles[0]
totals = profile_totals.totals(profile)
top = profile_totals.top(profile, pprof.default_sample_index(profile))
print(top.total, top.shown, len(top.rows))
"""


def synthesize(path: Path, samples: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    n_functions, n_locations = 40_000, 200_000
    p = profile_pb2.Profile()
    strings = [b"", b"alloc_objects", b"count", b"alloc_space", b"bytes", b"inuse_objects", b"inuse_space",
               b"space", b"/srv/bin/service"]  # fmt: skip
    for t, u in ((1, 2), (3, 4), (5, 2), (6, 4)):
        p.sample_type.add(type=t, unit=u)
    p.period_type.type, p.period_type.unit, p.period = 7, 4, 524288
    p.mapping.add(id=1, memory_start=0x400000, memory_limit=0x4000000, filename=8, has_functions=True)
    for i in range(1, n_functions + 1):
        package = i % 700
        strings.append(f"example.com/svc/pkg{package}.(*T{i % 13}).Method{i}".encode())
        strings.append(f"/src/svc/pkg{package}/file{i % 37}.go".encode())
        p.function.add(id=i, name=len(strings) - 2, system_name=len(strings) - 2, filename=len(strings) - 1)
    functions = rng.integers(1, n_functions + 1, size=(n_locations, 2))
    for i in range(n_locations):
        location = p.location.add(id=i + 1, mapping_id=1, address=0x400000 + 16 * i)
        if i % 3 == 0:
            location.line.add(function_id=int(functions[i, 1]), line=int(i % 900) + 1)
        location.line.add(function_id=int(functions[i, 0]), line=int(i % 500) + 1)
    # A call tree: every location's caller is an earlier one, so root paths stay short (log depth).
    parent = np.zeros(n_locations, dtype=np.int64)
    parent[1:] = (rng.random(n_locations - 1) * np.arange(1, n_locations)).astype(np.int64)
    leaves = rng.integers(0, n_locations, size=samples)
    objects = rng.integers(1, 5000, size=samples)
    size = rng.choice(np.array([16, 32, 48, 96, 208, 1152, 4096, 9472, 40960]), size=samples)
    live = rng.integers(0, 2, size=samples) * rng.integers(0, 200, size=samples)
    string_count = len(strings) + 1
    strings.append(b"bytes")
    for i in range(samples):
        stack = []
        node = int(leaves[i])
        while True:
            stack.append(node + 1)
            if node == 0:
                break
            node = int(parent[node])
        sample = p.sample.add(location_id=stack)
        sample.value.extend(
            [int(objects[i]), int(objects[i] * size[i]), int(live[i]), int(live[i] * size[i])]
        )
        sample.label.add(key=string_count - 1, num=int(size[i]))
    p.string_table.extend(strings)
    path.write_bytes(gzip.compress(p.SerializeToString(), 6))


# `mapscope profile` prints exact byte counts beside the readable ones: "173.80 GiB (186,614,522,544 B)".
CLI_TOTAL = re.compile(r"^Total \S+: (?:[^(\n]*\()?([\d,]+) B", re.MULTILINE)
CLI_SHOWN = re.compile(r"accounting for (?:[^(\n]*\()?([\d,]+) B")


def _bytes(pattern: re.Pattern[str], text: str) -> int | None:
    found = pattern.search(text)
    return int(found.group(1).replace(",", "")) if found is not None else None


def run_child(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float, str]:
    """(wall s, CPU s, peak RSS MiB, stdout) of one child, waited for with wait4 to get its own rusage."""
    start = time.monotonic()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(command, stdout=out, stderr=err, text=True, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            sys.exit(f"{command[0]} failed: {err.read().strip()[-500:]}")
        return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.read()


def best(runs: list[tuple[float, float, float, str]]) -> tuple[float, float, float, str]:
    """The fastest run by wall time (the least disturbed by whatever else the machine does)."""
    return min(runs, key=lambda run: run[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=600_000)
    parser.add_argument("--go", default="1.27.3")
    parser.add_argument("--keep", type=Path, help="write (or reuse) the profile in this directory")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command; the fastest counts")
    args = parser.parse_args()

    folder = args.keep or Path(tempfile.mkdtemp(prefix="mapscope-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    profile = folder / f"synthetic_heap_{args.samples}.pb.gz"
    if not profile.exists():
        start = time.monotonic()
        synthesize(profile, args.samples)
        print(f"wrote {profile} in {time.monotonic() - start:.1f}s")
    inflated = len(gzip.decompress(profile.read_bytes()))
    print(f"profile: {profile.stat().st_size / 2**20:.1f} MiB gzip, {inflated / 2**20:.1f} MiB protobuf, "
          f"{args.samples} samples")  # fmt: skip

    toolchain = gotoolchain.ensure(args.go)
    pprof_binary = str(toolchain.tool("pprof"))

    runs: dict[str, list[tuple[float, float, float, str]]] = {"ours": [], "cli": [], "pprof": []}
    cli_env = {**os.environ, "COLUMNS": "200"}
    for _ in range(args.repeat):
        runs["ours"].append(run_child([sys.executable, "-c", OURS, str(profile)]))
        command = [sys.executable, "-m", "mapscope", "profile", str(profile), "--top", "20"]
        runs["cli"].append(run_child(command, cli_env))
        runs["pprof"].append(run_child([pprof_binary, "-top", "-unit=B", str(profile)]))
    ours_wall, ours_cpu, ours_rss, ours_out = best(runs["ours"])
    cli_wall, cli_cpu, cli_rss, cli_out = best(runs["cli"])
    theirs_wall, theirs_cpu, theirs_rss, theirs_out = best(runs["pprof"])
    if args.repeat > 1:
        print(f"best of {args.repeat} runs each (the three commands take turns); all walls:")
        for name, timed in runs.items():
            print(f"  {name:6} " + " ".join(f"{wall:.2f}s" for wall, _, _, _ in timed))

    total, shown, rows = (int(x) for x in ours_out.split())
    match = re.search(r"accounting for (\d+)B, .* of (\d+)B total", theirs_out)
    expected = (int(match.group(1)), int(match.group(2))) if match is not None else None
    agree = expected == (shown, total) == (_bytes(CLI_SHOWN, cli_out), _bytes(CLI_TOTAL, cli_out))
    sites = re.search(r"at (\d+) sites", cli_out)
    print(f"{'':44} {'wall':>8} {'CPU':>8} {'peak RSS':>10}")
    for name, wall, cpu, rss in (
        (f"mapscope read+totals+top ({rows} rows)", ours_wall, ours_cpu, ours_rss),
        (f"mapscope profile ({sites.group(1) if sites else '?'} map sites)", cli_wall, cli_cpu, cli_rss),
        (f"go tool pprof -top (Go {toolchain.release})", theirs_wall, theirs_cpu, theirs_rss),
    ):
        print(f"{name:44} {wall:7.2f}s {cpu:7.2f}s {rss:6.0f} MiB")
    for name, wall, cpu, rss in (
        ("read+totals+top", ours_wall, ours_cpu, ours_rss),
        ("mapscope profile", cli_wall, cli_cpu, cli_rss),
    ):
        print(
            f"ratio {name} / pprof: wall {wall / theirs_wall:.2f}, CPU {cpu / theirs_cpu:.2f}, "
            f"peak RSS {rss / theirs_rss:.2f}"
        )
    verdict = "met" if cli_wall <= 0.5 * theirs_wall else "not met"
    print(f"goal (mapscope profile in at most half of pprof's wall time): {verdict}")
    print(f"totals agree: {agree} (total {total}, shown {shown})")
    if not agree:
        sys.exit(1)


if __name__ == "__main__":
    main()
