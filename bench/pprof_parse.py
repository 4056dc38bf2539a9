"""mapscope's profile reader + totals + top table vs `go tool pprof -top`, on one large synthetic heap profile.

The profile is written with mapscope's generated profile.proto module, shaped like a big service's heap
profile: a call tree of 200k locations (a third with inlined frames) over 40k functions, and
samples whose stacks are root paths of random tree nodes (up to ~45 frames), 4 values each and Go's
numeric `bytes` label. Both tools run as child processes, one after the other, in one run; wall time and
peak RSS (os.wait4) are reported, and the totals are checked to agree.

Usage: .venv/bin/python bench/pprof_parse.py [--samples N] [--go 1.27.3] [--keep DIR]
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


def run_child(command: list[str]) -> tuple[float, float, float, str]:
    """(wall s, CPU s, peak RSS MiB, stdout) of one child, waited for with wait4 to get its own rusage."""
    start = time.monotonic()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        if child.returncode != 0:
            sys.exit(f"{command[0]} failed: {err.read().strip()[-500:]}")
        return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=600_000)
    parser.add_argument("--go", default="1.27.3")
    parser.add_argument("--keep", type=Path, help="write (or reuse) the profile in this directory")
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
    subprocess.run(
        [str(toolchain.go), "tool", "pprof", "-h"], env=toolchain.env(), capture_output=True, check=False
    )
    found = subprocess.run(
        [str(toolchain.go), "tool", "-n", "pprof"],
        env=toolchain.env(),
        capture_output=True,
        text=True,
        check=True,
    )
    pprof_binary = found.stdout.strip()

    ours_wall, ours_cpu, ours_rss, ours_out = run_child([sys.executable, "-c", OURS, str(profile)])
    theirs_wall, theirs_cpu, theirs_rss, theirs_out = run_child(
        [pprof_binary, "-top", "-unit=B", str(profile)]
    )

    total, shown, rows = (int(x) for x in ours_out.split())
    match = re.search(r"accounting for (\d+)B, .* of (\d+)B total", theirs_out)
    agree = match is not None and (int(match.group(1)), int(match.group(2))) == (shown, total)
    print(f"{'':40} {'wall':>8} {'CPU':>8} {'peak RSS':>10}")
    for name, wall, cpu, rss in (
        (f"mapscope read+totals+top ({rows} rows)", ours_wall, ours_cpu, ours_rss),
        (f"go tool pprof -top (Go {toolchain.release})", theirs_wall, theirs_cpu, theirs_rss),
    ):
        print(f"{name:40} {wall:7.2f}s {cpu:7.2f}s {rss:6.0f} MiB")
    print(
        f"ratio pprof / mapscope: wall {theirs_wall / ours_wall:.2f}x, CPU {theirs_cpu / ours_cpu:.2f}x, "
        f"peak RSS {theirs_rss / ours_rss:.2f}x"
    )
    print(f"totals agree: {agree} (total {total}, shown {shown})")
    if not agree:
        sys.exit(1)


if __name__ == "__main__":
    main()
