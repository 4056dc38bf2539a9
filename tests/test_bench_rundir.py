"""`mapscope bench compare` reads the run directories `mapscope run` writes (their captured stdout)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from mapscope.pipelines.run import analyze_run
from mapscope.runner.manifest import FORMAT, FileEntry, Manifest, Role, Status, read_manifest, write_manifest

# Two runs of one benchmark as a test binary prints them (figures made up: only the reading is tested).
RESULTS = (
    "goos: linux\ngoarch: amd64\npkg: tinybench\n"
    + 6 * "BenchmarkFill/n=8-2 \t 100\t {ns} ns/op\t 8 entries/op\n"
)


def run_dir(root: Path, name: str, ns_per_op: int, status: Status = Status.OK, tail: str = "PASS\n") -> Path:
    folder = root / name
    folder.mkdir()
    stdout = folder / "stdout.txt"
    stdout.write_text(RESULTS.format(ns=ns_per_op) + tail)
    digest = hashlib.sha256(stdout.read_bytes()).hexdigest()
    entry = FileEntry("stdout.txt", Role.STDOUT, None, stdout.stat().st_size, digest)
    write_manifest(
        folder,
        Manifest(
            format=FORMAT,
            mapscope_version="test",
            status=status,
            exit_code=0 if status is Status.OK else 130,
            command=("go", "test", "-bench", "."),
            kind="go test",
            cwd=str(root),
            go_release="1.27.3",
            go_binary=None,
            godebug="gctrace=1,gcpacertrace=1",
            environment=(),
            host=(),
            started_utc="2026-01-01T00:00:00Z",
            finished_utc="2026-01-01T00:00:01Z",
            seconds=1.0,
            steps=(),
            files=(entry,),
            notes=(),
        ),
    )
    return folder


def bench_compare(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mapscope", "bench", "compare", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_two_run_directories_compare_like_their_outputs(tmp_path: Path) -> None:
    old = run_dir(tmp_path, "old", 1000)
    # Stopped while the next benchmark ran: its line has the name only (the testing package prints it first).
    new = run_dir(tmp_path, "new", 2000, Status.INTERRUPTED, tail="BenchmarkFill/n=64-2 \t")
    from_dirs = bench_compare(str(old), str(new))
    assert from_dirs.returncode == 0, from_dirs.stderr
    cut = new / "stdout.txt"
    (tmp_path / "whole.txt").write_text(cut.read_text().rpartition("\n")[0] + "\n")
    from_files = bench_compare(f"{old}={old / 'stdout.txt'}", f"{new}={tmp_path / 'whole.txt'}")
    assert from_dirs.stdout == from_files.stdout
    assert bench_compare(str(old), str(cut)).returncode == 2  # as a plain file, the cut line is an error
    analysis = analyze_run(new, read_manifest(new))
    assert analysis.bench_file is not None and len(analysis.bench_file.results) == 6
    assert any("new/stdout.txt was cut off" in note for note in analysis.notes)
    assert "+100.00%" in from_dirs.stdout and "Fill/n=8-2" in from_dirs.stdout


def test_a_directory_that_is_no_run_is_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    done = bench_compare(str(tmp_path / "empty"), str(run_dir(tmp_path, "new", 10)))
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert line.endswith(
        f"{tmp_path / 'empty'}: has no manifest.json: not a directory written by `mapscope run`"
    )
