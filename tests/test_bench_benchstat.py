"""`mapscope bench compare` against benchstat's own expected outputs (golang/perf cmd/benchstat testdata).

Each golden file is parsed and every number in it (median, ± range, delta, p, n, geomean) is compared with
the report; then the plain text is compared line by line.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from mapscope.analyses.bench import (
    Assumption,
    BenchReport,
    LabeledFile,
    UnitClass,
    compare,
    mann_whitney_p,
    min_samples_for_ci,
    min_samples_for_difference,
    tidy_unit,
    unit_class,
)
from mapscope.commands import bench
from mapscope.errors import MapscopeError
from mapscope.readers.gobench import parse_bench, read_bench
from mapscope.renderers.bench_terminal import render_json, render_plain
from mapscope.renderers.bench_text import table_text

PERF = ("external", "golang-perf")
_CELL = re.compile(r"(\S+) ± (\S+)")
_COMPARISON = re.compile(r"(~|[+-]?\d+\.\d+%|\?) \((?:p=(\d\.\d{3}) )?n=(\d+(?:\+\d+)?)\)")
_NOTE = re.compile(r"^([⁰¹²³⁴⁵⁶⁷⁸⁹]+) (.*)$")


@dataclass
class GoldenTable:
    config: dict[str, str]
    columns: list[str]
    unit: str
    rows: dict[str, list[tuple[str, str]]]  # label -> [(center, range)]
    comparisons: dict[str, list[tuple[str, str | None, str]]]  # label -> [(delta, p, n)]
    geomean: list[str]
    notes: list[str]


def parse_golden(text: str) -> list[GoldenTable]:
    """benchstat's text output as numbers and labels (single-level column headers)."""
    tables: list[GoldenTable] = []
    config: dict[str, str] = {}
    headers: list[str] = []
    for line in text.splitlines():
        if not line:
            continue
        if "│" in line:
            cells = [cell.strip() for cell in line.split("│")[1:-1]]
            headers.append(line)
            if len(headers) == 2:
                columns = [cell.strip() for cell in headers[0].split("│")[1:-1]]
                tables.append(GoldenTable(dict(config), columns, cells[0].split()[0], {}, {}, [], []))
                headers = []
            continue
        if tables and (note := _NOTE.match(line)):
            tables[-1].notes.append(note.group(2))
            continue
        if not line.startswith(" ") and re.match(r"^[a-z][^ :]*: ", line):
            key, _, value = line.partition(": ")
            config[key] = value
            continue
        label, rest = line.split(" ", 1)
        table = tables[-1]
        if label == "geomean":
            table.geomean = rest.split()
            continue
        table.rows[label] = _CELL.findall(rest)
        table.comparisons[label] = [(d, p or None, n) for d, p, n in _COMPARISON.findall(rest)]
    return tables


def check_numbers(report: BenchReport, golden: list[GoldenTable]) -> None:
    assert len(report.tables) == len(golden)
    for table, want in zip(report.tables, golden, strict=True):
        text = table_text(table)
        assert {k: v for k, v in table.config if v} == want.config
        assert table.unit == want.unit
        assert list(table.columns) == want.columns
        assert [row.label for row in table.rows] == list(want.rows)
        for row in text.rows:
            cells = [cell for cell in row.cells if cell is not None]
            assert [(c.center, c.spread) for c in cells] == want.rows[row.label]
            got = []
            for shown in cells:
                cell = shown.cell
                if cell.test is not None:
                    p = f"{cell.test.p:.3f}" if cell.test.p != 0 else None
                    n = (
                        f"{cell.test.n}"
                        if cell.test.n == cell.test.n_base
                        else f"{cell.test.n_base}+{cell.test.n}"
                    )
                    got.append((shown.delta, p, n))
            assert got == want.comparisons[row.label]
        if text.geomean is None:
            assert want.geomean == []
        else:
            means = []
            for mean in text.geomean:
                means += [t for t in (mean.value, mean.delta) if t is not None]
            assert means == [t for t in want.geomean if not _NOTE.match(t + " x")]
        notes = [
            w
            for row in table.rows
            for c in row.cells
            if c
            for w in (*c.summary.warnings, *(c.test.warnings if c.test else ()))
        ]
        if table.geomean:
            notes += [w for mean in table.geomean for w in mean.warnings]
        assert list(dict.fromkeys(notes)) == want.notes


def labeled(shared_samples: Path, *names: str) -> list[LabeledFile]:
    files = []
    for name in names:
        label, _, file = name.partition("=")
        files.append(LabeledFile(label, read_bench(shared_samples.joinpath(*PERF, file))))
    return files


def test_crc_old_new_matches_benchstat(shared_samples: Path) -> None:
    """benchstat crc-old.txt crc-new.txt: the `note:` line splits the files into four tables."""
    report = compare(
        labeled(
            shared_samples,
            "crc-old.txt=cmd_benchstat_testdata_crc-old.txt",
            "crc-new.txt=cmd_benchstat_testdata_crc-new.txt",
        )
    )
    expected = shared_samples.joinpath(*PERF, "cmd_benchstat_testdata_crcOldNew.stdout").read_text()
    check_numbers(report, parse_golden(expected))
    assert render_plain(report).splitlines() == expected.splitlines()
    assert render_plain(report) == expected


def test_units_with_exact_assumption_matches_benchstat(shared_samples: Path) -> None:
    """benchstat -col note units.txt: `Unit text-bytes assume=exact` means mode, no test, a warning."""
    report = compare(labeled(shared_samples, "units.txt=cmd_benchstat_testdata_units.txt"), column_key="note")
    assert report.tables[0].assumption is Assumption.EXACT
    expected = shared_samples.joinpath(*PERF, "cmd_benchstat_testdata_units.stdout").read_text()
    check_numbers(report, parse_golden(expected))
    assert render_plain(report) == expected


# `benchstat old.txt new.txt`, as printed in benchstat's documentation (golang.org/x/perf/cmd/benchstat).
OLD_NEW = """\
goos: linux
goarch: amd64
pkg: golang.org/x/perf/cmd/benchstat/testdata
                      │   old.txt   │               new.txt               │
                      │   sec/op    │   sec/op     vs base                │
Encode/format=json-48   1.718µ ± 1%   1.423µ ± 1%  -17.20% (p=0.000 n=10)
Encode/format=gob-48    3.066µ ± 0%   3.070µ ± 2%        ~ (p=0.446 n=10)
geomean                 2.295µ        2.090µ        -8.94%
"""

# `benchstat -col /format new.txt`, from the same documentation.
FORMAT_COLUMNS = """\
goos: linux
goarch: amd64
pkg: golang.org/x/perf/cmd/benchstat/testdata
          │    json     │                 gob                  │
          │   sec/op    │   sec/op     vs base                 │
Encode-48   1.423µ ± 1%   3.070µ ± 2%  +115.82% (p=0.000 n=10)
"""


def test_old_new_matches_benchstat(shared_samples: Path) -> None:
    report = compare(
        labeled(
            shared_samples, "old.txt=cmd_benchstat_testdata_old.txt", "new.txt=cmd_benchstat_testdata_new.txt"
        )
    )
    check_numbers(report, parse_golden(OLD_NEW))
    assert render_plain(report) == OLD_NEW
    json_cell = report.tables[0].rows[0].cells[1]
    assert json_cell is not None and json_cell.test is not None
    assert json_cell.test.p < 0.0005 and json_cell.test.significant
    gob = report.tables[0].rows[1].cells[1]
    assert gob is not None and gob.test is not None and not gob.test.significant


def test_column_by_sub_benchmark_key(shared_samples: Path) -> None:
    report = compare(labeled(shared_samples, "new.txt=cmd_benchstat_testdata_new.txt"), column_key="/format")
    assert render_plain(report) == FORMAT_COLUMNS


def run_cli(*args: str) -> tuple[int, str]:
    @click.group()
    def cli() -> None:
        pass

    bench.register(cli)
    result = CliRunner().invoke(cli, ["bench", "compare", *args])
    if isinstance(result.exception, MapscopeError):
        return 2, str(result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_command_plain_and_json(shared_samples: Path) -> None:
    folder = shared_samples.joinpath(*PERF)
    code, out = run_cli(
        f"old.txt={folder / 'cmd_benchstat_testdata_old.txt'}",
        f"new.txt={folder / 'cmd_benchstat_testdata_new.txt'}",
    )
    assert code == 0 and out == OLD_NEW
    code, out = run_cli(
        "--json",
        f"old.txt={folder / 'cmd_benchstat_testdata_old.txt'}",
        f"new.txt={folder / 'cmd_benchstat_testdata_new.txt'}",
    )
    data = json.loads(out)
    table = data["tables"][0]
    assert table["unit"] == "sec/op" and table["columns"] == ["old.txt", "new.txt"]
    assert table["config"] == {
        "goos": "linux",
        "goarch": "amd64",
        "pkg": "golang.org/x/perf/cmd/benchstat/testdata",
    }
    json_row = table["rows"][0]
    assert json_row["label"] == "Encode/format=json-48"
    old, new = json_row["cells"]
    assert old["summary"]["center"] == pytest.approx(1.718e-6, abs=5e-10)
    assert old["range_text"] == "1%" and old["test"] is None
    assert new["test"]["text"] == "p=0.000 n=10" and new["test"]["significant"] is True
    assert new["delta_text"] == "-17.20%"
    assert table["geomean"][1]["delta_text"] == "-8.94%"


def test_command_labels_repeated_paths_like_benchstat(shared_samples: Path) -> None:
    path = str(shared_samples.joinpath(*PERF, "cmd_benchstat_testdata_old.txt"))
    code, out = run_cli(path, path)
    assert code == 0
    assert f"{path}#0" in out and f"{path}#1" in out
    assert "~ (p=1.000 n=10)" in out


def report_of(text: str, column_key: str = "note") -> BenchReport:
    return compare([LabeledFile("in.txt", parse_bench(text.encode(), "in.txt"))], column_key=column_key)


def test_too_few_samples_are_flagged() -> None:
    """Three runs each: no finite interval below 6 samples, and no U test can reach p <= 0.05 below 4."""
    text = "note: a\nBenchmarkX 1 100 ns/op\nBenchmarkX 1 101 ns/op\nBenchmarkX 1 102 ns/op\n"
    text += "note: b\nBenchmarkX 1 200 ns/op\nBenchmarkX 1 201 ns/op\nBenchmarkX 1 202 ns/op\n"
    report = report_of(text)
    cell = report.tables[0].rows[0].cells[1]
    shown = table_text(report.tables[0]).rows[0].cells[1]
    assert cell is not None and cell.test is not None and shown is not None
    # Completely separated samples of 3 give the smallest p possible for 3+3, 2/C(6,3) = 0.1 > 0.05.
    assert cell.test.p == pytest.approx(0.1)
    assert shown.delta == "~"
    assert cell.summary.warnings == ("need >= 6 samples for confidence interval at level 0.95",)
    assert cell.test.warnings == ("need >= 4 samples to detect a difference at alpha level 0.05",)
    assert math.isinf(cell.summary.lo) and math.isinf(cell.summary.hi)
    lines = render_plain(report).splitlines()
    assert lines[-2:] == [
        "¹ need >= 6 samples for confidence interval at level 0.95",
        "² need >= 4 samples to detect a difference at alpha level 0.05",
    ]
    assert lines[2] == "X   101.0n ± ∞ ¹   201.0n ± ∞ ¹  ~ (p=0.100 n=3) ²"


def test_enough_samples_stop_the_warnings() -> None:
    old = "".join(f"BenchmarkX 1 {100 + i} ns/op\n" for i in range(6))
    new = "".join(f"BenchmarkX 1 {200 + i} ns/op\n" for i in range(6))
    report = report_of("note: a\n" + old + "note: b\n" + new)
    cell = report.tables[0].rows[0].cells[1]
    assert cell is not None and cell.test is not None
    assert cell.summary.warnings == () and cell.test.warnings == ()
    assert min_samples_for_ci(0.95) == (">=", 6)
    assert min_samples_for_difference(0.05) == (">=", 4)


def test_equal_samples_cannot_be_tested() -> None:
    text = "note: a\n" + "BenchmarkX 1 5 B/op\n" * 6 + "note: b\n" + "BenchmarkX 1 5 B/op\n" * 6
    shown = table_text(report_of(text).tables[0]).rows[0].cells[1]
    assert shown is not None and shown.cell.test is not None
    assert (shown.cell.test.p, shown.cell.test.warnings, shown.delta) == (
        1.0,
        ("all samples are equal",),
        "~",
    )


def test_benchstat_two_value_p_above_one() -> None:
    """Observed with benchstat (golang.org/x/perf cmd/benchstat at 712aea8): with only two distinct values
    it rounds a bound toward zero and prints p=1.333 here."""
    report = report_of(
        "note: a\nBenchmarkX 1 101 ns/op\nnote: b\nBenchmarkX 1 100 ns/op\nBenchmarkX 1 100 ns/op\n"
    )
    assert render_plain(report).splitlines()[2] == "X   101.0n ± ∞ ¹   100.0n ± ∞ ¹  ~ (p=1.333 n=1+2) ²"


def test_zero_time_keeps_its_unit() -> None:
    """benchfmt keeps `ns/op` when tidying would not change the number (0), so benchstat shows it apart."""
    report = report_of("BenchmarkX 1 0 ns/op\nBenchmarkX 1 5 ns/op\n", column_key=".file")
    assert [table.unit for table in report.tables] == ["ns/op", "sec/op"]


def test_units_are_tidied_and_classed() -> None:
    assert tidy_unit("ns/op") == ("sec/op", 1e-9)
    assert tidy_unit("MB/s") == ("B/s", 1e6)
    assert tidy_unit("ns/GC") == ("sec/GC", 1e-9)
    assert tidy_unit("op/ns") == ("op/ns", 1.0)
    assert tidy_unit("entries/op") == ("entries/op", 1.0)
    assert unit_class("B/op") is UnitClass.BINARY
    assert unit_class("text-bytes") is UnitClass.BINARY
    assert unit_class("op/B") is UnitClass.DECIMAL
    assert unit_class("live-entries") is UnitClass.DECIMAL


def test_mann_whitney_small_exact_values() -> None:
    # Exact two-sided p for completely separated samples: 2/C(n1+n2, n1).
    assert mann_whitney_p([1, 2, 3], [4, 5, 6]) == pytest.approx(2 / 20)
    assert mann_whitney_p([1, 2, 3, 4], [5, 6, 7, 8]) == pytest.approx(2 / 70)
    assert mann_whitney_p([1.0, 2.0], [1.0, 2.0]) == 1.0


def test_custom_metrics_from_real_runs(shared_samples: Path) -> None:
    folder = shared_samples / "bench"
    report = compare(
        [
            LabeledFile("1.22", read_bench(folder / "bench_go1.22.10.txt")),
            LabeledFile("1.27", read_bench(folder / "bench_go1.27.3.txt")),
        ]
    )
    units = [table.unit for table in report.tables]
    assert units == ["sec/op", "B/op", "allocs/op", "entries/op", "gcs/op", "live-entries"]
    live = table_text(report.tables[-1]).rows[0].cells[1]
    assert live is not None and live.center == "4.096k"
    assert live.cell.test is not None and live.cell.test.warnings == ("all samples are equal",)


def test_bad_arguments() -> None:
    with pytest.raises(MapscopeError, match="no benchmark results"):
        compare([LabeledFile("x", parse_bench(b"PASS\n", "x.txt"))])
    with pytest.raises(MapscopeError):
        report_of("BenchmarkX 1 1 ns/op\n", column_key=".name")
    with pytest.raises(MapscopeError):
        compare([LabeledFile("x", parse_bench(b"BenchmarkX 1 1 ns/op\n", "x"))], alpha=2.0)
    conflicting = b"Unit x assume=exact\nUnit x assume=nothing\nBenchmarkX 1 1 x\n"
    with pytest.raises(MapscopeError) as caught:
        compare([LabeledFile("x", parse_bench(conflicting, "x.txt"))])
    assert caught.value.source == "x.txt:2"


def test_command_reports_bad_input_on_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("goos: linux\nBenchmarkX 10 abc ns/op\n")
    code, message = run_cli(str(bad), str(bad))
    assert code == 2
    assert message == f"{bad}:2: benchmark result X: 'abc' is not a float64"


def test_json_has_no_infinities() -> None:
    report = report_of("note: a\nBenchmarkX 1 1 ns/op\nnote: b\nBenchmarkX 1 2 ns/op\n")
    data = json.loads(render_json(report))
    summary = data["tables"][0]["rows"][0]["cells"][0]["summary"]
    assert summary["lo"] is None and summary["hi"] is None


def test_wired_into_mapscope(tmp_path: Path) -> None:
    missing = tmp_path / "none.txt"
    done = subprocess.run(
        [sys.executable, "-m", "mapscope", "bench", "compare", str(missing), str(missing)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr == f"mapscope: error: {missing}: cannot read: No such file or directory\n"
