"""Layouts from `parse_type` against what the real Go compiler printed (tests/fixtures/types/layouts.json)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gen_type_fixtures
import pytest

from mapscope.gotoolchain import Toolchain
from mapscope.model.gotypes import GoType, Kind
from mapscope.readers.gotype_source import parse_map_type, parse_type

REPO = Path(__file__).resolve().parent.parent
FIXTURE = json.loads((REPO / "tests" / "fixtures" / "types" / "layouts.json").read_text())
DECLARATIONS: str = FIXTURE["declarations"]
CASES: list[dict[str, Any]] = FIXTURE["cases"]


def layout(t: GoType) -> dict[str, Any]:
    offsets = [f.offset for f in t.fields] if t.kind is Kind.STRUCT else None
    return {"size": t.size, "align": t.align, "ptrdata": t.ptrdata, "offsets": offsets}


def by_expr(expr: str) -> dict[str, Any]:
    return next(case for case in CASES if case["expr"] == expr)


def parse_case(case: dict[str, Any], declarations: str = DECLARATIONS) -> GoType:
    return parse_type(case["expr"], declarations if case["uses_declarations"] else "")


def test_fixture_covers_both_releases() -> None:
    assert FIXTURE["releases"] == ["1.22.10", "1.27.3"]
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=[case["expr"] for case in CASES])
def test_layout_matches_go(case: dict[str, Any]) -> None:
    got = layout(parse_case(case))
    for release, expected in case["layouts"].items():
        assert got == expected, release


def test_declarations_from_a_whole_go_file() -> None:
    go_file = (
        '// Package shop keeps orders.\npackage shop\n\nimport (\n\t"fmt"\n\t"unsafe"\n)\n\n'
        f"{DECLARATIONS}\nvar registry = map[string]*Order{{}}\n\n"
        "func (o *Order) String() string {\n\ttype local struct{ x int }\n\treturn fmt.Sprint(o.ID)\n}\n\n"
        "var _ = unsafe.Sizeof(Item{})\n"
    )
    for case in CASES:
        if case["uses_declarations"]:
            assert layout(parse_case(case, go_file)) == case["layouts"]["1.27.3"], case["expr"]


def test_named_types_keep_their_names_and_fields() -> None:
    order = parse_type("Order", DECLARATIONS)
    assert order.name == "Order"
    assert [(f.name, f.type.name) for f in order.fields] == [
        ("ID", "int64"),
        ("Items", "[]Item"),
        ("Note", "string"),
    ]
    assert order.fields[1].type.elem is not None and order.fields[1].type.elem.name == "Item"
    assert parse_type("MyInt", DECLARATIONS).kind is Kind.INT
    assert parse_type("Label", DECLARATIONS).name == "string"  # an alias is the type it names
    wrapped = parse_type("Wrapped", DECLARATIONS)
    assert [f.name for f in wrapped.fields] == ["Item", "Order", "flag"]
    assert wrapped.fields[1].type.kind is Kind.POINTER


def test_recursive_type_is_cut_where_the_cycle_closes() -> None:
    node = parse_type("Node", DECLARATIONS)
    inner = node.fields[0].type.elem
    assert inner is not None
    assert (inner.name, inner.size, inner.align, inner.ptrdata) == ("Node", 16, 8, 8)
    assert inner.fields == ()
    tree = parse_type("Tree", DECLARATIONS)
    kids = tree.fields[2].type
    assert kids.name == "[]Tree" and kids.elem is not None and kids.elem.size == 48


def test_mutual_recursion_through_a_pointer() -> None:
    ring = parse_type("Ring", DECLARATIONS)
    pointee = ring.fields[0].type.fields[0].type.elem
    assert pointee is not None
    assert layout(pointee) == by_expr("struct{ r Ring; x int }")["layouts"]["1.27.3"]
    assert pointee.fields[0].type.name == "Ring" and pointee.fields[0].type.fields == ()


def test_names_are_spelled_like_go() -> None:
    assert parse_type("map[string]*Order", DECLARATIONS).name == "map[string]*Order"
    assert parse_type("[1<<4]byte").name == "[16]byte"
    assert parse_type("[Width]Item", DECLARATIONS).name == "[16]Item"
    assert parse_type("struct{a int32; b bool}").name == "struct { a int32; b bool }"
    assert parse_type("<-chan  string").name == "<-chan string"
    assert parse_type("chan<- []int").name == "chan<- []int"
    assert parse_type("interface{}").name == "interface {}"
    assert parse_type("(int)").name == "int"


def test_interfaces() -> None:
    assert parse_type("any").empty_interface
    assert parse_type("interface{}").empty_interface
    assert parse_type("interface{ any }").empty_interface
    assert not parse_type("error").empty_interface
    assert not parse_type("interface{ error }").empty_interface
    assert parse_type("Reader", DECLARATIONS).is_interface
    assert not parse_type("Reader", DECLARATIONS).empty_interface


def test_constants_are_evaluated_in_array_lengths() -> None:
    assert parse_type("[Twelve]Padded", DECLARATIONS).length == 12
    assert parse_type("[0x10 + 0o10 + 0b10 + 010 + 1_0]byte").length == 44
    assert parse_type("[-7 / 2 + 5]byte").length == 2  # Go's integer division truncates toward zero


def test_pointer_free() -> None:
    assert parse_type("[1024]byte").pointer_free
    assert parse_type("struct{ a [0]*int; b int }").pointer_free
    assert not parse_type("struct{ a int; s string }").pointer_free


def test_parse_map_type() -> None:
    m = parse_map_type("map[[16]byte]struct{ a int32; b bool }")
    assert m.key.name == "[16]byte" and (m.elem.size, m.elem.align) == (8, 4)
    assert m.name == "map[[16]byte]struct { a int32; b bool }"
    named = parse_map_type("Index", "type Index map[string]*Order\n" + DECLARATIONS)
    assert named.elem.kind is Kind.POINTER
    assert parse_map_type("map[any]any").key.empty_interface


@pytest.mark.live
def test_live_go_agrees(go_release: Callable[[str], Toolchain]) -> None:
    """Rebuild a few cases with the real Go 1.27.3 and compare with the parser and the committed fixture."""
    subset = [
        c for c in CASES if c["expr"] in {"[129]byte", "struct{ a int32; z [0]int64 }", "Tree", "Wrapped"}
    ]
    subset.append(
        {"expr": "struct{ c complex64; t Tail; s []string; e error; b bool }", "uses_declarations": True}
    )
    records = gen_type_fixtures.measure(go_release("1.27.3"), [c["expr"] for c in subset], DECLARATIONS)
    for case, expected in zip(subset, records, strict=True):
        assert layout(parse_case(case)) == expected, case["expr"]
        if "layouts" in case:
            assert case["layouts"]["1.27.3"] == expected
