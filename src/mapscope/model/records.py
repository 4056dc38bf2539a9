"""What the map model answers: timelines of bytes, allocations and GC work, with hash-seed ranges."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Cause(StrEnum):
    """Why the map's operations put an object on the heap."""

    HEADER = "header"
    BUCKETS = "buckets"
    OVERFLOW = "overflow"
    OVERFLOW_LIST = "overflow-list"
    GROUPS = "groups"
    TABLE = "table"
    DIRECTORY = "directory"
    KEY = "out-of-line key"
    ELEM = "out-of-line value"
    KEY_BOX = "key box"
    ELEM_BOX = "value box"


class Action(StrEnum):
    ALLOC = "alloc"
    FREE = "free"


@dataclass(frozen=True)
class Event:
    """One allocation or release; per-entry objects of one operation are grouped into one event."""

    op_index: int
    entries: int
    action: Action
    cause: Cause
    reason: str
    objects: int
    bytes: int


@dataclass(frozen=True)
class Point:
    """The map's state after one operation (op_index 0 is `make`), as measured after a GC."""

    op_index: int
    op: str
    entries: int
    retained_bytes: int
    gc_scan_bytes: int
    total_alloc_bytes: int
    mallocs: int
    peak_bytes: int


@dataclass(frozen=True)
class Run:
    """One deterministic pass of a map machine over an operation sequence."""

    points: tuple[Point, ...]
    events: tuple[Event, ...]


@dataclass(frozen=True)
class Spread:
    """A figure that may depend on the random hash seed: `value` is the median, [low, high] the range."""

    value: int
    low: int
    high: int

    @property
    def exact(self) -> bool:
        return self.low == self.high


@dataclass(frozen=True)
class SpreadPoint:
    op_index: int
    op: str
    entries: int
    retained_bytes: Spread
    gc_scan_bytes: Spread
    total_alloc_bytes: Spread
    mallocs: Spread
    peak_bytes: Spread


@dataclass(frozen=True)
class Timeline:
    """The model's answer for one map type, Go target and operation sequence."""

    go_version: str
    goexperiment: str
    implementation: str
    map_type: str
    hint: int | None
    points: tuple[SpreadPoint, ...]
    events: tuple[Event, ...]

    @property
    def seed_dependent(self) -> bool:
        return any(
            not spread.exact
            for point in self.points
            for spread in (
                point.retained_bytes,
                point.gc_scan_bytes,
                point.total_alloc_bytes,
                point.mallocs,
                point.peak_bytes,
            )
        )

    @property
    def final(self) -> SpreadPoint:
        return self.points[-1]
