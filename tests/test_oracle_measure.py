"""`mapscope measure`: JSON shape on a real runtime, and bad input as one line with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from mapscope.oracle import fixtures
from mapscope.oracle.cases import LIVE_TARGET

FIXTURES = Path(__file__).parent / "fixtures" / "oracle"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mapscope", "measure", *args], capture_output=True, text=True, check=False
    )


@pytest.mark.live
def test_json_shape_and_figures(go_release: Callable[[str], object]) -> None:
    go_release(LIVE_TARGET.version.release)  # measure itself never installs
    done = run("map[int]int", "-n", "9", "--reps", "2", "--go", LIVE_TARGET.version.release, "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result) == {"case", "target", "runtime_version", "reps", "readings"}
    assert result["target"] == LIVE_TARGET.label
    assert result["case"]["ops"] == [{"kind": "insert", "count": 9}]
    assert result["case"]["track_peak"] is True
    make, inserted = result["readings"]
    assert (make["op"], inserted["op"], inserted["live"]) == ("make", "insert 9", 9)
    assert set(inserted["stats"]) == {"retained", "total_alloc", "mallocs", "gc_scan", "peak"}
    assert set(inserted["stats"]["retained"]) == {"median", "min", "max", "deterministic"}
    assert len(inserted["samples"]) == 2
    walk = fixtures.read(FIXTURES / fixtures.file_name(LIVE_TARGET)).case("walk/int-int")
    at_nine = next(r for r in walk.readings if r.live == 9).stats
    assert inserted["stats"]["retained"]["median"] == at_nine.retained.median
    assert inserted["stats"]["mallocs"]["median"] == at_nine.mallocs.median


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("map[Nope]int",), "unknown type Nope"),
        (("[]int",), "not a map type"),
        (("map[int]int", "-n", "3", "--ops", "insert 3"), "either -n or --ops"),
        (("map[int]int", "--ops", "insert 3; delete 4"), "holds only 3"),
        (("map[int]int", "--go", "1.19"), "not modelled"),
        (("map[int]int", "--go", "1.27", "--goexperiment", "noswissmap"), "noswissmap exists only"),
        (("map[any]int", "--boxed", "Missing"), "unknown type Missing"),
        (("map[int][1000]byte", "-n", "5000000"), "GiB"),
        (("map[int]int", "--hint", "100000000", "-n", "1"), "--hint"),
    ],
)
def test_bad_input_is_one_line_exit_2(args: tuple[str, ...], needle: str) -> None:
    done = run(*args)
    assert done.returncode == 2
    assert done.stderr.startswith("mapscope: error: ")
    assert done.stderr.count("\n") == 1
    assert needle in done.stderr
    assert done.stdout == ""
