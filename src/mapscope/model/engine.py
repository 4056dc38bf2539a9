"""Runs a map machine over an operation sequence and folds hash-seed luck into ranges.

Counts drive everything: a machine jumps from one growth point to the next, so a billion inserts cost
a few dozen steps. Where the runtime's behaviour depends on the random hash seed, a machine takes a
`luck` quantile in (0, 1) for each random quantity; running it at several quantiles gives the median
(luck 0.5) and the range.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Protocol

from mapscope.model.entries import Entries
from mapscope.model.ledger import Ledger
from mapscope.model.ops import Op, OpKind, validate
from mapscope.model.records import Point, Run, Spread, SpreadPoint

LUCKS: tuple[float, ...] = (0.5, 0.0005, 0.1, 0.9, 0.9995)


class MapMachine(Protocol):
    """One Go map implementation: allocates and releases through the ledger as the runtime does."""

    def make(self, hint: int | None) -> None: ...

    def insert(self, count: int) -> None: ...

    def delete(self, count: int) -> None: ...

    def clear(self) -> None: ...

    def only_final_readings(self) -> None:
        """From now on only the state after each operation is read, not the peak within it."""


MachineFactory = Callable[[Ledger, Entries, float], MapMachine]
EntriesFactory = Callable[[Ledger], Entries]


class _Pass:
    """A machine part-way through an operation sequence; copied to branch one prefix into several runs.

    A GC follows `make` and every operation, as in the oracle's workload. Each point's peak is the
    largest live size read during that operation: right after each structural allocation, and at its end.
    """

    def __init__(
        self, machine_for: MachineFactory, entries_for: EntriesFactory, hint: int | None, luck: float
    ):
        self.ledger = Ledger()
        self.entries = entries_for(self.ledger)
        self.machine = machine_for(self.ledger, self.entries, luck)
        self.machine.make(hint)
        self.points = [_point(self.ledger, 0, "make" if hint is None else f"make (hint {hint})")]

    def apply(self, op: Op) -> None:
        ledger, index = self.ledger, len(self.points)
        ledger.op_index = index
        ledger.peak = 0  # the peak of one operation: read at its structural allocations and its end
        self.entries.gc()
        if op.kind is OpKind.INSERT:
            self.machine.insert(op.count)
        elif op.kind is OpKind.DELETE:
            self.machine.delete(op.count)
        else:
            self.machine.clear()
        ledger.peak = max(ledger.peak, ledger.retained)
        self.points.append(_point(ledger, index, str(op)))

    def run(self) -> Run:
        return Run(tuple(self.points), tuple(self.ledger.events))


def run_once(
    machine_for: MachineFactory,
    entries_for: EntriesFactory,
    ops: tuple[Op, ...],
    hint: int | None,
    luck: float,
) -> Run:
    """One deterministic pass over `ops`."""
    validate(ops)
    state = _Pass(machine_for, entries_for, hint, luck)
    for op in ops:
        state.apply(op)
    return state.run()


def run_branches(
    machine_for: MachineFactory,
    entries_for: EntriesFactory,
    prefix: tuple[Op, ...],
    branches: tuple[tuple[Op, ...], ...],
    hint: int | None,
    luck: float,
) -> list[Run]:
    """The runs of `prefix + branch` for every branch, doing the shared prefix once. Within a branch's own
    operations the peak is only read at their ends (a branch is asked for what it leaves behind)."""
    for branch in branches:
        validate(prefix + branch)
    state = _Pass(machine_for, entries_for, hint, luck)
    for op in prefix:
        state.apply(op)
    runs = []
    for branch in branches:
        copy = pickle.loads(pickle.dumps(state, pickle.HIGHEST_PROTOCOL))
        copy.machine.only_final_readings()
        for op in branch:
            copy.apply(op)
        runs.append(copy.run())
    return runs


def _point(ledger: Ledger, index: int, label: str) -> Point:
    return Point(
        index,
        label,
        ledger.entries,
        ledger.retained,
        ledger.gc_scan,
        ledger.total_alloc,
        ledger.mallocs,
        ledger.peak,
    )


def _spread(median_run: Run, runs: list[Run], index: int, field: str) -> Spread:
    values = [getattr(run.points[index], field) for run in runs]
    median = getattr(median_run.points[index], field)
    return Spread(median, min([median, *values]), max([median, *values]))


def fold(runs: list[Run]) -> tuple[tuple[SpreadPoint, ...], Run]:
    """Points with ranges over all runs; the first run (luck 0.5) gives the median and the events."""
    median_run = runs[0]
    points = []
    for index, point in enumerate(median_run.points):
        points.append(
            SpreadPoint(
                point.op_index,
                point.op,
                point.entries,
                *(
                    _spread(median_run, runs, index, field)
                    for field in (
                        "retained_bytes",
                        "gc_scan_bytes",
                        "total_alloc_bytes",
                        "mallocs",
                        "peak_bytes",
                    )
                ),
            )
        )
    return tuple(points), median_run
