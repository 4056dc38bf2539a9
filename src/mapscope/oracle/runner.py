"""Building the oracle program with a real Go toolchain and turning its output into measurements.

Protocol (see harness.go): one process per case, GOMAXPROCS=1 and the collector off, so the only
collections are the ones the harness forces, and Go 1.26's AVX-512 span scanner off (SCAN_GODEBUG). Per
repetition the harness collects (three times, keeping the median scan figure) and takes a baseline
(HeapAlloc, TotalAlloc, Mallocs from runtime.ReadMemStats and the runtime/metrics figure
/gc/scan/heap:bytes); it then makes the map, and after `make` and after each operation collects and reads
again. Every figure is relative to that baseline:

- retained: HeapAlloc after the collection, i.e. the bytes the map keeps live (tiny 16-byte blocks count
  whole, large objects by their pages as the runtime does);
- total_alloc, mallocs: everything allocated since `make` began, freed or not;
- gc_scan: the scannable heap the collection found, the GC's work for this map;
- peak (cases with track_peak only): during inserts the harness reads MemStats after every insert; when
  an insert allocated more objects than its entry needs (out-of-line key/value over 128 bytes, interface
  boxes that really allocate) it records HeapAlloc before collecting (the new table together with the one
  it replaced, or with whatever the map dropped since the previous such insert) and then collects. The
  peak of an operation is the largest of those readings and the reading after the operation. Because
  ReadMemStats, like every collection, drops the allocator's current tiny block, each tiny box of a
  tracked insert starts a new 16-byte block, so tracking changes total_alloc and retained of tiny boxes.

Each repetition uses a fresh map and so a fresh hash seed; a figure that differs between repetitions
depends on the seed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mapscope import gotoolchain
from mapscope.errors import MapscopeError
from mapscope.gotoolchain import Toolchain
from mapscope.model.ops import OpKind
from mapscope.oracle.cases import Case, Target
from mapscope.oracle.program import go_module
from mapscope.oracle.records import Measurement, Reading, Sample, Stats

DEFAULT_REPS = 5
DEFAULT_TIMEOUT = 600.0
BUILD_TIMEOUT = 600.0
# Go 1.26+ on CPUs with AVX-512 scans a small-object span whose marked objects are dense enough with a
# packed scanner and counts those objects whole in /gc/scan/heap:bytes; whether the marks of a span are
# dense when it is visited varies from one collection to the next (GODEBUG=gctrace=2 shows the same objects
# counted densely in one cycle and sparsely in the next), so the oracle turns that scanner off and measures
# what the collector counts everywhere else: each object up to its last pointer word.
SCAN_GODEBUG = "cpu.avx512bw=off"
_FIELDS = ("retained", "total_alloc", "mallocs", "gc_scan", "peak")
_COMPILER_ERROR_RE = re.compile(r"^(?:\./)?([\w./-]+\.go):(\d+):(?:\d+:)? (.*)$")
_MAX_OUTPUT_LINE = 4096


def op_labels(case: Case) -> list[tuple[str, int]]:
    """(label, live keys after it) for `make` and every operation of the case."""
    labels = [("make" if case.hint is None else f"make (hint {case.hint})", 0)]
    live = 0
    for op in case.ops:
        if op.kind is OpKind.INSERT:
            live += op.count
        elif op.kind is OpKind.DELETE:
            live -= op.count
        else:
            live = 0
        labels.append((str(op), live))
    return labels


def _oracle_root() -> Path:
    return gotoolchain.cache_root() / "oracle"


def _compiler_error(stderr: str) -> str:
    for line in stderr.splitlines():
        match = _COMPILER_ERROR_RE.match(line.strip())
        if match:
            return f"{match.group(1)}:{match.group(2)}: {match.group(3)}"
    lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith("#")]
    return lines[0] if lines else "go build failed"


def build(cases: Sequence[Case], target: Target, toolchain: Toolchain | None = None) -> Path:
    """The oracle binary for `cases` on `target`, built once and cached by the hash of its sources."""
    toolchain = toolchain or gotoolchain.ensure(target.version.release)
    files = go_module(cases, target)
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(f"{name}\0{files[name]}\0".encode())
    digest.update(f"{toolchain.release}\0{target.goexperiment}".encode())
    binary = _oracle_root() / digest.hexdigest()[:32] / "oracle"
    if binary.is_file():
        return binary
    _oracle_root().mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=_oracle_root()))
    try:
        for name, text in files.items():
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            (work / name).write_text(text, encoding="utf-8")
        try:
            done = subprocess.run(
                [str(toolchain.go), "build", "-trimpath", "-o", "oracle", "."],
                cwd=work,
                env=toolchain.env(target.goexperiment),
                capture_output=True,
                text=True,
                check=False,
                timeout=BUILD_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            raise MapscopeError(
                f"go build ({target.label})", f"took more than {BUILD_TIMEOUT:.0f}s"
            ) from None
        except OSError as error:
            raise MapscopeError(str(toolchain.go), f"cannot run: {error.strerror}") from None
        if done.returncode != 0:
            raise MapscopeError(f"go build ({target.label})", _compiler_error(done.stderr))
        binary.parent.mkdir(parents=True, exist_ok=True)
        os.replace(work / "oracle", binary)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return binary


def _int(record: dict[str, Any], field: str, source: str) -> int:
    value = record.get(field)
    if not isinstance(value, int) or isinstance(value, bool):
        raise MapscopeError(source, f"oracle output has no integer {field!r}: {record}")
    return value


def parse_output(text: str, case: Case, target: Target, reps: int) -> Measurement:
    """Turn the program's JSON lines into a Measurement, checking it measured what was asked."""
    source = f"{case.id} ({target.label})"
    records: list[dict[str, Any]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line[:_MAX_OUTPUT_LINE])
        except json.JSONDecodeError:
            raise MapscopeError(source, f"unreadable oracle output: {line[:120]!r}") from None
        if not isinstance(record, dict):
            raise MapscopeError(source, f"unreadable oracle output: {line[:120]!r}")
        if "error" in record:
            raise MapscopeError(source, str(record["error"]))
        records.append(record)
    if not records or "go" not in records[0]:
        raise MapscopeError(source, "the oracle program printed no result")
    header, rows = records[0], records[1:]
    runtime_version = str(header["go"])
    if runtime_version.split(maxsplit=1)[0] != f"go{target.version.release}":
        raise MapscopeError(source, f"the program ran on {runtime_version}, not go{target.version.release}")
    experiments = str(header.get("goexperiment", "")).split(",")
    if target.noswissmap != ("noswissmap" in experiments):
        raise MapscopeError(source, f"the program was built with GOEXPERIMENT={header.get('goexperiment')!r}")
    labels = op_labels(case)
    grid: dict[tuple[int, int], Sample] = {}
    for row in rows:
        rep, index = _int(row, "rep", source), _int(row, "op", source)
        peak = _int(row, "peak", source)
        grid[rep, index] = Sample(
            _int(row, "retained", source),
            _int(row, "total_alloc", source),
            _int(row, "mallocs", source),
            _int(row, "gc_scan", source),
            peak if case.track_peak else None,
        )
    expected = {(rep, index) for rep in range(reps) for index in range(len(labels))}
    if set(grid) != expected or len(rows) != len(expected):
        raise MapscopeError(source, f"expected {len(expected)} readings, the program printed {len(rows)}")
    readings = []
    for index, (label, live) in enumerate(labels):
        samples = tuple(grid[rep, index] for rep in range(reps))
        readings.append(Reading(index, label, live, Stats.of(samples), samples))
    return Measurement(case, target.label, runtime_version, reps, tuple(readings))


def run_case(
    binary: Path, case: Case, target: Target, reps: int = DEFAULT_REPS, timeout: float = DEFAULT_TIMEOUT
) -> Measurement:
    """Run one case of a built oracle program in its own process."""
    source = f"{case.id} ({target.label})"
    if not 1 <= reps <= 1000:
        raise MapscopeError("--reps", f"{reps} is outside 1..1000")
    env = {
        "GOMAXPROCS": "1",
        "GOGC": "off",
        "GODEBUG": SCAN_GODEBUG,
        "GOTRACEBACK": "single",
        "PATH": os.environ.get("PATH", ""),
    }
    try:
        done = subprocess.run(
            [str(binary), case.id, str(reps)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise MapscopeError(source, f"the oracle program took more than {timeout:.0f}s") from None
    except OSError as error:
        raise MapscopeError(str(binary), f"cannot run: {error.strerror}") from None
    if done.returncode != 0 and '"error"' not in done.stdout:
        last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[0]
        raise MapscopeError(source, f"the oracle program failed: {last}")
    return parse_output(done.stdout, case, target, reps)


def measure(
    cases: Sequence[Case],
    target: Target,
    reps: int = DEFAULT_REPS,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[Measurement]:
    """Build one program for `cases` on `target` and run each case in its own process."""
    binary = build(cases, target)
    return [run_case(binary, case, target, reps, timeout) for case in cases]
