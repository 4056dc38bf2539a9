"""Regenerate tests/fixtures/profile_mixed/go<release>/{rate1,default}/ with the real Go toolchains.

Builds tests/fixtures/profile_mixed/program (stdlib only: maps of many shapes among appends, make([]T, n),
fmt.Sprintf, math/big, strings.Builder, `m[k] = &T{}` and `m[k] = append(m[k], v)`) with Go 1.22.10
(bucket maps) and Go 1.27.3 (Swiss tables), runs it with MemProfileRate=1 and with the default rate,
and keeps its allocs profile (proto) and truth.json: every runtime.MemProfile record, read by its full
stack (runtime frames included), summed per (file base name, line, object size) into map bytes by cause
and bytes that are not the map's; and callees.json: for each return address of the profile's locations,
(less one, as protos store it) the function the CALL just before it calls (from `go tool objdump` of the binary), what the binary
gives mapscope as `Profile.callees`. A record is map memory when the runtime function below its site that
allocated (past the allocation helpers) is a map function of the runtime; its cause comes from the map
frames and the runtime source line that allocated. Records whose stack starts at the site (Go cut the
allocating frame) are kept apart as `cut`: the frames do not tell.

Usage: .venv/bin/python scripts/gen_profile_mixed_fixtures.py
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from mapscope import gotoolchain
from mapscope.readers import profile_source

RELEASES = ("1.22.10", "1.27.3")
ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "profile_mixed"
PROGRAM = FIXTURES / "program"
RATES = {"default": 512 * 1024, "rate1": 1}
_HELPERS = re.compile(
    r"^(runtime\.(mallocgc\w*|newobject|newarray|makeslice|growslice|profilealloc|mProf_Malloc)"
    r"|internal/runtime/maps\.(newobject|newarray))$"
)
_RUNTIME = ("runtime.", "internal/runtime/", "maps.")
_MAP_FILE = re.compile(r"(^|/)(runtime/map(_\w+)?\.go|internal/runtime/maps/[^/]+\.go)$")
_OVERFLOW = re.compile(r"newoverflow|createOverflow")
_GROWTH = re.compile(r"hashGrow|growWork|evacuate|\(\*table\)\.(grow|split|rehash)|growToTable")
_INITIAL = re.compile(r"makemap|NewMap|NewEmptyMap|mapclone|maps\.clone|\.Clone|growToSmall|cloneGroup")
_OUT_OF_LINE = re.compile(r"newobject\((t|typ)\.(Key|Elem)\)")
_FIRST_BUCKET = re.compile(r"\.buckets = newobject\(t\.Bucket\)")
_CALL = re.compile(r"^\s+\S+\s+0x([0-9a-f]+)\s+([0-9a-f]+)\s+CALL\s+(\S+?)(?:\(SB\))?\s*$")


def call_targets(toolchain: gotoolchain.Toolchain, binary: Path) -> dict[int, str]:
    """Return address -> called function, for every direct CALL of the binary."""
    listing = subprocess.run(
        [str(toolchain.go), "tool", "objdump", str(binary)],
        env=toolchain.env(),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    targets = {}
    for line in listing.splitlines():
        match = _CALL.match(line)
        if match and "." in match.group(3):  # a direct call (an indirect one names a register)
            targets[int(match.group(1), 16) + len(match.group(2)) // 2] = match.group(3)
    return targets


def _source_line(goroot: Path, file: str, line: int, cache: dict[str, list[str]]) -> str:
    relative = file.split("/src/", 1)[-1]
    if relative not in cache:
        path = goroot / "src" / relative
        cache[relative] = path.read_text().splitlines() if path.is_file() else []
    lines = cache[relative]
    return lines[line - 1] if 0 < line <= len(lines) else ""


def _cause(frames: list[tuple[str, str, int]], goroot: Path, cache: dict[str, list[str]]) -> str | None:
    """The map cause of one record (frames leaf first), `cut`, or None when not the map's."""
    position = 0
    while position < len(frames) and _HELPERS.match(frames[position][0]):
        position += 1
    if position == len(frames) or not frames[position][0].startswith(_RUNTIME):
        return "cut" if position == 0 else None
    if not _MAP_FILE.search(frames[position][1]) and not frames[position][0].startswith("maps."):
        return None
    for function, file, line in frames[position:]:
        if not function.startswith(_RUNTIME):
            break
        text = _source_line(goroot, file, line, cache)
        if _OVERFLOW.search(function):
            return "overflow"
        if _OUT_OF_LINE.search(text):
            return "out-of-line"
        if _GROWTH.search(function):
            return "growth"
        if _INITIAL.search(function) or _FIRST_BUCKET.search(text):
            return "initial"
    return "unexplained"


def truth(raw: str, goroot: Path, rate: int) -> dict[str, dict[str, int]]:
    """Bytes per `file:line:size` and cause (None -> "not map"), scaled as the proto scales them."""
    records: list[tuple[int, int, list[tuple[str, str, int]]]] = []
    for line in raw.splitlines():
        if line.startswith("R "):
            alloc_bytes, alloc_objects, _, _ = (int(x) for x in line[2:].split())
            records.append((alloc_bytes, alloc_objects, []))
        else:
            function, file, number = line[2:].split("\t")
            records[-1][2].append((function, file, int(number)))
    found: dict[str, dict[str, int]] = {}
    cache: dict[str, list[str]] = {}
    for alloc_bytes, alloc_objects, frames in records:
        site = next((f for f in frames if not f[0].startswith(_RUNTIME)), None)
        if alloc_objects == 0 or site is None:
            continue
        size = alloc_bytes // alloc_objects
        scale = 1.0 if rate <= 1 else 1 / (1 - math.exp(-size / rate))
        cause = _cause(frames, goroot, cache) or "not map"
        key = f"{Path(site[1]).name}:{site[2]}:{size}"
        by_cause = found.setdefault(key, {})
        by_cause[cause] = by_cause.get(cause, 0) + round(alloc_bytes * scale)
    return dict(sorted(found.items()))


def main() -> None:
    for release in RELEASES:
        toolchain = gotoolchain.ensure(release)
        goroot = Path(toolchain.go).resolve().parent.parent
        with tempfile.TemporaryDirectory() as scratch:
            binary = Path(scratch) / "mixedprog"
            subprocess.run(
                [str(toolchain.go), "build", "-trimpath", "-buildvcs=false", "-o", str(binary), "."],
                cwd=PROGRAM,
                env=toolchain.env(),
                check=True,
            )
            targets = call_targets(toolchain, binary)
            for name, rate in RATES.items():
                target = FIXTURES / f"go{release}" / name
                if target.exists():
                    shutil.rmtree(target)
                target.mkdir(parents=True)
                env = {**os.environ, "MAPSCOPE_RATE": str(rate), "GOMAXPROCS": "2"}
                subprocess.run([str(binary), str(target)], env=env, check=True)
                raw = (target / "truth.txt").read_text()
                (target / "truth.txt").unlink()
                (target / "truth.json").write_text(json.dumps(truth(raw, goroot, rate), indent=0) + "\n")
                profile = profile_source.load(str(target / "allocs.pb.gz")).profiles[0]
                addresses = sorted(set(profile.locations.address.tolist()))
                # A proto location's address is its return address less one.
                called = {hex(a): targets[a + 1] for a in addresses if a + 1 in targets}
                (target / "callees.json").write_text(json.dumps(called, indent=0) + "\n")
    for path in sorted(FIXTURES.glob("go*/*/*")):
        print(f"{path.stat().st_size:8d}  {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
