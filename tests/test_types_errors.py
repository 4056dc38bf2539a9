"""Bad type expressions and declarations: always a MapscopeError that points at the user's text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapscope.errors import MapscopeError
from mapscope.readers.gotype_source import parse_map_type, parse_type


def problem(text: str, declarations: str = "") -> str:
    with pytest.raises(MapscopeError) as caught:
        parse_type(text, declarations)
    quoted = f'"{text}"'
    shown = caught.value.source
    # A long type is quoted cut short (the error stays one bounded line).
    assert shown == quoted or (shown.endswith("…") and quoted.startswith(shown[:-1])) or "\n" in text
    return caught.value.problem


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("map[int]Foo", "column 9: unknown type Foo"),
        ("[]Foo", "column 3: unknown type Foo"),
        ("map[string]struct{ ü Ünknown }", "column 22: unknown type Ünknown"),
        ("func(a, b int, c ...Foo)", "column 21: unknown type Foo"),
        ("interface{ M(x Nope) }", "column 16: unknown type Nope"),
        ("time.Time", "column 1: unknown type time.Time"),
        ("Foo[int]", "column 1: generic types are not supported"),
        ("comparable", "column 1: comparable can only be used as a type constraint"),
        ("interface{ ~int | string }", "column 12: interfaces with type sets are only type constraints"),
        ("map[[]int]bool", "column 5: invalid map key type []int"),
        ("map[struct{ f func() }]int", "column 5: invalid map key type struct { f func() }"),
        ("[x]int", "column 2: unknown constant x"),
        ("[-1]int", "column 2: invalid array length -1"),
        ("[1.5]int", "column 2: array length must be an integer constant expression"),
        ("[1 << 2000]int", "column 7: invalid shift count 2000"),
        ("[1 / 0]int", "column 6: division by zero"),
        ("[1 << 60]int64", "column 1: type [1152921504606846976]int64 larger than address space"),
        ("chan [65536]byte", "column 1: channel element type too large"),
    ],
)
def test_semantic_errors_name_the_column(text: str, expected: str) -> None:
    assert problem(text).startswith(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("map[int", "column 8: syntax error: unexpected end, [ at column 4 is not closed"),
        ("map[int]", "column 9: syntax error: unexpected end"),
        ("struct{ a int", "column 14: syntax error: unexpected end, { at column 7 is not closed"),
        ("int)", "column 4: syntax error: unexpected )"),
        ("map[]int", "column 5: syntax error: missing a type"),
        ("[...]int", "column 2: syntax error"),
        ("int; type X int", "column 6: unexpected text after the type"),
        ("1", "column 1: syntax error"),
    ],
)
def test_syntax_errors_name_the_column(text: str, expected: str) -> None:
    assert problem(text) == expected


def test_multiline_text_names_line_and_column() -> None:
    assert problem("map[string]struct{\n\ta int\n\tb Foo\n}") == "line 3, column 4: unknown type Foo"


def test_source_is_quoted_on_one_line() -> None:
    with pytest.raises(MapscopeError) as caught:
        parse_type("struct{\n\tb Foo\n}")
    assert caught.value.source == '"struct{\\n\\tb Foo\\n}"'


def test_empty_text() -> None:
    assert problem("  ") == "empty type expression"


@pytest.mark.parametrize(
    ("declarations", "expected"),
    [
        (
            "type A struct { b B }\ntype B struct { a A }",
            "declarations line 2, column 19: invalid recursive type A",
        ),
        ("type A struct { z [0]A }", "declarations line 1, column 22: invalid recursive type A"),
        (
            "type A struct { p *B }\ntype B struct { a A; b B }",
            "declarations line 2, column 24: invalid recursive type B",
        ),
        ("type A = *A", "declarations line 1, column 11: invalid recursive type A"),
        ("type A interface { A }", "declarations line 1, column 20: invalid recursive type A"),
        ("type A struct {\n\tX int\n\tY Missing\n}", "declarations line 3, column 4: unknown type Missing"),
        ("type A[T any] struct{ v T }", "column 1: generic type A is not supported"),
        ("type A int\ntype A string", "declarations line 2, column 6: A redeclared"),
        (
            "type A [N]int\nconst N = M\nconst M = N",
            "declarations line 3, column 11: invalid constant cycle through N",
        ),
        ("type A struct {", "declarations line 1, column 16: syntax error: unexpected end"),
    ],
)
def test_declaration_errors(declarations: str, expected: str) -> None:
    assert problem("A", declarations).startswith(expected)


def test_recursion_by_value_inside_the_expression() -> None:
    assert problem("struct{ n Node }", "type Node struct{ v [2]Node }").endswith(
        "invalid recursive type Node"
    )


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    assert problem("*" * 5000 + "int").endswith("type nests deeper than 100 levels")
    assert problem("map[int]" * 3000 + "int").endswith("type nests deeper than 100 levels")
    chain = "\n".join(f"type T{i} T{i + 1}" for i in range(3000)) + "\ntype T3000 int"
    assert "nests" in problem("T0", chain)


def test_not_a_map() -> None:
    with pytest.raises(MapscopeError, match=r"\[\]int is not a map type"):
        parse_map_type("[]int")
    with pytest.raises(MapscopeError, match="Order is not a map type"):
        parse_map_type("Order", "type Order struct{}")


TOKENS = [
    "map", "[", "]", "struct", "{", "}", "(", ")", "*", "chan", "<-", "func", "interface", "int", "byte", "Foo",
    "Order", ";", ",", "1", "<<", "...", "a", "~", "|", "any", ".", "unsafe.Pointer", "`t`", '"', "\n",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=14))
def test_random_token_soup_never_crashes(tokens: list[str]) -> None:
    try:
        parse_type(" ".join(tokens), "type Order struct { ID int64; Next *Order }")
    except MapscopeError as error:
        assert error.problem
