"""The model's figures beside the real runtime's, and whether they agree.

Agreement is exact when the runtime gave the same figure in every repetition and the model's median is
that figure; when the hash seed moves the figure, every observed value must lie in the model's range.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mapscope.analyses.map_size import SizeReport
from mapscope.model.ops import Op, OpKind
from mapscope.model.records import Spread
from mapscope.oracle.cases import Case
from mapscope.oracle.records import Measurement, Observed


class Verdict(StrEnum):
    EXACT = "exact"
    IN_RANGE = "in range"
    DIFFERS = "differs"


@dataclass(frozen=True)
class FigureCheck:
    figure: str
    model: Spread
    measured: Observed
    verdict: Verdict


def verdict(model: Spread, measured: Observed) -> Verdict:
    if measured.deterministic and model.value == measured.median:
        return Verdict.EXACT
    if not measured.deterministic and model.low <= measured.min and measured.max <= model.high:
        return Verdict.IN_RANGE
    return Verdict.DIFFERS


@dataclass(frozen=True)
class SizeMeasurements:
    """The oracle runs behind one `size` report: insert N, then delete all, clear, or churn."""

    inserted: Measurement
    deleted: Measurement
    cleared: Measurement
    churned: Measurement


def compare_size(report: SizeReport, measured: SizeMeasurements) -> tuple[FigureCheck, ...]:
    after_insert = measured.inserted.readings[-1].stats
    checks = [
        ("retained bytes", report.retained_bytes, after_insert.retained),
        ("total allocated bytes", report.total_alloc_bytes, after_insert.total_alloc),
        ("allocations", report.mallocs, after_insert.mallocs),
        ("GC-scanned bytes", report.gc_scan_bytes, after_insert.gc_scan),
        ("after deleting every key", report.after_delete_bytes, measured.deleted.readings[-1].stats.retained),
        ("after clear(m)", report.after_clear_bytes, measured.cleared.readings[-1].stats.retained),
        ("after churn", report.after_churn_bytes, measured.churned.readings[-1].stats.retained),
    ]
    if after_insert.peak is not None:
        checks.insert(4, ("peak bytes", report.peak_bytes, after_insert.peak))
    return tuple(FigureCheck(name, model, seen, verdict(model, seen)) for name, model, seen in checks)


def size_cases(
    type_expr: str, declarations: str, n: int, hint: int | None, boxed: str | None
) -> tuple[Case, ...]:
    """The four oracle cases that measure what one `size` report models."""
    insert, delete = Op(OpKind.INSERT, n), Op(OpKind.DELETE, n)
    sequences = {
        "inserted": (insert,),
        "deleted": (insert, delete),
        "cleared": (insert, Op(OpKind.CLEAR)),
        "churned": (insert, delete, insert),
    }
    return tuple(
        Case(f"size/{name}", type_expr, declarations, hint, ops, boxed, track_peak=False)
        for name, ops in sequences.items()
    )
