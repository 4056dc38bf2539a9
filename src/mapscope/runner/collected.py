"""Reading a run directory back: the GC log from the program's captured stderr and the benchmarks from its
stdout, analysed into one `RunAnalysis` for the terminal, JSON and HTML renderers.

Nothing here fails a finished run: a part that cannot be read or analysed becomes a note.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from mapscope.analyses import gc_summary, mmu
from mapscope.analyses.benchstat import BenchReport, LabeledFile, compare
from mapscope.analyses.gc_summary import GcReport, InputStats
from mapscope.analyses.run_summary import ModelComparison, RunAnalysis, compare_with_model
from mapscope.errors import MapscopeError
from mapscope.readers.gctrace import GctraceReader
from mapscope.readers.gobench import BenchFile, read_bench
from mapscope.runner.manifest import Manifest, Role, file_path


def _paths(run_dir: Path, manifest: Manifest, role: Role) -> Iterator[Path]:
    for entry in manifest.files_with(role):
        yield file_path(run_dir, entry)


def analyze_gc(path: Path, name: str) -> GcReport | None:
    """The GC report of a captured stderr, None when it has no gc lines."""
    try:
        with path.open("rb") as stream:
            reader = GctraceReader(stream)
            joined = gc_summary.join(reader)
    except OSError as error:
        raise MapscopeError(name, f"cannot read: {error.strerror or error}") from None
    if not joined.cycles:
        return None
    return GcReport(
        source=name,
        input=InputStats(reader.lines, reader.foreign_lines, reader.unterminated_last_line),
        joined=joined,
        summary=gc_summary.summarize(joined.cycles),
        mmu=mmu.mmu_curve(joined.runs()),
    )


def analyze_run(run_dir: Path, manifest: Manifest) -> RunAnalysis:
    """Everything `mapscope run` prints after the run and `mapscope report` shows. A run directory holds one
    stdout and one stderr capture (every test package's output in order)."""
    notes: list[str] = []
    gc: GcReport | None = None
    for path in _paths(run_dir, manifest, Role.STDERR):
        try:
            gc = analyze_gc(path, f"{run_dir.name}/{path.name}")
        except MapscopeError as error:
            notes.append(f"GC log: {error}")
            continue
        if gc is None:
            notes.append("the program's stderr has no gctrace lines (it ended before its first GC)")
    bench_file: BenchFile | None = None
    bench: BenchReport | None = None
    models: tuple[ModelComparison, ...] = ()
    for path in _paths(run_dir, manifest, Role.STDOUT):
        try:
            bench_file = read_bench(path, f"{run_dir.name}/{path.name}")
        except MapscopeError as error:
            notes.append(f"benchmarks: {error}")
            continue
        if bench_file.results:
            label = f"go{manifest.go_release}" if manifest.go_release else "run"
            try:
                bench = compare([LabeledFile(label, bench_file)])
            except MapscopeError as error:
                notes.append(f"benchmarks: {error}")
            goexperiment = dict(manifest.environment).get("GOEXPERIMENT")
            models = compare_with_model(bench_file, manifest.go_release, goexperiment)
    return RunAnalysis(gc, bench, bench_file, models, tuple(notes))
