"""The model commands' contracts: JSON fields, ranges for seed-dependent figures, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

REQUIRED = {
    "go_version", "implementation", "n", "hint", "retained_bytes", "total_alloc_bytes", "mallocs",
    "gc_scan_bytes", "peak_bytes", "bytes_per_entry", "after_delete_bytes", "after_clear_bytes",
    "after_churn_bytes", "events",
}  # fmt: skip


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mapscope", *args], capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    ("go", "experiment", "implementation"),
    [("1.22", None, "buckets"), ("1.24", "noswissmap", "buckets"), ("1.27", None, "swiss")],
)
def test_size_json_fields(go: str, experiment: str | None, implementation: str) -> None:
    args = ["size", "map[int][1024]byte", "-n", "100000", "--go", go, "--json"]
    if experiment:
        args += ["--goexperiment", experiment]
    done = run(*args)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report.keys() >= REQUIRED
    assert report["implementation"] == implementation
    assert report["go_version"].startswith(go)
    for name, value in report.items():
        if name.endswith("_range"):
            low, high = value
            assert low <= report[name.removesuffix("_range")] <= high
    assert report["events"], "growth events are listed"


def test_size_terminal_output() -> None:
    done = run("size", "map[string]*T", "--types", "type T struct{ A, B int }", "-n", "1000", "--go", "1.23")
    assert done.returncode == 0, done.stderr
    assert "retained after GC" in done.stdout


def test_simulate_and_compare() -> None:
    done = run(
        "simulate", "map[int]int", "--ops", "insert 100000; delete 90000; insert 50000; clear", "--json"
    )
    assert done.returncode == 0, done.stderr
    timeline = json.loads(done.stdout)
    assert [p["op"] for p in timeline["points"]][1:] == [
        "insert 100000",
        "delete 90000",
        "insert 50000",
        "clear",
    ]
    done = run("compare", "map[int][128]byte", "map[int][129]byte", "-n", "1000", "--json")
    assert done.returncode == 0, done.stderr
    comparison = json.loads(done.stdout)
    assert len(comparison["results"]) == 4
    assert any("129" in line for line in comparison["advice"])


def test_huge_n_answers() -> None:
    done = run("size", "map[uint64]struct{}", "-n", "1000000000", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["retained_bytes"] > 10**9


@pytest.mark.parametrize(
    "args",
    [
        ["size", "map[int]Foo", "-n", "1"],
        ["size", "map[int", "-n", "1"],
        ["size", "[]int", "-n", "1"],
        ["size", "map[int]int", "-n", "1", "--go", "1.19"],
        ["size", "map[int]int", "-n", "1", "--go", "1.27", "--goexperiment", "noswissmap"],
        ["size", "map[int]int", "-n", "1", "--types", "/nonexistent/types.go"],
        ["simulate", "map[int]int", "--ops", "insert 5; delete 6"],
        ["simulate", "map[int]int", "--ops", "grow 5"],
        ["simulate", "map[int]int", "--ops", "insert 1e999999"],
    ],
)
def test_bad_input_is_one_line_exit_2(args: list[str]) -> None:
    done = run(*args)
    assert done.returncode == 2, done.stdout
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
