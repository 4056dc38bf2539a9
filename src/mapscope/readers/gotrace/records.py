"""Typed records of one execution-trace generation, as the wire holds them (nothing reordered)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from mapscope.readers.gotrace.spec import MAX_TIMED_ARGS

U64 = npt.NDArray[np.uint64]


@dataclass(frozen=True)
class Frame:
    """One stack frame; func and file are string-table ids of the same generation."""

    pc: int
    func: int
    file: int
    line: int


@dataclass(frozen=True)
class Stack:
    id: int
    frames: tuple[Frame, ...]


@dataclass(frozen=True)
class TraceString:
    id: int
    data: bytes

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


@dataclass(frozen=True)
class CPUSample:
    """A CPU profile sample; time is absolute ticks, p is NO_THREAD without a P, g 0 without one."""

    time: int
    m: int
    p: int
    g: int
    stack: int


@dataclass(frozen=True)
class ClockSnapshot:
    """Trace ticks, CLOCK_MONOTONIC ns and wall clock at one instant (Go 1.25+ sync batches)."""

    dt: int
    mono: int
    sec: int
    nsec: int


@dataclass(frozen=True)
class BatchHeader:
    """Where a batch starts in the file and what its header says."""

    offset: int
    gen: int
    m: int
    time: int
    size: int


@dataclass(frozen=True)
class EventBatch:
    """The timed events one M wrote, as columns.

    `types[i]` is the event type byte; `args[i, 0]` its dt in ticks and `args[i, 1:]` the other
    arguments in spec order (zero past the event's count); `times` are absolute ticks.
    """

    header: BatchHeader
    types: npt.NDArray[np.uint8]
    args: U64

    @property
    def times(self) -> U64:
        with np.errstate(over="ignore"):
            return np.uint64(self.header.time) + np.cumsum(self.args[:, 0], dtype=np.uint64)

    def __len__(self) -> int:
        return int(self.types.shape[0])


@dataclass(frozen=True)
class StringsBatch:
    header: BatchHeader
    strings: tuple[TraceString, ...]


@dataclass(frozen=True)
class StacksBatch:
    header: BatchHeader
    stacks: tuple[Stack, ...]


@dataclass(frozen=True)
class CPUSamplesBatch:
    header: BatchHeader
    samples: tuple[CPUSample, ...]


@dataclass(frozen=True)
class SyncBatch:
    """Ticks per second, and from Go 1.25 the clock snapshot; `marked` when the body starts with Sync."""

    header: BatchHeader
    frequency: int
    clock: ClockSnapshot | None
    marked: bool


@dataclass(frozen=True)
class AllocType:
    """A Go type the alloc/free experiment names: its id (used by HeapObject events) and layout."""

    id: int
    address: int
    size: int
    ptr_bytes: int
    name: str


@dataclass(frozen=True)
class AllocFreeInfo:
    """Constants to turn alloc/free ids back into addresses (min heap address, page size, alignments)."""

    min_heap_addr: int
    page_size: int
    min_heap_align: int
    min_stack_align: int


@dataclass(frozen=True)
class ExperimentalBatch:
    """A batch of an experiment; for alloc/free its body is a type table, the info, or timed events."""

    header: BatchHeader
    experiment: int
    data: bytes
    types: tuple[AllocType, ...] = ()
    info: AllocFreeInfo | None = None
    events: EventBatch | None = None


Batch = EventBatch | StringsBatch | StacksBatch | CPUSamplesBatch | SyncBatch | ExperimentalBatch


@dataclass
class Generation:
    """All batches of one generation in file order, with its tables merged for lookups."""

    number: int
    version: int
    batches: list[Batch] = field(default_factory=list)
    ended_by_marker: bool = False

    def event_batches(self) -> list[EventBatch]:
        return [b for b in self.batches if isinstance(b, EventBatch)]

    def strings(self) -> dict[int, str]:
        return {s.id: s.text for b in self.batches if isinstance(b, StringsBatch) for s in b.strings}

    def stacks(self) -> dict[int, Stack]:
        return {s.id: s for b in self.batches if isinstance(b, StacksBatch) for s in b.stacks}

    def cpu_samples(self) -> list[CPUSample]:
        return [s for b in self.batches if isinstance(b, CPUSamplesBatch) for s in b.samples]

    def sync(self) -> SyncBatch | None:
        return next((b for b in self.batches if isinstance(b, SyncBatch)), None)

    def alloc_types(self) -> list[AllocType]:
        return [t for b in self.batches if isinstance(b, ExperimentalBatch) for t in b.types]

    def event_count(self) -> int:
        """Timed events of the generation, experimental ones included."""
        total = sum(len(b) for b in self.event_batches())
        return total + sum(
            len(b.events) for b in self.batches if isinstance(b, ExperimentalBatch) and b.events is not None
        )


ARG_COLUMNS = MAX_TIMED_ARGS
