"""The run pipeline, reading a run directory back: the GC log from the program's captured stderr and the
benchmarks from its stdout, analysed into one `RunAnalysis` for the terminal, JSON and HTML renderers; with
the order in which their lines arrived, the GC cycles of each benchmark; and the map sites of the heap
profiles, read as `mapscope profile --source <package dir>` reads them, by bytes allocated (alloc_space).

Nothing here fails a finished run: a part that cannot be read or analysed becomes a note.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from mapscope.analyses import gc_summary
from mapscope.analyses.bench import BenchReport, LabeledFile, compare
from mapscope.analyses.bench_gc import BenchGc, gc_per_benchmark
from mapscope.analyses.gc_summary import GcReport
from mapscope.analyses.map_sites import attribute
from mapscope.analyses.run_summary import ModelComparison, PackageSites, RunAnalysis, compare_with_model
from mapscope.errors import MapscopeError
from mapscope.model.versions import Target
from mapscope.pipelines.gc import NoGcLinesError, gc_report
from mapscope.readers import profile_source
from mapscope.readers.arrivals import read_arrivals
from mapscope.readers.gctrace import GctraceLog
from mapscope.readers.go_source import SourceTree
from mapscope.readers.gobench import BenchFile, SourceKind, parse_bench, read_bench
from mapscope.readers.pprof import sample_index
from mapscope.runner.manifest import MANIFEST, Manifest, Role, file_path, read_manifest


def _paths(run_dir: Path, manifest: Manifest, role: Role) -> Iterator[Path]:
    for entry in manifest.files_with(role):
        yield file_path(run_dir, entry)


def read_run_bench(run_dir: Path) -> BenchFile:
    """The benchmark results a run directory captured (its stdout.txt), for `mapscope bench compare`."""
    if not (run_dir / MANIFEST).is_file():
        raise MapscopeError(str(run_dir), f"has no {MANIFEST}: not a directory written by `mapscope run`")
    entries = read_manifest(run_dir).files_with(Role.STDOUT)
    if not entries:
        raise MapscopeError(str(run_dir), "the run captured no stdout, so it has no benchmark results")
    return _captured_bench(file_path(run_dir, entries[0]), str(run_dir / entries[0].path), [])


# A capture larger than this is not read a second time to leave out a cut-off last line.
_REREAD_BYTES = 256 << 20


def _captured_bench(path: Path, name: str, notes: list[str]) -> BenchFile:
    """A run's captured stdout as benchmark results. A run stopped during a benchmark leaves that
    benchmark's line cut off after its name (the testing package prints the name first); such a last line,
    with no newline, is left out, with a note, rather than refusing the whole file."""
    try:
        return read_bench(path, name)
    except MapscopeError:
        whole_lines = _up_to_last_newline(path)
        if whole_lines is None:
            raise
    bench = parse_bench(whole_lines, name)
    notes.append(
        f"benchmarks: the last line of {name} was cut off (the run stopped during it) and is left out"
    )
    return bench


def _up_to_last_newline(path: Path) -> bytes | None:
    """The file up to its last newline when it ends in an unfinished line; None when it does not, or when
    it cannot (or is too large to) be read again."""
    try:
        if path.stat().st_size > _REREAD_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if data.endswith(b"\n") or b"\n" not in data:
        return None
    return data[: data.rindex(b"\n") + 1]


def analyze_gc(path: Path, name: str) -> GcReport | None:
    """The GC report of a captured stderr, None when it has no gc lines."""
    try:
        with path.open("rb") as stream:
            return gc_report(stream, name)
    except NoGcLinesError:
        return None
    except OSError as error:
        raise MapscopeError(name, f"cannot read: {error.strerror or error}") from None


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
            bench_file = _captured_bench(path, f"{run_dir.name}/{path.name}", notes)
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
    gc_per_op: tuple[BenchGc, ...] = ()
    if bench_file is not None and bench_file.results:
        gc_per_op = _gc_per_op(run_dir, manifest, gc, bench_file, notes)
    sites = _map_sites(run_dir, manifest, notes)
    return RunAnalysis(gc, bench, bench_file, models, gc_per_op, sites, tuple(notes))


# Benchmarks allocate and drop; what they allocated over the run shows the map costs, not what was live
# when the profile was written.
SITES_SAMPLE = "alloc_space"


def _map_sites(run_dir: Path, manifest: Manifest, notes: list[str]) -> tuple[PackageSites, ...]:
    """The map sites of every heap profile, each read with its package's source (where it still is)."""
    target: Target | None = None
    if manifest.go_release:
        try:
            target = Target.parse(manifest.go_release, dict(manifest.environment).get("GOEXPERIMENT"))
        except MapscopeError as error:
            notes.append(f"map sites: {error.problem}; the profile picks the model")
    package_dirs = {step.package: Path(step.cwd) for step in manifest.steps if step.phase == "run"}
    binaries = {entry.package: file_path(run_dir, entry) for entry in manifest.files_with(Role.BINARY)}
    found = []
    for entry in manifest.files_with(Role.MEM_PROFILE):
        source_dir = package_dirs.get(entry.package)
        if source_dir is not None and not source_dir.is_dir():
            notes.append(f"map sites of {entry.path}: {source_dir} is gone; sites found without the source")
            source_dir = None
        tree = SourceTree(source_dir) if source_dir is not None else None
        try:
            loaded = profile_source.load(str(file_path(run_dir, entry)), binary=binaries.get(entry.package))
            for profile in loaded.profiles:
                report = attribute(profile, sample_index(profile, SITES_SAMPLE), tree, target)
                shown_dir = str(source_dir) if source_dir is not None else None
                found.append(PackageSites(entry.package, entry.path, shown_dir, report))
        except MapscopeError as error:
            notes.append(f"map sites: {error}")
    return tuple(found)


def _gc_per_op(
    run_dir: Path, manifest: Manifest, gc: GcReport | None, bench_file: BenchFile, notes: list[str]
) -> tuple[BenchGc, ...]:
    """GC cycles and STW per op of each benchmark, or () with a note saying why not."""
    paths = list(_paths(run_dir, manifest, Role.ARRIVALS))
    if bench_file.kind is not SourceKind.TEXT:
        notes.append("GC per benchmark op: needs the benchmarks' text output, not go test -json")
        return ()
    if not paths:
        notes.append("GC per benchmark op: the run directory has no arrivals.txt (an older mapscope made it)")
        return ()
    try:
        arrivals = read_arrivals(paths[0], f"{run_dir.name}/{paths[0].name}")
    except MapscopeError as error:
        notes.append(f"GC per benchmark op: {error}")
        return ()
    if gc is None:
        empty = gc_summary.join(GctraceLog.from_records([]))
        return gc_per_benchmark(bench_file.results, empty.log.gc, empty.stw_us, arrivals)
    return gc_per_benchmark(bench_file.results, gc.joined.log.gc, gc.joined.stw_us, arrivals)
