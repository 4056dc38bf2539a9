"""The model's front door: a map type, a Go target and an operation sequence in, a Timeline out."""

from __future__ import annotations

from mapscope.model import buckets, swiss
from mapscope.model.engine import LUCKS, MachineFactory, fold, run_branches, run_once
from mapscope.model.entries import Entries
from mapscope.model.gotypes import GoType, Kind, MapType
from mapscope.model.ledger import Ledger
from mapscope.model.ops import Op
from mapscope.model.records import Run, Timeline
from mapscope.model.versions import Implementation, Target

INT = GoType(Kind.INT, "int", 8, 8, 0)


def machine_factory(map_type: MapType, target: Target) -> MachineFactory:
    if target.implementation is Implementation.BUCKETS:
        return buckets.machine_factory(map_type, target.version)
    return swiss.machine_factory(map_type, target.version)


def simulate(
    map_type: MapType,
    ops: tuple[Op, ...],
    target: Target,
    hint: int | None = None,
    boxed: GoType | None = None,
) -> Timeline:
    """Model `make(map[K]V[, hint])` followed by `ops`; interface keys/values hold `boxed` (default int)."""
    dynamic = boxed or INT
    machine_for = machine_factory(map_type, target)

    def entries_for(ledger: Ledger) -> Entries:
        return Entries(ledger, map_type, dynamic, dynamic)

    return _timeline(
        map_type, target, hint, [run_once(machine_for, entries_for, ops, hint, luck) for luck in LUCKS]
    )


def simulate_branches(
    map_type: MapType,
    prefix: tuple[Op, ...],
    branches: tuple[tuple[Op, ...], ...],
    target: Target,
    hint: int | None = None,
    boxed: GoType | None = None,
) -> list[Timeline]:
    """simulate(prefix + branch) for each branch, running the shared prefix once per quantile."""
    dynamic = boxed or INT
    machine_for = machine_factory(map_type, target)

    def entries_for(ledger: Ledger) -> Entries:
        return Entries(ledger, map_type, dynamic, dynamic)

    per_luck = [run_branches(machine_for, entries_for, prefix, branches, hint, luck) for luck in LUCKS]
    return [_timeline(map_type, target, hint, [runs[i] for runs in per_luck]) for i in range(len(branches))]


def _timeline(map_type: MapType, target: Target, hint: int | None, runs: list[Run]) -> Timeline:
    points, median_run = fold(runs)
    return Timeline(
        go_version=target.version.release,
        goexperiment=target.goexperiment,
        implementation=target.implementation.value,
        map_type=map_type.name,
        hint=hint,
        points=points,
        events=median_run.events,
    )
