"""A Profile record written back as gzip-compressed profile.proto, which `go tool pprof` reads.

The small parts (sample types, mappings, functions, strings) go through the generated profile_pb2
module from mapscope's own profile.proto. Locations and samples, hundreds of thousands in a big
profile, are encoded column-wise with numpy instead: every field becomes a varint token, the lengths
of the nested messages are summed from the tokens' byte sizes, and all tokens are written at once. A
protobuf message may carry its fields in any order and repeated fields concatenate, so the two byte
strings are simply appended to the rest.

The string table starts with the profile's own strings, so label keys and values keep their indices;
every other string is looked up in it or appended. IDs of mappings, locations and functions are the
records' own. Every label is written with all four fields (zeros included), which readers take as
absent.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence

import numpy as np

from mapscope import ranges
from mapscope.readers import profile_pb2
from mapscope.readers.pprof import LABEL_NUM, LABEL_STR, Profile

_LEN, _VARINT = 2, 0
# (field number, one value per message)
_Scalars = Sequence[tuple[int, np.ndarray]]


class _Strings:
    def __init__(self, table: tuple[str, ...]) -> None:
        self.table = list(table) if table and table[0] == "" else ["", *table]
        self.shift = len(self.table) - len(table)
        self.index: dict[str, int] = {}
        for position, text in enumerate(self.table):
            self.index.setdefault(text, position)

    def __call__(self, text: str) -> int:
        found = self.index.get(text)
        if found is None:
            found = self.index[text] = len(self.table)
            self.table.append(text)
        return found


def _unsigned(values: np.ndarray) -> np.ndarray:
    """The varint payload of a column: int64 as its two's complement (10 bytes when negative)."""
    if values.dtype == np.uint64:
        return values
    converted: np.ndarray = values.astype(np.int64).view(np.uint64)
    return converted


def _varint_sizes(values: np.ndarray) -> np.ndarray:
    """Bytes of each varint; most are one byte, so each further byte looks only at the longer ones."""
    sizes = np.ones(values.size, dtype=np.int64)
    longer = np.flatnonzero(values >= np.uint64(1 << 7))
    k = 1
    while longer.size:
        sizes[longer] += 1
        k += 1
        longer = longer[values[longer] >= np.uint64(1 << (7 * k))] if k < 10 else longer[:0]
    return sizes


def _write_varints(values: np.ndarray, sizes: np.ndarray) -> bytes:
    starts = ranges.offsets(sizes)
    out = np.empty(int(starts[-1]), dtype=np.uint8)
    more = (sizes > 1).astype(np.uint8) << np.uint8(7)
    out[starts[:-1]] = (values & np.uint64(0x7F)).astype(np.uint8) | more
    chosen = np.flatnonzero(more)
    k = 1
    while chosen.size:
        low = ((values[chosen] >> np.uint64(7 * k)) & np.uint64(0x7F)).astype(np.uint8)
        longer = sizes[chosen] > k + 1
        out[starts[chosen] + k] = low | (longer.astype(np.uint8) << np.uint8(7))
        chosen = chosen[longer]
        k += 1
    return out.tobytes()


def _key(field: int, wire: int) -> np.uint64:
    return np.uint64(field << 3 | wire)


def _repeated(
    field: int,
    scalars: _Scalars,
    packed: Sequence[tuple[int, np.ndarray, np.ndarray]],
    nested: tuple[int, np.ndarray, _Scalars] | None,
    count: int,
) -> bytes:
    """`count` messages of top-level repeated field `field`, each made of varint `scalars`, packed
    varint fields (field, offsets, values) and one repeated sub-message (field, offsets, its scalars)."""
    counts = np.full(count, 2 + 2 * len(scalars), dtype=np.int64)
    for _, offsets, _ in packed:
        counts += 2 + np.diff(offsets)
    per_sub = 2 + 2 * len(nested[2]) if nested is not None else 0
    if nested is not None:
        counts += np.diff(nested[1]) * per_sub
    start = ranges.offsets(counts)
    tokens = np.zeros(int(start[-1]), dtype=np.uint64)
    cursor = start[:-1].copy()
    tokens[cursor] = _key(field, _LEN)
    top_slot = cursor + 1
    cursor += 2
    for number, values in scalars:
        tokens[cursor] = _key(number, _VARINT)
        tokens[cursor + 1] = _unsigned(values)
        cursor += 2
    # (slot, first token, end token) of the lengths of the packed fields and the sub-messages.
    spans: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for number, offsets, values in packed:
        length = np.diff(offsets)
        tokens[cursor] = _key(number, _LEN)
        tokens[ranges.expand(cursor + 2, cursor + 2 + length)] = _unsigned(values)
        spans.append((cursor + 1, cursor + 2, cursor + 2 + length))
        cursor += 2 + length
    if nested is not None:
        number, offsets, sub_scalars = nested
        owner = np.repeat(np.arange(count), np.diff(offsets))
        base = cursor[owner] + (np.arange(owner.size) - offsets[owner]) * per_sub
        tokens[base] = _key(number, _LEN)
        for q, (sub_number, values) in enumerate(sub_scalars):
            tokens[base + 2 + 2 * q] = _key(sub_number, _VARINT)
            tokens[base + 3 + 2 * q] = _unsigned(values)
        spans.append((base + 1, base + 2, base + per_sub))
    # The inner spans hold no length slot, so one pass sums them all; then the messages' own lengths.
    sizes = _varint_sizes(tokens)
    for group in (spans, [(top_slot, top_slot + 1, start[1:])]):
        running = ranges.offsets(sizes)
        for slot, first, end in group:
            tokens[slot] = (running[end] - running[first]).astype(np.uint64)
            sizes[slot] = _varint_sizes(tokens[slot])
    return _write_varints(tokens, sizes)


def _locations(profile: Profile) -> bytes:
    locations = profile.locations
    mapping_ids = np.array([0, *(m.id for m in profile.mappings)], dtype=np.uint64)
    function_ids = np.array([f.id for f in profile.functions], dtype=np.uint64)
    return _repeated(
        4,
        [
            (1, locations.ids),
            (2, mapping_ids[locations.mapping + 1]),
            (3, locations.address),
            (5, locations.is_folded.astype(np.uint64)),
        ],
        [],
        (
            4,
            locations.line_offsets,
            [
                (1, function_ids[locations.line_function] if function_ids.size else np.zeros(0, np.uint64)),
                (2, locations.line_number),
                (3, locations.line_column),
            ],
        ),
        len(locations),
    )


def _samples(profile: Profile, shift: int) -> bytes:
    samples = profile.samples
    n, types = samples.values.shape
    kept = np.flatnonzero((samples.label_kind == LABEL_STR) | (samples.label_kind == LABEL_NUM))
    label_owner = np.searchsorted(samples.label_offsets, kept, side="right") - 1
    is_str = samples.label_kind[kept] == LABEL_STR

    def string_index(column: np.ndarray) -> np.ndarray:
        moved: np.ndarray = np.where(column != 0, column + shift, 0)
        return moved

    return _repeated(
        2,
        [],
        [
            (1, samples.stack_offsets, profile.locations.ids[samples.stack_locations]),
            (2, np.arange(n + 1, dtype=np.int64) * types, samples.values.reshape(-1)),
        ],
        (
            3,
            ranges.offsets(np.bincount(label_owner, minlength=n)),
            [
                (1, samples.label_key[kept] + shift),
                (2, np.where(is_str, string_index(samples.label_str[kept]), 0)),
                (3, np.where(is_str, 0, samples.label_num[kept])),
                (4, np.where(is_str, 0, string_index(samples.label_unit[kept]))),
            ],
        ),
        n,
    )


def encode(profile: Profile) -> bytes:
    """The profile as gzip-compressed profile.proto bytes."""
    strings = _Strings(profile.strings)
    message = profile_pb2.Profile()
    for vt in profile.sample_types:
        message.sample_type.add(type=strings(vt.type), unit=strings(vt.unit))
    for m in profile.mappings:
        message.mapping.add(
            id=m.id,
            memory_start=m.memory_start,
            memory_limit=m.memory_limit,
            file_offset=m.file_offset,
            filename=strings(m.filename),
            build_id=strings(m.build_id),
            has_functions=m.has_functions,
            has_filenames=m.has_filenames,
            has_line_numbers=m.has_line_numbers,
            has_inline_frames=m.has_inline_frames,
        )
    for f in profile.functions:
        message.function.add(
            id=f.id,
            name=strings(f.name),
            system_name=strings(f.system_name),
            filename=strings(f.filename),
            start_line=f.start_line,
        )
    if profile.period_type is not None:
        message.period_type.type = strings(profile.period_type.type)
        message.period_type.unit = strings(profile.period_type.unit)
    message.period = profile.period
    message.time_nanos = profile.time_nanos
    message.duration_nanos = profile.duration_nanos
    message.comment.extend(strings(c) for c in profile.comments)
    message.drop_frames = strings(profile.drop_frames)
    message.keep_frames = strings(profile.keep_frames)
    message.doc_url = strings(profile.doc_url)
    message.default_sample_type = strings(profile.default_sample_type)
    message.string_table.extend(text.encode("utf-8") for text in strings.table)
    data = message.SerializeToString() + _locations(profile) + _samples(profile, strings.shift)
    # Go's runtime/pprof writes its profiles at gzip's best speed too.
    return gzip.compress(data, compresslevel=1)
