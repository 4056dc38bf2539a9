"""pprof profiles (profile.proto, gzip or plain) turned into validated, typed, columnar records.

The wire format is decoded by the protobuf package's C parser (upb) with mapscope's own schema
(profile.proto beside this file), which leaves every sample and location as raw bytes; those are then
decoded all at once into numpy columns, so a profile with hundreds of thousands of samples, locations
and millions of frames loads in seconds. Everything that refers to
something else is checked before a record is built: string indices, location/function/mapping IDs, and
value counts. References in profile.proto only point "down" (sample -> location -> function, mapping),
so once every ID resolves there is nothing that could form a cycle; recursion inside one stack is legal
data and is handled by the analyses.

The same records carry the legacy text profiles (see pprof_text.py), so analyses never care where a
profile came from.
"""

from __future__ import annotations

import collections.abc
import itertools
import operator
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import SupportsIndex

import numpy as np
from google.protobuf.message import DecodeError

from mapscope import limits, ranges
from mapscope.errors import MapscopeError
from mapscope.readers import profile_pb2

# A gzip stream may not inflate beyond this, nor beyond _MAX_RATIO times its own size (with _MIN_LIMIT as
# the floor): Go's profiles compress 2-3x (it writes with gzip.BestSpeed), gzipped text up to 10x, a
# decompression bomb 1000x. The ratio bounds the work a small file can ask for; an uncompressed file is
# bounded by its own size.
DEFAULT_MAX_DECOMPRESSED = 1 << 30
_MIN_LIMIT = limits.INFLATE_MIN_BYTES
_MAX_RATIO = limits.INFLATE_RATIO_MAX
_CHUNK_IN = 64 << 10

GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class ValueType:
    type: str
    unit: str


@dataclass(frozen=True)
class Mapping:
    id: int
    memory_start: int
    memory_limit: int
    file_offset: int
    filename: str
    build_id: str
    has_functions: bool
    has_filenames: bool
    has_line_numbers: bool
    has_inline_frames: bool


@dataclass(frozen=True)
class Function:
    id: int
    name: str
    system_name: str
    filename: str
    start_line: int


@dataclass(frozen=True)
class Line:
    """One (possibly inlined) frame of a location; `function` is an index into Profile.functions."""

    function: int
    line: int
    column: int


@dataclass(frozen=True)
class Location:
    """A code address; `lines` are leaf first (innermost inlined call first, physical caller last).

    `mapping` is an index into Profile.mappings, or None when the location lies in no known mapping.
    """

    id: int
    mapping: int | None
    address: int
    lines: tuple[Line, ...]
    is_folded: bool


@dataclass(frozen=True, eq=False)
class Locations:
    """All locations of a profile, column-wise (read-only numpy arrays); `locations[i]` is a Location.

    Location i has ids[i], mapping[i] (an index into Profile.mappings, -1 for none), address[i],
    is_folded[i], and the lines line_*[line_offsets[i]:line_offsets[i + 1]], innermost first, whose
    line_function is an index into Profile.functions. Analyses that look at every location read the
    columns; the records are made only for the locations asked for.
    """

    ids: np.ndarray
    mapping: np.ndarray
    address: np.ndarray
    is_folded: np.ndarray
    line_offsets: np.ndarray
    line_function: np.ndarray
    line_number: np.ndarray
    line_column: np.ndarray

    def __len__(self) -> int:
        return int(self.ids.size)

    def __getitem__(self, i: SupportsIndex) -> Location:
        position = range(len(self))[operator.index(i)]
        first, last = int(self.line_offsets[position]), int(self.line_offsets[position + 1])
        mapping = int(self.mapping[position])
        return Location(
            id=int(self.ids[position]),
            mapping=mapping if mapping >= 0 else None,
            address=int(self.address[position]),
            lines=tuple(
                Line(int(f), int(n), int(c))
                for f, n, c in zip(
                    self.line_function[first:last].tolist(),
                    self.line_number[first:last].tolist(),
                    self.line_column[first:last].tolist(),
                    strict=True,
                )
            ),
            is_folded=bool(self.is_folded[position]),
        )

    def __iter__(self) -> Iterator[Location]:
        return (self[i] for i in range(len(self)))

    def line_counts(self) -> np.ndarray:
        counts: np.ndarray = np.diff(self.line_offsets)
        return counts

    @classmethod
    def of(cls, records: Sequence[Location]) -> Locations:
        """Columns from records (readers of small profiles, and tests)."""
        lines = [line for location in records for line in location.lines]
        return make_locations(
            ids=np.array([loc.id for loc in records], dtype=np.uint64),
            mapping=np.array([-1 if loc.mapping is None else loc.mapping for loc in records], dtype=np.int64),
            address=np.array([loc.address for loc in records], dtype=np.uint64),
            is_folded=np.array([loc.is_folded for loc in records], dtype=bool),
            line_counts=np.array([len(loc.lines) for loc in records], dtype=np.int64),
            line_function=np.array([line.function for line in lines], dtype=np.int64),
            line_number=np.array([line.line for line in lines], dtype=np.int64),
            line_column=np.array([line.column for line in lines], dtype=np.int64),
        )


def make_locations(
    ids: np.ndarray,
    mapping: np.ndarray,
    address: np.ndarray,
    is_folded: np.ndarray,
    line_counts: np.ndarray,
    line_function: np.ndarray,
    line_number: np.ndarray,
    line_column: np.ndarray,
) -> Locations:
    """Locations from their columns (per-location line counts rather than offsets), made read-only."""
    return Locations(
        ids=_frozen(ids.astype(np.uint64, copy=False)),
        mapping=_frozen(mapping.astype(np.int64, copy=False)),
        address=_frozen(address.astype(np.uint64, copy=False)),
        is_folded=_frozen(is_folded.astype(bool, copy=False)),
        line_offsets=_frozen(ranges.offsets(line_counts)),
        line_function=_frozen(line_function.astype(np.int64, copy=False)),
        line_number=_frozen(line_number.astype(np.int64, copy=False)),
        line_column=_frozen(line_column.astype(np.int64, copy=False)),
    )


@dataclass(frozen=True)
class Label:
    key: str
    str_value: str | None
    num: int | None
    num_unit: str


@dataclass(frozen=True)
class MemStats:
    """The `# runtime.MemStats` trailer of a legacy text heap profile (runtime.ReadMemStats at write time).

    `values` holds the integer fields by name (Alloc, HeapInuse, NumGC, ...); the `inuse / sys` lines
    (Stack, MSpan, MCache) are in `pairs`.
    """

    values: tuple[tuple[str, int], ...]
    pairs: tuple[tuple[str, int, int], ...]
    pause_ns: tuple[int, ...]
    pause_end: tuple[int, ...]
    gc_cpu_fraction: float | None
    debug_gc: bool | None

    def get(self, name: str) -> int | None:
        return dict(self.values).get(name)


_LABEL_NONE, LABEL_STR, LABEL_NUM = 0, 1, 2


@dataclass(frozen=True, eq=False)
class Samples:
    """All samples of a profile, column-wise (read-only numpy arrays).

    Sample i has values[i] (one column per sample type), the stack
    stack_locations[stack_offsets[i]:stack_offsets[i + 1]] (indices into Profile.locations, leaf
    first) and the labels label_*[label_offsets[i]:label_offsets[i + 1]]. Label keys, string values and
    units are indices into Profile.strings; label_kind says whether a label is a string (LABEL_STR) or a
    number (LABEL_NUM); labels that are neither (a bare key, as pprof reads them) have kind 0.
    """

    values: np.ndarray
    stack_offsets: np.ndarray
    stack_locations: np.ndarray
    label_offsets: np.ndarray
    label_key: np.ndarray
    label_str: np.ndarray
    label_num: np.ndarray
    label_unit: np.ndarray
    label_kind: np.ndarray

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def stack(self, i: int) -> np.ndarray:
        return self.stack_locations[self.stack_offsets[i] : self.stack_offsets[i + 1]]


@dataclass(frozen=True, eq=False)
class Profile:
    """One profile. `format` names what it was read from: "proto", "go-heap-text", "heapz-text",
    "growthz-text" or "count-text". `memstats` is only set for legacy Go heap text.

    `callees` maps a location's row (its position in `locations`) to the function the direct CALL
    instruction just before that location's return address calls (`runtime.convT64`,
    `runtime.growslice`, ...); it is filled whenever a binary was read, for every location whose call
    is direct. `symbolization` says in one sentence where the names came from (see symbolize.py).
    """

    source: str
    format: str
    sample_types: tuple[ValueType, ...]
    default_sample_type: str
    period_type: ValueType | None
    period: int
    time_nanos: int
    duration_nanos: int
    comments: tuple[str, ...]
    drop_frames: str
    keep_frames: str
    doc_url: str
    mappings: tuple[Mapping, ...]
    locations: Locations
    functions: tuple[Function, ...]
    samples: Samples
    strings: tuple[str, ...]
    memstats: MemStats | None = None
    callees: collections.abc.Mapping[int, str] = field(default_factory=dict)
    symbolization: str = ""

    def sample_labels(self, i: int) -> tuple[Label, ...]:
        s = self.samples
        labels = []
        for j in range(int(s.label_offsets[i]), int(s.label_offsets[i + 1])):
            kind = int(s.label_kind[j])
            if kind == _LABEL_NONE:
                continue
            labels.append(
                Label(
                    key=self.strings[int(s.label_key[j])],
                    str_value=self.strings[int(s.label_str[j])] if kind == LABEL_STR else None,
                    num=int(s.label_num[j]) if kind == LABEL_NUM else None,
                    num_unit=self.strings[int(s.label_unit[j])],
                )
            )
        return tuple(labels)

    @property
    def is_diff(self) -> bool:
        """Go never writes a negative value: a profile that has one is a difference of two profiles
        (`go tool pprof -diff_base` or `-base` output), each value NEW minus BASE."""
        return bool((self.samples.values < 0).any())

    def numeric_label(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """(value, present) per sample: the first numeric label `key` of each sample (e.g. Go's `bytes`)."""
        s = self.samples
        n = len(s)
        value = np.zeros(n, dtype=np.int64)
        present = np.zeros(n, dtype=bool)
        # Compare strings, not indices: a writer need not de-duplicate its string table.
        keys = np.array([i for i, text in enumerate(self.strings) if text == key], dtype=np.int64)
        hits = np.flatnonzero(np.isin(s.label_key, keys) & (s.label_kind == LABEL_NUM))
        if hits.size:
            owner = np.searchsorted(s.label_offsets, hits, side="right") - 1
            first = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
            value[owner[first]] = s.label_num[hits[first]]
            present[owner[first]] = True
        return value, present


def _frozen(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def check_stack_depths(depths: np.ndarray, source: str) -> None:
    """Refuse stacks deeper than any profiler writes: a flame graph or a walk up a stack costs a step per
    level, so one million-frame stack would cost what a whole profile does."""
    if depths.size and int(depths.max()) > limits.STACK_FRAMES_MAX:
        raise MapscopeError(
            source,
            f"a sample's stack has {int(depths.max())} frames; profilers write at most a few hundred "
            f"(mapscope reads up to {limits.STACK_FRAMES_MAX})",
        )


def make_samples(
    values: np.ndarray,
    stack_offsets: np.ndarray,
    stack_locations: np.ndarray,
    labels: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> Samples:
    """Samples from its columns; `labels` is (offsets, key, str, num, unit, kind), or None for no labels."""
    if labels is None:
        empty = np.zeros(0, dtype=np.int64)
        zeros = np.zeros(values.shape[0] + 1, dtype=np.int64)
        labels = (zeros, empty, empty.copy(), empty.copy(), empty.copy(), np.zeros(0, dtype=np.int8))
    offsets, key, str_, num, unit, kind = labels
    return Samples(
        values=_frozen(values),
        stack_offsets=_frozen(stack_offsets),
        stack_locations=_frozen(stack_locations),
        label_offsets=_frozen(offsets),
        label_key=_frozen(key),
        label_str=_frozen(str_),
        label_num=_frozen(num),
        label_unit=_frozen(unit),
        label_kind=_frozen(kind),
    )


def gzip_limit(compressed_size: int, max_decompressed: int = DEFAULT_MAX_DECOMPRESSED) -> int:
    return min(max_decompressed, max(_MIN_LIMIT, _MAX_RATIO * compressed_size))


def gunzip(data: bytes, source: str, max_decompressed: int = DEFAULT_MAX_DECOMPRESSED) -> bytearray:
    """Inflate a gzip stream (several members are concatenated, as Go's reader does) with a hard size cap.

    The cap is checked while inflating and the input is fed in small slices, so a bomb costs at most the
    cap in memory and the time to inflate that much.
    """
    limit = gzip_limit(len(data), max_decompressed)
    out = bytearray()
    view = memoryview(data)
    position = 0
    while True:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        pending: bytes | memoryview = b""
        try:
            while not inflater.eof:
                if not pending and position < len(view):
                    pending = view[position : position + _CHUNK_IN]
                    position += len(pending)
                piece = inflater.decompress(pending, limit + 1 - len(out))
                out += piece
                if len(out) > limit:
                    raise MapscopeError(
                        source,
                        f"gzip data inflates to more than {limit} bytes (limit: {max_decompressed} bytes and "
                        f"{_MAX_RATIO}x the compressed size); refusing a possible decompression bomb "
                        "(if it is a real profile, gunzip it first)",
                    )
                pending = inflater.unconsumed_tail
                if not piece and not pending and position >= len(view):
                    break
        except zlib.error as error:
            raise MapscopeError(source, f"corrupt gzip data ({error})") from None
        if not inflater.eof:
            raise MapscopeError(source, "truncated gzip data (the stream ends before its end marker)")
        rest = inflater.unused_data + view[position:].tobytes()
        if not rest:
            return out
        if not rest.startswith(GZIP_MAGIC):
            raise MapscopeError(source, "trailing garbage after the gzip data")
        view, position = memoryview(rest), 0


def parse_proto(data: bytes | bytearray, source: str) -> Profile:
    """An uncompressed profile.proto message -> Profile, or MapscopeError naming the first problem."""
    if not data:
        raise MapscopeError(source, "empty profile")
    message = profile_pb2.ProfileRawSamples()
    try:
        message.ParseFromString(data)
    except (DecodeError, RecursionError):
        # upb says no more than "Error parsing message"; an offset would not help a user either.
        raise MapscopeError(
            source, "not a pprof profile (neither profile.proto nor a known text format)"
        ) from None
    return _Decoder(message, source).profile()


class _Decoder:
    """Turns a parsed message into records, checking every reference on the way."""

    def __init__(self, message: profile_pb2.ProfileRawSamples, source: str) -> None:
        self.m = message
        self.source = source
        table = message.string_table
        if not table:
            raise MapscopeError(source, "not a pprof profile (empty string table)")
        if table[0] != b"":
            raise MapscopeError(source, "malformed profile: string_table[0] must be the empty string")
        self.strings: tuple[str, ...] = tuple(bytes(b).decode("utf-8", "replace") for b in table)

    def fail(self, problem: str) -> MapscopeError:
        return MapscopeError(self.source, f"malformed profile: {problem}")

    def string(self, index: int, what: str) -> str:
        if not 0 <= index < len(self.strings):
            raise self.fail(
                f"{what} refers to string {index}, outside the string table ({len(self.strings)})"
            )
        return self.strings[index]

    def value_type(self, vt: profile_pb2.ValueType, what: str) -> ValueType:
        return ValueType(self.string(vt.type, f"{what} type"), self.string(vt.unit, f"{what} unit"))

    def profile(self) -> Profile:
        m = self.m
        sample_types = tuple(self.value_type(vt, f"sample_type {i}") for i, vt in enumerate(m.sample_type))
        mappings, mapping_index = self.mappings()
        functions, function_index = self.functions()
        locations = self.locations(mapping_index, function_index)
        samples = self.samples(len(sample_types), locations.ids)
        return Profile(
            source=self.source,
            format="proto",
            sample_types=sample_types,
            default_sample_type=self.string(m.default_sample_type, "default_sample_type"),
            period_type=self.value_type(m.period_type, "period_type") if m.HasField("period_type") else None,
            period=m.period,
            time_nanos=m.time_nanos,
            duration_nanos=m.duration_nanos,
            comments=tuple(self.string(c, "comment") for c in m.comment),
            drop_frames=self.string(m.drop_frames, "drop_frames"),
            keep_frames=self.string(m.keep_frames, "keep_frames"),
            doc_url=self.string(m.doc_url, "doc_url"),
            mappings=mappings,
            locations=locations,
            functions=functions,
            samples=samples,
            strings=self.strings,
        )

    def register(self, kind: str, ident: int, index: dict[int, int]) -> None:
        """Give record `ident` the next position; ids are non-zero and unique per kind."""
        if ident == 0:
            raise self.fail(f"a {kind} has the reserved id 0")
        if ident in index:
            raise self.fail(f"two {kind}s have id {ident}")
        index[ident] = len(index)

    def mappings(self) -> tuple[tuple[Mapping, ...], dict[int, int]]:
        records: list[Mapping] = []
        index: dict[int, int] = {}
        for m in self.m.mapping:
            what = f"mapping {m.id}"
            self.register("mapping", m.id, index)
            records.append(
                Mapping(
                    id=m.id,
                    memory_start=m.memory_start,
                    memory_limit=m.memory_limit,
                    file_offset=m.file_offset,
                    filename=self.string(m.filename, f"{what} filename"),
                    build_id=self.string(m.build_id, f"{what} build_id"),
                    has_functions=m.has_functions,
                    has_filenames=m.has_filenames,
                    has_line_numbers=m.has_line_numbers,
                    has_inline_frames=m.has_inline_frames,
                )
            )
        return tuple(records), index

    def functions(self) -> tuple[tuple[Function, ...], dict[int, int]]:
        records: list[Function] = []
        index: dict[int, int] = {}
        for f in self.m.function:
            what = f"function {f.id}"
            self.register("function", f.id, index)
            records.append(
                Function(
                    id=f.id,
                    name=self.string(f.name, f"{what} name"),
                    system_name=self.string(f.system_name, f"{what} system_name"),
                    filename=self.string(f.filename, f"{what} filename"),
                    start_line=f.start_line,
                )
            )
        return tuple(records), index

    def locations(self, mapping_index: dict[int, int], function_index: dict[int, int]) -> Locations:
        raw = self.m.location
        columns = decode_location_bodies(raw)
        if columns is None:
            columns = decode_locations_with_upb(raw, self.source)
        ids = columns.ids
        mapping = _resolve(columns.mapping_ids, mapping_index)
        function = _resolve(columns.function_ids, function_index)
        line_owner = np.repeat(np.arange(ids.size), columns.line_counts)
        # The first location with a problem, and its first problem, in the order a reader meets them.
        problems = (ids == 0) | ((columns.mapping_ids != 0) & (mapping < 0))
        bad_line = np.flatnonzero(function < 0)
        if bad_line.size:
            problems[line_owner[bad_line]] = True
        if problems.any():
            i = int(np.flatnonzero(problems)[0])
            if ids[i] == 0:
                raise self.fail("a location has the reserved id 0")
            if columns.mapping_ids[i] != 0 and mapping[i] < 0:
                raise self.fail(
                    f"location {ids[i]} refers to mapping {columns.mapping_ids[i]}, which is not defined"
                )
            line = int(bad_line[np.searchsorted(line_owner[bad_line], i)])
            raise self.fail(
                f"location {ids[i]} refers to function {columns.function_ids[line]}, which is not defined"
            )
        sorted_ids = np.sort(ids)
        if (sorted_ids[1:] == sorted_ids[:-1]).any():
            raise self.fail("two locations have the same id")
        return make_locations(
            ids=ids,
            mapping=mapping,
            address=columns.address,
            is_folded=columns.is_folded != 0,
            line_counts=columns.line_counts,
            line_function=function,
            line_number=columns.line_number,
            line_column=columns.line_column,
        )

    def samples(self, n_types: int, location_ids: np.ndarray) -> Samples:
        raw = self.m.sample
        n = len(raw)
        if n and not n_types:
            raise self.fail("samples but no sample types")
        columns = decode_sample_bodies(raw)
        if columns is None:
            columns = decode_samples_with_upb(raw, self.source)
        wrong = np.flatnonzero(columns.value_counts != n_types)
        if wrong.size:
            i = int(wrong[0])
            raise self.fail(
                f"sample {i} has {columns.value_counts[i]} values but the profile has {n_types} sample types"
            )
        if (
            columns.values.size
            and (np.abs(columns.values.astype(np.float64)).reshape(n, n_types).sum(axis=0) >= 2.0**63).any()
        ):
            raise self.fail(
                "the samples' values add up past int64, which no Go program can allocate or spend"
            )
        check_stack_depths(columns.location_counts, self.source)
        stack_offsets = ranges.offsets(columns.location_counts)
        stack_locations = self.resolve_locations(columns.location_ids, location_ids, stack_offsets)
        labels = None
        if columns.key.size:
            offsets = ranges.offsets(columns.label_counts)
            size = len(self.strings)
            for name, column in (("key", columns.key), ("str", columns.str_), ("num_unit", columns.unit)):
                bad = np.flatnonzero((column < 0) | (column >= size))
                if bad.size:
                    j = int(bad[0])
                    sample = int(np.searchsorted(offsets, j, side="right")) - 1
                    raise self.fail(
                        f"a label {name} of sample {sample} refers to string {int(column[j])}, "
                        f"outside the string table ({size})"
                    )
            # As google/pprof reads labels: a string index makes a string label, else a number or a unit
            # makes a numeric one, and a bare key is ignored.
            kind = np.where(
                columns.str_ != 0,
                LABEL_STR,
                np.where((columns.num != 0) | (columns.unit != 0), LABEL_NUM, _LABEL_NONE),
            ).astype(np.int8)
            labels = (offsets, columns.key, columns.str_, columns.num, columns.unit, kind)
        return make_samples(columns.values.reshape(n, n_types), stack_offsets, stack_locations, labels)

    def resolve_locations(
        self, raw: np.ndarray, location_ids: np.ndarray, stack_offsets: np.ndarray
    ) -> np.ndarray:
        """Location IDs -> positions in Profile.locations (fast path: IDs 1..n in order, as Go writes)."""
        n = location_ids.size
        index_type = np.int32 if n < 2**31 else np.int64
        if n and np.array_equal(location_ids, np.arange(1, n + 1, dtype=np.uint64)):
            bad = (raw == 0) | (raw > n)
            positions = raw.astype(np.int64) - 1 if not bad.any() else None
        else:
            order = np.argsort(location_ids)
            sorted_ids = location_ids[order]
            slot = np.minimum(np.searchsorted(sorted_ids, raw), max(n - 1, 0))
            bad = np.ones(raw.size, dtype=bool) if n == 0 else sorted_ids[slot] != raw
            positions = order[slot] if not bad.any() else None
        if positions is None:
            first = int(np.flatnonzero(bad)[0])
            sample = int(np.searchsorted(stack_offsets, first, side="right")) - 1
            raise self.fail(f"sample {sample} refers to location {int(raw[first])}, which is not defined")
        return positions.astype(index_type)


@dataclass(frozen=True, eq=False)
class SampleColumns:
    """Sample bodies decoded column-wise: per-sample counts, and the flat fields in stream order (the
    label fields are string indices and numbers as written, one entry per Label message)."""

    location_counts: np.ndarray
    location_ids: np.ndarray
    value_counts: np.ndarray
    values: np.ndarray
    label_counts: np.ndarray
    key: np.ndarray
    str_: np.ndarray
    num: np.ndarray
    unit: np.ndarray


def decode_samples_with_upb(raw: Sequence[bytes], source: str) -> SampleColumns:
    """Sample bodies decoded one by one with upb: the general path behind decode_sample_bodies."""
    try:
        parsed = [profile_pb2.Sample.FromString(body) for body in raw]
    except DecodeError:
        raise MapscopeError(source, "malformed profile: a sample is not a valid Sample message") from None
    n = len(parsed)
    counts = np.fromiter(
        itertools.chain.from_iterable((len(s.location_id), len(s.value), len(s.label)) for s in parsed),
        dtype=np.int64,
        count=3 * n,
    ).reshape(n, 3)
    labels = list(itertools.chain.from_iterable(s.label for s in parsed))

    def column(values: Iterable[int], dtype: type[np.generic] = np.int64) -> np.ndarray:
        return np.fromiter(values, dtype=dtype)

    return SampleColumns(
        location_counts=counts[:, 0].copy(),
        location_ids=column(itertools.chain.from_iterable(s.location_id for s in parsed), np.uint64),
        value_counts=counts[:, 1].copy(),
        values=column(itertools.chain.from_iterable(s.value for s in parsed)),
        label_counts=counts[:, 2].copy(),
        key=column(lb.key for lb in labels),
        str_=column(lb.str for lb in labels),
        num=column(lb.num for lb in labels),
        unit=column(lb.num_unit for lb in labels),
    )


_WIRE_VARINT, _WIRE_LEN = 0, 2
_MAX_VARINT = 10


def _varints(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Split a buffer made only of varints into (start byte, end byte, value) per varint, or None."""
    ends = np.flatnonzero(buf < 0x80) + 1
    if ends.size == 0 or ends[-1] != buf.size:
        return None
    if buf.size < 2**31:
        ends = ends.astype(np.int32)  # halves the largest arrays of a big profile
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1]
    lengths = ends - starts
    if lengths.max() > _MAX_VARINT:
        return None
    values = buf[starts].astype(np.uint64)  # right for every one-byte varint, the common case
    for size in range(2, int(lengths.max()) + 1):
        group = np.flatnonzero(lengths == size)
        if group.size == 0:
            continue
        first = starts[group]
        value = (buf[first] & 0x7F).astype(np.uint64)
        for k in range(1, size):
            byte = buf[first + k]
            if k == _MAX_VARINT - 1 and (byte > 1).any():
                return None  # more than 64 bits
            value |= (byte & 0x7F).astype(np.uint64) << np.uint64(7 * k)
        values[group] = value
    return starts, ends, values


def _starting_at(starts: np.ndarray, size: int) -> np.ndarray:
    """For every byte position 0..size, the index of the varint that starts there (size itself: the
    number of varints), or -1: one gather then finds the varint at any position."""
    index_type = np.int32 if starts.size < 2**31 else np.int64
    at = np.full(size + 1, -1, dtype=index_type)
    at[starts] = np.arange(starts.size, dtype=index_type)
    at[size] = starts.size
    return at


def _walk_fields(
    starts: np.ndarray,
    ends: np.ndarray,
    values: np.ndarray,
    at: np.ndarray,
    first: np.ndarray,
    stop: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Follow the field chain of many messages at once.

    Message m starts with the varint `first[m]` and ends at byte `stop[m]`. Returns, for every field in
    every message, (message, tag varint index, end byte of the field), in no particular order; None when a
    message uses a wire type other than varint and length-delimited or is cut short.
    """
    total = starts.size
    owners, tags, field_ends = [], [], []
    message = np.arange(first.size)
    tag = first
    while tag.size:
        if (tag + 1 >= total).any():
            return None
        wire = values[tag] & np.uint64(7)
        if not np.isin(wire, (_WIRE_VARINT, _WIRE_LEN)).all():
            return None
        body = ends[tag + 1]  # end of the varint after the tag: the value, or the length of a payload
        length = values[tag + 1]
        room = stop[message] - body
        if (
            (starts[tag + 1] >= stop[message]) | ((wire == _WIRE_LEN) & (length > room.astype(np.uint64)))
        ).any():
            return None
        end = np.where(wire == _WIRE_LEN, body + np.minimum(length, np.uint64(2**62)).astype(np.int64), body)
        if (end > stop[message]).any():
            return None
        owners.append(message)
        tags.append(tag)
        field_ends.append(end)
        more = end < stop[message]
        tag = at[end[more]]
        message = message[more]
        if ((tag < 0) | (tag >= total)).any():
            return None
    if not owners:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    return np.concatenate(owners), np.concatenate(tags), np.concatenate(field_ends)


def decode_sample_bodies(raw: Sequence[bytes]) -> SampleColumns | None:
    """Decode every Sample message body at once with numpy, or None to leave it to the per-sample path.

    A Sample (and a Label) is made only of varints: tags, lengths, packed varint payloads and varint
    values. So the concatenated bodies split into varints on the bytes below 0x80; the field chain of all
    samples is then followed in lock step, one field per step. Anything else (fixed-width or group wire
    types, unknown length-delimited fields that do not end on a varint boundary, a cut-off message) makes
    this return None, and the caller decodes those bodies one by one with upb, which has the last word.
    """
    n = len(raw)
    sizes = np.fromiter(map(len, raw), dtype=np.int64, count=n)
    sample_start = ranges.offsets(sizes)
    buf = np.frombuffer(b"".join(raw), dtype=np.uint8)
    if buf.size == 0:
        zeros = np.zeros(n, dtype=np.int64)
        empty = np.zeros(0, dtype=np.int64)
        return SampleColumns(zeros, empty.astype(np.uint64), zeros, empty, zeros, empty, empty, empty, empty)
    split = _varints(buf)
    if split is None:
        return None
    starts, ends, values = split
    at = _starting_at(starts, buf.size)
    nonempty = np.flatnonzero(sizes)
    first = at[sample_start[nonempty]]
    if (first < 0).any():
        return None
    walked = _walk_fields(starts, ends, values, at, first, sample_start[nonempty + 1])
    if walked is None:
        return None
    owner, tag, end = walked
    owner = nonempty[owner]
    field = values[tag] >> np.uint64(3)
    wire = values[tag] & np.uint64(7)
    if (field == 0).any():
        return None

    def repeated_varints(number: int) -> tuple[np.ndarray, np.ndarray]:
        """Element varint indices (stream order) and per-sample counts of a packed-or-unpacked field."""
        chosen = np.flatnonzero((field == number) & ((wire == _WIRE_VARINT) | (wire == _WIRE_LEN)))
        chosen = chosen[np.argsort(tag[chosen], kind="stable")]
        unpacked = wire[chosen] == _WIRE_VARINT
        begin = np.where(unpacked, tag[chosen] + 1, tag[chosen] + 2)
        stop = np.where(unpacked, tag[chosen] + 2, at[end[chosen]])
        counts = np.zeros(n, dtype=np.int64)
        np.add.at(counts, owner[chosen], stop - begin)
        return ranges.expand(begin, stop), counts

    locations, location_counts = repeated_varints(1)
    value_elements, value_counts = repeated_varints(2)
    is_label = (field == 3) & (wire == _WIRE_LEN)
    label_tags = tag[is_label]
    order = np.argsort(label_tags)
    label_tags, label_end = label_tags[order], end[is_label][order]
    label_counts = np.bincount(owner[is_label], minlength=n)
    label_fields = _label_fields(starts, ends, values, at, label_tags, label_end)
    if label_fields is None:
        return None
    key, str_, num, unit = label_fields
    return SampleColumns(
        location_counts=location_counts,
        location_ids=values[locations],
        value_counts=value_counts,
        values=values[value_elements].view(np.int64),
        label_counts=label_counts,
        key=key,
        str_=str_,
        num=num,
        unit=unit,
    )


def _message_fields(
    starts: np.ndarray,
    ends: np.ndarray,
    values: np.ndarray,
    at: np.ndarray,
    body_start: np.ndarray,
    body_end: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Every field of the messages whose bodies span bytes [body_start[m], body_end[m]): (message,
    field number, wire type, tag varint index, end byte), or None where the fast path cannot follow."""
    nonempty = np.flatnonzero(body_start < body_end)
    first = at[body_start[nonempty]]
    if ((first < 0) | (first >= starts.size)).any():
        return None
    walked = _walk_fields(starts, ends, values, at, first, body_end[nonempty])
    if walked is None:
        return None
    owner, tag, end = walked
    field = values[tag] >> np.uint64(3)
    if (field == 0).any():
        return None
    return nonempty[owner], field, values[tag] & np.uint64(7), tag, end


def _last_scalars(
    values: np.ndarray,
    fields: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    numbers: int,
    count: int,
) -> list[np.ndarray]:
    """Varint fields 1..numbers of `count` messages (0 where absent); a scalar seen twice in one message
    keeps the last value, as protobuf parsers do."""
    owner, field, wire, tag, _ = fields
    columns = [np.zeros(count, dtype=np.uint64) for _ in range(numbers)]
    for number, column in enumerate(columns, start=1):
        hit = np.flatnonzero((field == number) & (wire == _WIRE_VARINT))
        if hit.size == 0:
            continue
        if np.bincount(owner[hit], minlength=count).max() > 1:
            hit = hit[np.lexsort((tag[hit], owner[hit]))]
            hit = hit[np.r_[owner[hit][1:] != owner[hit][:-1], True]]
        column[owner[hit]] = values[tag[hit] + 1]
    return columns


def _label_fields(
    starts: np.ndarray,
    ends: np.ndarray,
    values: np.ndarray,
    at: np.ndarray,
    label_tags: np.ndarray,
    label_end: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """key, str, num and num_unit of each Label (given by its tag varint), last occurrence winning."""
    fields = _message_fields(starts, ends, values, at, ends[label_tags + 1], label_end)
    if fields is None:
        return None
    key, str_, num, unit = (c.view(np.int64) for c in _last_scalars(values, fields, 4, label_tags.size))
    return key, str_, num, unit


@dataclass(frozen=True, eq=False)
class LocationColumns:
    """Location bodies decoded column-wise, with IDs as written (mapping 0: none)."""

    ids: np.ndarray
    mapping_ids: np.ndarray
    address: np.ndarray
    is_folded: np.ndarray
    line_counts: np.ndarray
    function_ids: np.ndarray
    line_number: np.ndarray
    line_column: np.ndarray


def decode_location_bodies(raw: Sequence[bytes]) -> LocationColumns | None:
    """Decode every Location message body at once with numpy (as decode_sample_bodies does samples), or
    None to leave it to decode_locations_with_upb. A Location and its Lines are made only of varints."""
    n = len(raw)
    sizes = np.fromiter(map(len, raw), dtype=np.int64, count=n)
    body_start = ranges.offsets(sizes)
    buf = np.frombuffer(b"".join(raw), dtype=np.uint8)
    if buf.size == 0:
        zeros = np.zeros(n, dtype=np.uint64)
        empty = np.zeros(0, dtype=np.int64)
        return LocationColumns(
            zeros, zeros, zeros, zeros, zeros.astype(np.int64), empty.astype(np.uint64), empty, empty
        )
    split = _varints(buf)
    if split is None:
        return None
    starts, ends, values = split
    at = _starting_at(starts, buf.size)
    fields = _message_fields(starts, ends, values, at, body_start[:-1], body_start[1:])
    if fields is None:
        return None
    owner, field, wire, tag, end = fields
    known = field <= 5
    expected = np.where(field == 4, _WIRE_LEN, _WIRE_VARINT)
    if (known & (wire != expected)).any():
        return None
    location_id, mapping_id, address, _, folded = _last_scalars(values, fields, 5, n)
    is_line = np.flatnonzero(field == 4)
    is_line = is_line[np.argsort(tag[is_line])]  # stream order: location by location, lines in order
    line_fields = _message_fields(starts, ends, values, at, ends[tag[is_line] + 1], end[is_line])
    if line_fields is None:
        return None
    if ((line_fields[1] <= 3) & (line_fields[2] != _WIRE_VARINT)).any():
        return None
    function_id, number, column = _last_scalars(values, line_fields, 3, is_line.size)
    return LocationColumns(
        ids=location_id,
        mapping_ids=mapping_id,
        address=address,
        is_folded=(folded != 0).astype(np.uint64),  # a bool: any non-zero varint is true
        line_counts=np.bincount(owner[is_line], minlength=n).astype(np.int64),
        function_ids=function_id,
        line_number=number.view(np.int64),
        line_column=column.view(np.int64),
    )


def decode_locations_with_upb(raw: Sequence[bytes], source: str) -> LocationColumns:
    """Location bodies decoded one by one with upb: the general path behind decode_location_bodies."""
    try:
        parsed = [profile_pb2.Location.FromString(body) for body in raw]
    except DecodeError:
        raise MapscopeError(source, "malformed profile: a location is not a valid Location message") from None
    lines = [line for location in parsed for line in location.line]

    def column(items: Iterable[int], dtype: type[np.generic] = np.uint64) -> np.ndarray:
        return np.fromiter(items, dtype=dtype)

    return LocationColumns(
        ids=column(loc.id for loc in parsed),
        mapping_ids=column(loc.mapping_id for loc in parsed),
        address=column(loc.address for loc in parsed),
        is_folded=column(loc.is_folded for loc in parsed),
        line_counts=column((len(loc.line) for loc in parsed), np.int64),
        function_ids=column(line.function_id for line in lines),
        line_number=column((line.line for line in lines), np.int64),
        line_column=column((line.column for line in lines), np.int64),
    )


def _resolve(ids: np.ndarray, index: dict[int, int]) -> np.ndarray:
    """Positions of `ids` by `index` (ID -> position), -1 for an ID it does not have."""
    if not index or ids.size == 0:
        return np.full(ids.size, -1, dtype=np.int64)
    keys = np.fromiter(index, dtype=np.uint64, count=len(index))
    positions = np.fromiter(index.values(), dtype=np.int64, count=len(index))
    order = np.argsort(keys)
    keys, positions = keys[order], positions[order]
    slot = np.minimum(np.searchsorted(keys, ids), keys.size - 1)
    found: np.ndarray = np.where(keys[slot] == ids, positions[slot], -1)
    return found


def default_sample_index(profile: Profile) -> int:
    """The sample type pprof shows when none is asked for: default_sample_type, else the last one."""
    if profile.default_sample_type:
        for i, vt in enumerate(profile.sample_types):
            if vt.type == profile.default_sample_type:
                return i
    return len(profile.sample_types) - 1


def sample_index(profile: Profile, wanted: str | None) -> int:
    """pprof's -sample_index: empty for the default, a column number, or a type name (`inuse_` optional)."""
    if not profile.sample_types:
        raise MapscopeError(profile.source, "the profile has no sample types")
    if not wanted:
        return default_sample_index(profile)
    if wanted.lstrip("-").isdigit():
        number = int(wanted)
        if not 0 <= number < len(profile.sample_types):
            raise MapscopeError(
                profile.source, f"sample index {number} is outside 0..{len(profile.sample_types) - 1}"
            )
        return number
    bare = wanted.removeprefix("inuse_")
    for i, vt in enumerate(profile.sample_types):
        if vt.type in (wanted, bare):
            return i
    names = ", ".join(vt.type for vt in profile.sample_types)
    raise MapscopeError(profile.source, f"no sample type {wanted!r} (the profile has: {names})")
