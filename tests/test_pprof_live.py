"""mapscope's numbers against the real `go tool pprof` of Go 1.27.3 on the same files.

-raw gives every (merged) sample after pprof's own parse and unsampling; -top gives totals and the
flat/cum table by function. Units are forced to B / ns so pprof prints exact integers.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import re
import struct
import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from mapscope import gomath
from mapscope.analyses import profile_totals
from mapscope.gotoolchain import Toolchain
from mapscope.readers import pprof, profile_pb2, profile_source
from mapscope.readers.pprof import Profile

pytestmark = pytest.mark.live

RELEASE = "1.27.3"
FIXTURES = Path(__file__).parent / "fixtures" / "pprof"


@pytest.fixture(scope="session")
def go(go_release: Callable[[str], Toolchain]) -> Toolchain:
    return go_release(RELEASE)


@pytest.fixture(scope="session")
def pprof_tool(go: Toolchain) -> list[str]:
    """The pprof command: the cached tool binary itself (saves the go command's start-up per call)."""
    subprocess.run([str(go.go), "tool", "pprof", "-h"], env=go.env(), capture_output=True, check=False)
    found = subprocess.run(
        [str(go.go), "tool", "-n", "pprof"], env=go.env(), capture_output=True, text=True, check=False
    )
    path = found.stdout.strip()
    return [path] if found.returncode == 0 and Path(path).is_file() else [str(go.go), "tool", "pprof"]


@pytest.fixture(scope="session")
def fixture_binary(go: Toolchain, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture program rebuilt exactly as scripts/gen_pprof_fixtures.py built it."""
    manifest = json.loads((FIXTURES / "manifest.json").read_text())
    output = tmp_path_factory.mktemp("pprofprog") / "pprofprog"
    command = [str(go.go), *manifest["build"][1:-3], "-o", str(output), "."]
    subprocess.run(command, cwd=FIXTURES / "program", env=go.env(), check=True)
    build_id = subprocess.run(
        [str(go.go), "tool", "buildid", str(output)], env=go.env(), capture_output=True, text=True, check=True
    ).stdout.strip()
    assert build_id == manifest["build_id"], "the rebuilt fixture binary differs from the one that ran"
    return output


def run(tool: list[str], *args: str) -> str:
    done = subprocess.run([*tool, *args], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


_RAW_SAMPLE = re.compile(r"^\s+(-?\d+(?:\s+-?\d+)*):((?: \d+)*) ?$")
_RAW_LOCATION = re.compile(r"^\s+(\d+): 0x([0-9a-f]+) ")


def pprof_raw(
    tool: list[str], path: Path
) -> tuple[list[str], Counter[tuple[int, ...]], dict[tuple[int, ...], list[int]]]:
    """(sample types, samples per stack of addresses, summed values per stack of addresses)."""
    text = run(tool, "-raw", str(path))
    lines = text.splitlines()
    start = lines.index("Samples:")
    types = lines[start + 1].split()
    samples: list[tuple[list[int], list[int]]] = []
    addresses: dict[int, int] = {}
    section = "samples"
    for line in lines[start + 2 :]:
        if line.startswith(("Locations", "Mappings")):
            section = line
        elif section == "samples" and (match := _RAW_SAMPLE.match(line)):
            samples.append(
                ([int(v) for v in match.group(1).split()], [int(i) for i in match.group(2).split()])
            )
        elif section == "Locations" and (match := _RAW_LOCATION.match(line)):
            addresses[int(match.group(1))] = int(match.group(2), 16)
    return types, *_by_stack((values, tuple(addresses[i] for i in ids)) for values, ids in samples)


def ours_by_stack(profile: Profile) -> tuple[Counter[tuple[int, ...]], dict[tuple[int, ...], list[int]]]:
    s = profile.samples
    rows = (
        (s.values[i].tolist(), tuple(profile.locations[int(j)].address for j in s.stack(i)))
        for i in range(len(s))
    )
    return _by_stack(rows)


def _by_stack(rows: object) -> tuple[Counter[tuple[int, ...]], dict[tuple[int, ...], list[int]]]:
    """pprof merges samples with equal stacks and labels and drops all-zero ones; sum per stack."""
    counts: Counter[tuple[int, ...]] = Counter()
    sums: dict[tuple[int, ...], list[int]] = {}
    for values, stack in rows:  # type: ignore[attr-defined]
        if not any(values):
            continue
        counts[stack] += 1
        sums[stack] = [a + b for a, b in zip(sums.get(stack, [0] * len(values)), values, strict=True)]
    return counts, sums


_TOTALS = re.compile(r"^Showing nodes accounting for (-?\d+)\w*, .* of (-?\d+)\w* total$")
_ROW = re.compile(
    r"^\s*(-?\d+)[a-zA-Z]*\s+\S+%\s+\S+%\s+(-?\d+)[a-zA-Z]*\s+\S+%\s+(.*?)(?: \((inline|partial-inline)\))?$"
)
_DROPPED = re.compile(r"^Dropped (\d+) nodes? \(cum <= (-?\d+)\w*\)$")


def pprof_top(tool: list[str], path: Path, sample_type: str, unit: str, fractions: list[str],
              binary: Path | None = None) -> tuple[int, int, int, list[tuple[str, int, int, str]]]:  # fmt: skip
    """(shown, total, dropped nodes, rows) of `go tool pprof -top`."""
    args = ["-top", f"-sample_index={sample_type}", *fractions]
    if unit in ("bytes", "nanoseconds"):
        args.append("-unit=" + ("B" if unit == "bytes" else "ns"))
    text = run(tool, *args, *([str(binary)] if binary else []), str(path))
    shown = total = dropped = 0
    rows = []
    header_done = False
    for line in text.splitlines():
        if match := _TOTALS.match(line):
            shown, total = int(match.group(1)), int(match.group(2))
        elif match := _DROPPED.match(line):
            dropped = int(match.group(1))
        elif line.lstrip().startswith("flat"):
            header_done = True
        elif header_done and (match := _ROW.match(line)):
            rows.append((match.group(3), int(match.group(1)), int(match.group(2)), match.group(4) or ""))
    return shown, total, dropped, rows


def compare_top(
    tool: list[str], path: Path, profile: Profile, everything: bool, binary: Path | None = None
) -> None:
    fractions = ["-nodefraction=0", "-edgefraction=0"] if everything else []
    for index, vt in enumerate(profile.sample_types):
        shown, total, dropped, rows = pprof_top(tool, path, vt.type, vt.unit, fractions, binary)
        top = (
            profile_totals.top(profile, index, 0.0, 0.0) if everything else profile_totals.top(profile, index)
        )
        assert (top.total, top.shown) == (total, shown), (path.name, vt.type)
        assert top.dropped_nodes == dropped, (path.name, vt.type)
        assert [(r.name, r.flat, r.cum, r.inline) for r in top.rows] == rows, (path.name, vt.type)


def profile_totals_default(profile: Profile) -> int:
    """Which column -raw marks [dflt]: only an explicit default_sample_type is marked."""
    return pprof.default_sample_index(profile) if profile.default_sample_type else -1


def load(path: Path, binary: Path | None = None) -> Profile:
    return profile_source.load(str(path), binary=binary).profiles[0]


PROTO_FILES = [
    "fixtures:default/heap.pb.gz",
    "fixtures:rate1/allocs.pb.gz",
    "fixtures:default/goroutine.pb.gz",
    "shared:pprof/heap_go1.22.10.pb.gz",
    "shared:pprof/cpu_go1.27.3.pb.gz",
    "shared:external/google-pprof/internal_proftest_testdata_large.cpu",
]
TEXT_FILES = [
    "fixtures:default/heap.debug1.txt",
    "fixtures:rate1/heap.debug1.txt",
    "fixtures:default/goroutine.debug1.txt",
    "shared:pprof/heap_debug1_go1.22.10.txt",
    "shared:pprof/heap_rate1_debug1_go1.27.3.txt",
    "shared:external/google-pprof/profile_testdata_gobench.heap",
    "shared:external/google-pprof/profile_testdata_cppbench.heap",
    "shared:external/google-pprof/profile_testdata_cppbench.growth",
    "shared:external/google-pprof/profile_testdata_go.godoc.thread",
]


def resolve(name: str, shared: Path) -> Path:
    where, _, rest = name.partition(":")
    return (FIXTURES if where == "fixtures" else shared) / rest


@pytest.mark.parametrize("name", PROTO_FILES + TEXT_FILES)
def test_every_sample_equals_pprof_raw(name: str, shared_samples: Path, pprof_tool: list[str]) -> None:
    path = resolve(name, shared_samples)
    profile = load(path)
    types, counts, sums = pprof_raw(pprof_tool, path)
    default = profile_totals_default(profile)
    assert [
        f"{vt.type}/{vt.unit}" + ("[dflt]" if i == default else "")
        for i, vt in enumerate(profile.sample_types)
    ] == types
    our_counts, our_sums = ours_by_stack(profile)
    assert our_sums == sums
    assert set(our_counts) == set(counts)


@pytest.mark.parametrize("name", PROTO_FILES)
def test_top_equals_pprof_top(name: str, shared_samples: Path, pprof_tool: list[str]) -> None:
    path = resolve(name, shared_samples)
    profile = load(path)
    compare_top(pprof_tool, path, profile, everything=False)
    if "rate1" in name or "cpu_go" in name:
        compare_top(pprof_tool, path, profile, everything=True)


@pytest.mark.parametrize("name", TEXT_FILES[3:])
def test_text_totals_equal_pprof_top(name: str, shared_samples: Path, pprof_tool: list[str]) -> None:
    """Without a binary pprof cannot name Go's raw PCs, so compare totals; C++ files compare fully."""
    path = resolve(name, shared_samples)
    profile = load(path)
    if "google-pprof" in name and "gobench" not in name:
        compare_top(pprof_tool, path, profile, everything=True)
        return
    for index, vt in enumerate(profile.sample_types):
        _, total, _, _ = pprof_top(pprof_tool, path, vt.type, vt.unit, [])
        assert profile_totals.totals(profile)[index].total == total


@pytest.mark.parametrize("name", TEXT_FILES[:3])
def test_text_with_binary_equals_pprof_with_binary(
    name: str, shared_samples: Path, pprof_tool: list[str], fixture_binary: Path
) -> None:
    """--binary expands inlined calls, which `go tool pprof BINARY FILE` does not (it names the physical
    function only); kept to their physical frames, the whole table matches."""
    path = resolve(name, shared_samples)
    profile = load(path, binary=fixture_binary)
    assert any(loc.lines for loc in profile.locations)
    assert any(len(loc.lines) > 1 for loc in profile.locations) == ("heap" in name)
    physical = physical_frames(profile)
    compare_top(pprof_tool, path, physical, everything=False, binary=fixture_binary)
    compare_top(pprof_tool, path, physical, everything=True, binary=fixture_binary)


def physical_frames(profile: Profile) -> Profile:
    """The profile with each location's inlined frames dropped (its last line is the physical one)."""
    records = [dataclasses.replace(loc, lines=loc.lines[-1:]) for loc in profile.locations]
    return dataclasses.replace(profile, locations=pprof.Locations.of(records))


@pytest.mark.parametrize("name", ["default/heap.debug1.txt", "rate1/heap.debug1.txt"])
def test_symbol_lines_name_the_pcs_as_the_binary_does(name: str, go: Toolchain, fixture_binary: Path) -> None:
    """The `#` lines land on the right locations: each named location's innermost file:line is what the
    binary's own table says for that PC (go tool addr2line)."""
    profile = load(FIXTURES / name)
    named = {int(loc.address): loc.lines[0] for loc in profile.locations if loc.lines}
    assert len(named) > 5
    query = "".join(f"{pc:#x}\n" for pc in named)
    done = subprocess.run(
        [str(go.go), "tool", "addr2line", str(fixture_binary)],
        input=query, capture_output=True, text=True, env=go.env(), check=True, timeout=120,
    )  # fmt: skip
    answers = done.stdout.splitlines()[1::2]
    expected = [tuple(position.rsplit(":", 1)) for position in answers]
    got = [(profile.functions[line.function].filename, str(line.line)) for line in named.values()]
    assert got == expected


_EXP_PROGRAM = """package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		bits, _ := strconv.ParseUint(in.Text(), 16, 64)
		fmt.Fprintf(out, "%016x\\n", math.Float64bits(math.Exp(math.Float64frombits(bits))))
	}
}
"""


def test_go_exp_is_bit_exact(go: Toolchain, tmp_path: Path) -> None:
    if "fma" not in Path("/proc/cpuinfo").read_text():
        pytest.skip("Go's math.Exp takes its non-FMA path on this CPU")
    (tmp_path / "main.go").write_text(_EXP_PROGRAM)
    (tmp_path / "go.mod").write_text("module expcheck\n\ngo 1.22\n")
    inputs = [-i / 977.0 for i in range(1, 4000)] + [-(2.0**-k) for k in range(1, 60)]
    inputs += [-745.1, -744.0, -708.4, -700.0, -40.0, -37.5, 0.0, 1e-300, -1e-300, 88.7, 709.7]
    inputs += [-float(s) / r for s in (16, 48, 1152, 4096, 98304, 409600) for r in (512, 524288, 4194304)]
    query = "".join(f"{struct.unpack('<Q', struct.pack('<d', x))[0]:016x}\n" for x in inputs)
    done = subprocess.run(
        [str(go.go), "run", "."],
        cwd=tmp_path,
        input=query,
        env=go.env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    expected = [struct.unpack("<d", struct.pack("<Q", int(h, 16)))[0] for h in done.stdout.split()]
    got = [gomath.go_exp(x) for x in inputs]
    mismatches = [(x, e, g) for x, e, g in zip(inputs, expected, got, strict=True) if e != g]
    assert not mismatches


def _edge_case_profile() -> bytes:
    """Recursion, inlining, negative (delta) values, all-zero samples, unsymbolized frames in a named
    mapping and in none, a nameless function: the corners of pprof's flat/cum/inline rules."""
    p = profile_pb2.Profile()
    strings = [b"", b"alloc_space", b"bytes", b"inuse_space", b"main.a", b"main.b", b"main.c", b"main.inl",
               b"main.go", b"/bin/app", b"runtime.mallocgc", b"bytes"]  # fmt: skip
    p.string_table.extend(strings)
    p.sample_type.add(type=1, unit=2)
    p.sample_type.add(type=3, unit=2)
    p.mapping.add(id=1, memory_start=0x400000, memory_limit=0x800000, filename=9, has_functions=True)
    for fid, name in ((1, 4), (2, 5), (3, 6), (4, 7), (5, 10), (6, 0)):
        p.function.add(id=fid, name=name, system_name=name, filename=8, start_line=fid * 10)
    lines = {
        1: [(1, 11)],
        2: [(2, 21)],
        3: [(4, 41), (3, 31)],
        4: [(5, 51)],
        5: [],
        6: [(6, 61)],
        7: [(1, 12)],
    }
    for lid, frames in lines.items():
        location = p.location.add(id=lid, mapping_id=0 if lid == 7 else 1, address=0x400000 + lid * 0x10)
        for fid, line in frames:
            location.line.add(function_id=fid, line=line)
    samples = [
        ([4, 1, 2, 1], [100, 50]),  # mallocgc <- a <- b <- a: recursion
        ([3, 2, 1], [200, -80]),  # inl (inlined into c) <- b <- a, negative in-use
        ([5, 3, 1], [30, 30]),  # unsymbolized leaf in /bin/app
        ([6, 1], [7, 0]),  # nameless function
        ([2, 7], [0, 0]),  # all zero: pprof drops it
        ([1], [-40, 10]),  # negative allocation (a delta profile)
        ([2, 1, 2, 1, 2, 1], [60, 60]),  # deep recursion
    ]
    for stack, values in samples:
        sample = p.sample.add(location_id=stack, value=values)
        sample.label.add(key=11, num=64)
    data: bytes = gzip.compress(p.SerializeToString())
    return data


def test_edge_cases_equal_pprof(tmp_path: Path, pprof_tool: list[str]) -> None:
    path = tmp_path / "edge.pb.gz"
    path.write_bytes(_edge_case_profile())
    profile = load(path)
    assert ours_by_stack(profile)[1] == pprof_raw(pprof_tool, path)[2]
    compare_top(pprof_tool, path, profile, everything=False)
    compare_top(pprof_tool, path, profile, everything=True)
