"""Reading `go test -bench` output and `go test -json` streams into BenchResult records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mapscope.errors import MapscopeError
from mapscope.readers.gobench import BenchResult, SourceKind, parse_bench, read_bench, split_name

# Real output of tests/fixtures/bench/tinybench (scripts/gen_bench_fixtures.py): -benchtime 100x -count 3
# -benchmem, as text and as `go test -json`.
FIXTURES = Path(__file__).parent / "fixtures" / "bench"


def parse(text: str) -> list[tuple[str, int, tuple[tuple[float, str], ...]]]:
    return [
        (r.full_name, r.iterations, tuple((m.value, m.unit) for m in r.metrics))
        for r in parse_bench(text.encode(), "t.txt").results
    ]


def test_real_text_output_with_custom_metrics(shared_samples: Path) -> None:
    bench = read_bench(shared_samples / "bench" / "bench_go1.27.3.txt")
    assert bench.kind is SourceKind.TEXT
    assert len(bench.results) == 15  # -count 3 over five benchmarks
    first = bench.results[0]
    assert (first.name, first.full_name, first.sub, first.procs) == (
        "MapGrow",
        "MapGrow/n=1000-2",
        ("n=1000",),
        2,
    )
    assert first.iterations == 436
    assert [(m.value, m.unit) for m in first.metrics] == [
        (617589.0, "ns/op"),
        (1098456.0, "B/op"),
        (1022.0, "allocs/op"),
    ]
    assert first.config == (("goos", "linux"), ("goarch", "amd64"), ("pkg", "mapbench"), ("cpu", "AMD EPYC"))
    assert first.line == 5
    churn = bench.results[12]
    assert churn.full_name == "CacheChurn-2"
    assert [(m.value, m.unit) for m in churn.metrics] == [
        (147.4, "ns/op"),
        (0.0000176, "gcs/op"),
        (4096.0, "live-entries"),
        (202.0, "B/op"),
        (3.0, "allocs/op"),
    ]
    assert [(m.value, m.unit) for m in bench.results[9].metrics][1] == (5000.0, "entries/op")


@pytest.mark.parametrize("release", ["1.22.10", "1.27.3"])
def test_real_test2json_output(release: str) -> None:
    path = FIXTURES / f"tinybench_go{release}.json"
    bench = read_bench(path)
    assert bench.kind is SourceKind.TEST2JSON
    assert [r.full_name for r in bench.results] == ["Fill/n=8-2"] * 3 + ["Fill/n=64-2"] * 3 + ["Lookup-2"] * 3
    assert all(r.config_value("pkg") == "tinybench" for r in bench.results)
    # The text form of another run of the same benchmarks: the same results, timings aside.
    as_text = read_bench(FIXTURES / f"tinybench_go{release}.txt")

    def shape(results: tuple[BenchResult, ...]) -> list[object]:
        return [
            (r.full_name, r.iterations, [m.unit for m in r.metrics], r.metrics[1], r.config) for r in results
        ]

    assert as_text.kind is SourceKind.TEXT and shape(as_text.results) == shape(bench.results)
    # Every result line of the stream, whether it came in one output event or two, is read whole.
    events = [json.loads(line) for line in path.read_text().splitlines()]
    text = "".join(e.get("Output", "") for e in events if e["Action"] == "output")
    expected = [line.split() for line in text.splitlines() if line.startswith("Benchmark") and "\t" in line]
    assert [
        [r.full_name, r.iterations, *(x for m in r.metrics for x in (m.value, m.unit))] for r in bench.results
    ] == [
        [
            f[0].removeprefix("Benchmark"),
            int(f[1]),
            *(float(v) if i % 2 == 0 else v for i, v in enumerate(f[2:])),
        ]
        for f in expected
    ]


def test_split_result_line_counts_from_its_first_event() -> None:
    path = FIXTURES / "tinybench_go1.27.3.json"
    lines = path.read_text().splitlines()
    bench = read_bench(path)
    # The testing package prints a result's name, then runs it and prints the figures: two events.
    named_first = [r for r in bench.results if json.loads(lines[r.line - 1])["Output"].endswith("\t")]
    assert named_first  # the first sample of each benchmark, at least
    for split in named_first:
        assert json.loads(lines[split.line - 1])["Output"].rstrip() == f"Benchmark{split.full_name}"
        assert split.iterations == 100
        assert [m.unit for m in split.metrics] == ["ns/op", split.metrics[1].unit, "B/op", "allocs/op"]


def test_golang_perf_suffixarray_sample(shared_samples: Path) -> None:
    bench = read_bench(shared_samples / "external" / "golang-perf" / "benchproc_testdata_suffixarray.bench")
    assert len(bench.results) == 420
    names = {r.full_name for r in bench.results}
    assert all(r.procs is not None for r in bench.results)
    assert {r.name for r in bench.results} <= {"New", "SaveRestore"}
    assert any("/" in name for name in names)


def test_unit_metadata_lines(shared_samples: Path) -> None:
    bench = read_bench(shared_samples / "external" / "golang-perf" / "cmd_benchstat_testdata_units.txt")
    assert [(n.unit, n.key, n.value, n.line) for n in bench.unit_notes] == [
        ("text-bytes", "assume", "exact", 1)
    ]
    assert [r.config_value("note") for r in bench.results] == ["before"] * 4 + ["after"] * 4


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("Encode/format=json-48", ("Encode", ("format=json",), 48)),
        ("MapPresized", ("MapPresized", (), None)),
        ("X/a-b-4", ("X", ("a-b",), 4)),
        ("X/n=-8", ("X", ("n=",), 8)),  # benchstat takes any trailing -digits as GOMAXPROCS
        ("X-", ("X-", (), None)),
        ("X/y/z", ("X", ("y", "z"), None)),
    ],
)
def test_names(name: str, parts: tuple[str, tuple[str, ...], int | None]) -> None:
    assert split_name(name) == parts


def test_configuration_lines() -> None:
    text = (
        "goos: linux\n"
        "goarch:\tamd64\n"
        "Note: ignored, upper-case start\n"
        "bad Key: ignored, space in key\n"
        "url:http://x ignored, no space after the colon\n"
        "commit: abc  \n"
        "BenchmarkA 1 2 ns/op\n"
        "goos:\n"  # unsets goos: the last key moves into its place (benchfmt's order)
        "BenchmarkA 1 3 ns/op\n"
    )
    results = parse_bench(text.encode(), "t.txt").results
    assert results[0].config == (("goos", "linux"), ("goarch", "amd64"), ("commit", "abc  "))
    assert results[1].config == (("commit", "abc  "), ("goarch", "amd64"))


def test_lines_that_are_not_results_are_ignored() -> None:
    text = (
        "=== RUN   BenchmarkA\n"
        "BenchmarkA\n"
        "BenchmarkA/sub\n"
        "Benchmarking is fun\n"
        "--- BENCH: BenchmarkA\n"
        "    a_test.go:12: hello\n"
        "Unitless: words\n"
        "BenchmarkA-2 \t 10\t 5.5 ns/op\t 1e3 things\r\n"
        "Benchmark_x 1 0x1p-2 ns/op\n"
        "PASS\n"
        "ok  \tpkg\t0.1s\n"
    )
    assert parse(text) == [
        ("A-2", 10, ((5.5, "ns/op"), (1000.0, "things"))),
        ("_x", 1, ((0.25, "ns/op"),)),
    ]


def test_interleaved_packages_and_split_lines_in_test2json() -> None:
    def event(package: str, output: str) -> str:
        return json.dumps({"Action": "output", "Package": package, "Output": output})

    lines = [
        json.dumps({"Action": "start", "Package": "a"}),
        event("a", "pkg: a\n"),
        event("b", "pkg: b\n"),
        event("a", "BenchmarkX-2   \t"),
        event("b", "BenchmarkY-2   \t  5\t 7 ns/op\n"),
        event("a", "  10\t 3 ns/op\n"),
        json.dumps({"Action": "build-output", "ImportPath": "c", "Output": "BenchmarkZ 1 1 ns/op\n"}),
        event("a", "BenchmarkX-2 20 4 ns/op\nBenchmarkX-2 30 5 ns/op\n"),
        json.dumps({"Action": "pass", "Package": "a", "Elapsed": 1.5}),
    ]
    results = parse_bench("\n".join(lines).encode(), "t.json").results
    assert [(r.full_name, r.iterations, r.config_value("pkg"), r.line) for r in results] == [
        ("X-2", 10, "a", 4),
        ("Y-2", 5, "b", 5),
        ("X-2", 20, "a", 8),
        ("X-2", 30, "a", 8),
    ]


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("goos: linux\nBenchmarkA\t\n", 2, "has no iteration count"),
        ("BenchmarkA 1.5 3 ns/op\n", 1, "iteration count '1.5' is not an int64"),
        ("BenchmarkA 99999999999999999999 3 ns/op\n", 1, "is not an int64"),
        ("\n\nBenchmarkA 10\n", 3, "has no measurements"),
        ("BenchmarkA 10 3\n", 1, "value 3 has no unit"),
        ("BenchmarkA 10 3 ns/op 4\n", 1, "value 4 has no unit"),
        ("BenchmarkA 10 fast ns/op\n", 1, "'fast' is not a float64"),
        ("BenchmarkA 10 1_000 ns/op\n", 1, "'1_000' is not a float64"),
        ("BenchmarkA 10 1e999 ns/op\n", 1, "'1e999' is not a float64"),
        ("Benchmark \t10 1 ns/op\n", 1, "without a benchmark name"),
        ("Unit\n", 1, "names no unit"),
        ("Unit x-bytes assume\n", 1, "expected key=value, got 'assume'"),
        ("Unit x-bytes =exact\n", 1, "expected key=value"),
        ('{"Action":"output","Output":"x\\n"}\nnot json\n', 2, "not a go test -json event"),
        ('{"Action":"output","Output":"x\\n"}\n[1]\n', 2, "not a JSON object"),
        ('{"Action":"output","Output":7}\n', 1, "without a string Output"),
        ('{"Action":7}\n', 1, "without a string Action/Package"),
        ('{"Action":"output","Output":"BenchmarkA 1\\n"}\n', 1, "has no measurements"),
    ],
)
def test_bad_input_names_file_and_line(text: str, line: int, problem: str) -> None:
    with pytest.raises(MapscopeError) as caught:
        parse_bench(text.encode(), "in.txt")
    assert caught.value.source == f"in.txt:{line}"
    assert problem in caught.value.problem
    assert "\n" not in str(caught.value)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(MapscopeError) as caught:
        read_bench(tmp_path / "missing.txt")
    assert caught.value.source == str(tmp_path / "missing.txt")
    with pytest.raises(MapscopeError):
        read_bench(tmp_path)


def test_binary_garbage_reads_as_no_results() -> None:
    assert parse_bench(bytes(range(256)) * 64, "x.bin").results == ()
