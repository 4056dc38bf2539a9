"""Hostile and broken execution traces give a result or one MapscopeError naming the file and offset."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapscope.errors import MapscopeError
from mapscope.readers.gotrace.reader import MAX_BATCH_SIZE, read_generations, read_trace_file
from mapscope.readers.gotrace.records import Generation

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "trace"
SMALL = {
    22: (FIXTURES / "trace_go1.22.10.out").read_bytes(),
    26: (FIXTURES / "trace_go1.26.6.out").read_bytes(),
}
NO_THREAD = (1 << 64) - 1


def uvarint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def header(version: int) -> bytes:
    return f"go 1.{version} trace".encode().ljust(16, b"\x00")


def batch(gen: int, body: bytes, m: int = 1, time: int = 100) -> bytes:
    return b"\x01" + uvarint(gen) + uvarint(m) + uvarint(time) + uvarint(len(body)) + body


def frequency_batch(gen: int) -> bytes:
    return batch(gen, b"\x08" + uvarint(15_625_000), m=NO_THREAD)


def read_all(data: bytes) -> list[Generation]:
    return list(read_generations(io.BytesIO(data), "t.out"))


def one_line_error(data: bytes) -> str:
    with pytest.raises(MapscopeError) as caught:
        read_all(data)
    message = str(caught.value)
    assert message.startswith("t.out: ") and "\n" not in message
    return message


@pytest.mark.parametrize(
    ("head", "wanted"),
    [
        (b"go 1.21 trace\x00\x00\x00", r"Go 1\.21 trace: format v1"),
        (b"go 1.5 trace\x00\x00\x00\x00", r"Go 1\.5 trace: format v1"),
        (b"go 1.24 trace\x00\x00\x00", r"unknown trace version go 1\.24"),
        (b"go 1.27 trace\x00\x00\x00", r"unknown trace version go 1\.27"),
        (b"go 1.99 trace\x00\x00\x00", r"unknown trace version go 1\.99"),
        (b"\x89PNG\r\n\x1a\n", r"not a Go execution trace"),
        (b"", r"not a Go execution trace"),
    ],
)
def test_header_errors_name_the_version(head: bytes, wanted: str) -> None:
    assert re.search(wanted, one_line_error(head + b"\x01\x01"))


def test_oversized_batch_is_refused_before_reading_it() -> None:
    data = header(22) + b"\x01" + uvarint(1) + uvarint(1) + uvarint(1) + uvarint(MAX_BATCH_SIZE + 1)
    assert f"byte 16: batch of {MAX_BATCH_SIZE + 1} bytes" in one_line_error(data)


def test_batch_past_end_of_file_is_truncation() -> None:
    data = header(22) + b"\x01" + uvarint(1) + uvarint(1) + uvarint(1) + uvarint(500) + b"\x10"
    assert "truncated batch body (1 of 500 bytes)" in one_line_error(data)


@pytest.mark.parametrize(
    ("body", "wanted"),
    [
        (b"\x04\x05\x01" + uvarint(5000), "string of 5000 bytes, over the limit 1024"),
        (b"\x02\x03\x01" + uvarint(100_000), "stack of 100000 frames, over the limit 128"),
        (b"\x10" + b"\xff" * 11, "varint overflows 64 bits"),
        (b"\x10\x01", "batch ends inside a varint"),
        (b"\x2d\x01\x01\x01", "event type 45 is not a timed event of trace version go 1.22"),
        (b"\x04\x07", "expected a String entry"),
    ],
)
def test_hostile_bodies(body: bytes, wanted: str) -> None:
    assert wanted in one_line_error(header(22) + frequency_batch(1) + batch(1, body))


def test_generation_without_frequency_is_an_error() -> None:
    assert "generation 1 has no frequency" in one_line_error(header(22) + batch(1, b"\x0b\x01"))


def test_generation_numbers_must_increase() -> None:
    data = header(22) + frequency_batch(2) + frequency_batch(1)
    assert "generation 1 after generation 2" in one_line_error(data)


def test_go126_trace_without_end_marker_is_truncated() -> None:
    assert "no end marker" in one_line_error(SMALL[26][:-1])


class CountingStream(io.BytesIO):
    """Remembers how far the reader has read, to show it streams."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.furthest = 0

    def read(self, size: int | None = -1, /) -> bytes:
        chunk = super().read(size)
        self.furthest = max(self.furthest, self.tell())
        return chunk


def test_generations_stream_one_at_a_time() -> None:
    gens = [frequency_batch(n) + batch(n, b"\x0b" + uvarint(n)) for n in range(1, 201)]
    stream = CountingStream(header(22) + b"".join(gens))
    reader: Iterator[Generation] = read_generations(stream, "t.out")
    first = next(reader)
    assert first.number == 1 and first.event_count() == 1
    assert stream.furthest < 16 + 3 * len(gens[0])
    assert [g.number for g in reader] == list(range(2, 201))


@pytest.mark.parametrize("version", sorted(SMALL))
def test_truncated_at_sampled_offsets(version: int) -> None:
    data = SMALL[version]
    cuts = sorted({*range(0, 40), *range(40, len(data), 97), len(data) - 1})
    for cut in cuts:
        try:
            read_all(data[:cut])
        except MapscopeError as error:
            assert "\n" not in str(error)


@settings(derandomize=True, max_examples=50, deadline=None)
@given(
    version=st.sampled_from(sorted(SMALL)),
    edits=st.lists(st.tuples(st.integers(min_value=16), st.integers(0, 255)), min_size=1, max_size=8),
)
def test_random_corruption_gives_result_or_one_error(version: int, edits: list[tuple[int, int]]) -> None:
    data = bytearray(SMALL[version])
    for position, value in edits:
        data[position % len(data)] = value
    try:
        read_all(bytes(data))
    except MapscopeError as error:
        assert "\n" not in str(error)


def test_missing_file_is_one_error(tmp_path: Path) -> None:
    with pytest.raises(MapscopeError, match="cannot read"):
        list(read_trace_file(tmp_path / "absent.out"))


def sync_batch(gen: int) -> bytes:
    """A Go 1.25+ sync batch: Sync, Frequency, ClockSnapshot."""
    body = b"\x32\x08" + uvarint(15_625_000) + b"\x33" + uvarint(1) + uvarint(2) + uvarint(3) + uvarint(4)
    return batch(gen, body, m=NO_THREAD)


def test_go126_end_marker_outside_a_generation() -> None:
    assert "end-of-generation marker outside a generation" in one_line_error(header(26) + b"\x34")


def test_go126_batch_of_next_generation_without_end_marker() -> None:
    data = header(26) + sync_batch(1) + sync_batch(2)
    assert "batch of generation 2 inside generation 1" in one_line_error(data)


def test_go125_generation_needs_a_clock_snapshot() -> None:
    data = header(25) + batch(1, b"\x32\x08" + uvarint(1000), m=NO_THREAD)
    assert "generation 1 has no clock snapshot" in one_line_error(data)


def test_go126_minimal_trace_reads() -> None:
    generations = read_all(header(26) + sync_batch(1) + b"\x34" + sync_batch(2) + b"\x34")
    assert [g.number for g in generations] == [1, 2]
    clock = generations[0].sync()
    assert clock is not None and clock.clock is not None and clock.clock.nsec == 4


def test_alloc_free_info_with_extra_bytes() -> None:
    body = b"\x01" + uvarint(1) + uvarint(8192) + uvarint(8) + uvarint(8192) + b"\x00"
    experimental = b"\x31\x01" + uvarint(1) + uvarint(NO_THREAD) + uvarint(5) + uvarint(len(body)) + body
    assert "extra bytes after the alloc/free info" in one_line_error(
        header(23) + frequency_batch(1) + experimental
    )


def test_experimental_batch_is_not_a_go122_batch() -> None:
    assert "expected a batch, found byte 49" in one_line_error(header(22) + b"\x31\x01")
