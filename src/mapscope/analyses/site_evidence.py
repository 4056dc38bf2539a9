"""What a profile says about each sample before any map model is consulted: its site, the call at that
site that allocated (its place), a verdict from the runtime frames or the called function, object size,
value and count; grouped into observations.

A site is the user frame nearest the leaf (function, file, line): runtime frames, the runtime's
linknamed map entry points and the standard `maps` package's wrappers are looked through. Its place
is the location (one call instruction) the site frame sits in: two calls on one line, say
`m[k] = &T{}` (newobject, then mapassign), have two places, so the objects each call allocated stay
apart even where the profile hides the runtime frames (heap protos).

The verdict comes from the runtime frames above the site when the profile has them (CPU profiles,
legacy text symbolized with the binary), else from the function the site's call instruction calls
(`Profile.callees`, read from the binary): a map entry point makes the objects the map's, an allocator
of other things (growslice, newobject, makeslice, string concatenation) makes them not the map's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import overload

import numpy as np

from mapscope.analyses import map_causes
from mapscope.analyses.map_causes import Frame, MapCause
from mapscope.readers.pprof import Function, Profile

_CPU_TYPES = ("cpu", "samples")
# The column counting the objects (or samples) behind each memory (or CPU) column; object columns
# count themselves.
_COUNT_PAIRS = {
    "alloc_space": "alloc_objects",
    "inuse_space": "inuse_objects",
    "space": "objects",
    "size": "allocations",
    "alloc_objects": "alloc_objects",
    "inuse_objects": "inuse_objects",
    "objects": "objects",
    "allocations": "allocations",
    "cpu": "samples",
}
_MEMORY_TYPES = tuple(name for name in _COUNT_PAIRS if name not in _CPU_TYPES)
_OVERFLOW_FRAMES = frozenset(("runtime.(*hmap).newoverflow", "runtime.(*hmap).createOverflow"))
_SMALL_GROUP = "internal/runtime/maps.(*Map).growToSmall"
_BOX_FRAME = re.compile(r"runtime\.convT\w*")
# Allocation helpers a map function calls: looked through to the map function that called them.
_ALLOCATORS = frozenset(
    (
        "runtime.newobject",
        "runtime.newarray",
        "runtime.mallocgc",
        "internal/runtime/maps.newobject",
        "internal/runtime/maps.newarray",
    )
)


CAUSES = tuple(MapCause)


class ProfileKind(StrEnum):
    MEMORY = "memory"
    CPU = "cpu"
    OTHER = "other"


def profile_kind(profile: Profile, index: int) -> ProfileKind:
    name = profile.sample_types[index].type
    if name in _MEMORY_TYPES:
        return ProfileKind.MEMORY
    if name in _CPU_TYPES:
        return ProfileKind.CPU
    return ProfileKind.OTHER


def count_index(profile: Profile, index: int) -> int | None:
    """The column counting what `index` measures (alloc_objects for alloc_space, samples for cpu)."""
    wanted = _COUNT_PAIRS.get(profile.sample_types[index].type)
    for i, vt in enumerate(profile.sample_types):
        if vt.type == wanted:
            return i
    return None


def object_sizes(profile: Profile, index: int, counts: np.ndarray) -> np.ndarray:
    """Each sample's object size: its `bytes` label, else its bytes over its objects."""
    labelled, present = profile.numeric_label("bytes")
    values = profile.samples.values[:, index]
    fallback = np.where(counts > 0, np.abs(values) // np.maximum(np.abs(counts), 1), 0)
    for space, objects in (("alloc_space", "alloc_objects"), ("space", "objects")):
        columns = {vt.type: i for i, vt in enumerate(profile.sample_types)}
        if space in columns and objects in columns:
            alloc = profile.samples.values[:, columns[objects]]
            fallback = np.where(
                alloc > 0, profile.samples.values[:, columns[space]] // np.maximum(alloc, 1), fallback
            )
    sizes: np.ndarray = np.where(present, labelled, fallback)
    return sizes


# -- what the runtime frames say ------------------------------------------------------------------------


class Code(IntEnum):
    """A sample's verdict from its runtime frames or its site's callee, before any catalogue."""

    NO_FRAMES = 0  # nothing above the site tells (heap protos and cut stacks, without the binary)
    NOT_MAP = 1  # the runtime allocated for something else (growslice, newobject, makeslice, strings)
    INITIAL = 2
    GROWTH = 3
    OVERFLOW = 4
    BOXING = 5  # a convT* box: the map's only when its line stores into a map
    UNEXPLAINED = 6  # map frames of no known role
    MAP_OBJECT = 7  # allocated by mapassign itself (frames seen): the first bucket or out-of-line
    MAP_CALL = 8  # allocated somewhere below a map call the binary names (frames hidden): sizes decide


def memory_code(names: list[str]) -> Code:
    """What a leaf-most runtime run (function names, leaf first) allocated for a map, if anything."""
    if all(_is_allocator(n) for n in names):
        # The allocator alone: the frame that called it was cut (Go 1.22) or inlined into the site
        # (a map's makemap_small, newobject inlined into user code), so nothing decides.
        return Code.NO_FRAMES
    call = map_causes.classify(names)
    if call is None:
        return Code.BOXING if any(_BOX_FRAME.fullmatch(n) for n in names) else Code.NOT_MAP
    if _OVERFLOW_FRAMES.intersection(names):
        return Code.OVERFLOW
    if call.cause is MapCause.GROWTH:
        return Code.GROWTH
    if call.cause in (MapCause.MAKE, MapCause.CLONE) or _SMALL_GROUP in names:
        return Code.INITIAL
    if call.cause is MapCause.INSERT:
        # The compiler stores values over 128 bytes through the generic mapassign only: below a fast
        # variant, the object mapassign allocates itself is the first bucket.
        return Code.INITIAL if "_fast" in call.operation else Code.MAP_OBJECT
    return Code.UNEXPLAINED


def _is_allocator(name: str) -> bool:
    return name in _ALLOCATORS or name.startswith("runtime.mallocgc")


def callee_code(name: str) -> Code:
    """What the function a site's call instruction calls says about the objects that call allocated,
    when the profile hides the runtime frames: a map entry point, a box, or an allocator of other
    things."""
    if _BOX_FRAME.fullmatch(name):
        return Code.BOXING
    cause = map_causes.operation_cause(name)
    if cause in (MapCause.MAKE, MapCause.CLONE):
        return Code.INITIAL
    if cause is not None:
        return Code.MAP_CALL
    if map_causes.role(name) is map_causes.Role.GROWTH:
        return Code.GROWTH
    if _is_allocator(name):
        return Code.NO_FRAMES  # a new object of the user's, or a map header whose makemap was inlined
    if map_causes.is_runtime(name):
        return Code.NOT_MAP
    return Code.NO_FRAMES


def skippable(name: str) -> bool:
    """Frames a site looks through: the runtime, its map entry points, the standard maps package."""
    return map_causes.in_segment(name) or name.startswith("maps.")


@dataclass
class Observations:
    """Samples grouped by (site, object size, verdict code, path); codes index Code or MapCause.

    Go's heap profile keeps one record per full stack, so two records with the same visible stack and
    object size came through different runtime paths (the first bucket from mapassign, an overflow
    bucket from newoverflow) that the profile hides. Paths keep them apart: records are told apart by
    the call in the site's line that allocated (the place) and, within one visible stack, by
    their rank by count; records of different callers of the site with the same call and rank add up.
    """

    sites: Sequence[Frame] = field(default_factory=list)
    site: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    size: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    code: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    value: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    count: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    place: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


_HASH_SEED = 0x6D617073636F7065


def _stack_hashes(profile: Profile) -> np.ndarray:
    """A 64-bit hash of each sample's stack (location indices by position), computed column-wise."""
    samples = profile.samples
    offsets = samples.stack_offsets
    lengths = np.diff(offsets)
    if samples.stack_locations.size == 0:
        return np.zeros(len(samples), dtype=np.uint64)
    position = np.arange(samples.stack_locations.size) - np.repeat(offsets[:-1], lengths)
    weights = np.random.default_rng(_HASH_SEED).integers(
        1, 2**63, size=int(position.max()) + 1, dtype=np.uint64
    )
    mixed = (samples.stack_locations.astype(np.uint64) + np.uint64(1)) * (weights[position] | np.uint64(1))
    running = np.zeros(mixed.size + 1, dtype=np.uint64)
    np.cumsum(mixed, out=running[1:])
    hashes: np.ndarray = running[offsets[1:]] - running[offsets[:-1]]
    return hashes


def _path_ranks(keys: np.ndarray, hashes: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Rank (by count) of each row among the rows with the same key columns and stack hash."""
    key_group = rows(keys)[1]
    order = np.lexsort((counts, hashes, key_group))
    ordered = np.column_stack([key_group[order], hashes[order].view(np.int64)])
    starts = np.r_[True, (ordered[1:] != ordered[:-1]).any(axis=1)]
    group_start = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))
    ranks = np.empty(len(order), dtype=np.int64)
    ranks[order] = np.arange(len(order)) - group_start
    return ranks


class SiteFrames(Sequence[Frame]):
    """Sites by id. Those read column-wise from leaf locations are kept as (function index, line) and
    made into Frames only when asked for (a big profile has hundreds of thousands, few of them map
    sites); frames found by walking stacks are added by `id`, which merges equal frames."""

    def __init__(self, functions: Sequence[Function]) -> None:
        self._functions = functions
        self._entries: list[Frame | tuple[int, int]] = []
        self._ids: dict[Frame, int] | None = None

    def add_columns(self, pairs: list[tuple[int, int]]) -> int:
        """Append distinct (function, line) sites; returns the id of the first."""
        first = len(self._entries)
        self._entries.extend(pairs)
        self._ids = None
        return first

    def id(self, frame: Frame) -> int:
        if self._ids is None:
            self._ids = {self[i]: i for i in range(len(self._entries))}
        known = self._ids.get(frame)
        if known is None:
            known = self._ids[frame] = len(self._entries)
            self._entries.append(frame)
        return known

    def places(self) -> dict[tuple[str, str, int], int]:
        """Site ids by (function, file, line), without making a Frame for each."""
        found: dict[tuple[str, str, int], int] = {}
        for position, entry in enumerate(self._entries):
            if isinstance(entry, Frame):
                found[entry.function, entry.file, entry.line] = position
            else:
                function = self._functions[entry[0]]
                found[function.name, function.filename, entry[1]] = position
        return found

    def __len__(self) -> int:
        return len(self._entries)

    @overload
    def __getitem__(self, index: int) -> Frame: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Frame]: ...

    def __getitem__(self, index: int | slice) -> Frame | Sequence[Frame]:
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        entry = self._entries[index]
        if isinstance(entry, Frame):
            return entry
        function = self._functions[entry[0]]
        frame = self._entries[index] = Frame(function.name, function.filename, entry[1])
        return frame


@dataclass(frozen=True, eq=False)
class SampleSites:
    """Per sample: its site (index into `sites`, -1 for none), verdict code, and place: the location
    (row) holding the site's frame, one call instruction of the site's line."""

    sites: SiteFrames
    site: np.ndarray
    code: np.ndarray
    place: np.ndarray


def marked(indices: np.ndarray, size: int) -> np.ndarray:
    """The distinct values of `indices` (all in 0..size-1), sorted, without a sort."""
    seen = np.zeros(size, dtype=bool)
    seen[indices] = True
    return np.flatnonzero(seen)


def _user_leaves(profile: Profile, leaves: np.ndarray, sites: SiteFrames) -> np.ndarray:
    """Per location, the site of its innermost frame when that frame is the user's (-1 otherwise), for
    the `leaves` asked for; read column-wise, one site per function name, file and line."""
    locations, functions = profile.locations, profile.functions
    direct = np.full(len(locations), -1, dtype=np.int64)
    leaves = leaves[locations.line_counts()[leaves] > 0]
    first = locations.line_offsets[leaves]
    function = locations.line_function[first]
    named: dict[tuple[str, str], int] = {}
    canonical = np.full(len(functions), -1, dtype=np.int64)
    for f in marked(function, len(functions)).tolist():
        if not skippable(functions[f].name):
            canonical[f] = named.setdefault((functions[f].name, functions[f].filename), f)
    user = canonical[function] >= 0
    if not user.any():
        return direct
    distinct, inverse = rows(
        np.stack([canonical[function[user]], locations.line_number[first[user]]], axis=1)
    )
    first_id = sites.add_columns([(f, line) for f, line in distinct.tolist()])
    direct[leaves[user]] = first_id + inverse
    return direct


def _site_depth(frames: Sequence[tuple[Frame, ...]], stack: np.ndarray) -> tuple[list[str], Frame, int]:
    """The runtime run's names (leaf first), the site frame and the stack position of its location."""
    names: list[str] = []
    last: tuple[Frame, int] | None = None
    for position, location in enumerate(stack.tolist()):
        for frame in frames[location]:
            if not skippable(frame.function):
                return names, frame, position
            names.append(frame.function)
            last = frame, position
    assert last is not None
    return names, last[0], last[1]


def sample_sites(profile: Profile, kind: ProfileKind) -> SampleSites:
    frames = map_causes.location_frames(profile)
    samples = profile.samples
    n = len(samples)
    sites = SiteFrames(profile.functions)
    site = np.full(n, -1, dtype=np.int64)
    code = np.full(n, int(Code.NO_FRAMES) if kind is ProfileKind.MEMORY else -1, dtype=np.int64)
    starts, ends = samples.stack_offsets[:-1], samples.stack_offsets[1:]
    has_stack = ends > starts
    place = np.full(n, -1, dtype=np.int64)
    place[has_stack] = samples.stack_locations[starts[has_stack]]
    # Fast path: the leaf frame is the user's (every heap proto). Else walk the stack once per stack.
    leaves = marked(place[has_stack], len(profile.locations))
    site[has_stack] = _user_leaves(profile, leaves, sites)[place[has_stack]]
    walked: dict[bytes, tuple[int, int, int]] = {}
    for position in np.flatnonzero(has_stack & (site < 0)).tolist():
        stack = samples.stack(position)
        key = stack.tobytes()
        known = walked.get(key)
        if known is None:
            if not any(frames[int(location)] for location in stack.tolist()):
                known = walked[key] = (-1, int(code[position]), -1)  # unsymbolized: no frame to be a site
            else:
                names, frame, depth = _site_depth(frames, stack)
                if kind is ProfileKind.MEMORY:
                    verdict = int(memory_code(names))
                else:
                    call = map_causes.classify(names)
                    verdict = CAUSES.index(call.cause) if call is not None else -1
                known = walked[key] = (sites.id(frame), verdict, int(stack[depth]))
        site[position], code[position], place[position] = known
    if kind is ProfileKind.MEMORY and profile.callees:
        _callee_codes(profile, place, code)
    return SampleSites(sites, site, code, place)


def _callee_codes(profile: Profile, place: np.ndarray, code: np.ndarray) -> None:
    """Where no runtime frame tells, the function the site's call instruction calls does."""
    unknown = np.flatnonzero((code == Code.NO_FRAMES) & (place >= 0))
    verdicts: dict[int, int] = {}
    for location in marked(place[unknown], len(profile.locations)).tolist():
        callee = profile.callees.get(location)
        if callee is not None:
            verdicts[location] = int(callee_code(callee))
    if verdicts:
        lookup = np.full(len(profile.locations), int(Code.NO_FRAMES), dtype=np.int64)
        lookup[list(verdicts)] = list(verdicts.values())
        code[unknown] = lookup[place[unknown]]


def observe(profile: Profile, index: int, kind: ProfileKind) -> Observations:
    samples = profile.samples
    n = len(samples)
    counter = count_index(profile, index)
    counts = samples.values[:, counter] if counter is not None else np.zeros(n, dtype=np.int64)
    values = samples.values[:, index]
    sizes = object_sizes(profile, index, counts) if kind is ProfileKind.MEMORY else np.zeros(n, np.int64)
    located = sample_sites(profile, kind)
    site, code, place = located.site, located.code, located.place
    keep = site >= 0
    keys = np.stack([site[keep], sizes[keep], code[keep]], axis=1)
    if keys.size == 0:
        return Observations(located.sites)
    if kind is ProfileKind.MEMORY:
        ranks = _path_ranks(keys, _stack_hashes(profile)[keep], np.abs(counts[keep]))
        keys = np.column_stack([keys, place[keep], ranks])
    unique, inverse = rows(keys)
    value_sum = sums(inverse, values[keep], len(unique))
    count_sum = sums(inverse, counts[keep], len(unique))
    places = unique[:, 3] if kind is ProfileKind.MEMORY else np.full(len(unique), -1, dtype=np.int64)
    return Observations(located.sites, unique[:, 0], unique[:, 1], unique[:, 2], value_sum, count_sum, places)


def _combined(keys: np.ndarray) -> np.ndarray | None:
    """One int64 per row that sorts as the rows do (columns ranked densely where their range is wide),
    or None when the columns' ranges together need more than 62 bits."""
    combined = np.zeros(keys.shape[0], dtype=np.int64)
    span = 1
    for column in keys.T:
        low, high = int(column.min()), int(column.max())
        if high - low < 2**40:
            width, offset = high - low + 1, column - low
        else:
            distinct, offset = np.unique(column, return_inverse=True)
            width = distinct.size
        span *= width
        if span >= 2**62:
            return None
        combined = combined * width + offset
    return combined


def rows(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of an integer matrix, sorted, and each row's index among them (np.unique's axis=0
    without its slow sort of raw bytes: one sort of a combined key, else a lexsort)."""
    if len(keys) == 0:
        return keys, np.zeros(0, dtype=np.int64)
    combined = _combined(keys)
    if combined is not None:
        order = np.argsort(combined)
        ordered = combined[order]
        starts = np.r_[True, ordered[1:] != ordered[:-1]]
    else:
        order = np.lexsort(keys.T[::-1])
        ordered_rows = keys[order]
        starts = np.r_[True, (ordered_rows[1:] != ordered_rows[:-1]).any(axis=1)]
    group = np.cumsum(starts) - 1
    inverse = np.empty(len(order), dtype=np.int64)
    inverse[order] = group
    return keys[order[starts]], inverse


def sums(groups: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Exact int64 sums of `values` per group (np.bincount would go through float64)."""
    totals = np.zeros(size, dtype=np.int64)
    np.add.at(totals, groups, values)
    return totals
