"""Map sites of a profile: which lines of the user's code spend memory or CPU on maps, and why.

A site is the user frame nearest the leaf (function, file, line): runtime frames, the runtime's
linknamed map entry points and the standard `maps` package's wrappers are looked through. Three clues
make a site a map site, strongest first:

  * runtime frames (CPU profiles, legacy text profiles symbolized with the binary): the map runtime's
    frames above the site give the cause directly (map_causes); for memory, a new overflow bucket is
    overflow, a grow or rehash is growth, make and clone are initial allocation, the first small-map
    group is initial, a `convT*` box at a line that stores into a map is boxing, and an object
    allocated by the assignment itself is the first bucket or an out-of-line key/value by its size;
  * the source (`--source DIR`): what is written at the line (make, literal, store, clone, copy) and
    the map's type, so the model predicts every object size the line can allocate (map_shapes) and
    each of the profile's object sizes (the `bytes` label) is matched against them;
  * the sizes alone: a line whose object sizes climb the ladder of bucket or group arrays of some
    key/value size is a map that grows, even without its source.

A size that two classes share is split: objects a map allocates at most once (a header, the array of
one B) get at most one per map, where the number of maps is read off the arrays only growth
allocates; the rest goes to the per-entry class. The first bucket of a bucket map has the size of an
overflow bucket; the model's count of overflow buckets for maps of the sizes seen decides the split.
Each class of a site carries the confidence of its weakest match.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import overload

import numpy as np

from mapscope import ranges
from mapscope.analyses import map_causes, profile_totals
from mapscope.analyses.map_causes import Frame, MapCause
from mapscope.analyses.map_shapes import Candidate, MemoryClass, Shapes, probe_map_types, shapes
from mapscope.errors import MapscopeError
from mapscope.model import buckets, sizeclasses
from mapscope.model.gotypes import MAX_INLINE, GoType, Kind, MapType
from mapscope.model.ops import Op, OpKind
from mapscope.model.records import Action, Cause
from mapscope.model.simulate import simulate
from mapscope.model.swiss_loads import SLOTS as SMALL_MAP_ENTRIES
from mapscope.model.versions import Implementation, Target
from mapscope.readers import gotype_source
from mapscope.readers.go_source import ALLOCATING, ExprKind, GoFile, MapExpression, SourceTree
from mapscope.readers.pprof import Function, Profile, ValueType

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
_MIN_LADDER_RUNGS = 3
_LARGEST_HEADER = 64  # hmap of Go 1.24+ with noswissmap: 56 bytes in a 64-byte slot
_SIZE_TARGETS = ("1.23", "1.27")
_BUCKET_ONLY = frozenset(("runtime.hashGrow", "runtime.makeBucketArray", "runtime.(*hmap).newoverflow"))


class Confidence(StrEnum):
    """How a class's bytes were matched, best first."""

    EXACT = "exact"  # runtime frames, or a size only one class of the map's type has
    SPLIT = "split"  # a size several classes share, divided by counts
    GUESSED = "guessed"  # no map type known: sizes on a ladder, or boxing by elimination
    NONE = "none"  # unexplained


_RANK = {c: i for i, c in enumerate(Confidence)}


class FoundBy(StrEnum):
    RUNTIME = "runtime frames"
    SOURCE = "source"
    SIZES = "object sizes"


class ProfileKind(StrEnum):
    MEMORY = "memory"
    CPU = "cpu"
    OTHER = "other"


@dataclass(frozen=True)
class Share:
    """One cause's part of a site: a MemoryClass for memory profiles, a MapCause otherwise."""

    cause: str
    value: int
    count: int
    confidence: Confidence


@dataclass(frozen=True)
class Site:
    function: str
    file: str
    line: int
    found_by: FoundBy
    kind: str
    map_type: str | None
    expression: str
    value: int
    count: int
    shares: tuple[Share, ...]
    size_causes: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class SiteReport:
    source: str
    profile_kind: ProfileKind
    sample_type: ValueType
    count_type: ValueType | None
    total: int
    map_value: int
    target: str
    target_from: str
    sites: tuple[Site, ...]
    top: profile_totals.Top
    source_files: tuple[str, ...]


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


def _object_sizes(profile: Profile, index: int, counts: np.ndarray) -> np.ndarray:
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


class _Code(IntEnum):
    """A sample's verdict from its runtime frames, before the catalogue has its say."""

    NO_FRAMES = 0  # no runtime run above the site (heap protos strip it)
    NOT_MAP = 1  # runtime frames, but no map work
    INITIAL = 2
    GROWTH = 3
    OVERFLOW = 4
    BOXING = 5
    UNEXPLAINED = 6
    ASSIGNED_OBJECT = 7  # allocated by the assignment itself: first bucket or out-of-line key/value


_CODE_CLASS = {
    _Code.INITIAL: MemoryClass.INITIAL,
    _Code.GROWTH: MemoryClass.GROWTH,
    _Code.OVERFLOW: MemoryClass.OVERFLOW,
    _Code.BOXING: MemoryClass.BOXING,
    _Code.UNEXPLAINED: MemoryClass.UNEXPLAINED,
}
_CAUSES = tuple(MapCause)


def memory_code(names: list[str]) -> _Code:
    """What a leaf-most runtime run (function names, leaf first) allocated for a map, if anything."""
    if not names:
        return _Code.NO_FRAMES
    call = map_causes.classify(names)
    if call is None:
        return _Code.BOXING if any(_BOX_FRAME.fullmatch(n) for n in names) else _Code.NOT_MAP
    if _OVERFLOW_FRAMES.intersection(names):
        return _Code.OVERFLOW
    if call.cause is MapCause.GROWTH:
        return _Code.GROWTH
    if call.cause in (MapCause.MAKE, MapCause.CLONE) or _SMALL_GROUP in names:
        return _Code.INITIAL
    if call.cause is MapCause.INSERT:
        return _Code.ASSIGNED_OBJECT
    return _Code.UNEXPLAINED


def _skippable(name: str) -> bool:
    """Frames a site looks through: the runtime, its map entry points, the standard maps package."""
    return map_causes.in_segment(name) or name.startswith("maps.")


@dataclass
class _Observations:
    """Samples grouped by (site, object size, verdict code, path); codes index _Code or MapCause.

    Go's heap profile keeps one record per full stack, so two records with the same visible stack and
    object size came through different runtime paths (the first bucket from mapassign, an overflow
    bucket from newoverflow) that the profile hides. Paths keep them apart: records are told apart by
    the call in the site's line that allocated (the leaf location) and, within one visible stack, by
    their rank by count; records of different callers of the site with the same call and rank add up.
    """

    sites: Sequence[Frame] = field(default_factory=list)
    site: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    size: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    code: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    value: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    count: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


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
    key_group = _rows(keys)[1]
    order = np.lexsort((counts, hashes, key_group))
    ordered = np.column_stack([key_group[order], hashes[order].view(np.int64)])
    starts = np.r_[True, (ordered[1:] != ordered[:-1]).any(axis=1)]
    group_start = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))
    ranks = np.empty(len(order), dtype=np.int64)
    ranks[order] = np.arange(len(order)) - group_start
    return ranks


class _SiteFrames(Sequence[Frame]):
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
class _SampleSites:
    """Per sample: its site (index into `sites`, -1 for none), verdict code and leaf location."""

    sites: _SiteFrames
    site: np.ndarray
    code: np.ndarray
    leaf: np.ndarray


def _marked(indices: np.ndarray, size: int) -> np.ndarray:
    """The distinct values of `indices` (all in 0..size-1), sorted, without a sort."""
    seen = np.zeros(size, dtype=bool)
    seen[indices] = True
    return np.flatnonzero(seen)


def _user_leaves(profile: Profile, leaves: np.ndarray, sites: _SiteFrames) -> np.ndarray:
    """Per location, the site of its innermost frame when that frame is the user's (-1 otherwise), for
    the `leaves` asked for; read column-wise, one site per function name, file and line."""
    locations, functions = profile.locations, profile.functions
    direct = np.full(len(locations), -1, dtype=np.int64)
    leaves = leaves[locations.line_counts()[leaves] > 0]
    first = locations.line_offsets[leaves]
    function = locations.line_function[first]
    named: dict[tuple[str, str], int] = {}
    canonical = np.full(len(functions), -1, dtype=np.int64)
    for f in _marked(function, len(functions)).tolist():
        if not _skippable(functions[f].name):
            canonical[f] = named.setdefault((functions[f].name, functions[f].filename), f)
    user = canonical[function] >= 0
    if not user.any():
        return direct
    rows, inverse = _rows(np.stack([canonical[function[user]], locations.line_number[first[user]]], axis=1))
    first_id = sites.add_columns([(f, line) for f, line in rows.tolist()])
    direct[leaves[user]] = first_id + inverse
    return direct


def _sample_sites(profile: Profile, kind: ProfileKind) -> _SampleSites:
    frames = map_causes.location_frames(profile)
    samples = profile.samples
    n = len(samples)
    sites = _SiteFrames(profile.functions)
    site = np.full(n, -1, dtype=np.int64)
    code = np.full(n, int(_Code.NO_FRAMES) if kind is ProfileKind.MEMORY else -1, dtype=np.int64)
    starts, ends = samples.stack_offsets[:-1], samples.stack_offsets[1:]
    has_stack = ends > starts
    leaf = np.full(n, -1, dtype=np.int64)
    leaf[has_stack] = samples.stack_locations[starts[has_stack]]
    # Fast path: the leaf frame is the user's (every heap proto). Else walk the stack once per stack.
    leaves = _marked(leaf[has_stack], len(profile.locations))
    site[has_stack] = _user_leaves(profile, leaves, sites)[leaf[has_stack]]
    walked: dict[bytes, tuple[int, int]] = {}
    for position in np.flatnonzero(has_stack & (site < 0)).tolist():
        stack = samples.stack(position)
        key = stack.tobytes()
        known = walked.get(key)
        if known is None:
            expanded = map_causes.stack_frames(frames, stack)
            depth = 0
            while depth < len(expanded) and _skippable(expanded[depth].function):
                depth += 1
            names = [frame.function for frame in expanded[:depth]]
            if kind is ProfileKind.MEMORY:
                verdict = int(memory_code(names))
            else:
                call = map_causes.classify(names)
                verdict = _CAUSES.index(call.cause) if call is not None else -1
            # A stack of unsymbolized addresses has no frame to be a site.
            where = sites.id(expanded[min(depth, len(expanded) - 1)]) if expanded else -1
            known = walked[key] = (where, verdict)
        site[position], code[position] = known
    return _SampleSites(sites, site, code, leaf)


def _observe(profile: Profile, index: int, kind: ProfileKind) -> _Observations:
    samples = profile.samples
    n = len(samples)
    counter = count_index(profile, index)
    counts = samples.values[:, counter] if counter is not None else np.zeros(n, dtype=np.int64)
    values = samples.values[:, index]
    sizes = _object_sizes(profile, index, counts) if kind is ProfileKind.MEMORY else np.zeros(n, np.int64)
    located = _sample_sites(profile, kind)
    site, code, leaf = located.site, located.code, located.leaf
    keep = site >= 0
    keys = np.stack([site[keep], sizes[keep], code[keep]], axis=1)
    if keys.size == 0:
        return _Observations(located.sites)
    if kind is ProfileKind.MEMORY:
        ranks = _path_ranks(keys, _stack_hashes(profile)[keep], np.abs(counts[keep]))
        keys = np.column_stack([keys, leaf[keep], ranks])
    unique, inverse = _rows(keys)
    value_sum = _sums(inverse, values[keep], len(unique))
    count_sum = _sums(inverse, counts[keep], len(unique))
    return _Observations(located.sites, unique[:, 0], unique[:, 1], unique[:, 2], value_sum, count_sum)


def sample_causes(profile: Profile, index: int, report: SiteReport) -> list[str | None]:
    """Each sample's map cause in `report`'s vocabulary, or None: for CPU the runtime frames' cause, for
    memory the class its site gave most of the value of objects of its size."""
    kind = profile_kind(profile, index)
    located = _sample_sites(profile, kind)
    if kind is not ProfileKind.MEMORY:
        return [_CAUSES[c].value if c >= 0 else None for c in located.code.tolist()]
    counter = count_index(profile, index)
    counts = (
        profile.samples.values[:, counter]
        if counter is not None
        else np.zeros(len(profile.samples), np.int64)
    )
    sizes = _object_sizes(profile, index, counts)
    # (located site, object size, cause) of every report site's sizes, then each sample looked up.
    places = located.sites.places()
    names: list[str | None] = [None]
    table: list[tuple[int, int, int]] = []
    for site in report.sites:
        where = places.get((site.function, site.file, site.line))
        if where is not None:
            for size, cause in site.size_causes:
                table.append((where, size, len(names)))
                names.append(cause)
    if not table:
        return [None] * len(profile.samples)
    known = np.array(table, dtype=np.int64)
    has = located.site >= 0
    rows = np.concatenate([known[:, :2], np.stack([located.site[has], sizes[has]], axis=1)])
    group = _rows(rows)[1]
    cause_of_group = np.zeros(int(group.max()) + 1, dtype=np.int64)
    cause_of_group[group[: len(known)]] = known[:, 2]
    codes = np.zeros(len(profile.samples), dtype=np.int64)
    codes[has] = cause_of_group[group[len(known) :]]
    labels: list[str | None] = np.array(names, dtype=object)[codes].tolist()
    return labels


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


def _rows(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


def _sums(groups: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Exact int64 sums of `values` per group (np.bincount would go through float64)."""
    totals = np.zeros(size, dtype=np.int64)
    np.add.at(totals, groups, values)
    return totals


# -- matching sizes to classes --------------------------------------------------------------------------


@dataclass
class _Tally:
    """Per class: value, count and the weakest confidence seen; and per object size, value per class."""

    parts: dict[str, list[int]] = field(default_factory=dict)
    confidence: dict[str, Confidence] = field(default_factory=dict)
    sizes: dict[int, dict[str, int]] = field(default_factory=dict)

    def add(self, size: int, cause: str, value: int, count: int, confidence: Confidence) -> None:
        if value == 0 and count == 0 and cause not in self.parts:
            return
        by_cause = self.sizes.setdefault(size, {})
        by_cause[cause] = by_cause.get(cause, 0) + abs(value)
        part = self.parts.setdefault(cause, [0, 0])
        part[0] += value
        part[1] += count
        held = self.confidence.get(cause, Confidence.EXACT)
        self.confidence[cause] = held if _RANK[held] >= _RANK[confidence] else confidence

    def size_causes(self) -> tuple[tuple[int, str], ...]:
        """Each object size with the class that holds most of its value."""
        return tuple(
            (size, max(sorted(causes), key=lambda cause: causes[cause]))
            for size, causes in sorted(self.sizes.items())
        )

    def shares(self) -> tuple[Share, ...]:
        found = [
            Share(cause, value, count, self.confidence[cause]) for cause, (value, count) in self.parts.items()
        ]
        return tuple(sorted(found, key=lambda s: (-abs(s.value), s.cause)))


_UNBOUNDED_ORDER = (MemoryClass.OUT_OF_LINE, MemoryClass.BOXING, MemoryClass.OVERFLOW, MemoryClass.GROWTH)


@dataclass(frozen=True)
class _Group:
    size: int
    value: int
    count: int


def _split(value: int, count: int, take: int) -> int:
    return value if take >= count or count == 0 else value * take // count


class _SiteMatcher:
    """Matches one site's size groups against the union of its expressions' catalogues."""

    def __init__(self, catalogues: list[Shapes], interface_unknown: bool, overflow_estimate: int | None):
        self.by_size: dict[int, list[Candidate]] = {}
        for catalogue in catalogues:
            for candidate in catalogue.candidates:
                self.by_size.setdefault(candidate.size, []).append(candidate)
        self.interface_unknown = interface_unknown
        self.overflow_estimate = overflow_estimate or 0

    def maps_grown(self, groups: list[_Group]) -> int:
        """Maps at the site that grew at least once: the most objects of any size only growth allocates
        once per map."""
        counts: dict[int, int] = {}
        for group in groups:
            candidates = self.by_size.get(group.size, [])
            if candidates and all(c.memory_class is MemoryClass.GROWTH and c.bounded for c in candidates):
                counts[group.size] = counts.get(group.size, 0) + group.count
        return max(counts.values(), default=0)

    def match(self, groups: list[_Group], tally: _Tally) -> int:
        """Adds the groups' classes to `tally`; returns the value matched by the catalogue."""
        grown = self.maps_grown(groups)
        by_size: dict[int, list[_Group]] = {}
        for group in groups:
            by_size.setdefault(group.size, []).append(group)
        matched = 0
        for size, paths in by_size.items():
            candidates = self.by_size.get(size, [])
            classes = {c.memory_class for c in candidates}
            if not candidates:
                cause, confidence = (
                    (MemoryClass.BOXING, Confidence.GUESSED)
                    if self.interface_unknown
                    else (MemoryClass.UNEXPLAINED, Confidence.NONE)
                )
                for group in paths:
                    tally.add(group.size, cause, group.value, group.count, confidence)
                continue
            matched += sum(group.value for group in paths)
            if len(classes) == 1:
                only = classes.pop()
                for group in paths:
                    tally.add(size, only, group.value, group.count, Confidence.EXACT)
                continue
            self.divide(paths, candidates, grown, tally)
        return matched

    def divide(self, paths: list[_Group], candidates: list[Candidate], grown: int, tally: _Tally) -> None:
        """Objects of one size that several classes share. A bounded object (the first bucket, the array
        of one B) is allocated once per map: as many as the maps that grew (a map that never grew has its
        first bucket only)."""
        bounded = list({(c.memory_class, c.role): c for c in candidates if c.bounded}.values())
        unbounded = {c.memory_class for c in candidates if not c.bounded}
        rest = next((c for c in _UNBOUNDED_ORDER if c in unbounded), None)
        first_or_overflow = [c.role for c in bounded] == ["first"] and rest is MemoryClass.OVERFLOW
        if len(paths) > 1 and bounded:
            # Separate runtime paths: each bounded class takes the path whose count is nearest its own.
            # A path holding far more objects than there are maps (a sampled small object is scaled
            # up to thousands) is no once-per-map object.
            remaining = sorted(paths, key=lambda g: g.count)
            for candidate in bounded:
                fitting = [g for g in remaining if g.count <= 2 * max(grown, 1)]
                if not fitting or (rest is None and len(remaining) == 1):
                    break
                pick = min(fitting, key=lambda g: abs(g.count - grown))
                remaining.remove(pick)
                tally.add(pick.size, candidate.memory_class, pick.value, pick.count, Confidence.SPLIT)
            last = rest if rest is not None else bounded[-1].memory_class
            for group in remaining:
                tally.add(group.size, last, group.value, group.count, Confidence.SPLIT)
            return
        value = sum(g.value for g in paths)
        count = sum(g.count for g in paths)
        if first_or_overflow:
            # One path: all first buckets or all overflow buckets, whichever count the model expects.
            near_first = abs(count - grown) <= abs(count - self.overflow_estimate) if grown else True
            chosen = MemoryClass.INITIAL if near_first else MemoryClass.OVERFLOW
            tally.add(paths[0].size, chosen, value, count, Confidence.SPLIT)
            return
        left, shared = count, 0
        for candidate in bounded:
            take = min(left, grown)
            part = _split(value, count, take)
            tally.add(paths[0].size, candidate.memory_class, part, take, Confidence.SPLIT)
            left, shared = left - take, shared + part
        last = rest if rest is not None else bounded[-1].memory_class
        tally.add(paths[0].size, last, value - shared, left, Confidence.SPLIT)


# -- the whole profile -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SiteData:
    frame: Frame
    groups: list[_Group]
    codes: dict[int, list[_Group]]


@dataclass(frozen=True)
class _Probes:
    """Stand-in catalogues for every bucket and group size, and which of them have a given rung size."""

    catalogues: list[Shapes]
    by_size: dict[int, list[int]]


@dataclass
class _Context:
    """Per-call caches (map types parsed, catalogues built, model runs), never shared between calls."""

    sources: SourceTree | None
    files: dict[str, GoFile | None] = field(default_factory=dict)
    types: dict[tuple[str, str], GoType | None] = field(default_factory=dict)
    catalogues: dict[tuple[object, ...], Shapes] = field(default_factory=dict)
    overflows: dict[tuple[str, str, int], int] = field(default_factory=dict)
    probes: dict[Target, _Probes] = field(default_factory=dict)
    climbed: dict[tuple[Target, frozenset[int]], list[tuple[int, tuple[int, ...]]]] = field(
        default_factory=dict
    )
    by_line: dict[tuple[str, int], _SiteData] = field(default_factory=dict)
    ladder_scores: dict[Target, _LadderScores] = field(default_factory=dict)
    sized_pairs: _SizedPairs | None = None
    # By id: the catalogues live as long as the context, in `probes` and `catalogues`.
    rungs_of: dict[int, dict[int, Candidate]] = field(default_factory=dict)

    def file(self, name: str) -> GoFile | None:
        if self.sources is None:
            return None
        if name not in self.files:
            self.files[name] = self.sources.file(name)
        return self.files[name]

    def go_type(self, text: str | None, declarations: str) -> GoType | None:
        if not text:
            return None
        key = (text, declarations)
        if key not in self.types:
            try:
                self.types[key] = gotype_source.parse_type(text, declarations)
            except (MapscopeError, RecursionError):
                self.types[key] = None
        return self.types[key]

    def map_type(self, expression: MapExpression, declarations: str) -> MapType | None:
        found = self.go_type(expression.map_type, declarations)
        if found is None or found.kind is not Kind.MAP or found.key is None or found.elem is None:
            return None
        return MapType(found.key, found.elem)

    def catalogue(self, expression: MapExpression, declarations: str, target: Target) -> Shapes | None:
        map_type = self.map_type(expression, declarations)
        if map_type is None:
            return None
        boxes = []
        for stored, slot in ((expression.key_type, map_type.key), (expression.value_type, map_type.elem)):
            dynamic = self.go_type(stored, declarations)
            if slot.is_interface and dynamic is not None and not dynamic.is_interface:
                boxes.append(dynamic)
        key = (map_type, target, expression.kind, expression.hint, expression.hint_known, tuple(boxes))
        if key not in self.catalogues:
            self.catalogues[key] = shapes(
                map_type, target, expression.kind, expression.hint, expression.hint_known, tuple(boxes)
            )
        return self.catalogues[key]

    def interface_unknown(self, expression: MapExpression, declarations: str) -> bool:
        """A store of a value whose dynamic type is unknown into an interface-typed key or value."""
        map_type = self.map_type(expression, declarations)
        if map_type is None or expression.kind is not ExprKind.ASSIGN:
            return False
        for stored, slot in ((expression.key_type, map_type.key), (expression.value_type, map_type.elem)):
            if slot.is_interface and self.go_type(stored, declarations) is None:
                return True
        return False

    def overflow_buckets(self, map_type: MapType, target: Target, b: int) -> int:
        """The model's overflow buckets over the life of a map filled to the most B=`b` holds."""
        key = (map_type.name, target.label, b)
        if key not in self.overflows:
            timeline = simulate(map_type, (Op(OpKind.INSERT, buckets.load_limit(b)),), target)
            self.overflows[key] = sum(
                e.objects for e in timeline.events if e.action is Action.ALLOC and e.cause is Cause.OVERFLOW
            )
        return self.overflows[key]

    def ladders(self, target: Target, sizes: frozenset[int]) -> list[tuple[int, tuple[int, ...]]]:
        """The probes that a set of object sizes climbs three rungs of, with the sizes on their rungs
        (cached: many sites share a set of sizes)."""
        key = (target, sizes)
        known = self.climbed.get(key)
        if known is None:
            probes = self.probe(target)
            hits: dict[int, list[int]] = {}
            for size in sizes:
                for position in probes.by_size.get(size, []):
                    hits.setdefault(position, []).append(size)
            known = self.climbed[key] = [
                (position, tuple(rungs))
                for position, rungs in hits.items()
                if len(rungs) >= _MIN_LADDER_RUNGS and not all(r & (r - 1) == 0 for r in rungs)
            ]
        return known

    def rungs(self, catalogue: Shapes) -> dict[int, Candidate]:
        """A catalogue's first-bucket and array candidates by size (the last one of a size wins)."""
        known = self.rungs_of.get(id(catalogue))
        if known is None:
            known = self.rungs_of[id(catalogue)] = {
                c.size: c for c in catalogue.candidates if c.role in ("first", "arrays")
            }
        return known

    def probe(self, target: Target) -> _Probes:
        if target not in self.probes:
            catalogues = [shapes(probe, target, ExprKind.ASSIGN) for probe in probe_map_types()]
            by_size: dict[int, list[int]] = {}
            for position, catalogue in enumerate(catalogues):
                for size in {c.size for c in catalogue.candidates if c.role in ("first", "arrays")}:
                    by_size.setdefault(size, []).append(position)
            self.probes[target] = _Probes(catalogues, by_size)
        return self.probes[target]


def _made_big(context: _Context, found: GoFile, frame: Frame, store: MapExpression) -> bool:
    """The stored-to map was made, in this function, with room for more than one bucket or group, so
    its stores never allocate a first one: a constant hint over 8, or a make line that allocated
    something larger than a map header."""
    if store.made_at is None:
        return False
    made = [e for e in found.at(store.made_at) if e.kind in (ExprKind.MAKE, ExprKind.LITERAL)]
    if not made:
        return False
    if made[0].hint is not None:
        return made[0].hint > SMALL_MAP_ENTRIES
    if made[0].hint_known:
        return False
    there = context.by_line.get((frame.file, store.made_at))
    return there is not None and any(g.size > _LARGEST_HEADER for g in there.groups)


def _overflow_estimate(context: _Context, catalogue: Shapes, counts_by_size: dict[int, int]) -> int | None:
    """Overflow buckets the model expects for the maps a store site grew, read from its bucket arrays:
    maps whose last array had B=k number count(B=k) - count(B=k+1)."""
    if catalogue.target.implementation is not Implementation.BUCKETS:
        return None
    arrays = sorted(
        (int(c.what.rsplit("=", 1)[1]), c.size)
        for c in catalogue.candidates
        if c.role == "arrays" and c.what.startswith("bucket array")
    )
    total = 0
    for (b, size), following in zip(arrays, [*arrays[1:], (0, -1)], strict=True):
        ending = counts_by_size.get(size, 0) - counts_by_size.get(following[1], 0)
        if ending > 0:
            total += ending * context.overflow_buckets(catalogue.map_type, catalogue.target, b)
    return total


def _expressions(
    context: _Context, frame: Frame, allocating: bool = True
) -> tuple[GoFile | None, tuple[MapExpression, ...]]:
    """The typed map expressions at a frame's line (only those that allocate, if asked)."""
    found = context.file(frame.file)
    if found is None:
        return None, ()
    return found, tuple(
        e for e in found.at(frame.line) if e.map_type is not None and (not allocating or e.kind in ALLOCATING)
    )


def _source_site(
    context: _Context, data: _SiteData, target: Target, tally: _Tally
) -> tuple[str, str, str, int] | None:
    """Match a site's sizes with the catalogues of its source expressions; None if it has none."""
    found, expressions = _expressions(context, data.frame)
    if found is None or not expressions:
        return None
    counts_by_size: dict[int, int] = {}
    for group in data.groups:
        counts_by_size[group.size] = counts_by_size.get(group.size, 0) + group.count
    catalogues = []
    estimate = None
    for expression in expressions:
        catalogue = context.catalogue(expression, found.declarations, target)
        if catalogue is None:
            continue
        if expression.kind is ExprKind.ASSIGN:
            if _made_big(context, found, data.frame, expression):
                kept = tuple(c for c in catalogue.candidates if c.role != "first")
                catalogue = Shapes(catalogue.map_type, catalogue.target, kept)
            estimate = _overflow_estimate(context, catalogue, counts_by_size)
        catalogues.append(catalogue)
    if not catalogues:
        return None
    unknown = any(context.interface_unknown(e, found.declarations) for e in expressions)
    matcher = _SiteMatcher(catalogues, unknown, estimate)
    plain = list(data.codes.get(_Code.NO_FRAMES, []))
    matched = matcher.match(plain, tally)
    matched += _runtime_groups(data, matcher, tally)
    kinds = "+".join(dict.fromkeys(e.kind.value for e in expressions))
    return kinds, expressions[0].map_type or "", expressions[0].text, matched


def _assigned_object(
    data: _SiteData, matcher: _SiteMatcher | None, group: _Group
) -> tuple[MemoryClass, Confidence]:
    """An object the assignment allocated itself: the map's first bucket or an out-of-line key or value.
    The catalogue tells by size; without one, a first bucket has a growth array of twice its size at
    the site and about as many objects as it, and an out-of-line object is over 128 bytes."""
    if matcher is not None:
        first = any(c.role == "first" for c in matcher.by_size.get(group.size, []))
        return (MemoryClass.INITIAL if first else MemoryClass.OUT_OF_LINE), Confidence.EXACT
    doubled = {sizeclasses.heap_bytes(2 * group.size, noscan) for noscan in (True, False)}
    arrays = [g.count for g in data.codes.get(_Code.GROWTH, []) if g.size in doubled]
    if arrays and group.count <= 2 * max(*arrays, 1):
        return MemoryClass.INITIAL, Confidence.GUESSED
    if group.size > MAX_INLINE:
        return MemoryClass.OUT_OF_LINE, Confidence.GUESSED
    return MemoryClass.UNEXPLAINED, Confidence.NONE


def _runtime_groups(data: _SiteData, matcher: _SiteMatcher | None, tally: _Tally) -> int:
    """Groups whose runtime frames decided the class; objects of the assignment itself go by size."""
    matched = 0
    for code, groups in data.codes.items():
        if code in (_Code.NO_FRAMES, _Code.NOT_MAP):
            continue
        for group in groups:
            matched += group.value
            if code == _Code.ASSIGNED_OBJECT:
                memory_class, confidence = _assigned_object(data, matcher, group)
                tally.add(group.size, memory_class, group.value, group.count, confidence)
            else:
                tally.add(group.size, _CODE_CLASS[_Code(code)], group.value, group.count, Confidence.EXACT)
    for group in data.codes.get(_Code.NOT_MAP, []):
        tally.add(group.size, MemoryClass.UNEXPLAINED, group.value, group.count, Confidence.NONE)
    return matched


def _ladder_sites(context: _Context, observations: _Observations, ladders: dict[int, Shapes]) -> list[Site]:
    """Sites found by their object sizes alone (no source, no runtime frames), column-wise: a size on
    the site's ladder goes to its rung's class (guessed), any other size is unexplained. The same as
    tallying each site's groups in order (_sized_site into _Tally), whose one subtlety is kept: a
    class starts with its first group of non-zero value or count, so a size of that class comes into
    size_causes only from that group's size on."""
    chosen = np.fromiter(ladders, dtype=np.int64, count=len(ladders))
    rows = np.flatnonzero(np.isin(observations.site, chosen))
    if rows.size == 0:
        return []
    value, count = observations.value[rows], observations.count[rows]
    pairs, pair_of_row = _rows(np.stack([observations.site[rows], observations.size[rows]], axis=1))
    classes = list(MemoryClass)
    pair_class = np.empty(len(pairs), dtype=np.int64)
    pair_rank = np.empty(len(pairs), dtype=np.int64)
    for k, (site, size) in enumerate(pairs.tolist()):
        rung = context.rungs(ladders[site]).get(size)
        pair_class[k] = classes.index(rung.memory_class if rung is not None else MemoryClass.UNEXPLAINED)
        pair_rank[k] = _RANK[Confidence.GUESSED if rung is not None else Confidence.NONE]
    pair_value, pair_count = _sums(pair_of_row, value, len(pairs)), _sums(pair_of_row, count, len(pairs))
    pair_live = np.bincount(pair_of_row, weights=(value != 0) | (count != 0), minlength=len(pairs)) > 0
    groups, group_of_pair = _rows(np.stack([pairs[:, 0], pair_class], axis=1))
    first_size = np.full(len(groups), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_size, group_of_pair[pair_live], pairs[pair_live, 1])
    included = pairs[:, 1] >= first_size[group_of_pair]
    group_value = _sums(group_of_pair, pair_value, len(groups))
    group_count = _sums(group_of_pair, pair_count, len(groups))
    group_rank = np.zeros(len(groups), dtype=np.int64)
    np.maximum.at(group_rank, group_of_pair[included], pair_rank[included])
    present = np.bincount(group_of_pair, weights=pair_live, minlength=len(groups)) > 0
    ranked = list(Confidence)
    shares_of: dict[int, list[Share]] = {}
    for site, klass, v, c, rank in zip(
        groups[present, 0].tolist(),
        groups[present, 1].tolist(),
        group_value[present].tolist(),
        group_count[present].tolist(),
        group_rank[present].tolist(),
        strict=True,
    ):
        shares_of.setdefault(site, []).append(Share(classes[klass], v, c, ranked[rank]))
    causes_of: dict[int, list[tuple[int, str]]] = {}
    for site, size, klass in zip(
        pairs[included, 0].tolist(), pairs[included, 1].tolist(), pair_class[included].tolist(), strict=True
    ):
        causes_of.setdefault(site, []).append((size, classes[klass]))
    found = []
    for site, shares in shares_of.items():
        shares.sort(key=lambda s: (-abs(s.value), s.cause))
        if not any(s.value or s.count for s in shares):
            continue
        frame = observations.sites[site]
        found.append(
            Site(
                function=frame.function,
                file=frame.file,
                line=frame.line,
                found_by=FoundBy.SIZES,
                kind="",
                map_type=None,
                expression="",
                value=sum(s.value for s in shares),
                count=sum(s.count for s in shares),
                shares=tuple(shares),
                size_causes=tuple(causes_of[site]),
            )
        )
    return found


def _detect_target(
    context: _Context, profile: Profile, data: list[_SiteData], observations: _Observations, sized: np.ndarray
) -> tuple[Target, str]:
    """The map implementation the profile's runtime frames name, else the one whose catalogues explain
    more of the profile's bytes."""
    names = {function.name for function in profile.functions}
    if any(name.startswith("internal/runtime/maps.") for name in names):
        return Target.parse(_SIZE_TARGETS[1]), "detected: runtime frames of Swiss tables (Go 1.24+)"
    if names & _BUCKET_ONLY:
        return Target.parse(_SIZE_TARGETS[0]), "detected: runtime frames of bucket maps"
    candidates = [Target.parse(go) for go in _SIZE_TARGETS]
    scores = []
    for target in candidates:
        score = 0
        for site in data:
            tally = _Tally()
            matched = _source_site(context, site, target, tally)
            if matched is not None:
                score += matched[3]
        scores.append(score)
    if not any(scores):
        scores = [int(_ladders(context, target, observations, sized).value.sum()) for target in candidates]
    if not any(scores):
        return Target.parse(None), "default (no map sizes to tell the implementation by)"
    best = max(range(len(candidates)), key=lambda i: (scores[i], i))
    fits = {
        Implementation.BUCKETS: "bucket maps (Go 1.22-1.23)",
        Implementation.SWISS: "Swiss tables (Go 1.24+)",
    }
    return candidates[best], f"detected: object sizes fit {fits[candidates[best].implementation]}"


def _candidates(
    context: _Context, observations: _Observations, kind: ProfileKind
) -> tuple[np.ndarray, np.ndarray]:
    """Sites that can be map sites, so only they are looked at one by one: sites with map work in their
    runtime frames or a map operation at their line; and (memory) sites with the three object sizes a
    ladder of arrays needs, which `_ladders` scores column-wise."""
    n = len(observations.sites)
    wanted = np.zeros(n, dtype=bool)
    sized = np.zeros(n, dtype=bool)
    if kind is ProfileKind.MEMORY:
        wanted[observations.site[observations.code != _Code.NO_FRAMES]] = True
        if observations.site.size:
            pairs = _rows(np.stack([observations.site, observations.size], axis=1))[0]
            sized = np.bincount(pairs[:, 0], minlength=n) >= _MIN_LADDER_RUNGS
    else:
        wanted[observations.site[observations.code >= 0]] = True
    if context.sources is not None:
        for position in np.flatnonzero(~wanted).tolist():
            frame = observations.sites[position]
            found = context.file(frame.file)
            wanted[position] = found is not None and bool(found.at(frame.line))
    return wanted, sized & ~wanted


@dataclass(frozen=True)
class _LadderScores:
    """Per site: the value on the best ladder, that ladder's catalogue index (-1 for none), the site's
    whole value."""

    value: np.ndarray
    probe: np.ndarray
    total: np.ndarray

    def winners(self) -> np.ndarray:
        """Sites whose best ladder holds at least half their value."""
        return (self.probe >= 0) & (2 * self.value >= self.total)


@dataclass(frozen=True, eq=False)
class _SizedPairs:
    """The (site, object size) pairs of the sites a ladder could explain, sorted, with their values,
    and each such site's whole value: what every target's ladder scoring starts from."""

    pairs: np.ndarray
    value: np.ndarray
    total: np.ndarray


def _sized_pairs(context: _Context, observations: _Observations, sized: np.ndarray) -> _SizedPairs:
    if context.sized_pairs is None:
        n = len(observations.sites)
        total = np.zeros(n, np.int64)
        rows = np.flatnonzero(sized[observations.site]) if observations.site.size else np.zeros(0, np.int64)
        np.add.at(total, observations.site[rows], observations.value[rows])
        pairs, inverse = _rows(np.stack([observations.site[rows], observations.size[rows]], axis=1))
        context.sized_pairs = _SizedPairs(pairs, _sums(inverse, observations.value[rows], len(pairs)), total)
    return context.sized_pairs


def _same_sizes(pairs: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> list[np.ndarray] | None:
    """Sites (given by their runs [starts, ends) of `pairs`) grouped by their set of object sizes, as
    arrays of run starts; None on a hash collision, which the caller then resolves the slow way."""
    distinct, size_id = np.unique(pairs[:, 1], return_inverse=True)
    weights = np.random.default_rng(_HASH_SEED).integers(1, 2**63, size=distinct.size, dtype=np.uint64)
    running = np.zeros(pairs.shape[0] + 1, dtype=np.uint64)
    np.cumsum(weights[size_id], out=running[1:])
    hashes = running[ends] - running[starts]
    group = _rows(np.stack([hashes.view(np.int64), ends - starts], axis=1))[1]
    order = np.argsort(group, kind="stable")
    first = starts[order][np.r_[True, group[order][1:] != group[order][:-1]]]
    # Every site's sizes must equal its group's first site's sizes.
    lengths = ends - starts
    own = ranges.expand(starts, ends)
    theirs = ranges.expand(first[group], first[group] + lengths)
    if not np.array_equal(pairs[own, 1], pairs[theirs, 1]):
        return None
    return np.split(starts[order], np.flatnonzero(group[order][1:] != group[order][:-1]) + 1)


def _ladders(
    context: _Context, target: Target, observations: _Observations, sized: np.ndarray
) -> _LadderScores:
    """Best ladder of every `sized` site, with sites that share a set of object sizes scored together."""
    known = context.ladder_scores.get(target)
    if known is not None:
        return known
    n = len(observations.sites)
    start = _sized_pairs(context, observations, sized)
    scores = context.ladder_scores[target] = _LadderScores(
        np.zeros(n, np.int64), np.full(n, -1, np.int64), start.total
    )
    probes = context.probe(target)
    keep = np.isin(start.pairs[:, 1], np.fromiter(probes.by_size, dtype=np.int64))
    pairs, pair_value = start.pairs[keep], start.value[keep]
    if pairs.size == 0:
        return scores
    starts = np.flatnonzero(np.r_[True, pairs[1:, 0] != pairs[:-1, 0]])
    ends = np.r_[starts[1:], len(pairs)]
    enough = ends - starts >= _MIN_LADDER_RUNGS
    starts, ends = starts[enough], ends[enough]
    if starts.size == 0:
        return scores
    groups = _same_sizes(pairs, starts, ends)
    if groups is None:
        shared: dict[bytes, list[int]] = {}
        for first, last in zip(starts.tolist(), ends.tolist(), strict=True):
            shared.setdefault(pairs[first:last, 1].tobytes(), []).append(first)
        groups = [np.array(firsts, dtype=np.int64) for firsts in shared.values()]
    run_end = dict(zip(starts.tolist(), ends.tolist(), strict=True))
    for firsts in groups:
        first = int(firsts[0])
        sizes = pairs[first : run_end[first], 1]
        matrix = pair_value[firsts[:, None] + np.arange(sizes.size)]
        sites = pairs[firsts, 0]
        for position, rungs in context.ladders(target, frozenset(sizes.tolist())):
            value = matrix[:, np.searchsorted(sizes, rungs)].sum(axis=1)
            better = value > scores.value[sites]
            scores.value[sites[better]] = value[better]
            scores.probe[sites[better]] = position
    return scores


def _site_data(observations: _Observations, wanted: np.ndarray) -> list[_SiteData]:
    by_site: dict[int, _SiteData] = {}
    rows = np.flatnonzero(wanted[observations.site]) if observations.site.size else np.zeros(0, np.int64)
    columns = (
        observations.site,
        observations.size,
        observations.value,
        observations.count,
        observations.code,
    )
    for site, size, value, count, code in zip(*(column[rows].tolist() for column in columns), strict=True):
        group = _Group(size, value, count)
        data = by_site.get(site)
        if data is None:
            data = by_site[site] = _SiteData(observations.sites[site], [], {})
        data.groups.append(group)
        data.codes.setdefault(code, []).append(group)
    return list(by_site.values())


def attribute(
    profile: Profile,
    index: int,
    sources: SourceTree | None = None,
    target: Target | None = None,
) -> SiteReport:
    """The map sites of one sample type of a profile, then the profile's top as pprof prints it."""
    kind = profile_kind(profile, index)
    observations = _observe(profile, index, kind)
    context = _Context(sources)
    wanted, sized = _candidates(context, observations, kind)
    data = _site_data(observations, wanted)
    context.by_line.update({(d.frame.file, d.frame.line): d for d in data})
    target_from = "--go"
    if kind is ProfileKind.MEMORY and target is None:
        target, target_from = _detect_target(context, profile, data, observations, sized)
    elif target is None:
        target, target_from = Target.parse(None), "not needed: runtime frames name the causes"
    sites = [
        site
        for site in (
            _memory_site(context, d, target) if kind is ProfileKind.MEMORY else _cpu_site(context, d)
            for d in data
        )
        if site is not None
    ]
    if kind is ProfileKind.MEMORY and sized.any():
        scores = _ladders(context, target, observations, sized)
        winners = np.flatnonzero(scores.winners())
        catalogues = context.probe(target).catalogues
        found = {int(w): catalogues[int(scores.probe[w])] for w in winners}
        sites.extend(_ladder_sites(context, observations, found))
    sites.sort(key=lambda s: (-abs(s.value), s.function, s.file, s.line))
    counter = count_index(profile, index)
    matched = sorted(name for name, found in context.files.items() if found is not None)
    return SiteReport(
        source=profile.source,
        profile_kind=kind,
        sample_type=profile.sample_types[index],
        count_type=profile.sample_types[counter] if counter is not None else None,
        total=profile_totals.totals(profile)[index].total,
        map_value=sum(s.value for s in sites),
        target=target.label,
        target_from=target_from,
        sites=tuple(sites),
        top=profile_totals.top(profile, index),
        source_files=tuple(matched),
    )


def _memory_site(context: _Context, data: _SiteData, target: Target) -> Site | None:
    tally = _Tally()
    found = _source_site(context, data, target, tally)
    if found is not None:
        kinds, map_type, text, _ = found
        return _site(data, FoundBy.SOURCE, kinds, map_type, text, tally)
    has_map_frames = any(code not in (_Code.NO_FRAMES, _Code.NOT_MAP, _Code.BOXING) for code in data.codes)
    if has_map_frames:
        _runtime_groups(data, None, tally)
        plain = data.codes.get(_Code.NO_FRAMES, [])
        for group in plain:
            tally.add(group.size, MemoryClass.UNEXPLAINED, group.value, group.count, Confidence.NONE)
        return _site(data, FoundBy.RUNTIME, "", None, "", tally)
    return None


def _cpu_site(context: _Context, data: _SiteData) -> Site | None:
    tally = _Tally()
    for code, groups in data.codes.items():
        if code < 0:
            continue
        for group in groups:
            tally.add(group.size, _CAUSES[code].value, group.value, group.count, Confidence.EXACT)
    if not tally.parts:
        return None
    _, expressions = _expressions(context, data.frame, allocating=False)
    map_type = expressions[0].map_type if expressions else None
    text = expressions[0].text if expressions else ""
    kinds = "+".join(dict.fromkeys(e.kind.value for e in expressions))
    return _site(data, FoundBy.RUNTIME, kinds, map_type, text, tally)


def _site(
    data: _SiteData, found_by: FoundBy, kind: str, map_type: str | None, text: str, tally: _Tally
) -> Site | None:
    shares = tally.shares()
    if not any(s.value or s.count for s in shares):
        return None
    return Site(
        function=data.frame.function,
        file=data.frame.file,
        line=data.frame.line,
        found_by=found_by,
        kind=kind,
        map_type=map_type,
        expression=text,
        value=sum(s.value for s in shares),
        count=sum(s.count for s in shares),
        shares=shares,
        size_causes=tally.size_causes(),
    )
