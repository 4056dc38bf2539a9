"""Go type expressions, as a user types them, turned into `GoType` layouts for 64-bit targets.

The text (and optional Go declarations, possibly a whole .go file) is parsed with tree-sitter-go; every
name is then resolved here (predeclared types, `unsafe.Pointer`, the declarations' types and constants) so
each error can point at a column of what the user typed. Layout rules follow the gc compiler's
cmd/compile/internal/types/size.go.

A type that refers back to itself through a pointer, slice, map, chan or func (`type Node struct{ Next
*Node }`) is cut where the cycle closes: the inner `Node` keeps its name and layout but has no fields,
elem or key.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import tree_sitter_go
from tree_sitter import Language, Node, Parser

from mapscope import limits
from mapscope.errors import MapscopeError
from mapscope.model.gotypes import PTR_SIZE, Field, GoType, Kind, MapType

_GO = Language(tree_sitter_go.language())
_ALIAS = "_mapscope_T"
_PREFIX = f"type {_ALIAS} = "
_MAX_WIDTH = 1 << 50  # the compiler's MAXWIDTH on amd64 and arm64
_MAX_CONSTANT = 1 << 512  # far beyond any array length; keeps constant arithmetic bounded

_INTEGERS = {"int8": 1, "int16": 2, "int32": 4, "int64": 8, "int": 8, "rune": 4}
_UNSIGNED = {"uint8": 1, "uint16": 2, "uint32": 4, "uint64": 8, "uint": 8, "uintptr": 8, "byte": 1}


def _scalar(kind: Kind, name: str, size: int, align: int | None = None, ptrdata: int = 0) -> GoType:
    return GoType(kind, name, size, align or size, ptrdata)


_PREDECLARED = {
    **{name: _scalar(Kind.INT, name, size) for name, size in _INTEGERS.items()},
    **{name: _scalar(Kind.UINT, name, size) for name, size in _UNSIGNED.items()},
    "bool": _scalar(Kind.BOOL, "bool", 1),
    "float32": _scalar(Kind.FLOAT, "float32", 4),
    "float64": _scalar(Kind.FLOAT, "float64", 8),
    "complex64": _scalar(Kind.COMPLEX, "complex64", 8, 4),
    "complex128": _scalar(Kind.COMPLEX, "complex128", 16, 8),
    "string": _scalar(Kind.STRING, "string", 2 * PTR_SIZE, PTR_SIZE, PTR_SIZE),
    "any": GoType(Kind.INTERFACE, "any", 2 * PTR_SIZE, PTR_SIZE, 2 * PTR_SIZE, empty_interface=True),
    "error": GoType(Kind.INTERFACE, "error", 2 * PTR_SIZE, PTR_SIZE, 2 * PTR_SIZE),
}
_UNSAFE_POINTER = _scalar(Kind.UNSAFE_POINTER, "unsafe.Pointer", PTR_SIZE, ptrdata=PTR_SIZE)


@dataclass(frozen=True)
class _Text:
    """One parsed input, and how to turn a tree-sitter point back into the user's line and column."""

    label: str  # "" for the type expression, "declarations" for the declarations
    source: bytes  # what tree-sitter parsed: the user's text, maybe behind a prefix on its first row
    shift: int  # bytes of that prefix
    rows: int  # lines in the user's text

    def where(self, point: tuple[int, int]) -> str:
        row, col = point
        lines = self.source[self.shift :].split(b"\n")
        if row == 0:
            col = max(col - self.shift, 0)
        if row >= self.rows:  # past the end of what the user typed
            row, col = self.rows - 1, len(lines[self.rows - 1])
        column = len(lines[row][:col].decode("utf-8", errors="replace")) + 1
        if not self.label and self.rows == 1:
            return f"column {column}"
        return f"{self.label} line {row + 1}, column {column}".lstrip()

    @property
    def end(self) -> tuple[int, int]:
        return (self.rows, 0)


@dataclass(frozen=True)
class _Decl:
    node: Node  # type_spec, type_alias or the const expression
    text: _Text
    iota: int = 0


@dataclass(frozen=True)
class _Scope:
    types: dict[str, _Decl]
    consts: dict[str, _Decl]


def _fail(source: str, text: _Text, at: Node | tuple[int, int], problem: str) -> MapscopeError:
    point = (at.start_point.row, at.start_point.column) if isinstance(at, Node) else at
    return MapscopeError(source, f"{text.where(point)}: {problem}")


def _source_text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", errors="replace")


def _leaves(root: Node, shift: int) -> list[Node]:
    """The tokens at or after byte `shift`, in order, found without recursion (inputs can nest deeply)."""
    found: list[Node] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.child_count == 0:
            if node.start_byte >= shift and node.type != "comment":
                found.append(node)
        else:
            stack.extend(reversed(node.children))
    return found


_CLOSERS = {")": "(", "]": "[", "}": "{"}
_ARITHMETIC: dict[str, Callable[[int, int], int]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "&": operator.and_, "|": operator.or_,
    "^": operator.xor, "&^": lambda a, b: a & ~b,
}  # fmt: skip


def _syntax_error(source: str, text: _Text, root: Node) -> MapscopeError:
    """Point at the likeliest culprit: a stray bracket, a missing token, an early end, or the ERROR node."""
    leaves = _leaves(root, text.shift)
    open_brackets: list[Node] = []
    for leaf in leaves:
        if leaf.type in _CLOSERS.values():
            open_brackets.append(leaf)
        elif leaf.type in _CLOSERS and (not open_brackets or open_brackets.pop().type != _CLOSERS[leaf.type]):
            return _fail(source, text, leaf, f"syntax error: unexpected {leaf.type}")
    errors = _error_nodes(root)
    bad = errors[0] if errors else root
    if bad.is_missing:
        wanted = "a type" if bad.type.endswith(("type", "identifier")) else repr(bad.type)
        return _fail(source, text, bad, f"syntax error: missing {wanted}")
    if open_brackets:
        bracket = open_brackets[-1]
        opened = text.where((bracket.start_point.row, bracket.start_point.column))
        return _fail(
            source, text, text.end, f"syntax error: unexpected end, {bracket.type} at {opened} is not closed"
        )
    if not any(leaf.start_byte >= bad.end_byte for leaf in leaves):
        return _fail(source, text, text.end, "syntax error: unexpected end")
    inside = [leaf for leaf in leaves if leaf.start_byte >= bad.start_byte]
    return _fail(source, text, inside[0] if inside else text.end, "syntax error")


def _error_nodes(root: Node) -> list[Node]:
    """ERROR and MISSING nodes in document order."""
    found: list[Node] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            found.append(node)
        stack.extend(child for child in reversed(node.children) if child.has_error or child.is_missing)
    return found


def _parse(source: str, text: _Text) -> Node:
    root = Parser(_GO).parse(text.source).root_node
    if root.has_error:
        raise _syntax_error(source, text, root)
    return root


def _round_up(offset: int, align: int) -> int:
    return (offset + align - 1) // align * align


def _comparable(t: GoType) -> bool:
    if t.kind in (Kind.SLICE, Kind.MAP, Kind.FUNC):
        return False
    if t.kind is Kind.STRUCT:
        return all(_comparable(f.type) for f in t.fields)
    if t.kind is Kind.ARRAY and t.elem is not None:
        return _comparable(t.elem)
    return True


def _shallow(t: GoType) -> GoType:
    return replace(t, fields=(), elem=None, key=None)


@dataclass
class _Resolver:
    """Resolves type nodes to `GoType`s; one per call, never shared.

    With `layout_only`, indirections (pointer, slice, map, chan, func) are not followed: their layout does not
    depend on what they point at. The full resolver asks a layout-only one for the size of a named type that
    is still being built when a cycle through an indirection reaches it again.
    """

    source: str
    scope: _Scope
    layout_only: bool = False
    done: dict[str, GoType] = field(default_factory=dict)
    entered: dict[str, int] = field(default_factory=dict)  # named type -> indirections passed when entered
    indirections: int = 0
    constants: dict[str, int] = field(default_factory=dict)
    evaluating: set[str] = field(default_factory=set)
    layouts: _Resolver | None = None
    depth: int = 0

    def error(self, text: _Text, node: Node, problem: str) -> MapscopeError:
        return _fail(self.source, text, node, problem)

    def type_of(self, node: Node, text: _Text) -> GoType:
        self.depth += 1
        try:
            if self.depth > limits.TYPE_DEPTH_MAX:
                raise self.error(text, node, f"type nests deeper than {limits.TYPE_DEPTH_MAX} levels")
            return self._type_of(node, text)
        finally:
            self.depth -= 1

    def _type_of(self, node: Node, text: _Text) -> GoType:
        kind = node.type
        if kind == "parenthesized_type":
            return self.type_of(node.named_children[0], text)
        if kind == "type_identifier":
            return self.named(_source_text(node), node, text)
        if kind == "qualified_type":
            if _source_text(node) == "unsafe.Pointer":
                return _UNSAFE_POINTER
            raise self.error(
                text, node, f"unknown type {_source_text(node)} (declare it in the declarations)"
            )
        if kind == "pointer_type":
            elem = self.indirect(node.named_children[0], text)
            return GoType(Kind.POINTER, f"*{self.spell(elem, node.named_children[0])}", 8, 8, 8, elem=elem)
        if kind == "slice_type":
            element = node.child_by_field_name("element")
            assert element is not None
            elem = self.indirect(element, text)
            return GoType(Kind.SLICE, f"[]{self.spell(elem, element)}", 24, 8, 8, elem=elem)
        if kind == "array_type":
            return self.array(node, text)
        if kind == "map_type":
            return self.map(node, text)
        if kind == "channel_type":
            return self.channel(node, text)
        if kind == "function_type":
            self.signature(node, text)
            return GoType(Kind.FUNC, " ".join(_source_text(node).split()), 8, 8, 8)
        if kind == "struct_type":
            return self.struct(node, text)
        if kind == "interface_type":
            return self.interface(node, text)
        if kind == "generic_type":
            raise self.error(text, node, "generic types are not supported")
        if kind == "implicit_length_array_type":
            raise self.error(text, node, "[...] arrays are only allowed in composite literals")
        raise self.error(text, node, f"not a type: {_source_text(node)}")

    def spell(self, t: GoType | None, node: Node) -> str:
        """Name of a type that a layout-only resolver may not have resolved."""
        return t.name if t is not None else " ".join(_source_text(node).split())

    def indirect(self, node: Node, text: _Text) -> GoType | None:
        if self.layout_only:
            return None
        self.indirections += 1
        try:
            return self.type_of(node, text)
        finally:
            self.indirections -= 1

    def named(self, name: str, node: Node, text: _Text) -> GoType:
        decl = self.scope.types.get(name)
        if decl is None:
            if name in _PREDECLARED:
                return _PREDECLARED[name]
            if name == "comparable":
                raise self.error(text, node, "comparable can only be used as a type constraint")
            raise self.error(text, node, f"unknown type {name}")
        if decl.node.child_by_field_name("type_parameters") is not None:
            raise self.error(text, node, f"generic type {name} is not supported")
        if name in self.done:
            return self.done[name]
        is_alias = decl.node.type == "type_alias"
        if name in self.entered:
            if is_alias or self.entered[name] == self.indirections:
                raise self.error(text, node, f"invalid recursive type {name}")
            assert self.layouts is not None  # a layout-only resolver never passes an indirection
            return _shallow(self.layouts.named(name, node, text))
        underlying = decl.node.child_by_field_name("type")
        assert underlying is not None
        self.entered[name] = self.indirections
        try:
            resolved = self.type_of(underlying, decl.text)
        finally:
            del self.entered[name]
        if not is_alias:
            resolved = replace(resolved, name=name)
        self.done[name] = resolved
        return resolved

    def array(self, node: Node, text: _Text) -> GoType:
        length_node = node.child_by_field_name("length")
        element = node.child_by_field_name("element")
        assert length_node is not None and element is not None
        length = self.constant(length_node, text, None)
        if length < 0:
            raise self.error(text, length_node, f"invalid array length {length} (must be non-negative)")
        elem = self.type_of(element, text)
        if elem.size and length > (_MAX_WIDTH - 1) // elem.size:
            raise self.error(text, node, f"type [{length}]{elem.name} larger than address space")
        ptrdata = (length - 1) * elem.size + elem.ptrdata if length and elem.ptrdata else 0
        name = f"[{length}]{elem.name}"
        return GoType(Kind.ARRAY, name, length * elem.size, elem.align, ptrdata, elem=elem, length=length)

    def map(self, node: Node, text: _Text) -> GoType:
        key_node = node.child_by_field_name("key")
        value_node = node.child_by_field_name("value")
        assert key_node is not None and value_node is not None
        key = self.indirect(key_node, text)
        elem = self.indirect(value_node, text)
        if key is not None and not _comparable(key):
            raise self.error(text, key_node, f"invalid map key type {key.name}")
        for part, what in ((key, "key"), (elem, "element")):
            if part is not None and part.size >= 1 << 31:
                raise self.error(text, node, f"map {what} type too large")
        name = f"map[{self.spell(key, key_node)}]{self.spell(elem, value_node)}"
        return GoType(Kind.MAP, name, 8, 8, 8, elem=elem, key=key)

    def channel(self, node: Node, text: _Text) -> GoType:
        value_node = node.child_by_field_name("value")
        assert value_node is not None
        first, second = [child.type for child in node.children[:2]]
        direction = "<-chan " if first == "<-" else "chan<- " if second == "<-" else "chan "
        elem = self.indirect(value_node, text)
        if elem is not None and elem.size >= 1 << 16:
            raise self.error(text, node, "channel element type too large (>64kB)")
        return GoType(Kind.CHAN, direction + self.spell(elem, value_node), 8, 8, 8, elem=elem)

    def signature(self, node: Node, text: _Text) -> None:
        """Check that parameter and result types resolve; a func value is one pointer whatever they are."""
        for part in (node.child_by_field_name("parameters"), node.child_by_field_name("result")):
            if part is None:
                continue
            if part.type != "parameter_list":
                self.indirect(part, text)
                continue
            for parameter in part.named_children:
                type_node = parameter.child_by_field_name("type")
                if type_node is not None:
                    self.indirect(type_node, text)

    def struct(self, node: Node, text: _Text) -> GoType:
        fields: list[Field] = []
        spelled: list[str] = []
        offset, align = 0, 1
        field_list = next((c for c in node.named_children if c.type == "field_declaration_list"), None)
        declarations = field_list.named_children if field_list is not None else []
        for declaration in declarations:
            if declaration.type != "field_declaration":
                continue
            type_node = declaration.child_by_field_name("type")
            assert type_node is not None
            names = [_source_text(n) for n in declaration.children_by_field_name("name") if n.is_named]
            tag = declaration.child_by_field_name("tag")
            suffix = f" {_source_text(tag)}" if tag is not None else ""
            if names:
                member = self.type_of(type_node, text)
                spelled.append(f"{', '.join(names)} {member.name}{suffix}")
            else:  # embedded field: named after its type, possibly through a pointer
                names = [_source_text(type_node).rsplit(".", 1)[-1]]
                if any(child.type == "*" for child in declaration.children):
                    elem = self.indirect(type_node, text)
                    pointee = self.spell(elem, type_node)
                    member = GoType(Kind.POINTER, f"*{pointee}", 8, 8, 8, elem=elem)
                else:
                    member = self.type_of(type_node, text)
                spelled.append(member.name + suffix)
            for name in names:
                offset = _round_up(offset, member.align)
                fields.append(Field(name, member, offset))
                offset += member.size
                if offset >= _MAX_WIDTH:
                    raise self.error(text, node, "struct type too large")
            align = max(align, member.align)
        if offset > 0 and fields[-1].type.size == 0:
            offset += 1  # so the address of a trailing zero-size field never points at the next object
        ptrdata = next((f.offset + f.type.ptrdata for f in reversed(fields) if f.type.ptrdata), 0)
        name = f"struct {{ {'; '.join(spelled)} }}" if spelled else "struct {}"
        return GoType(Kind.STRUCT, name, _round_up(offset, align), align, ptrdata, fields=tuple(fields))

    def interface(self, node: Node, text: _Text) -> GoType:
        empty = True
        for element in node.named_children:
            if element.type == "method_elem":
                self.signature(element, text)
                empty = False
            elif element.type == "type_elem":
                embedded = element.named_children
                if len(embedded) != 1 or embedded[0].type == "negated_type":
                    raise self.error(text, element, "interfaces with type sets are only type constraints")
                inner = self.type_of(embedded[0], text)
                if inner.kind is not Kind.INTERFACE:
                    raise self.error(text, element, "interfaces with type sets are only type constraints")
                empty = empty and inner.empty_interface
        name = "interface {}" if empty else " ".join(_source_text(node).split())
        return GoType(Kind.INTERFACE, name, 16, 8, 16, empty_interface=empty)

    def constant(self, node: Node, text: _Text, iota: int | None) -> int:
        """An integer constant expression: literals, declared constants, iota, parentheses and operators."""
        kind = node.type
        if kind == "int_literal":
            digits = _source_text(node).replace("_", "")
            try:
                value = int(digits, 8) if re.fullmatch(r"0[0-7]+", digits) else int(digits, 0)
            except ValueError:
                raise self.error(text, node, f"bad integer literal {_source_text(node)}") from None
        elif kind == "iota" and iota is not None:
            value = iota
        elif kind == "identifier":
            value = self.named_constant(_source_text(node), node, text)
        elif kind == "parenthesized_expression":
            value = self.constant(node.named_children[0], text, iota)
        elif kind == "unary_expression":
            operand = node.child_by_field_name("operand")
            operator_node = node.child_by_field_name("operator")
            assert operand is not None and operator_node is not None
            value = self.constant(operand, text, iota)
            op = operator_node.type
            if op not in ("+", "-", "^"):
                raise self.error(text, node, f"unsupported constant operator {op}")
            value = {"+": value, "-": -value, "^": ~value}[op]
        elif kind == "binary_expression":
            value = self.binary(node, text, iota)
        else:
            raise self.error(text, node, "array length must be an integer constant expression")
        if abs(value) >= _MAX_CONSTANT:
            raise self.error(text, node, "constant overflow")
        return value

    def binary(self, node: Node, text: _Text, iota: int | None) -> int:
        left_node = node.child_by_field_name("left")
        right_node = node.child_by_field_name("right")
        operator_node = node.child_by_field_name("operator")
        assert left_node is not None and right_node is not None and operator_node is not None
        left = self.constant(left_node, text, iota)
        right = self.constant(right_node, text, iota)
        op = operator_node.type
        if op in ("<<", ">>"):
            if right < 0 or right > 1024:
                raise self.error(text, right_node, f"invalid shift count {right}")
            return left << right if op == "<<" else left >> right
        if op in ("/", "%"):
            if right == 0:
                raise self.error(text, right_node, "division by zero")
            quotient = abs(left) // abs(right) * (1 if (left < 0) == (right < 0) else -1)  # Go truncates
            return quotient if op == "/" else left - right * quotient
        if op not in _ARITHMETIC:
            raise self.error(text, operator_node, f"unsupported constant operator {op}")
        return _ARITHMETIC[op](left, right)

    def named_constant(self, name: str, node: Node, text: _Text) -> int:
        decl = self.scope.consts.get(name)
        if decl is None:
            raise self.error(text, node, f"unknown constant {name}")
        if name in self.constants:
            return self.constants[name]
        if name in self.evaluating:
            raise self.error(text, node, f"invalid constant cycle through {name}")
        self.evaluating.add(name)
        try:
            value = self.constant(decl.node, decl.text, decl.iota)
        finally:
            self.evaluating.discard(name)
        self.constants[name] = value
        return value


def _collect(root: Node, text: _Text, source: str) -> _Scope:
    """The top-level type and constant declarations; everything else in a .go file is ignored."""
    types: dict[str, _Decl] = {}
    consts: dict[str, _Decl] = {}
    for declaration in root.named_children:
        if declaration.type == "type_declaration":
            for spec in declaration.named_children:
                name_node = spec.child_by_field_name("name")
                if spec.type not in ("type_spec", "type_alias") or name_node is None:
                    continue
                name = _source_text(name_node)
                if name in types:
                    raise _fail(source, text, name_node, f"{name} redeclared")
                if name != "_":
                    types[name] = _Decl(spec, text)
        elif declaration.type == "const_declaration":
            values: list[Node] = []
            specs = [spec for spec in declaration.named_children if spec.type == "const_spec"]
            for iota, spec in enumerate(specs):
                value_list = spec.child_by_field_name("value")
                if value_list is not None:
                    values = value_list.named_children
                names = [node for node in spec.children_by_field_name("name") if node.is_named]
                for index, name_node in enumerate(names):
                    name = _source_text(name_node)
                    if index >= len(values):
                        raise _fail(source, text, name_node, f"missing value for constant {name}")
                    if name != "_":
                        consts[name] = _Decl(values[index], text, iota)
    return _Scope(types, consts)


def _expression(text: str, source: str) -> tuple[Node, _Text]:
    """Parse `text` as the right-hand side of a type alias and check nothing else came with it."""
    wrapped = _Text("", f"{_PREFIX}{text}\n".encode(), len(_PREFIX.encode()), text.count("\n") + 1)
    root = _parse(source, wrapped)
    parts = [child for child in root.named_children if child.type != "comment"]
    first = parts[0] if parts else None
    specs = [spec for spec in first.named_children if spec.type != "comment"] if first is not None else []
    if len(parts) > 1:
        raise _fail(source, wrapped, parts[1], "unexpected text after the type")
    if first is None or first.type != "type_declaration" or len(specs) != 1 or specs[0].type != "type_alias":
        raise _fail(source, wrapped, root, "syntax error")
    type_node = specs[0].child_by_field_name("type")
    assert type_node is not None
    return type_node, wrapped


def parse_type(text: str, declarations: str = "") -> GoType:
    """The layout of the Go type spelled `text`, with named types taken from `declarations` (Go source)."""
    source = json.dumps(text, ensure_ascii=False)
    if not text.strip():
        raise MapscopeError(source, "empty type expression")
    declared = _Text("declarations", f"{declarations}\n".encode(), 0, declarations.count("\n") + 1)
    scope = _collect(_parse(source, declared), declared, source)
    node, wrapped = _expression(text, source)
    resolver = _Resolver(source, scope, layouts=_Resolver(source, scope, layout_only=True))
    try:
        return resolver.type_of(node, wrapped)
    except RecursionError:
        raise MapscopeError(source, "type nests too deeply") from None


def parse_map_type(text: str, declarations: str = "") -> MapType:
    """Like `parse_type`, but the type (after resolving names) must be a map."""
    parsed = parse_type(text, declarations)
    if parsed.kind is not Kind.MAP or parsed.key is None or parsed.elem is None:
        source = json.dumps(text, ensure_ascii=False)
        raise MapscopeError(source, f"{parsed.name} is not a map type")
    return MapType(parsed.key, parsed.elem)
