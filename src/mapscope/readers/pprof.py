"""pprof profiles (profile.proto, gzip or plain) turned into validated, typed, columnar records.

The wire format is decoded by the protobuf package's C parser (upb) with mapscope's own schema
(profile.proto beside this file); per-sample data then goes straight into numpy arrays so a profile with
hundreds of thousands of samples and millions of frames loads in seconds. Everything that refers to
something else is checked before a record is built: string indices, location/function/mapping IDs, and
value counts. References in profile.proto only point "down" (sample -> location -> function, mapping),
so once every ID resolves there is nothing that could form a cycle; recursion inside one stack is legal
data and is handled by the analyses.

The same records carry the legacy text profiles (see pprof_text.py), so analyses never care where a
profile came from.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from google.protobuf.message import DecodeError

from mapscope.errors import MapscopeError
from mapscope.readers import profile_pb2

# A gzip stream may not inflate beyond this, nor beyond _MAX_RATIO times its own size (with _MIN_LIMIT as
# the floor): real profiles compress 3-10x, a decompression bomb 1000x.
DEFAULT_MAX_DECOMPRESSED = 1 << 30
_MIN_LIMIT = 64 << 20
_MAX_RATIO = 256
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
    "growthz-text" or "count-text". `memstats` is only set for legacy Go heap text."""

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
    locations: tuple[Location, ...]
    functions: tuple[Function, ...]
    samples: Samples
    strings: tuple[str, ...]
    memstats: MemStats | None = None

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
                        f"{_MAX_RATIO}x the compressed size); refusing a possible decompression bomb",
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
        locations, location_ids = self.locations(mapping_index, function_index)
        samples = self.samples(len(sample_types), location_ids)
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

    def mappings(self) -> tuple[tuple[Mapping, ...], dict[int, int]]:
        records: list[Mapping] = []
        index: dict[int, int] = {}
        for m in self.m.mapping:
            what = f"mapping {m.id}"
            if m.id == 0:
                raise self.fail("a mapping has the reserved id 0")
            if m.id in index:
                raise self.fail(f"two mappings have id {m.id}")
            index[m.id] = len(records)
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
            if f.id == 0:
                raise self.fail("a function has the reserved id 0")
            if f.id in index:
                raise self.fail(f"two functions have id {f.id}")
            index[f.id] = len(records)
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

    def locations(
        self, mapping_index: dict[int, int], function_index: dict[int, int]
    ) -> tuple[tuple[Location, ...], np.ndarray]:
        records: list[Location] = []
        ids: list[int] = []
        for loc in self.m.location:
            if loc.id == 0:
                raise self.fail("a location has the reserved id 0")
            mapping: int | None = None
            if loc.mapping_id:
                mapping = mapping_index.get(loc.mapping_id)
                if mapping is None:
                    raise self.fail(
                        f"location {loc.id} refers to mapping {loc.mapping_id}, which is not defined"
                    )
            lines = []
            for ln in loc.line:
                function = function_index.get(ln.function_id)
                if function is None:
                    raise self.fail(
                        f"location {loc.id} refers to function {ln.function_id}, which is not defined"
                    )
                lines.append(Line(function, ln.line, ln.column))
            ids.append(loc.id)
            records.append(Location(loc.id, mapping, loc.address, tuple(lines), loc.is_folded))
        id_array = np.array(ids, dtype=np.uint64)
        sorted_ids = np.sort(id_array)
        if (sorted_ids[1:] == sorted_ids[:-1]).any():
            raise self.fail("two locations have the same id")
        return tuple(records), id_array

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
        stack_offsets = _offsets(columns.location_counts)
        stack_locations = self.resolve_locations(columns.location_ids, location_ids, stack_offsets)
        labels = None
        if columns.key.size:
            offsets = _offsets(columns.label_counts)
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


def _offsets(counts: np.ndarray) -> np.ndarray:
    offsets = np.zeros(counts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets


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


def _find(starts: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Index of the varint starting at each byte position (or where it would be), without letting numpy
    widen the big `starts` array to the positions' type."""
    found: np.ndarray = np.searchsorted(starts, positions.astype(starts.dtype))
    return found


def _walk_fields(
    starts: np.ndarray,
    ends: np.ndarray,
    values: np.ndarray,
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
        tag = _find(starts, end[more])
        message = message[more]
        if (tag >= total).any() or (starts[np.minimum(tag, total - 1)] != end[more]).any():
            return None
    if not owners:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    return np.concatenate(owners), np.concatenate(tags), np.concatenate(field_ends)


def _expand(begin: np.ndarray, end: np.ndarray) -> np.ndarray:
    """All integers of the half-open ranges [begin[i], end[i]), concatenated."""
    sizes = end - begin
    keep = sizes > 0
    begin, sizes = begin[keep], sizes[keep]
    if begin.size == 0:
        return np.zeros(0, dtype=np.int64)
    shift = np.repeat(begin - _offsets(sizes)[:-1], sizes)
    expanded: np.ndarray = np.arange(int(sizes.sum()), dtype=np.int64) + shift
    return expanded


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
    sample_start = _offsets(sizes)
    buf = np.frombuffer(b"".join(raw), dtype=np.uint8)
    if buf.size == 0:
        zeros = np.zeros(n, dtype=np.int64)
        empty = np.zeros(0, dtype=np.int64)
        return SampleColumns(zeros, empty.astype(np.uint64), zeros, empty, zeros, empty, empty, empty, empty)
    split = _varints(buf)
    if split is None:
        return None
    starts, ends, values = split
    nonempty = np.flatnonzero(sizes)
    first = _find(starts, sample_start[nonempty])
    if (starts[first] != sample_start[nonempty]).any():
        return None
    walked = _walk_fields(starts, ends, values, first, sample_start[nonempty + 1])
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
        stop = np.where(unpacked, tag[chosen] + 2, _find(starts, end[chosen]))
        counts = np.zeros(n, dtype=np.int64)
        np.add.at(counts, owner[chosen], stop - begin)
        return _expand(begin, stop), counts

    locations, location_counts = repeated_varints(1)
    value_elements, value_counts = repeated_varints(2)
    is_label = (field == 3) & (wire == _WIRE_LEN)
    label_tags = tag[is_label]
    order = np.argsort(label_tags)
    label_tags, label_end = label_tags[order], end[is_label][order]
    label_counts = np.bincount(owner[is_label], minlength=n)
    label_fields = _label_fields(starts, ends, values, label_tags, label_end)
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


def _label_fields(
    starts: np.ndarray, ends: np.ndarray, values: np.ndarray, label_tags: np.ndarray, label_end: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """key, str, num and num_unit of each Label (given by its tag varint), last occurrence winning."""
    count = label_tags.size
    columns = [np.zeros(count, dtype=np.int64) for _ in range(4)]
    body_start = ends[label_tags + 1]
    nonempty = np.flatnonzero(body_start < label_end)
    first = _find(starts, body_start[nonempty])
    if (first >= starts.size).any() or (
        starts[np.minimum(first, starts.size - 1)] != body_start[nonempty]
    ).any():
        return None
    walked = _walk_fields(starts, ends, values, first, label_end[nonempty])
    if walked is None:
        return None
    owner, tag, _ = walked
    owner = nonempty[owner]
    field = values[tag] >> np.uint64(3)
    wire = values[tag] & np.uint64(7)
    if (field == 0).any():
        return None
    for number, column in enumerate(columns, start=1):
        hit = np.flatnonzero((field == number) & (wire == _WIRE_VARINT))
        if hit.size == 0:
            continue
        # A scalar seen twice in one message keeps the last value, as protobuf parsers do.
        hit = hit[np.lexsort((tag[hit], owner[hit]))]
        last = np.r_[owner[hit][1:] != owner[hit][:-1], True]
        column[owner[hit][last]] = values[tag[hit][last] + 1].view(np.int64)
    return columns[0], columns[1], columns[2], columns[3]


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
