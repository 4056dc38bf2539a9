"""Broken and hostile profiles: always one MapscopeError line, in bounded time and memory."""

from __future__ import annotations

import gzip
import resource
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from mapscope import limits
from mapscope.analyses import profile_totals
from mapscope.errors import MapscopeError
from mapscope.readers import pprof, profile_pb2, profile_source

FIXTURE = Path(__file__).parent / "fixtures" / "pprof" / "default" / "heap.pb.gz"


def valid() -> profile_pb2.Profile:
    """A small, valid heap-like profile built with the generated writer."""
    p = profile_pb2.Profile()
    p.string_table.extend([b"", b"alloc_space", b"bytes", b"main.f", b"main.go", b"bytes"])
    vt = p.sample_type.add()
    vt.type, vt.unit = 1, 2
    m = p.mapping.add()
    m.id, m.memory_start, m.memory_limit = 1, 0x400000, 0x500000
    f = p.function.add()
    f.id, f.name, f.system_name, f.filename = 1, 3, 3, 4
    loc = p.location.add()
    loc.id, loc.mapping_id, loc.address = 1, 1, 0x401000
    line = loc.line.add()
    line.function_id, line.line = 1, 10
    s = p.sample.add()
    s.location_id.append(1)
    s.value.append(4096)
    label = s.label.add()
    label.key, label.num = 5, 4096
    return p


def problem(data: bytes) -> str:
    return error(data).problem


def error(data: bytes) -> MapscopeError:
    with pytest.raises(MapscopeError) as caught:
        profile_source.parse(data, "hostile")
    assert "\n" not in str(caught.value)
    return caught.value


def test_the_valid_profile_is_valid() -> None:
    profile = profile_source.parse(valid().SerializeToString(), "valid")
    assert profile.samples.values.tolist() == [[4096]]
    assert profile.functions[0].name == "main.f"


def test_truncated_gzip() -> None:
    data = FIXTURE.read_bytes()
    assert "truncated gzip" in problem(data[: len(data) // 2])


def test_corrupt_gzip_checksum() -> None:
    data = bytearray(FIXTURE.read_bytes())
    data[-6] ^= 0xFF  # inside the CRC-32 of the trailer
    assert "corrupt gzip" in problem(bytes(data))


def test_garbage_after_gzip() -> None:
    assert "trailing garbage" in problem(FIXTURE.read_bytes() + b"junk")


def test_concatenated_gzip_members_are_one_stream() -> None:
    raw = valid().SerializeToString()
    half = len(raw) // 2
    data = gzip.compress(raw[:half]) + gzip.compress(raw[half:])
    assert profile_source.parse(data, "two members").samples.values.tolist() == [[4096]]


def _zero_bomb(path: Path, gib: int) -> None:
    """gzip of `gib` GiB of zeros, written in ~1 KiB blocks: after a full flush, deflating the same
    MiB of zeros again gives the same bytes, so one block is compressed and repeated."""
    zeros = bytes(1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    first = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    block = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    assert deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH) == block
    with path.open("wb") as out:
        out.write(first)
        for _ in range((gib << 10) - 1):
            out.write(block)
        out.write(deflate.flush())


def test_gzip_bomb_is_refused_at_the_cap(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.pb.gz"
    _zero_bomb(bomb, 10)
    assert bomb.stat().st_size < 16 << 20
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(MapscopeError, match="decompression bomb"):
        profile_source.load(str(bomb))
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 3 * (pprof.DEFAULT_MAX_DECOMPRESSED >> 10)


def test_small_bomb_hits_the_ratio_cap() -> None:
    data = gzip.compress(bytes(200 << 20), 9)  # 200 MiB of zeros in ~200 KiB
    assert pprof.gzip_limit(len(data)) == max(limits.INFLATE_MIN_BYTES, limits.INFLATE_RATIO_MAX * len(data))
    assert "decompression bomb" in problem(data)


def _mutated(change: Callable[[profile_pb2.Profile], None]) -> bytes:
    p = valid()
    change(p)
    data: bytes = p.SerializeToString()
    return data


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda p: setattr(p.function[0], "name", 99), "function 1 name refers to string 99"),
        (lambda p: setattr(p.sample_type[0], "unit", -1), "sample_type 0 unit refers to string -1"),
        (lambda p: setattr(p.mapping[0], "filename", 6), "mapping 1 filename refers to string 6"),
        (lambda p: setattr(p.sample[0].label[0], "key", 1 << 40), "a label key of sample 0 refers to string"),
        (lambda p: setattr(p.sample[0].label[0], "str", -5), "a label str of sample 0 refers to string -5"),
        (lambda p: p.sample[0].location_id.append(7), "sample 0 refers to location 7"),
        (lambda p: p.sample[0].location_id.append(0), "sample 0 refers to location 0"),
        (lambda p: setattr(p.location[0].line[0], "function_id", 3), "refers to function 3"),
        (lambda p: setattr(p.location[0], "mapping_id", 2), "refers to mapping 2"),
        (lambda p: p.sample[0].value.append(1), "sample 0 has 2 values but the profile has 1 sample types"),
        (lambda p: p.sample[0].ClearField("value"), "sample 0 has 0 values"),
        (lambda p: p.location.add(id=1), "two locations have the same id"),
        (lambda p: p.function.add(id=1), "two functions have id 1"),
        (lambda p: setattr(p.location[0], "id", 0), "reserved id 0"),
        (lambda p: p.ClearField("sample_type"), "samples but no sample types"),
        (lambda p: setattr(p, "default_sample_type", 77), "default_sample_type refers to string 77"),
        (lambda p: p.string_table.__setitem__(0, b"x"), "string_table[0] must be the empty string"),
        (lambda p: p.ClearField("string_table"), "empty string table"),
    ],
)
def test_broken_references(change: Callable[[profile_pb2.Profile], None], expected: str) -> None:
    assert expected in problem(_mutated(change))


def test_broken_references_in_unusual_encodings() -> None:
    """The same checks hold when the sample bodies need the per-sample (upb) path."""
    p = valid()
    p.sample[0].location_id.append(9)
    body = p.sample[0].SerializeToString() + b"\x25\x00\x00\x00\x00"  # an unknown fixed32 field
    p.ClearField("sample")
    data = p.SerializeToString() + b"\x12" + bytes([len(body)]) + body
    assert "sample 0 refers to location 9" in problem(data)


def test_broken_references_in_unusual_location_encodings() -> None:
    """The same checks hold when the location bodies need the per-location (upb) path."""
    p = valid()
    p.location[0].line[0].function_id = 5
    body = p.location[0].SerializeToString() + b"\x35\x00\x00\x00\x00"  # an unknown fixed32 field
    p.ClearField("location")
    data = p.SerializeToString() + b"\x22" + bytes([len(body)]) + body
    assert "location 1 refers to function 5" in problem(data)


def test_bad_varint_inside_a_location() -> None:
    p = valid()
    p.ClearField("location")
    bad_location = b"\x08" + b"\xff" * 11  # id with an 11-byte varint
    data = p.SerializeToString() + b"\x22" + bytes([len(bad_location)]) + bad_location
    assert "a location is not a valid Location message" in problem(data)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "empty profile"),
        (b"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", "not a pprof profile"),  # 11-byte varint
        (b"\x60" + b"\xff" * 9, "not a pprof profile"),  # varint cut off at the end
        (b"\x12\xff\xff\xff\xff\x0f", "not a pprof profile"),  # a length far beyond the data
        (b"\x0b" * 100_000, "not a pprof profile"),  # groups nested 100000 deep
        (bytes(range(256)) * 64, "not a pprof profile"),
        (b"hello, world\n", "not a pprof profile"),
    ],
)
def test_malformed_protobuf(data: bytes, expected: str) -> None:
    assert expected in problem(data)


def test_bad_varint_inside_a_sample() -> None:
    p = valid()
    p.ClearField("sample")
    bad_sample = b"\x08" + b"\xff" * 11  # location_id with an 11-byte varint
    data = p.SerializeToString() + b"\x12" + bytes([len(bad_sample)]) + bad_sample
    assert "a sample is not a valid Sample message" in problem(data)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"heap profile: 1: 2 [3: 4] @ heap/1048576\nnonsense\n", "hostile:2: not a heap profile record"),
        (
            b"heap profile: 1: 2 [3: 4] @ heap/8\n0: 5 [0: 0] @ 0x1\n",
            "hostile:2: inuse count is 0 but inuse bytes is not",
        ),
        (
            b"heap profile: 1: 2 [3: 4] @ heap/8\n1: 99999999999999999999 [1: 1] @ 0x1\n",
            "does not fit in 64 bits",
        ),
        (
            b"heap profile: 1: 2 [3: 4] @ heap/8\n1: 2 [1: 2] @ 0x1ffffffffffffffff\n",
            "does not fit in 64 bits",
        ),
        (b"heap profile: 1: 2 [3: 4] @ heapz_v7/8\n", "unknown heap profile sampling"),
        (b"goroutine profile: total 3\n3 @ 0x1 zz\n", "hostile:2: not a goroutine profile record"),
        (b"--- heapz 1 ---\nformat = java\n", "unsupported legacy profile"),
        (b"--- contention:\ncycles/second=1\n", "unsupported legacy profile"),
    ],
)
def test_malformed_text(text: bytes, expected: str) -> None:
    assert expected in str(error(text))


def test_unusable_drop_frames_pattern() -> None:
    p = valid()
    p.string_table.append(b"main.(")
    p.drop_frames = len(p.string_table) - 1
    profile = profile_source.parse(p.SerializeToString(), "drop")
    with pytest.raises(MapscopeError, match="drop_frames/keep_frames is not a usable pattern"):
        profile_totals.top(profile, 0)
