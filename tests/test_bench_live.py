"""The reader against real `go test -bench` output, in text and `go test -json` form."""

from __future__ import annotations

import json
import platform
import random
import shutil
import struct
import subprocess
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pytest

from mapscope.analyses.bench import LabeledFile, compare
from mapscope.gomath import go_exp as _go_exp
from mapscope.gomath import go_log as _go_log
from mapscope.gotoolchain import Toolchain
from mapscope.readers.gobench import BenchFile, SourceKind, parse_bench
from mapscope.renderers.bench_text import table_text

FIXTURE = Path(__file__).parent / "fixtures" / "bench" / "tinybench"


def run_bench(toolchain: Toolchain, folder: Path, *extra: str) -> bytes:
    done = subprocess.run(
        [str(toolchain.go), "test", "-run", "^$", "-bench", ".", "-benchtime", "100x", "-count", "3", *extra],
        cwd=folder,
        env=toolchain.env(),
        capture_output=True,
        timeout=300,
        check=True,
    )
    return done.stdout


def shape(bench: BenchFile) -> list[tuple[object, ...]]:
    """Everything but the timings, which differ from run to run."""
    return [
        (
            r.name,
            r.full_name,
            r.sub,
            r.procs,
            r.iterations,
            [m.unit for m in r.metrics],
            [m.value for m in r.metrics if m.unit != "ns/op"],
            r.config,
        )
        for r in bench.results
    ]


@pytest.mark.live
def test_text_and_json_forms_read_alike(go_release: Callable[[str], Toolchain], tmp_path: Path) -> None:
    toolchain = go_release("1.27.3")
    folder = tmp_path / "tinybench"
    shutil.copytree(FIXTURE, folder)
    text = parse_bench(run_bench(toolchain, folder), "text")
    stream = parse_bench(run_bench(toolchain, folder, "-json"), "json")
    assert (text.kind, stream.kind) == (SourceKind.TEXT, SourceKind.TEST2JSON)
    assert shape(text) == shape(stream)
    assert [r.name for r in text.results] == ["Fill"] * 6 + ["Lookup"] * 3
    assert [r.sub for r in text.results[:6]] == [("n=8",)] * 3 + [("n=64",)] * 3
    assert all(r.iterations == 100 for r in text.results)
    assert [r.metrics[1].value for r in text.results] == [8.0] * 3 + [64.0] * 3 + [1.0] * 3
    assert text.results[0].config_value("pkg") == "tinybench"
    assert text.results[0].config_value("goos") and text.results[0].config_value("goarch")
    # Both forms give the same tables (timings aside).
    report = compare([LabeledFile("text", text), LabeledFile("json", stream)])
    assert [t.unit for t in report.tables] == ["sec/op", "entries/op", "hits/op"]
    entries = report.tables[1]
    assert [row.label.split("-")[0] for row in entries.rows] == ["Fill/n=8", "Fill/n=64"]
    assert [[c.center for c in row.cells if c] for row in table_text(entries).rows] == [
        ["8.000"] * 2,
        ["64.00"] * 2,
    ]


def _amd64_with_fma() -> bool:
    if platform.machine() not in ("x86_64", "AMD64"):
        return False
    cpuinfo = Path("/proc/cpuinfo")
    flags = next((line for line in cpuinfo.read_text().splitlines() if line.startswith("flags")), "")
    return {"fma", "avx"} <= set(flags.split())


@pytest.mark.live
@pytest.mark.skipif(not _amd64_with_fma(), reason="benchstat's numbers are pinned to Go on amd64 with FMA")
def test_go_math_the_statistics_rely_on(go_release: Callable[[str], Toolchain], tmp_path: Path) -> None:
    """Go's own Log, Exp and binomial coefficients against mapscope's copies of them, bit for bit."""
    toolchain = go_release("1.27.3")
    rng = random.Random(1)
    xs = [rng.uniform(0, 100) for _ in range(2000)] + [rng.uniform(-745, 709) for _ in range(2000)]
    xs += [10 ** rng.uniform(-300, 300) for _ in range(2000)] + [11.995, 1.0, 0.5, 1e-310, 709.78, -744.0]
    folder = tmp_path / "gomath"
    shutil.copytree(FIXTURE.parent / "gomath", folder)
    done = subprocess.run(
        [str(toolchain.go), "run", "."],
        cwd=folder,
        env=toolchain.env(),
        input="".join(f"{struct.unpack('>Q', struct.pack('>d', x))[0]:016x}\n" for x in xs),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    expected = [tuple(line.split()) for line in done.stdout.splitlines()]

    def bits(value: float) -> str:
        return f"{struct.unpack('>Q', struct.pack('>d', value))[0]:016x}"

    # Log of a negative number is NaN either way (Go's has another payload).
    assert [
        (bits(_go_log(x)) if x > 0 else want[0], bits(_go_exp(x)))
        for x, want in zip(xs, expected, strict=True)
    ] == expected

    script = Path(__file__).parent.parent / "scripts" / "benchstat_choose.go"
    done = subprocess.run(
        [str(toolchain.go), "run", str(script)],
        cwd=tmp_path,
        env=toolchain.env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    table = json.loads(done.stdout)
    shipped = json.loads(resources.files("mapscope.analyses").joinpath("benchstat_choose.json").read_text())
    assert table["bits"] == shipped["bits"]
