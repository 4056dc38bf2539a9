"""The oracle's cases, generated Go module and output parsing, without running Go."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from mapscope.errors import MapscopeError
from mapscope.model.ops import Op, OpKind, parse_ops
from mapscope.model.versions import GoVersion, Target
from mapscope.oracle.cases import FIXTURE_TARGETS, LIVE_SUBSET, MATRIX, WALK_POINTS, Case
from mapscope.oracle.program import go_module
from mapscope.oracle.records import Observed, Sample, Stats
from mapscope.oracle.runner import op_labels, parse_output

GO_124 = Target(GoVersion.from_release("1.24.11"))
GO_124_BUCKETS = Target(GoVersion.from_release("1.24.11"), noswissmap=True)


def test_module_declares_the_target_go_version() -> None:
    for target in FIXTURE_TARGETS:
        files = go_module(MATRIX[:2], target)
        assert files["go.mod"].splitlines()[-1] == f"go 1.{target.version.minor}"


def test_module_has_one_function_per_case_and_the_harness() -> None:
    files = go_module(MATRIX, GO_124)
    main = files["main.go"]
    assert files["harness/harness.go"].startswith("// Package harness")
    for case in MATRIX:
        assert json.dumps(case.id) + ": func(reps int)" in main
    assert "Hint:      1000," in main
    assert "{Kind: harness.Clear, Count: 0}" in main


def test_declarations_lose_their_package_clause_and_are_written_once() -> None:
    decls = '// types of my program\npackage store\n\nimport "time"\n\ntype Item struct{ At time.Time }\n'
    cases = [Case("a", "map[int]Item", decls), Case("b", "map[string]Item", decls)]
    files = go_module(cases, GO_124)
    declared = [name for name in files if name.startswith("declarations")]
    assert declared == ["declarations0.go"]
    assert files["declarations0.go"].startswith("package main\n")
    assert "package store" not in files["declarations0.go"]
    assert 'import "time"' in files["declarations0.go"]


def test_duplicate_case_ids_are_refused() -> None:
    with pytest.raises(MapscopeError, match="two cases"):
        go_module([Case("x", "map[int]int"), Case("x", "map[int]string")], GO_124)


@pytest.mark.parametrize(
    ("case", "problem"),
    [
        (lambda: Case("bad id", "map[int]int"), "case id"),
        (lambda: Case("x", "map[int]int", hint=-1), "outside"),
        (lambda: Case("x", "map[int]int", ops=parse_ops("insert 3; delete 4")), "holds only 3"),
        (lambda: Case("x", "map[int]int", ops=(Op(OpKind.INSERT, 10**8),)), "measures up to"),
    ],
)
def test_bad_cases_are_refused(case: Callable[[], Case], problem: str) -> None:
    with pytest.raises(MapscopeError, match=problem):
        case()


def test_matrix_covers_the_rules() -> None:
    ids = {case.id for case in MATRIX}
    assert len(ids) == len(MATRIX)
    types = {case.type_expr for case in MATRIX}
    assert {"map[int][128]byte", "map[int][129]byte", "map[[128]byte]int", "map[[129]byte]int"} <= types
    assert {"map[int]int", "map[int]*int", "map[string]int", "map[any]int", "map[int]any"} <= types
    assert any("struct{}" in t or "[0]" in t for t in types)
    assert {8, 9, 13, 14, 896, 897} <= set(WALK_POINTS)
    assert any(c.hint is not None and c.hint > c.inserts for c in MATRIX)
    kinds = {op.kind for case in MATRIX for op in case.ops}
    assert kinds == {OpKind.INSERT, OpKind.DELETE, OpKind.CLEAR}
    assert max(case.inserts for case in MATRIX) >= 100_000
    assert {case.boxed for case in MATRIX} >= {None, "string", "[32]byte", "uint8"}
    assert set(LIVE_SUBSET) <= set(MATRIX)


def test_labels_follow_the_live_key_count() -> None:
    case = Case("x", "map[int]int", hint=4, ops=parse_ops("insert 5; delete 2; clear; insert 1"))
    assert op_labels(case) == [
        ("make (hint 4)", 0),
        ("insert 5", 5),
        ("delete 2", 3),
        ("clear", 0),
        ("insert 1", 1),
    ]


def test_observed_uses_the_lower_median() -> None:
    assert Observed.of([5, 1, 3, 4]) == Observed(3, 1, 5, False)
    assert Observed.of([7, 7, 7]) == Observed(7, 7, 7, True)
    with pytest.raises(ValueError):
        Observed.of([])


def test_stats_are_deterministic_only_when_every_figure_is() -> None:
    same = [Sample(48, 48, 1, 24, None)] * 3
    assert Stats.of(same).deterministic
    assert Stats.of(same).peak is None
    varied = [*same, Sample(48, 64, 2, 24, None)]
    stats = Stats.of(varied)
    assert not stats.deterministic
    assert stats.retained.deterministic
    assert stats.total_alloc == Observed(48, 48, 64, False)


def _output(case: Case, reps: int, go: str = "go1.24.11", experiment: str = "") -> str:
    lines = [json.dumps({"case": case.id, "go": go, "goexperiment": experiment, "reps": reps})]
    for rep in range(reps):
        for index in range(len(case.ops) + 1):
            row = {"rep": rep, "op": index, "retained": 48 + index, "total_alloc": 48 + index + rep}
            row |= {"mallocs": 1 + index, "gc_scan": 24, "peak": 50 + index}
            lines.append(json.dumps(row))
    return "\n".join(lines) + "\n"


def test_parse_output_builds_readings_per_operation() -> None:
    case = Case("c", "map[int]int", ops=parse_ops("insert 3; clear"), track_peak=True)
    measured = parse_output(_output(case, 3), case, GO_124, 3)
    assert [r.op for r in measured.readings] == ["make", "insert 3", "clear"]
    assert [r.live for r in measured.readings] == [0, 3, 0]
    assert measured.readings[1].stats.retained == Observed(49, 49, 49, True)
    assert measured.readings[1].stats.total_alloc == Observed(50, 49, 51, False)
    assert measured.readings[2].stats.peak == Observed(52, 52, 52, True)
    assert len(measured.readings[0].samples) == 3
    assert not measured.deterministic


def test_parse_output_drops_peak_unless_tracked() -> None:
    case = Case("c", "map[int]int", ops=parse_ops("insert 3"))
    measured = parse_output(_output(case, 2), case, GO_124, 2)
    assert all(r.stats.peak is None for r in measured.readings)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"error":"keys of bool collide"}\n', "keys of bool collide"),
        ("not json\n", "unreadable"),
        ("", "printed no result"),
        ("[1, 2]\n", "unreadable"),
    ],
)
def test_parse_output_rejects_errors_and_garbage(text: str, problem: str) -> None:
    case = Case("c", "map[int]int")
    with pytest.raises(MapscopeError, match=problem):
        parse_output(text, case, GO_124, 1)


def test_parse_output_checks_version_experiment_and_completeness() -> None:
    case = Case("c", "map[int]int", ops=parse_ops("insert 1"))
    with pytest.raises(MapscopeError, match=r"ran on go1\.23\.9"):
        parse_output(_output(case, 1, go="go1.23.9"), case, GO_124, 1)
    with pytest.raises(MapscopeError, match="GOEXPERIMENT"):
        parse_output(_output(case, 1), case, GO_124_BUCKETS, 1)
    buckets = parse_output(_output(case, 1, "go1.24.11 X:noswissmap", "noswissmap"), case, GO_124_BUCKETS, 1)
    assert buckets.target == "go1.24.11+noswissmap"
    with pytest.raises(MapscopeError, match="expected 4 readings"):
        parse_output(_output(case, 1), case, GO_124, 2)
