"""The model's front door: a map type, a Go target and an operation sequence in, a Timeline out."""

from __future__ import annotations

from mapscope.model import buckets, swiss
from mapscope.model.engine import LUCKS, MachineFactory, fold, run_once
from mapscope.model.entries import Entries
from mapscope.model.gotypes import GoType, Kind, MapType
from mapscope.model.ledger import Ledger
from mapscope.model.ops import Op
from mapscope.model.records import Timeline
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

    runs = [run_once(machine_for, entries_for, ops, hint, luck) for luck in LUCKS]
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
