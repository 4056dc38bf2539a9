"""One generation's timed events merged across Ms in time order, and the stop-the-world windows.

This is not Go's full ordering engine (which also checks g/p/gc sequence numbers and synthesizes state
transitions); it sorts by timestamp, keeping each M's own order, which on Linux's monotonic clock gives
the same STW windows as `go tool trace -d=parsed`. Times are nanoseconds converted the way Go's parser
does: ticks times the float64 nanoseconds per tick, truncated.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mapscope.readers.gotrace.records import EventBatch, Generation

EV_PROC_START = 10
EV_PROC_STOP = 11
EV_PROC_STEAL = 12
EV_GO_DESTROY_SYSCALL = 18
EV_STW_BEGIN = 26
EV_STW_END = 27
EV_GO_SWITCH = 45
EV_GO_SWITCH_DESTROY = 46


def ticks_to_ns(ticks: int, frequency: int) -> int:
    """Go's conversion: float64(ticks) * (1 / (float64(freq) / 1e9)), truncated to an integer."""
    return int(float(ticks) * (1.0 / (frequency / 1e9)))


@dataclass(frozen=True)
class MergedEvents:
    """Timed events of one generation as columns, sorted by time (ties keep file order)."""

    time_ns: npt.NDArray[np.int64]
    m: npt.NDArray[np.uint64]
    types: npt.NDArray[np.uint8]
    args: npt.NDArray[np.uint64]


def merge(generation: Generation) -> MergedEvents:
    sync = generation.sync()
    if sync is None:
        raise ValueError("generation without a frequency")
    batches: list[EventBatch] = generation.event_batches()
    if not batches:
        empty = np.zeros(0, dtype=np.uint64)
        return MergedEvents(np.zeros(0, np.int64), empty, np.zeros(0, np.uint8), empty.reshape(0, 5))
    ticks = np.concatenate([b.times for b in batches])
    per_ns = 1.0 / (sync.frequency / 1e9)
    time_ns = (ticks.astype(np.float64) * per_ns).astype(np.int64)
    m = np.concatenate([np.full(len(b), b.header.m, dtype=np.uint64) for b in batches])
    order = np.argsort(time_ns, kind="stable")
    types = np.concatenate([b.types for b in batches])
    args = np.concatenate([b.args for b in batches])
    return MergedEvents(time_ns[order], m[order], types[order], args[order])


@dataclass(frozen=True)
class STWWindow:
    """A stop-the-world pause: begin and end in ns, the M that stopped the world, and why."""

    start_ns: int
    end_ns: int
    m: int
    reason: str

    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns


def stw_windows(generations: Iterable[Generation]) -> Iterator[STWWindow]:
    """STWBegin paired with the next STWEnd on the same M; a begin left open at the end is dropped."""
    open_begins: dict[int, tuple[int, str]] = {}
    for generation in generations:
        strings = generation.strings()
        merged = merge(generation)
        stw = np.flatnonzero((merged.types == EV_STW_BEGIN) | (merged.types == EV_STW_END))
        for index in stw.tolist():
            m = int(merged.m[index])
            time_ns = int(merged.time_ns[index])
            if int(merged.types[index]) == EV_STW_BEGIN:
                open_begins[m] = (time_ns, strings.get(int(merged.args[index, 1]), ""))
            elif m in open_begins:
                start, reason = open_begins.pop(m)
                yield STWWindow(start, time_ns, m, reason)


def parsed_event_count(generations: Iterable[Generation], *, final_sync: bool = True) -> int:
    """How many events Go's parser (`go tool trace -d=parsed`) yields for a trace it accepts.

    Go's ordering emits one event per timed event, plus: a Sync at the start of every generation and,
    from Go 1.25's parser on (`final_sync`), one at the end; a StackSample per CPU sample; for GoSwitch and GoSwitchDestroy the block (or
    destroy) of the old goroutine and the start of the new one; for a GoDestroySyscall on an M that
    holds a P, a ProcSteal of that P.
    """
    total = 1 if final_sync else 0
    m_has_p: dict[int, bool] = {}
    for generation in generations:
        total += 1 + generation.event_count() + len(generation.cpu_samples())
        for batch in generation.event_batches():
            kinds = batch.types
            total += 2 * int(np.count_nonzero((kinds == EV_GO_SWITCH) | (kinds == EV_GO_SWITCH_DESTROY)))
            if not np.any(kinds == EV_GO_DESTROY_SYSCALL):
                _track_p(batch, m_has_p)
                continue
            for kind, row in zip(kinds.tolist(), batch.args.tolist(), strict=True):
                m = batch.header.m
                if kind == EV_GO_DESTROY_SYSCALL and m_has_p.get(m, False):
                    total += 1
                _step_p(kind, row, m, m_has_p)
    return total


def _track_p(batch: EventBatch, m_has_p: dict[int, bool]) -> None:
    """Whether the batch's M ends holding a P: decided by its last P-changing event."""
    kinds = batch.types
    changes = np.flatnonzero((kinds == EV_PROC_START) | (kinds == EV_PROC_STOP) | (kinds == EV_PROC_STEAL))
    for index in changes[::-1].tolist():
        kind = int(kinds[index])
        if kind == EV_PROC_STEAL and int(batch.args[index, 3]) != batch.header.m:
            continue
        m_has_p[batch.header.m] = kind == EV_PROC_START
        return


def _step_p(kind: int, row: list[int], m: int, m_has_p: dict[int, bool]) -> None:
    if kind == EV_PROC_START:
        m_has_p[m] = True
    elif kind in (EV_PROC_STOP, EV_GO_DESTROY_SYSCALL) or (kind == EV_PROC_STEAL and row[3] == m):
        m_has_p[m] = False
