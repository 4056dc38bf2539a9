"""What the oracle measures, as records: figures over repetitions per operation of a case on one target.

The runner makes them from a Go program's output; fixtures store them; analyses and renderers compare them
with the model. They live here, apart from the runner, so those layers need not import a process runner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mapscope.oracle.cases import Case

__all__ = ["Measurement", "Observed", "Reading", "Sample", "Stats"]


@dataclass(frozen=True)
class Observed:
    """One figure over the repetitions: the lower median, the range, and whether all were equal."""

    median: int
    min: int
    max: int
    deterministic: bool

    @classmethod
    def of(cls, values: Sequence[int]) -> Observed:
        if not values:
            raise ValueError("no values")
        ordered = sorted(values)
        return cls(ordered[(len(ordered) - 1) // 2], ordered[0], ordered[-1], ordered[0] == ordered[-1])


@dataclass(frozen=True)
class Sample:
    """One repetition's figures after one operation, in bytes (mallocs in objects)."""

    retained: int
    total_alloc: int
    mallocs: int
    gc_scan: int
    peak: int | None


@dataclass(frozen=True)
class Stats:
    retained: Observed
    total_alloc: Observed
    mallocs: Observed
    gc_scan: Observed
    peak: Observed | None

    @classmethod
    def of(cls, samples: Sequence[Sample]) -> Stats:
        peaks = [s.peak for s in samples if s.peak is not None]
        return cls(
            Observed.of([s.retained for s in samples]),
            Observed.of([s.total_alloc for s in samples]),
            Observed.of([s.mallocs for s in samples]),
            Observed.of([s.gc_scan for s in samples]),
            Observed.of(peaks) if peaks else None,
        )

    @property
    def deterministic(self) -> bool:
        return all(
            o.deterministic
            for o in (self.retained, self.total_alloc, self.mallocs, self.gc_scan, self.peak)
            if o
        )


@dataclass(frozen=True)
class Reading:
    """The map after operation `op_index` (0 is `make`); `live` keys are in it; `samples` per repetition."""

    op_index: int
    op: str
    live: int
    stats: Stats
    samples: tuple[Sample, ...] = ()


@dataclass(frozen=True)
class Measurement:
    case: Case
    target: str
    runtime_version: str
    reps: int
    readings: tuple[Reading, ...]

    @property
    def deterministic(self) -> bool:
        return all(reading.stats.deterministic for reading in self.readings)
