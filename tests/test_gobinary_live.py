"""The binary reader (gobinary.py, symbolize.py) against real Go 1.22.10 and 1.27.3 builds: every frame
equals what the runtime itself wrote into the same process's profiles, the physical frame equals
`go tool addr2line`, and every call target equals `go tool objdump` of the same release."""

from __future__ import annotations

import dataclasses
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from mapscope.errors import MapscopeError
from mapscope.gotoolchain import Toolchain
from mapscope.readers import profile_source
from mapscope.readers.gobinary import GoBinary
from mapscope.readers.pprof import Profile

pytestmark = pytest.mark.live

RELEASES = ("1.22.10", "1.27.3")

PROGRAM = """package main

import (
\t"maps"
\t"os"
\t"runtime"
\t"runtime/pprof"
)

var sink []any
var keep []map[int]int
var blocks []*[64]byte

//go:noinline
func fill(n int) map[int]int {
\tm := make(map[int]int)
\tfor i := 0; i < n; i++ {
\t\tm[i] = i // FILL
\t}
\treturn m
}

//go:noinline
func boxes(n int) {
\tfor i := 0; i < n; i++ {
\t\tsink = append(sink, any(int64(i)+1000)) // BOX
\t}
}

func main() {
\truntime.MemProfileRate = 1
\tm := fill(1000)
\tkeep = append(keep, m, maps.Clone(m)) // CLONE
\tboxes(100)
\tblocks = append(blocks, new([64]byte)) // NEW
\truntime.GC()
\ttext, _ := os.Create(os.Args[1])
\tpprof.Lookup("heap").WriteTo(text, 1)
\ttext.Close()
\tproto, _ := os.Create(os.Args[2])
\tpprof.Lookup("heap").WriteTo(proto, 0)
\tproto.Close()
}
"""
LINES = {mark: i + 1 for i, text in enumerate(PROGRAM.splitlines()) for mark in [text.rpartition("// ")[2]]
         if mark in ("FILL", "BOX", "CLONE", "NEW")}  # fmt: skip
_SYMBOL_LINE = re.compile(r"#\t(0x[0-9a-f]+)\t(\S+)\+0x[0-9a-f]+\t+(.*):(\d+)")
_OBJDUMP = re.compile(r"^\s+\S+:\d+\s+0x([0-9a-f]+)\s+([0-9a-f]+)\s+(.*?)\s*$")


@dataclasses.dataclass(frozen=True)
class Built:
    go: Toolchain
    binary: Path
    text: Path
    proto: Path
    other: Path  # a build of a slightly different program


@pytest.fixture(scope="session", params=RELEASES)
def built(request: pytest.FixtureRequest, go_release: Callable[[str], Toolchain],
          tmp_path_factory: pytest.TempPathFactory) -> Built:  # fmt: skip
    """The program built by one release and run once: its heap profile as debug=1 text and as proto."""
    go = go_release(request.param)
    folder = tmp_path_factory.mktemp(f"gobinary{request.param}")
    (folder / "main.go").write_text(PROGRAM)
    (folder / "go.mod").write_text("module gobinary\n\ngo 1.22\n")
    binary = folder / "svc"
    subprocess.run([str(go.go), "build", "-o", str(binary), "."], cwd=folder, env=go.env(), check=True,
                   timeout=600)  # fmt: skip
    text, proto = folder / "heap.txt", folder / "heap.pb.gz"
    subprocess.run([str(binary), str(text), str(proto)], check=True, timeout=120)
    variant = folder / "variant"
    variant.mkdir()
    (variant / "main.go").write_text(PROGRAM.replace("func main() {\n", "func main() {\n\tboxes(3)\n"))
    (variant / "go.mod").write_text("module gobinary\n\ngo 1.22\n")
    subprocess.run([str(go.go), "build", "-o", "svc", "."], cwd=variant, env=go.env(), check=True,
                   timeout=600)  # fmt: skip
    return Built(go, binary, text, proto, variant / "svc")


def go_tool(go: Toolchain, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([str(go.go), "tool", *args], input=stdin, capture_output=True, text=True,
                          env=go.env(), timeout=600, check=True)  # fmt: skip
    return done.stdout


def frames_of(profile: Profile, row: int) -> list[tuple[str, str, int]]:
    location = profile.locations[row]
    return [(profile.functions[ln.function].name, profile.functions[ln.function].filename, ln.line)
            for ln in location.lines]  # fmt: skip


def shape(name: str) -> str:
    """Type arguments as the runtime prints them in `#` lines (`maps.Clone[...]`)."""
    start, end = name.find("["), name.rfind("]")
    return name if start < 0 or end <= start else name[:start] + "[...]" + name[end + 1 :]


def test_frames_equal_the_runtimes_proto_locations(built: Built) -> None:
    """Every proto location (the runtime's own inline expansion) equals the binary's frames, names too."""
    profile = profile_source.load(str(built.proto)).profiles[0]
    binary = GoBinary.open(built.binary)
    found = binary.frames(profile.locations.address.tolist())
    inlined = 0
    for row, symbolized in enumerate(found):
        ours = [(f.function, f.file, f.line) for f in symbolized.frames]
        assert ours == frames_of(profile, row), hex(profile.locations[row].address)
        inlined += len(ours) > 1
    assert inlined > 0


def test_innermost_frame_equals_the_symbol_lines(built: Built) -> None:
    """Each `#` line of the text (runtime.CallersFrames: one frame per PC) is the binary's innermost frame."""
    lines = {int(m.group(1), 16): (m.group(2), m.group(3), int(m.group(4)))
             for m in _SYMBOL_LINE.finditer(built.text.read_text())}  # fmt: skip
    binary = GoBinary.open(built.binary)
    for pc, symbolized in zip(lines, binary.frames(list(lines)), strict=True):
        leaf = symbolized.frames[0]
        assert (shape(leaf.function), leaf.file, leaf.line) == lines[pc], hex(pc)


def test_physical_frame_equals_addr2line(built: Built) -> None:
    profile = profile_source.load(str(built.text)).profiles[0]
    addresses = [a for a in profile.locations.address.tolist() if a]
    answer = go_tool(built.go, "addr2line", str(built.binary), stdin="".join(f"{a:#x}\n" for a in addresses))
    pairs = answer.splitlines()
    binary = GoBinary.open(built.binary)
    for i, symbolized in enumerate(binary.frames(addresses)):
        name, position = pairs[2 * i], pairs[2 * i + 1]
        if name == "?":
            assert symbolized.frames == ()
            continue
        file, _, line = position.rpartition(":")
        assert (symbolized.frames[-1].function, symbolized.frames[0].file, symbolized.frames[0].line) == (
            name, file, int(line))  # fmt: skip


def test_text_with_binary_has_the_protos_stacks(built: Built) -> None:
    """Folding inlined callers' call-site PCs gives the text profile the frames its proto twin has, and
    `maps.Clone` stays at the user's line."""
    text = profile_source.load(str(built.text), binary=built.binary).profiles[0]
    proto = profile_source.load(str(built.proto)).profiles[0]

    def stacks(profile: Profile) -> set[tuple[tuple[str, str, int], ...]]:
        """Every stack's frames as the proto writer keeps them: without runtime.goexit, and without the
        leading runtime frames (writeHeapProto's hideRuntime); the text keeps both."""
        result = set()
        for i in range(len(profile.samples)):
            rows = profile.samples.stack(i).tolist()
            frames = [f for row in rows for f in frames_of(profile, row) if f[0] != "runtime.goexit"]
            while frames and frames[0][0].startswith(("runtime.", "internal/runtime/")):
                frames = frames[1:]
            result.add(tuple(frames))
        return result

    ours, theirs = stacks(text), stacks(proto)
    assert ours <= theirs
    clone = [s for s in ours if any(f[0].startswith("maps.Clone[") for f in s)]
    assert clone
    for stack in clone:
        at = next(i for i, f in enumerate(stack) if f[0].startswith("maps.Clone["))
        assert stack[at + 1][0] == "main.main" and stack[at + 1][2] == LINES["CLONE"]
    assert text.symbolization.startswith(f"symbolized with {built.binary}")


def objdump_calls(built: Built, functions: set[str]) -> dict[int, str | None]:
    """End address of every instruction of these functions -> the target of a direct CALL, else None."""
    pattern = "^(" + "|".join(re.escape(f) for f in sorted(functions)) + ")$"
    calls: dict[int, str | None] = {}
    for line in go_tool(built.go, "objdump", "-s", pattern, str(built.binary)).splitlines():
        if match := _OBJDUMP.match(line):
            end = int(match.group(1), 16) + len(match.group(2)) // 2
            asm = match.group(3)
            direct = asm.startswith("CALL ") and asm.endswith("(SB)")
            calls[end] = asm.removeprefix("CALL ").removesuffix("(SB)") if direct else None
    return calls


@pytest.mark.parametrize("kind", ["text", "proto"])
def test_call_targets_equal_objdump(built: Built, kind: str) -> None:
    profile = profile_source.load(str(getattr(built, kind)), binary=built.binary).profiles[0]
    physical = {frames_of(profile, row)[-1][0] for row in range(len(profile.locations))
                if profile.locations[row].lines}  # fmt: skip
    calls = objdump_calls(built, physical)
    # An address whose next byte starts no instruction is an inlined call's site (a PC runtime.Callers
    # made up), not a return address: nothing was called there.
    for row, address in enumerate(profile.locations.address.tolist()):
        assert profile.callees.get(row) == calls.get(address + 1), hex(address)
    assert sum(address + 1 in calls for address in profile.locations.address.tolist()) > len(calls) // 100
    targets = {profile.callees.get(row) for row in range(len(profile.locations))
               if frames_of(profile, row)[0][2] == LINES["BOX"] and frames_of(profile, row)[0][0] == "main.boxes"}  # fmt: skip
    assert {"runtime.convT64", "runtime.growslice"} <= targets
    new = {profile.callees.get(row) for row in range(len(profile.locations))
           if frames_of(profile, row)[0][:1] == ("main.main",) and frames_of(profile, row)[0][2] == LINES["NEW"]}  # fmt: skip
    # Go 1.27 calls a malloc specialised for the size class instead of newobject.
    assert any(t == "runtime.newobject" or t.startswith("runtime.mallocgc") for t in new if t)


def test_proto_picks_up_the_binary_it_names(built: Built, tmp_path: Path) -> None:
    profile = profile_source.load(str(built.proto)).profiles[0]
    assert profile.callees
    assert "the binary the profile names" in profile.symbolization
    assert str(built.binary) in profile.symbolization
    moved = tmp_path / "svc"
    shutil.move(built.binary, moved)
    try:
        alone = profile_source.load(str(built.proto)).profiles[0]
    finally:
        shutil.move(moved, built.binary)
    assert not alone.callees
    assert alone.symbolization == (f"names from the profile; the binary it names, {built.binary}, is not here: "
                                   "--binary BIN would add call targets")  # fmt: skip


def test_text_without_a_binary_says_what_one_would_add(built: Built) -> None:
    profile = profile_source.load(str(built.text)).profiles[0]
    assert not profile.callees
    assert "--binary BIN would add the runtime's frames" in profile.symbolization


def test_another_build_is_refused_in_one_line(built: Built) -> None:
    with pytest.raises(MapscopeError) as proto_error:
        profile_source.load(str(built.proto), binary=built.other)
    with pytest.raises(MapscopeError) as text_error:
        profile_source.load(str(built.text), binary=built.other)
    for error in (proto_error.value, text_error.value):
        assert error.source == str(built.other)
        assert "not the binary" in error.problem and "\n" not in error.problem
    # From Go 1.24 on the proto carries a GNU build ID, and the refusal names it.
    assert ("build ID" in proto_error.value.problem) is built.go.release.startswith("1.27")


def test_not_elf_and_missing_binaries_exit_2(built: Built, tmp_path: Path) -> None:
    for binary, problem in ((built.text, "not an ELF binary"), (tmp_path / "gone", "no such binary")):
        done = subprocess.run([sys.executable, "-m", "mapscope", "profile", str(built.proto), "--binary",
                               str(binary)], capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
        assert done.returncode == 2
        assert done.stderr == f"mapscope: error: {binary}: {problem}\n"


def test_corrupt_binaries_fail_in_one_line(built: Built, tmp_path: Path) -> None:
    """Bytes of the symbol table and module data overwritten at random (fixed seeds): every outcome is
    names, or a MapscopeError; never another exception."""
    data = built.binary.read_bytes()
    with built.binary.open("rb") as handle:
        table = ELFFile(handle).get_section_by_name(".gopclntab")
        assert table is not None
        start, size = table["sh_offset"], table["sh_size"]
    addresses = profile_source.load(str(built.proto)).profiles[0].locations.address.tolist()
    for seed in range(40):
        rng = random.Random(seed)
        mutated = bytearray(data)
        for _ in range(rng.choice((1, 8, 64))):
            at = rng.randrange(start, start + 4096) if seed % 2 else rng.randrange(start, start + size)
            mutated[at] = rng.randrange(256)
        path = tmp_path / f"svc{seed}"
        path.write_bytes(bytes(mutated))
        try:
            opened = GoBinary.open(path)
            opened.frames(addresses)
            opened.callees(addresses)
        except MapscopeError as error:
            assert error.source == str(path) and "\n" not in error.problem


def test_text_picks_up_the_binary_its_memory_map_names(built: Built, tmp_path: Path) -> None:
    """A legacy text profile with a memory map (as /proc/self/maps prints it) names its binary too."""
    start, end = GoBinary.open(built.binary).text_range()
    path = tmp_path / "heap.txt"
    memory_map = (
        f"--- Memory map: ---\n{start & ~0xFFFFF:08x}-{end:08x} r-xp 00000000 fd:01 42 {built.binary}\n"
    )
    path.write_text(built.text.read_text() + memory_map)
    profile = profile_source.load(str(path)).profiles[0]
    assert profile.symbolization.startswith(f"symbolized with {built.binary}, the binary the profile names")
    assert profile.callees
    assert any(len(location.lines) > 1 for location in profile.locations)


def test_position_independent_binaries(built: Built, tmp_path: Path) -> None:
    """A PIE runs elsewhere than it was linked: the proto's main mapping says where, and call targets
    come out as for the ordinary build."""
    (tmp_path / "main.go").write_text(PROGRAM)
    (tmp_path / "go.mod").write_text("module gobinary\n\ngo 1.22\n")
    subprocess.run([str(built.go.go), "build", "-buildmode=pie", "-o", "svc", "."], cwd=tmp_path,
                   env=built.go.env(), check=True, timeout=600)  # fmt: skip
    text, proto = tmp_path / "heap.txt", tmp_path / "heap.pb.gz"
    subprocess.run([str(tmp_path / "svc"), str(text), str(proto)], check=True, timeout=120)
    profile = profile_source.load(str(proto), binary=tmp_path / "svc").profiles[0]
    assert profile.mappings[0].memory_start != GoBinary.open(tmp_path / "svc").text_range()[0] & ~0xFFFFF
    boxes = {profile.callees.get(row) for row in range(len(profile.locations))
             if frames_of(profile, row)[0][:1] == ("main.boxes",)}  # fmt: skip
    assert {"runtime.convT64", "runtime.growslice"} <= boxes
