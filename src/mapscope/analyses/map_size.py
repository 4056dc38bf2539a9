"""`mapscope size`: one map after N inserts, and what delete, clear and churn leave behind.

Four runs of the model on the documented workload: insert N; insert N then delete all; insert N then
clear; insert N, delete all, insert N new keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from mapscope.model.gotypes import GoType, MapType
from mapscope.model.ops import Op, OpKind
from mapscope.model.records import Event, Spread, Timeline
from mapscope.model.simulate import simulate_branches
from mapscope.model.versions import Target


@dataclass(frozen=True)
class SizeReport:
    go_version: str
    goexperiment: str
    implementation: str
    map_type: str
    n: int
    hint: int | None
    retained_bytes: Spread
    total_alloc_bytes: Spread
    mallocs: Spread
    gc_scan_bytes: Spread
    peak_bytes: Spread
    after_delete_bytes: Spread
    after_clear_bytes: Spread
    after_churn_bytes: Spread
    events: tuple[Event, ...]

    @property
    def bytes_per_entry(self) -> float | None:
        return self.retained_bytes.value / self.n if self.n else None

    @property
    def seed_dependent(self) -> bool:
        return not all(
            spread.exact
            for spread in (
                self.retained_bytes,
                self.total_alloc_bytes,
                self.mallocs,
                self.gc_scan_bytes,
                self.peak_bytes,
                self.after_delete_bytes,
                self.after_clear_bytes,
                self.after_churn_bytes,
            )
        )


def _final(timeline: Timeline) -> Spread:
    return timeline.final.retained_bytes


def size_report(
    map_type: MapType, n: int, target: Target, hint: int | None = None, boxed: GoType | None = None
) -> SizeReport:
    insert = Op(OpKind.INSERT, n)
    delete = Op(OpKind.DELETE, n)
    main, after_delete, after_clear, after_churn = simulate_branches(
        map_type, (insert,), ((), (delete,), (Op(OpKind.CLEAR),), (delete, insert)), target, hint, boxed
    )
    final = main.final
    return SizeReport(
        go_version=main.go_version,
        goexperiment=main.goexperiment,
        implementation=main.implementation,
        map_type=main.map_type,
        n=n,
        hint=hint,
        retained_bytes=final.retained_bytes,
        total_alloc_bytes=final.total_alloc_bytes,
        mallocs=final.mallocs,
        gc_scan_bytes=final.gc_scan_bytes,
        peak_bytes=final.peak_bytes,
        after_delete_bytes=_final(after_delete),
        after_clear_bytes=_final(after_clear),
        after_churn_bytes=_final(after_churn),
        events=main.events,
    )
