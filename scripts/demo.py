"""`make demo`: the headline case, modelled and measured on the real Go 1.22 and 1.27 runtimes.

An order cache of 100,000 entries as map[int][1024]byte, map[int]*[1024]byte, and with 128- and
129-byte values: retained and peak bytes, allocations, GC-scanned bytes, and what delete and clear
leave behind, from the model beside the same figures measured with runtime.MemStats.
"""

from __future__ import annotations

import subprocess
import sys

TYPES = ("map[int][1024]byte", "map[int]*[1024]byte", "map[int][128]byte", "map[int][129]byte")
RELEASES = ("1.22.10", "1.27.3")
N = "100000"


def mapscope(*args: str) -> None:
    print(f"\n$ mapscope {' '.join(args)}", flush=True)
    done = subprocess.run([sys.executable, "-m", "mapscope", *args], check=False)
    if done.returncode != 0:
        sys.exit(done.returncode)


def main() -> None:
    mapscope("go", "install", *RELEASES)
    compare_args = [arg for release in RELEASES for arg in ("--go", release)]
    mapscope("compare", *TYPES, "-n", N, *compare_args)
    for release in RELEASES:
        for map_type in TYPES:
            mapscope("size", map_type, "-n", N, "--go", release, "--measure", "--no-events")


if __name__ == "__main__":
    main()
