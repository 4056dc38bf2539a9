"""Streaming reader of Go execution traces (format v2, headers go 1.22, 1.23, 1.25, 1.26).

Bytes in, one `Generation` at a time out: memory is bounded by the largest generation (itself bounded
by MAX_GENERATION_BYTES), never by the file. Every size the file states is checked against Go's own
limits before anything is allocated; any malformed input raises one MapscopeError naming the file and
the byte offset.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from mapscope.errors import MapscopeError
from mapscope.readers.gotrace.records import (
    AllocFreeInfo,
    AllocType,
    Batch,
    BatchHeader,
    ClockSnapshot,
    CPUSample,
    CPUSamplesBatch,
    EventBatch,
    ExperimentalBatch,
    Frame,
    Generation,
    Stack,
    StacksBatch,
    StringsBatch,
    SyncBatch,
    TraceString,
)
from mapscope.readers.gotrace.spec import (
    EV_CLOCK_SNAPSHOT,
    EV_CPU_SAMPLE,
    EV_CPU_SAMPLES,
    EV_END_OF_GENERATION,
    EV_EVENT_BATCH,
    EV_EXPERIMENTAL_BATCH,
    EV_FREQUENCY,
    EV_STACK,
    EV_STACKS,
    EV_STRING,
    EV_STRINGS,
    EV_SYNC,
    EXPERIMENT_ALLOC_FREE,
    MAX_TIMED_ARGS,
    VERSIONS,
    specs_for,
)

HEADER_SIZE = 16
"""`go 1.NN trace` padded with NUL bytes to 16 bytes (v1 headers are padded the same way)."""

MAX_BATCH_SIZE = 64 << 10
"""Largest batch body Go's runtime writes and Go's parser accepts (tracev2.MaxBatchSize)."""

MAX_FRAMES_PER_STACK = 128
"""Largest stack-table entry (tracev2.MaxFramesPerStack)."""

MAX_STRING_SIZE = 1 << 10
"""Largest string-table entry (tracev2.MaxEventTrailerDataSize); the runtime truncates longer ones."""

MAX_GENERATION_BYTES = 256 << 20
"""Largest sum of batch sizes one generation may have. A generation covers about one second; real
ones stay far below this, so a file past it is hostile, and the bound caps the reader's memory."""

_VARINT_MAX_BYTES = 10
_HEADER = re.compile(rb"go 1\.(\d+) trace\x00+")
_PAD = [(0,) * (MAX_TIMED_ARGS - k) for k in range(MAX_TIMED_ARGS + 1)]


class _Input:
    """A binary stream read forward, knowing its byte offset, failing on short reads."""

    def __init__(self, stream: BinaryIO, source: str) -> None:
        self.stream = stream
        self.source = source
        self.offset = 0

    def fail(self, offset: int, problem: str) -> MapscopeError:
        return MapscopeError(self.source, f"byte {offset}: {problem}")

    def read(self, size: int, what: str) -> bytes:
        data = self.stream.read(size)
        if len(data) != size:
            raise self.fail(self.offset + len(data), f"truncated {what} ({len(data)} of {size} bytes)")
        self.offset += size
        return data

    def next_byte(self) -> int | None:
        data = self.stream.read(1)
        if not data:
            return None
        self.offset += 1
        return data[0]

    def uvarint(self, what: str) -> int:
        start = self.offset
        value = 0
        for index in range(_VARINT_MAX_BYTES):
            byte = self.next_byte()
            if byte is None:
                raise self.fail(self.offset, f"truncated varint ({what})")
            if byte < 0x80:
                if index == _VARINT_MAX_BYTES - 1 and byte > 1:
                    break
                return value | (byte << (7 * index))
            value |= (byte & 0x7F) << (7 * index)
        raise self.fail(start, f"varint overflows 64 bits ({what})")


class _Body:
    """One batch body in memory; positions are relative to it, errors name the file offset."""

    def __init__(self, data: bytes, offset: int, inp: _Input) -> None:
        self.data = data
        self.offset = offset
        self.inp = inp
        self.pos = 0

    def fail(self, problem: str) -> MapscopeError:
        return self.inp.fail(self.offset + self.pos, problem)

    def done(self) -> bool:
        return self.pos >= len(self.data)

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise self.fail("batch ends inside an event")
        value = self.data[self.pos]
        self.pos += 1
        return value

    def uvarint(self) -> int:
        data, pos = self.data, self.pos
        value = 0
        for index in range(_VARINT_MAX_BYTES):
            if pos >= len(data):
                self.pos = pos
                raise self.fail("batch ends inside a varint")
            byte = data[pos]
            pos += 1
            if byte < 0x80:
                if index == _VARINT_MAX_BYTES - 1 and byte > 1:
                    break
                self.pos = pos
                return value | (byte << (7 * index))
            value |= (byte & 0x7F) << (7 * index)
        raise self.fail("varint overflows 64 bits")

    def take(self, size: int) -> bytes:
        if size > len(self.data) - self.pos:
            raise self.fail(f"{size}-byte string runs past the batch end")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk


def read_header(inp: _Input) -> int:
    """The header's minor version, or a one-line error for v1, unknown or non-trace files."""
    raw = inp.stream.read(HEADER_SIZE)
    inp.offset = len(raw)
    match = _HEADER.fullmatch(raw) if len(raw) == HEADER_SIZE else None
    if match is None:
        shown = raw.split(b"\x00")[0][:24].decode("ascii", errors="replace")
        raise inp.fail(0, f"not a Go execution trace (header {shown!r})")
    version = int(match.group(1))
    if version < VERSIONS[0]:
        raise inp.fail(
            0, f"Go 1.{version} trace: format v1 (Go 1.21 and older) is not supported; Go 1.22+ is"
        )
    if version not in VERSIONS:
        raise inp.fail(0, f"unknown trace version go 1.{version} (known: 1.22, 1.23, 1.25, 1.26)")
    return version


class _BatchParser:
    """Turns batch bodies into typed batches for one header version."""

    def __init__(self, version: int) -> None:
        self.version = version
        specs = specs_for(version)
        self.arity = [-1] * 256
        for number, spec in enumerate(specs.by_type):
            if spec is not None and spec.timed and number != EV_CLOCK_SNAPSHOT:
                self.arity[number] = len(spec.args)

    def parse(self, header: BatchHeader, experiment: int, body: _Body) -> Batch:
        if experiment:
            return self._experimental(header, experiment, body)
        first = body.data[0] if body.data else -1
        if first == EV_STRINGS:
            return self._strings(header, body)
        if first == EV_STACKS:
            return self._stacks(header, body)
        if first == EV_CPU_SAMPLES:
            return self._cpu_samples(header, body)
        if first == EV_FREQUENCY and self.version < 25:
            return self._sync(header, body, marked=False)
        if first == EV_SYNC and self.version >= 25:
            body.pos = 1
            return self._sync(header, body, marked=True)
        return self._events(header, body)

    def _strings(self, header: BatchHeader, body: _Body) -> StringsBatch:
        body.pos = 1
        strings: list[TraceString] = []
        while not body.done():
            if body.byte() != EV_STRING:
                body.pos -= 1
                raise body.fail("expected a String entry in the string table")
            ident = body.uvarint()
            size = body.uvarint()
            if size > MAX_STRING_SIZE:
                raise body.fail(f"string of {size} bytes, over the limit {MAX_STRING_SIZE}")
            strings.append(TraceString(ident, body.take(size)))
        return StringsBatch(header, tuple(strings))

    def _stacks(self, header: BatchHeader, body: _Body) -> StacksBatch:
        body.pos = 1
        stacks: list[Stack] = []
        while not body.done():
            if body.byte() != EV_STACK:
                body.pos -= 1
                raise body.fail("expected a Stack entry in the stack table")
            ident = body.uvarint()
            count = body.uvarint()
            if count > MAX_FRAMES_PER_STACK:
                raise body.fail(f"stack of {count} frames, over the limit {MAX_FRAMES_PER_STACK}")
            frames = tuple(
                Frame(body.uvarint(), body.uvarint(), body.uvarint(), body.uvarint()) for _ in range(count)
            )
            stacks.append(Stack(ident, frames))
        return StacksBatch(header, tuple(stacks))

    def _cpu_samples(self, header: BatchHeader, body: _Body) -> CPUSamplesBatch:
        body.pos = 1
        samples: list[CPUSample] = []
        while not body.done():
            if body.byte() != EV_CPU_SAMPLE:
                body.pos -= 1
                raise body.fail("expected a CPUSample entry")
            time, m, p, g, stack = (body.uvarint() for _ in range(5))
            samples.append(CPUSample(time, m, p, g, stack))
        return CPUSamplesBatch(header, tuple(samples))

    def _sync(self, header: BatchHeader, body: _Body, *, marked: bool) -> SyncBatch:
        frequency: int | None = None
        clock: ClockSnapshot | None = None
        while not body.done():
            kind = body.byte()
            if kind == EV_FREQUENCY and frequency is None:
                frequency = body.uvarint()
            elif kind == EV_CLOCK_SNAPSHOT and marked and clock is None:
                clock = ClockSnapshot(body.uvarint(), body.uvarint(), body.uvarint(), body.uvarint())
            else:
                body.pos -= 1
                raise body.fail(f"unexpected event type {kind} in a sync batch")
        if not frequency:
            raise body.fail("sync batch without a nonzero frequency")
        return SyncBatch(header, frequency, clock, marked)

    def _events(self, header: BatchHeader, body: _Body) -> EventBatch:
        data, arity = body.data, self.arity
        end = len(data)
        types = bytearray()
        flat: list[int] = []
        append = flat.append
        pos = 0
        while pos < end:
            kind = data[pos]
            count = arity[kind]
            if count < 0:
                body.pos = pos
                raise body.fail(
                    f"event type {kind} is not a timed event of trace version go 1.{self.version}"
                )
            pos += 1
            types.append(kind)
            for _ in range(count):
                if pos < end and data[pos] < 0x80:
                    append(data[pos])
                    pos += 1
                else:
                    body.pos = pos
                    append(body.uvarint())
                    pos = body.pos
            flat.extend(_PAD[count])
        args = np.array(flat, dtype=np.uint64).reshape(-1, MAX_TIMED_ARGS)
        return EventBatch(header, np.frombuffer(bytes(types), dtype=np.uint8), args)

    def _experimental(self, header: BatchHeader, experiment: int, body: _Body) -> ExperimentalBatch:
        data = body.data
        if experiment != EXPERIMENT_ALLOC_FREE or not data:
            return ExperimentalBatch(header, experiment, data)
        if data[0] == 0:
            body.pos = 1
            types: list[AllocType] = []
            while not body.done():
                ident, address, size, ptr_bytes, name_size = (body.uvarint() for _ in range(5))
                if name_size > MAX_STRING_SIZE:
                    raise body.fail(f"type name of {name_size} bytes, over the limit {MAX_STRING_SIZE}")
                name = body.take(name_size).decode("utf-8", errors="replace")
                types.append(AllocType(ident, address, size, ptr_bytes, name))
            return ExperimentalBatch(header, experiment, data, types=tuple(types))
        if data[0] == 1:
            body.pos = 1
            info = AllocFreeInfo(body.uvarint(), body.uvarint(), body.uvarint(), body.uvarint())
            if not body.done():
                raise body.fail("extra bytes after the alloc/free info")
            return ExperimentalBatch(header, experiment, data, info=info)
        return ExperimentalBatch(header, experiment, data, events=self._events(header, body))


def _batch_header(inp: _Input, offset: int, kind: int, version: int) -> tuple[BatchHeader, int]:
    experiment = 0
    if kind == EV_EXPERIMENTAL_BATCH and version >= 23:
        experiment = inp.read(1, "experiment id")[0]
    elif kind != EV_EVENT_BATCH:
        raise inp.fail(offset, f"expected a batch, found byte {kind}")
    gen = inp.uvarint("generation")
    m = inp.uvarint("thread id")
    time = inp.uvarint("timestamp")
    size = inp.uvarint("batch size")
    if size > MAX_BATCH_SIZE:
        raise inp.fail(offset, f"batch of {size} bytes, over the limit {MAX_BATCH_SIZE}")
    return BatchHeader(offset, gen, m, time, size), experiment


def _check_complete(generation: Generation, inp: _Input) -> Generation:
    sync = generation.sync()
    if sync is None:
        raise inp.fail(inp.offset, f"generation {generation.number} has no frequency (sync) batch")
    if generation.version >= 25 and sync.clock is None:
        raise inp.fail(sync.header.offset, f"generation {generation.number} has no clock snapshot")
    return generation


def read_generations(stream: BinaryIO, source: str) -> Iterator[Generation]:
    """The generations of a trace, one at a time, each complete before it is yielded."""
    inp = _Input(stream, source)
    version = read_header(inp)
    parser = _BatchParser(version)
    current: Generation | None = None
    last_number = 0
    held_bytes = 0
    while True:
        offset = inp.offset
        kind = inp.next_byte()
        if kind is None:
            break
        if kind == EV_END_OF_GENERATION and version >= 26:
            if current is None:
                raise inp.fail(offset, "end-of-generation marker outside a generation")
            current.ended_by_marker = True
            yield _check_complete(current, inp)
            current = None
            continue
        header, experiment = _batch_header(inp, offset, kind, version)
        body = _Body(inp.read(header.size, "batch body"), inp.offset - header.size, inp)
        if current is not None and header.gen != current.number:
            if version >= 26:
                raise inp.fail(offset, f"batch of generation {header.gen} inside generation {current.number}")
            yield _check_complete(current, inp)
            current = None
        if current is None:
            if header.gen <= last_number:
                raise inp.fail(offset, f"generation {header.gen} after generation {last_number}")
            current = Generation(header.gen, version)
            last_number = header.gen
            held_bytes = 0
        held_bytes += header.size
        if held_bytes > MAX_GENERATION_BYTES:
            raise inp.fail(offset, f"generation {header.gen} exceeds {MAX_GENERATION_BYTES} bytes")
        current.batches.append(parser.parse(header, experiment, body))
    if current is not None:
        if version >= 26:
            raise inp.fail(inp.offset, f"trace ends inside generation {current.number} (no end marker)")
        yield _check_complete(current, inp)


def read_trace_file(path: Path) -> Iterator[Generation]:
    """The generations of the trace file at `path`, streamed."""
    try:
        stream = path.open("rb")
    except OSError as error:
        raise MapscopeError(str(path), f"cannot read: {error.strerror or error}") from None
    with stream:
        yield from read_generations(stream, str(path))


def trace_version(stream: BinaryIO, source: str) -> int:
    """The header's minor version (22, 23, 25 or 26) without reading further."""
    return read_header(_Input(stream, source))
