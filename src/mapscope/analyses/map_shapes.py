"""The heap objects one map type allocates on one Go release, by size and memory class.

A heap profile records, per call site, the size of each object (pprof's `bytes` label) but not what it
is. The map model knows every object a map of a given type allocates and its size-class size: the
header, the bucket arrays of every B (with their preallocated overflow buckets) or the Swiss small
group, tables, group arrays and directories, overflow buckets and their bookkeeping, keys and values
over 128 bytes stored out of line, and interface boxes. Matching a profile's object sizes against
this catalogue tells which class each object belongs to, and how sure that is (a size shared by
two classes is split by the counts, see map_sites).

What a line can allocate depends on what is written there: `make` allocates the header and, with a
hint, the whole initial structure; a store allocates the first bucket or group (the map's initial
storage, deferred to the first insert), then growth, overflow, out-of-line keys/values and boxes; a
clone allocates a whole new map.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum

from mapscope.errors import MapscopeError
from mapscope.model import buckets, sizeclasses, swiss
from mapscope.model.entries import Box
from mapscope.model.gotypes import MAX_INLINE, POINTER_SHAPED, PTR_SIZE, GoType, Kind, MapType
from mapscope.model.records import Action, Cause
from mapscope.model.simulate import simulate
from mapscope.model.swiss_loads import MAX_TABLE_CAPACITY, SLOTS
from mapscope.model.versions import Implementation, Target
from mapscope.readers.go_source import ALLOCATING, ExprKind

_LARGEST = 1 << 40  # no bucket array, group array or directory of a real heap is larger


class MemoryClass(StrEnum):
    """Why a map site's memory was allocated."""

    INITIAL = "initial"
    GROWTH = "growth"
    OVERFLOW = "overflow"
    OUT_OF_LINE = "out-of-line"
    BOXING = "boxing"
    UNEXPLAINED = "unexplained"


@dataclass(frozen=True)
class Candidate:
    """An object a map can allocate: its heap size, class, what it is, and whether a map allocates it
    at most once in its life (a header, the first bucket, the array of one B), so that its count is
    bounded by the number of maps."""

    size: int
    memory_class: MemoryClass
    what: str
    bounded: bool
    role: str = ""


def _array_of(length: int, pointers: bool) -> GoType:
    if pointers:
        elem = GoType(Kind.UNSAFE_POINTER, "unsafe.Pointer", PTR_SIZE, PTR_SIZE, PTR_SIZE)
        size = length * PTR_SIZE
        return GoType(Kind.ARRAY, f"[{length}]unsafe.Pointer", size, PTR_SIZE, size, elem=elem, length=length)
    elem = GoType(Kind.UINT, "uint8", 1, 1, 0)
    return GoType(Kind.ARRAY, f"[{length}]uint8", length, 1, 0, elem=elem, length=length)


def _pointer_arrays(limit: int) -> list[int]:
    """Backing-array sizes of a []*T grown one append at a time up to `limit` bytes: the sizes a bucket
    map's overflow list (h.extra.overflow) goes through."""
    sizes: list[int] = []
    cap = 0
    while True:
        cap = buckets.next_pointer_cap(cap + 1, cap)
        heap = sizeclasses.heap_bytes(cap * PTR_SIZE, noscan=False)
        if heap > limit:
            return sizes
        sizes.append(heap)


def box_size(dynamic: GoType) -> int | None:
    """Heap size of the box an interface conversion allocates for `dynamic` (16 for the tiny allocator's
    blocks), or None when it allocates nothing (pointer-shaped, zero-size, single-byte values)."""
    if dynamic.size == 0 or dynamic.kind in POINTER_SHAPED or dynamic.size == 1:
        return None
    try:
        box = Box.of(dynamic)
    except MapscopeError:
        if dynamic.pointer_free and dynamic.size < sizeclasses.TINY_SIZE:
            return sizeclasses.TINY_SIZE
        return sizeclasses.heap_bytes(dynamic.size, dynamic.pointer_free)
    if box.never:
        return None
    return sizeclasses.TINY_SIZE if box.tiny else box.heap_bytes


@dataclass(frozen=True)
class Shapes:
    """Every object `map_type` allocates on `target`, with the class it has at a line of `kind`."""

    map_type: MapType
    target: Target
    candidates: tuple[Candidate, ...]

    def at(self, size: int) -> tuple[Candidate, ...]:
        return tuple(c for c in self.candidates if c.size == size)

    @property
    def sizes(self) -> frozenset[int]:
        return frozenset(c.size for c in self.candidates)


def _entries(map_type: MapType) -> list[Candidate]:
    found = []
    for t, what in ((map_type.key, "key"), (map_type.elem, "value")):
        if t.size > MAX_INLINE:
            size = sizeclasses.heap_bytes(t.size, t.pointer_free)
            candidate = Candidate(
                size, MemoryClass.OUT_OF_LINE, f"out-of-line {what} ({t.name})", False, "entry"
            )
            found.append(candidate)
    return found


def _structure(map_type: MapType, target: Target) -> dict[str, list[tuple[int, str, bool]]]:
    """Structural objects by role: 'header', 'first' (the first bucket or small group), 'arrays' (bucket
    or group arrays), 'directory', 'extra' (Swiss table structs) and 'overflow'; each (size,
    description, bounded)."""
    version = target.version
    roles: dict[str, list[tuple[int, str, bool]]] = {
        role: [] for role in ("header", "first", "arrays", "directory", "extra", "overflow")
    }
    if target.implementation is Implementation.BUCKETS:
        bucket = buckets.BucketLayout.of(map_type)
        header = sizeclasses.heap_bytes(buckets.header_size(version), noscan=False)
        roles["header"].append((header, "map header (hmap)", True))
        for b in range(64):
            array = buckets.BucketArray.of(bucket, b)
            if array.heap_bytes > _LARGEST:
                break
            role = "first" if b == 0 else "arrays"
            roles[role].append((array.heap_bytes, f"bucket array B={b}", True))
        overflow = sizeclasses.heap_bytes(bucket.size, bucket.noscan)
        roles["overflow"].append((overflow, "overflow bucket", False))
        extra = sizeclasses.heap_bytes(buckets.MAPEXTRA_SIZE, noscan=False)
        roles["overflow"].append((extra, "overflow bookkeeping (mapextra)", True))
        if bucket.noscan:
            list_header = sizeclasses.heap_bytes(buckets.SLICE_HEADER_SIZE, noscan=False)
            roles["overflow"].append((list_header, "overflow list header", False))
            for size in _pointer_arrays(_LARGEST):
                roles["overflow"].append((size, "overflow list array", False))
        return roles
    layout = swiss.SwissLayout.of(map_type)
    costs = swiss.Costs(layout, swiss.Rules.of(version, layout.path))
    roles["header"].append((costs.header.heap_bytes, "map header", True))
    roles["first"].append((costs.groups(SLOTS).heap_bytes, "small map group", True))
    capacity = 2 * SLOTS
    while capacity <= MAX_TABLE_CAPACITY:
        bounded = capacity < MAX_TABLE_CAPACITY
        roles["arrays"].append(
            (costs.groups(capacity).heap_bytes, f"groups of a {capacity}-slot table", bounded)
        )
        capacity *= 2
    roles["extra"].append((costs.table.heap_bytes, "table", False))
    length = 1
    while costs.directory(length).heap_bytes <= _LARGEST and length <= 1 << 30:
        roles["directory"].append((costs.directory(length).heap_bytes, f"directory of {length}", True))
        length *= 2
    return roles


def _hinted(map_type: MapType, target: Target, hint: int) -> list[Candidate]:
    """What `make(map, hint)` allocates, from the model."""
    timeline = simulate(map_type, (), target, hint)
    found = []
    for event in timeline.events:
        if event.op_index != 0 or event.action is not Action.ALLOC or event.objects <= 0:
            continue
        size = event.bytes // event.objects
        bounded = event.cause in (Cause.HEADER, Cause.DIRECTORY) or event.objects == 1
        found.append(Candidate(size, MemoryClass.INITIAL, f"make: {event.cause.value}", bounded, "make"))
    return found


def shapes(
    map_type: MapType,
    target: Target,
    kind: ExprKind,
    hint: int | None = None,
    hint_known: bool = True,
    boxes: tuple[GoType, ...] = (),
) -> Shapes:
    """The catalogue for one map expression: `boxes` are the dynamic types stored into interface keys
    or values at a store (unknown ones are matched by elimination in map_sites)."""
    roles = _structure(map_type, target)
    found: list[Candidate] = []

    def add(role: str, memory_class: MemoryClass) -> None:
        found.extend(
            Candidate(size, memory_class, what, bounded, role) for size, what, bounded in roles[role]
        )

    if kind is ExprKind.MAKE or kind is ExprKind.LITERAL:
        if hint is not None and hint > 0:
            found.extend(_hinted(map_type, target, hint))
        else:
            add("header", MemoryClass.INITIAL)
            if not hint_known:
                for role in ("first", "arrays", "directory", "extra", "overflow"):
                    add(role, MemoryClass.INITIAL)
        if kind is ExprKind.LITERAL:
            # A literal's entries are stores: the first bucket or group is theirs unless the literal's
            # hint (its entry count) made the arrays already; in a bucket map's arrays they overflow.
            if hint is None or hint <= SLOTS:
                add("first", MemoryClass.INITIAL)
            add("overflow", MemoryClass.OVERFLOW)
            found.extend(_entries(map_type))
    elif kind not in ALLOCATING:
        return Shapes(map_type, target, ())
    elif kind is ExprKind.CLONE:
        for role in ("header", "first", "arrays", "directory", "extra", "overflow"):
            add(role, MemoryClass.INITIAL)
        found.extend(_entries(map_type))
    else:
        add("first", MemoryClass.INITIAL)
        add("arrays", MemoryClass.GROWTH)
        add("directory", MemoryClass.GROWTH)
        add("extra", MemoryClass.GROWTH)
        add("overflow", MemoryClass.OVERFLOW)
        found.extend(_entries(map_type))
    for dynamic in boxes:
        size = box_size(dynamic)
        if size is not None:
            found.append(Candidate(size, MemoryClass.BOXING, f"interface box ({dynamic.name})", False, "box"))
    return Shapes(map_type, target, tuple(found))


def probe_map_types() -> tuple[MapType, ...]:
    """Stand-in map types for every bucket and group size a real map type can have, for finding map
    sites by their sizes alone: keys of 1..128 bytes (with and without pointers), one-byte values."""
    one = GoType(Kind.UINT, "uint8", 1, 1, 0)
    found = []
    for size in range(1, MAX_INLINE + 1):
        found.append(MapType(_array_of(size, pointers=False), one))
        if size % PTR_SIZE == 0:
            found.append(MapType(_array_of(size // PTR_SIZE, pointers=True), one))
    return tuple(found)


@functools.cache
def probe_shapes(target: Target) -> tuple[Shapes, ...]:
    """The stand-in types' store catalogues on `target` (immutable, so built once per process)."""
    return tuple(shapes(probe, target, ExprKind.ASSIGN) for probe in probe_map_types())
