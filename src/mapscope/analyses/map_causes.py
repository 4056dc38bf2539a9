"""Why a stack is in the map runtime: one vocabulary of causes for bucket maps and Swiss tables.

Go 1.22-1.23 (and 1.24-1.25 with GOEXPERIMENT=noswissmap) run the bucket map of runtime/map*.go; Go 1.24
and later run the Swiss tables of internal/runtime/maps behind the same `runtime.mapassign*` /
`runtime.mapaccess*` / `runtime.mapdelete*` entry points (linknamed, so they keep their runtime names). The
frames differ, the work does not, so both fold into the same causes and a profile of one program on
Go 1.23 and on Go 1.24 can be compared cause by cause.

How a stack (leaf first) is read:
  * Only the leaf-most run of runtime frames counts (runtime, internal/runtime/..., internal/abi,
    bare assembly symbols such as `aeshashbody`, and the runtime's linknamed map entry points that carry
    `maps.` and `reflect.` names). It ends at the first frame of other code: that is the caller, the
    map's user. A map operation further up the stack (say, a range-over-func loop whose body is running)
    is not what the CPU is doing.
  * Growth wins: a grow, an evacuation, a rehash or split, or a new overflow bucket anywhere in that run
    makes the cause `growth`, whatever started it (inserts grow; deletes and inserts evacuate). Hashing
    during a rehash is part of the growth's price.
  * Otherwise a hash function is `hash`: the CPU spent on hashing keys, which key types decide.
  * Otherwise the outermost map entry point names the operation: make, lookup, insert, delete,
    iterate, clear or clone. Helpers shared by several operations (table resets, group probes, key
    comparison, bucket array allocation) take the cause of the operation that called them.
  * A hash or helper frame with no map entry point above it (hash/maphash, a truncated stack) is not map
    work. A growth frame is, even when the stack was cut before the entry point.

The small map's first group (Swiss `growToSmall`) counts as `insert`: a bucket map allocates its first
bucket inside mapassign itself, with no frame of its own, so anything else would make the two
implementations disagree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import overload

from mapscope.readers.pprof import Profile


class MapCause(StrEnum):
    """What a map was doing when the profile caught it."""

    MAKE = "make"
    LOOKUP = "lookup"
    INSERT = "insert"
    GROWTH = "growth"
    DELETE = "delete"
    ITERATE = "iterate"
    CLEAR = "clear"
    CLONE = "clone"
    HASH = "hash"


_RT = "runtime."
_MAPS = "internal/runtime/maps."
_OPERATIONS: dict[MapCause, tuple[str, ...]] = {
    MapCause.MAKE: (
        *(_RT + n for n in ("makemap", "makemap64", "makemap_small")),
        "reflect.makemap",
        *(_MAPS + n for n in ("NewMap", "NewEmptyMap")),
    ),
    MapCause.LOOKUP: (
        *(
            _RT + f"mapaccess{arity}{variant}"
            for arity in ("1", "2")
            for variant in ("", "_fast32", "_fast64", "_faststr", "_fat")
        ),
        _RT + "mapaccessK",
        "reflect.mapaccess",
        "reflect.mapaccess_faststr",
        *(
            _MAPS + n
            for n in (
                "(*Map).Get",
                "(*Map).getWithKey",
                "(*Map).getWithoutKey",
                "(*Map).getWithKeySmall",
                "(*Map).getWithoutKeySmallFastStr",
                "(*table).Get",
                "(*table).getWithKey",
                "(*table).getWithoutKey",
            )
        ),
    ),
    MapCause.INSERT: (
        *(_RT + "mapassign" + v for v in ("", "_fast32", "_fast32ptr", "_fast64", "_fast64ptr", "_faststr")),
        "reflect.mapassign0",
        "reflect.mapassign_faststr0",
        *(
            _MAPS + n
            for n in (
                "(*Map).Put",
                "(*Map).PutSlot",
                "(*Map).growToSmall",
                "(*Map).putSlotSmall",
                "(*Map).putSlotSmallFast32",
                "(*Map).putSlotSmallFast64",
                "(*Map).putSlotSmallFastPtr",
                "(*Map).putSlotSmallFastStr",
                "(*table).PutSlot",
                "(*table).uncheckedPutSlotForAssign",
                "(*table).uncheckedPutSlotForAssignFast32",
                "(*table).uncheckedPutSlotForAssignFast64",
                "(*table).uncheckedPutSlotForAssignFastPtr",
                "(*table).uncheckedPutSlotForAssignFastStr",
            )
        ),
    ),
    MapCause.DELETE: (
        *(_RT + "mapdelete" + v for v in ("", "_fast32", "_fast64", "_faststr")),
        "reflect.mapdelete",
        "reflect.mapdelete_faststr",
        *(_MAPS + n for n in ("(*Map).Delete", "(*Map).deleteSmall", "(*table).Delete")),
    ),
    MapCause.ITERATE: (
        *(_RT + n for n in ("mapiterinit", "mapiternext", "mapIterStart", "mapIterNext")),
        *("reflect." + n for n in ("mapiterinit", "mapiternext", "mapiterkey", "mapiterelem")),
        "maps.keys",
        "maps.values",
        *(_MAPS + n for n in ("(*Iter).Init", "(*Iter).Next", "(*Iter).nextDirIdx", "(*Iter).grownKeyElem")),
    ),
    MapCause.CLEAR: (
        _RT + "mapclear",
        "reflect.mapclear",
        *(_MAPS + n for n in ("(*Map).Clear", "(*Map).clearSmall", "(*table).Clear")),
    ),
    MapCause.CLONE: (
        "maps.clone",
        _RT + "mapclone2",
        *(_MAPS + n for n in ("(*Map).Clone", "(*table).clone", "cloneGroup")),
    ),
}
_GROWTH: frozenset[str] = frozenset(
    (
        *(_RT + n for n in ("hashGrow", "advanceEvacuationMark")),
        *(_RT + f"{n}{v}" for n in ("growWork", "evacuate") for v in ("", "_fast32", "_fast64", "_faststr")),
        *(_RT + f"(*hmap).{n}" for n in ("newoverflow", "createOverflow", "incrnoverflow")),
        *(
            _MAPS + n
            for n in (
                "(*Map).growToTable",
                "(*Map).installTableSplit",
                "(*Map).replaceTable",
                "(*table).grow",
                "(*table).rehash",
                "(*table).split",
                "(*table).pruneTombstones",
                "(*table).uncheckedPutSlot",
            )
        ),
    )
)
_OPERATION_OF: dict[str, MapCause] = {name: cause for cause, names in _OPERATIONS.items() for name in names}
_HASH = re.compile(
    r"(?:runtime\.|internal/runtime/maps\.|reflect\.)?"
    r"(?i:memhash\w*|strhash\w*|aeshash\w*|(?:f32|f64|c64|c128|inter|nilinter|type)hash)"
)
_RUNTIME_PREFIXES = (
    "runtime.",
    "runtime/internal/",
    "internal/runtime/",
    "internal/abi.",
    "internal/bytealg.",
)


class Role(StrEnum):
    OPERATION = "operation"
    GROWTH = "growth"
    HASH = "hash"


def is_runtime(name: str) -> bool:
    """A frame of the Go runtime: its packages, or a file-local assembly symbol (no package at all)."""
    return name.startswith(_RUNTIME_PREFIXES) or "." not in name


def role(name: str) -> Role | None:
    """What a frame tells about map work, if anything."""
    if name in _OPERATION_OF:
        return Role.OPERATION
    if name in _GROWTH:
        return Role.GROWTH
    if _HASH.fullmatch(name):
        return Role.HASH
    return None


def operation_cause(name: str) -> MapCause | None:
    """The operation a map entry point performs (None for any other function)."""
    return _OPERATION_OF.get(name)


def in_segment(name: str) -> bool:
    """Part of the leaf-most runtime run: a runtime frame or a linknamed map entry point."""
    return is_runtime(name) or name in _OPERATION_OF


@dataclass(frozen=True)
class MapCall:
    """The map work at the top of a stack.

    `operation` is the outermost map entry point (empty when the stack was cut below it), `decided_by`
    the frame that set the cause, and `depth` how many frames (leaf first) belong to the runtime run:
    the frame at that position, if any, is the caller.
    """

    cause: MapCause
    operation: str
    decided_by: str
    depth: int


def classify(frames: Sequence[str]) -> MapCall | None:
    """The map cause of a stack of function names (leaf first), or None when it is not map work."""
    operation = growth = hashing = ""
    depth = 0
    for name in frames:
        if not in_segment(name):
            break
        depth += 1
        kind = role(name)
        if kind is Role.OPERATION:
            operation = name
        elif kind is Role.GROWTH and not growth:
            growth = name
        elif kind is Role.HASH and not hashing:
            hashing = name
    if growth:
        return MapCall(MapCause.GROWTH, operation, growth, depth)
    if not operation:
        return None
    if hashing:
        return MapCall(MapCause.HASH, operation, hashing, depth)
    return MapCall(_OPERATION_OF[operation], operation, operation, depth)


@dataclass(frozen=True)
class Frame:
    function: str
    file: str
    line: int


class LocationFrames(Sequence[tuple[Frame, ...]]):
    """Every location's frames, innermost inlined call first (a location without lines gives none),
    made when first asked for: a stack walk touches few of a large profile's locations."""

    def __init__(self, profile: Profile) -> None:
        self._profile = profile
        self._made: dict[int, tuple[Frame, ...]] = {}

    def __len__(self) -> int:
        return len(self._profile.locations)

    @overload
    def __getitem__(self, index: int) -> tuple[Frame, ...]: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[tuple[Frame, ...]]: ...

    def __getitem__(self, index: int | slice) -> tuple[Frame, ...] | Sequence[tuple[Frame, ...]]:
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        position = range(len(self))[index]
        made = self._made.get(position)
        if made is None:
            locations, functions = self._profile.locations, self._profile.functions
            first, last = int(locations.line_offsets[position]), int(locations.line_offsets[position + 1])
            made = self._made[position] = tuple(
                Frame(functions[f].name, functions[f].filename, n)
                for f, n in zip(
                    locations.line_function[first:last].tolist(),
                    locations.line_number[first:last].tolist(),
                    strict=True,
                )
            )
        return made


def location_frames(profile: Profile) -> LocationFrames:
    return LocationFrames(profile)


def stack_frames(frames: Sequence[tuple[Frame, ...]], stack: Iterable[int]) -> tuple[Frame, ...]:
    """A sample's stack (location indices, leaf first) as frames, leaf first."""
    return tuple(frame for location in stack for frame in frames[int(location)])


def classify_samples(profile: Profile) -> tuple[tuple[MapCall | None, Frame | None], ...]:
    """Per sample: its map cause (or None) and the caller of the map runtime run (None if the stack
    ends inside it). Identical stacks are classified once."""
    frames = location_frames(profile)
    samples = profile.samples
    seen: dict[bytes, tuple[MapCall | None, Frame | None]] = {}
    result = []
    for i in range(len(samples)):
        stack = samples.stack(i)
        key = stack.tobytes()
        known = seen.get(key)
        if known is None:
            expanded = stack_frames(frames, stack)
            call = classify([frame.function for frame in expanded])
            caller = None
            if call is not None and call.depth < len(expanded):
                caller = expanded[call.depth]
            known = seen[key] = (call, caller)
        result.append(known)
    return tuple(result)
