"""Ground truth of map memory, decided from the Go runtime's own frames, independent of mapscope's model.

Shared by scripts/gen_service_profiles.py (which labels every runtime.MemProfile record a service wrote
about itself) and scripts/score_attribution.py (which labels the debug=1 profiles of real programs).

A record's site is its innermost user frame: frames of the runtime (`runtime.`, `internal/runtime/`, the
internal packages it is built from) and of the standard `maps` package are looked through, inlined frames count as frames of their own. Whether
the record is map memory, and its cause, comes from the runtime frames between the allocation and the
site, read leaf first:

  * the allocation helpers (mallocgc and its size-specialised variants, newobject, newarray, makeslice,
    growslice) are skipped; what is left is the allocating function;
  * a map function of the runtime (runtime/map*.go, internal/runtime/maps/) makes it map memory:
    `newoverflow`/`createOverflow` = overflow, a `newobject(t.Key|t.Elem)` line of the runtime source =
    out-of-line, `hashGrow`/`growWork`/`evacuate`/`(*table).grow|split|rehash`/`growToTable` = growth,
    `makemap*`/`NewMap`/`NewEmptyMap`/clone/`growToSmall`/the first bucket (`h.buckets = newobject`) =
    initial, any other map frame = unexplained;
  * a `convT*` box made at a line that stores into a map whose key or element is an interface = boxing;
  * anything else (makechan for a GC worker, rawstring, a user's `new`) is not map memory.

Where Go cut the frame that called mallocgc, so the innermost frame is the user's line itself, the direct
CALL at that return address, read from `go tool objdump` of the binary, is the allocating function.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

INITIAL = "initial"
GROWTH = "growth"
OVERFLOW = "overflow"
OUT_OF_LINE = "out-of-line"
BOXING = "boxing"
UNEXPLAINED = "unexplained"
CAUSES = (INITIAL, GROWTH, OVERFLOW, OUT_OF_LINE, BOXING, UNEXPLAINED)

_ALLOC_HELPERS = frozenset(
    (
        "runtime.newobject",
        "runtime.newarray",
        "runtime.makeslice",
        "runtime.makeslicecopy",
        "runtime.growslice",
        "runtime.profilealloc",
        "runtime.mProf_Malloc",
        "internal/runtime/maps.newobject",
        "internal/runtime/maps.newarray",
    )
)
_OVERFLOW = frozenset(("runtime.(*hmap).newoverflow", "runtime.(*hmap).createOverflow"))
GROWTH_FRAME = re.compile(
    r"^(runtime\.(hashGrow|growWork\w*|evacuate\w*)"
    r"|internal/runtime/maps\.(\(\*table\)\.(grow|split|rehash)|\(\*Map\)\.growToTable))$"
)
_INITIAL = re.compile(
    r"^(runtime\.(makemap\w*|mapclone\w*)|maps\.clone"
    r"|internal/runtime/maps\.(NewMap|NewEmptyMap|\(\*Map\)\.Clone|\(\*table\)\.clone|\(\*Map\)\.growToSmall))$"
)
_OUT_OF_LINE_LINE = re.compile(r"newobject\((t|typ)\.(Key|Elem)\)")
_FIRST_BUCKET_LINE = re.compile(r"\.buckets = newobject\(t\.Bucket\)")
_BOX = re.compile(r"^runtime\.convT\w*$")
_MAP_FILE = re.compile(r"(^|/)(runtime/map(_\w+)?\.go|internal/runtime/maps/[^/]+\.go)$")
_ANNOTATION = re.compile(r"//\s*map:\s*(map\[.*\S)\s*$")


@dataclass(frozen=True)
class Frame:
    function: str
    file: str
    line: int


@dataclass(frozen=True)
class SiteKey:
    """A site as (function, file base name, line): the base name, since builds trim paths differently."""

    function: str
    file: str
    line: int


_RUNTIME_PACKAGES = ("runtime.", "internal/runtime/", "internal/abi.", "internal/bytealg.", "maps.")


def goroot_relative(file: str) -> str:
    """`/x/go/src/runtime/map.go` or `$GOROOT/src/runtime/map.go` -> `runtime/map.go`."""
    marker = "/src/"
    return file[file.rindex(marker) + len(marker) :] if marker in file else file


def is_runtime(function: str) -> bool:
    """Frames a site looks through: the runtime and the internal packages it is built from (memeqbody and
    other assembly routines have no package at all) and the standard `maps` package."""
    return function.startswith(_RUNTIME_PACKAGES) or "." not in function


_RUNTIME_FILE = re.compile(r"^(runtime/[^/]+|internal/(runtime|abi|bytealg|goarch|goos)/.*|maps/[^/]+)$")


def is_runtime_frame(frame: Frame) -> bool:
    """A frame the site looks through. Its file decides too: symbolizers that name an inlined frame by the
    function it was inlined into (`go tool pprof` with a binary) still give the inlined body's file."""
    return is_runtime(frame.function) or bool(_RUNTIME_FILE.match(goroot_relative(frame.file)))


def site_index(frames: Sequence[Frame]) -> int | None:
    for position, frame in enumerate(frames):
        if not is_runtime_frame(frame):
            return position
    return None


def site_of(frames: Sequence[Frame]) -> SiteKey | None:
    position = site_index(frames)
    if position is None:
        return None
    frame = frames[position]
    return SiteKey(frame.function, Path(frame.file).name, frame.line)


class RuntimeSource:
    """Lines of the toolchain's own runtime sources, to tell which `newobject` of a map function ran."""

    def __init__(self, goroot_src: Path) -> None:
        self.root = goroot_src
        self._files: dict[str, list[str]] = {}

    def line(self, file: str, line: int) -> str:
        relative = goroot_relative(file)
        if relative not in self._files:
            path = self.root / relative
            self._files[relative] = path.read_text().splitlines() if path.is_file() else []
        lines = self._files[relative]
        return lines[line - 1] if 0 < line <= len(lines) else ""


def _is_malloc(function: str) -> bool:
    return function.startswith("runtime.mallocgc") or function in _ALLOC_HELPERS


def _map_cause(frames: Sequence[Frame], source: RuntimeSource) -> str:
    """The cause told by a run of runtime frames (leaf first) that starts in a map function."""
    for frame in frames:
        text = source.line(frame.file, frame.line)
        if frame.function in _OVERFLOW:
            return OVERFLOW
        if _OUT_OF_LINE_LINE.search(text):
            return OUT_OF_LINE
        if GROWTH_FRAME.match(frame.function):
            return GROWTH
        if _INITIAL.match(frame.function) or _FIRST_BUCKET_LINE.search(text):
            return INITIAL
    return UNEXPLAINED


def classify(
    frames: Sequence[Frame],
    leaf_call: str | None,
    source: RuntimeSource,
    boxes_into_map: Callable[[SiteKey], bool],
) -> str | None:
    """The map cause of one record's allocation (leaf-first frames), or None when it is not map memory.

    `leaf_call` is the function the innermost frame calls at its return address (objdump), used only
    when that frame is the site itself; `boxes_into_map` tells whether a site stores into a map with an
    interface key or element."""
    site = site_index(frames)
    if site is None:
        return None
    position = 0
    while position < site and _is_malloc(frames[position].function):
        position += 1
    key = site_of(frames)
    assert key is not None
    if position == site:
        allocator = frames[position - 1].function if position else leaf_call
        if allocator is not None and _BOX.match(allocator) and boxes_into_map(key):
            return BOXING
        return None
    first = frames[position]
    if _BOX.match(first.function):
        return BOXING if boxes_into_map(key) else None
    if not _MAP_FILE.search(goroot_relative(first.file)):
        return None
    return _map_cause(frames[position:site], source)


class CallTargets:
    """Return address -> called symbol for every CALL in a binary, and the lines (file base name, line)
    that call `runtime.mapassign*` (map stores), from the toolchain's own `go tool objdump`."""

    _CALL = re.compile(r"^\s+(\S+):(\d+)\s+0x([0-9a-f]+)\s+([0-9a-f]+)\s+CALL\s+(\S+?)(\(SB\))?\s*$")

    def __init__(self, go: Path, binary: Path, env: dict[str, str]) -> None:
        done = subprocess.run(
            [str(go), "tool", "objdump", str(binary)], env=env, check=True, capture_output=True, text=True
        )
        self.targets: dict[int, str] = {}
        self.stores: set[tuple[str, int]] = set()
        for line in done.stdout.splitlines():
            match = self._CALL.match(line)
            if match:
                address = int(match.group(3), 16) + len(match.group(4)) // 2
                self.targets[address] = match.group(5)
                if match.group(5).startswith("runtime.mapassign"):
                    self.stores.add((Path(match.group(1)).name, int(match.group(2))))

    def at(self, return_address: int) -> str | None:
        return self.targets.get(return_address)


def map_lines(directory: Path) -> dict[tuple[str, int], str]:
    """(file base name, line) -> map type, from the `// map: TYPE` comments of a service's Go files."""
    found: dict[tuple[str, int], str] = {}
    for path in sorted(directory.glob("*.go")):
        for number, text in enumerate(path.read_text().splitlines(), start=1):
            match = _ANNOTATION.search(text)
            if match:
                found[(path.name, number)] = match.group(1)
    return found


def has_interface(map_type: str) -> bool:
    return "interface{}" in map_type or "any" in re.findall(r"\w+", map_type)


def normalize_type(map_type: str) -> str:
    """One spelling per type: no package qualifiers, no blanks, `any` for the empty interface."""
    text = re.sub(r"\s+", "", map_type).replace("interface{}", "any")
    return re.sub(r"\b[a-z_][\w]*\.", "", text)
