"""What a run says, as records: its GC report, its benchmarks, and, for each benchmark that names the map it
measures, the model's bytes per entry beside the measured ones (pipelines/run.py reads the files).

A benchmark names its map with sub-benchmark parts `map=<Go map type>/n=<entries>`, optionally `hint=<make
hint>` and `phase=filled|deleted|churned` (after inserting n keys; after deleting them all; after then
inserting n new ones), and reports the live heap per entry after a GC with
`b.ReportMetric(bytes/n, "live-B/entry")` (examples/ordercache shows how). The model answers for the Go
release the run used. The model counts the map's own allocations; where the values are pointers, the
objects they point to are the program's, so their size class is added for the comparison.

Nothing here fails a run: a part that cannot be analysed becomes a note.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from mapscope.analyses.bench import BenchReport
from mapscope.analyses.bench_gc import BenchGc
from mapscope.analyses.gc_summary import GcReport
from mapscope.analyses.map_sites import SiteReport
from mapscope.analyses.map_size import SizeReport, size_report
from mapscope.errors import MapscopeError
from mapscope.model.gotypes import Kind, MapType
from mapscope.model.records import Spread
from mapscope.model.sizeclasses import heap_bytes
from mapscope.model.versions import Target
from mapscope.readers.gobench import BenchFile, BenchResult
from mapscope.readers.gotype_source import parse_map_type

LIVE_METRIC = "live-B/entry"
PHASES = ("filled", "deleted", "churned")
# The model answers for any n in time, but a benchmark name is input: keep absurd sizes out.
MAX_MODEL_ENTRIES = 10**10


@dataclass(frozen=True)
class ModelComparison:
    """One benchmark row: measured live bytes per entry (median of its samples) beside the model's.

    `model_b_per_entry` is the model's retained bytes after the phase divided by n, with the hash-seed range
    in `model_low`/`model_high`; `pointee_b_per_entry` is what the pointed-to values add (0 unless the
    map's values are pointers); `difference_pct` compares measured with model + pointees. `note` says why
    a figure is missing.
    """

    benchmark: str
    map_type: str
    n: int
    hint: int | None
    phase: str
    measured_b_per_entry: float | None
    samples: int
    model_b_per_entry: float | None
    model_low: float | None
    model_high: float | None
    pointee_b_per_entry: int
    difference_pct: float | None
    target: str | None
    note: str | None

    @property
    def model_total(self) -> float | None:
        if self.model_b_per_entry is None:
            return None
        return self.model_b_per_entry + self.pointee_b_per_entry


@dataclass(frozen=True)
class PackageSites:
    """The map sites of one test package's heap profile: `profile` is its path in the run directory,
    `source_dir` the package directory whose source explained the sites (None when it was not there)."""

    package: str | None
    profile: str
    source_dir: str | None
    report: SiteReport


@dataclass(frozen=True)
class RunAnalysis:
    """`gc_per_op`: GC cycles and STW per op of each benchmark, from the same run's gctrace; `sites`: the
    map sites of each heap profile the run wrote."""

    gc: GcReport | None
    bench: BenchReport | None
    bench_file: BenchFile | None
    models: tuple[ModelComparison, ...]
    gc_per_op: tuple[BenchGc, ...]
    sites: tuple[PackageSites, ...]
    notes: tuple[str, ...]


def _target(go_release: str | None, goexperiment: str | None) -> Target:
    if go_release is None:
        raise MapscopeError("model", "the run does not say which Go release built the program")
    return Target.parse(go_release, goexperiment)


def _part(result: BenchResult, key: str) -> str | None:
    prefix = key + "="
    return next((part[len(prefix) :] for part in result.sub if part.startswith(prefix)), None)


def _count(text: str | None, what: str) -> int | None:
    if text is None:
        return None
    if not text.isascii() or not text.isdigit() or int(text) > MAX_MODEL_ENTRIES:
        raise MapscopeError(what, f"{text!r} is not a count up to {MAX_MODEL_ENTRIES:,}")
    return int(text)


def _pointee_bytes(map_type: MapType, phase: str) -> int:
    elem = map_type.elem
    if phase == "deleted" or elem.kind is not Kind.POINTER or elem.elem is None:
        return 0
    return heap_bytes(elem.elem.size, noscan=elem.elem.pointer_free)


def _phase_bytes(report: SizeReport, phase: str) -> Spread:
    if phase == "deleted":
        return report.after_delete_bytes
    if phase == "churned":
        return report.after_churn_bytes
    return report.retained_bytes


@dataclass
class _Models:
    """The model's answers, each computed once per (type, n, hint) (local to one analysis)."""

    target: Target | None
    target_problem: str | None
    cache: dict[tuple[str, int, int | None], SizeReport | str]

    def answer(self, type_text: str, n: int, hint: int | None) -> SizeReport | str:
        key = (type_text, n, hint)
        if key not in self.cache:
            if self.target is None:
                self.cache[key] = self.target_problem or "no Go target"
            else:
                try:
                    map_type = parse_map_type(type_text)
                except MapscopeError:
                    self.cache[key] = f"no model: {type_text} is not a built-in Go map type"
                    return self.cache[key]
                try:
                    self.cache[key] = size_report(map_type, n, self.target, hint)
                except MapscopeError as error:
                    self.cache[key] = f"no model: {error.problem}"
        return self.cache[key]


def compare_with_model(
    bench: BenchFile, go_release: str | None, goexperiment: str | None
) -> tuple[ModelComparison, ...]:
    """A row per benchmark (full name) that names its map with `map=` and `n=`, modelled for the Go
    release (and GOEXPERIMENT) the benchmarks ran with."""
    try:
        target: Target | None = _target(go_release, goexperiment)
        problem = None
    except MapscopeError as error:
        target, problem = None, f"no model for this run: {error.problem}"
    models = _Models(target, problem, {})
    grouped: dict[str, list[BenchResult]] = {}
    for result in bench.results:
        if _part(result, "map") is not None:
            grouped.setdefault(result.full_name, []).append(result)
    rows = []
    for full_name, results in grouped.items():
        first = results[0]
        type_text = _part(first, "map") or ""
        phase = _part(first, "phase") or "filled"
        live = [m.value for r in results for m in r.metrics if m.unit == LIVE_METRIC]
        measured = statistics.median(live) if live else None
        note: str | None = None
        try:
            n = _count(_part(first, "n"), f"{full_name}: n")
            hint = _count(_part(first, "hint"), f"{full_name}: hint")
        except MapscopeError as error:
            n, hint, note = None, None, f"{error.source}: {error.problem}"
        if n is None or n == 0:
            rows.append(_row(full_name, type_text, 0, hint, phase, measured, len(live), note or "no n= part"))
            continue
        if phase not in PHASES:
            note = f"phase={phase} is not one of {', '.join(PHASES)}"
            rows.append(_row(full_name, type_text, n, hint, phase, measured, len(live), note))
            continue
        answer = models.answer(type_text, n, hint)
        if isinstance(answer, str):
            rows.append(_row(full_name, type_text, n, hint, phase, measured, len(live), answer))
            continue
        spread = _phase_bytes(answer, phase)
        pointees = _pointee_bytes(parse_map_type(type_text), phase)
        model = spread.value / n
        difference = (
            None if measured is None or model + pointees == 0 else (measured / (model + pointees) - 1) * 100
        )
        rows.append(
            ModelComparison(
                benchmark=full_name,
                map_type=type_text,
                n=n,
                hint=hint,
                phase=phase,
                measured_b_per_entry=measured,
                samples=len(live),
                model_b_per_entry=model,
                model_low=spread.low / n,
                model_high=spread.high / n,
                pointee_b_per_entry=pointees,
                difference_pct=difference,
                target=target.label if target is not None else None,
                note=None if live else f"the benchmark reports no {LIVE_METRIC}",
            )
        )
    return tuple(rows)


def _row(
    name: str,
    type_text: str,
    n: int,
    hint: int | None,
    phase: str,
    measured: float | None,
    samples: int,
    note: str,
) -> ModelComparison:
    return ModelComparison(
        benchmark=name,
        map_type=type_text,
        n=n,
        hint=hint,
        phase=phase,
        measured_b_per_entry=measured,
        samples=samples,
        model_b_per_entry=None,
        model_low=None,
        model_high=None,
        pointee_b_per_entry=0,
        difference_pct=None,
        target=None,
        note=note,
    )
