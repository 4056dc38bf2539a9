"""When go/types cannot answer, the source reader falls back to tree-sitter and says why, without raising."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from mapscope.gotoolchain import Toolchain
from mapscope.model.gotypes import Kind
from mapscope.readers import go_types, gotype_source
from mapscope.readers.go_source import ExprKind, GoFile, Resolver, SourceTree

MAIN = """package main

var m = make(map[string]int)

func main() {
\tm["a"] = 1
}
"""


@pytest.fixture(scope="module")
def go_bin(go_release: Callable[[str], Toolchain]) -> str:
    return str(go_release("1.27.3").go)


def _read(
    root: Path, files: dict[str, str], go_bin: str | None = None, typecheck: bool = True, timeout: float = 300
) -> GoFile:
    for name, text in files.items():
        (root / name).write_text(text)
    (root / "go.mod").write_text("module fallback\n\ngo 1.22\n")
    found = SourceTree(root, typecheck=typecheck, go_bin=go_bin, timeout=timeout).file("fallback/main.go")
    assert found is not None
    return found


def _store_type(found: GoFile) -> str | None:
    (store,) = [e for e in found.expressions if e.kind is ExprKind.ASSIGN]
    return store.map_type


def test_go_types_by_default(tmp_path: Path, go_bin: str) -> None:
    found = _read(tmp_path, {"main.go": MAIN}, go_bin=go_bin)
    assert (found.resolver, found.note, _store_type(found)) == (Resolver.GO_TYPES, "", "map[string]int")


def test_tree_sitter_when_asked(tmp_path: Path) -> None:
    found = _read(tmp_path, {"main.go": MAIN}, typecheck=False)
    assert (found.resolver, found.note, _store_type(found)) == (Resolver.TREE_SITTER, "", "map[string]int")


def test_tree_sitter_without_a_toolchain(tmp_path: Path) -> None:
    found = _read(tmp_path, {"main.go": MAIN}, go_bin=str(tmp_path / "no-go"))
    assert found.resolver is Resolver.TREE_SITTER
    assert found.note.startswith("go/types unavailable: ") and "no-go" in found.note
    assert _store_type(found) == "map[string]int"


def test_tree_sitter_when_the_package_does_not_parse(tmp_path: Path, go_bin: str) -> None:
    found = _read(tmp_path, {"main.go": MAIN, "broken.go": "package main\n\nfunc {\n"}, go_bin=go_bin)
    assert found.resolver is Resolver.TREE_SITTER
    assert found.note.startswith("go/types failed: ") and "broken.go" in found.note
    assert _store_type(found) == "map[string]int"


def test_tree_sitter_when_checking_takes_too_long(tmp_path: Path, go_bin: str) -> None:
    os.mkfifo(tmp_path / "pipe.go")  # the checker blocks reading it, as on a stalled network file system
    found = _read(tmp_path, {"main.go": MAIN}, go_bin=go_bin, timeout=1)
    assert found.resolver is Resolver.TREE_SITTER
    assert "type checking took more than 1s" in found.note
    assert _store_type(found) == "map[string]int"


def test_type_errors_keep_go_types_and_are_noted(tmp_path: Path, go_bin: str) -> None:
    broken = MAIN.replace('m["a"] = 1', 'm["a"] = 1\n\tundefinedName()')
    found = _read(tmp_path, {"main.go": broken}, go_bin=go_bin)
    assert found.resolver is Resolver.GO_TYPES
    assert "1 type error(s)" in found.note and "undefinedName" in found.note
    assert _store_type(found) == "map[string]int"


def test_files_left_out_by_build_constraints_use_tree_sitter(tmp_path: Path, go_bin: str) -> None:
    other = '//go:build ignore\n\npackage main\n\nfunc other() {\n\tm["b"] = 2\n}\n'
    _read(tmp_path, {"main.go": MAIN, "other.go": other}, go_bin=go_bin)
    found = SourceTree(tmp_path, go_bin=go_bin).file("fallback/other.go")
    assert found is not None and found.resolver is Resolver.TREE_SITTER
    assert found.note == "not built for this machine; read with tree-sitter"
    assert _store_type(found) == "map[string]int"


def test_one_helper_per_toolchain_and_several_modules_per_run(
    tmp_path: Path, go_release: Callable[[str], Toolchain]
) -> None:
    """Each toolchain gets its own build of the checker (in the cache, named by release), which checks
    packages of different modules in one run."""
    first, second = tmp_path / "first", tmp_path / "second"
    for folder, module in ((first, "first"), (second, "second")):
        folder.mkdir()
        (folder / "go.mod").write_text(f"module {module}\n\ngo 1.22\n")
        (folder / "sub").mkdir()
        (folder / "sub" / "sub.go").write_text("package sub\n\ntype T struct{ A, B int64 }\n")
        (folder / "main.go").write_text(
            f'package main\n\nimport "{module}/sub"\n\nvar m = map[sub.T]bool{{}}\n\nfunc main() {{}}\n'
        )
    old, new = go_release("1.22.10"), go_release("1.27.3")
    assert go_types.helper(old) != go_types.helper(new)
    for toolchain in (old, new):
        answers = go_types.check_packages([first, second], toolchain)
        for folder in (first, second):
            answer = answers[folder.resolve()]
            assert isinstance(answer, go_types.TypedPackage), answer
            assert answer.go_version == f"go{toolchain.release}" and answer.error_count == 0
            ((literal,),) = [f.ops for f in answer.files.values()]
            assert (literal.go_type, literal.map_type) == ("map[sub.T]bool", "map[sub_T]bool")
            assert answer.declarations == "type sub_T struct { A int64; B int64 }"


def test_package_types_named_like_predeclared_ones_keep_their_layout(tmp_path: Path, go_bin: str) -> None:
    shadow = MAIN.replace("map[string]int", "map[string]error") + "\ntype error struct{ code, line int32 }\n"
    found = _read(tmp_path, {"main.go": shadow.replace('m["a"] = 1', 'm["a"] = error{}')}, go_bin=go_bin)
    (store,) = [e for e in found.expressions if e.kind is ExprKind.ASSIGN]
    assert store.map_type is not None
    layout = gotype_source.parse_map_type(store.map_type, found.declarations)
    assert (layout.elem.size, layout.elem.name) == (store.elem_size, "main_error")  # sizes from go/types
    assert layout.elem.kind is not Kind.INTERFACE


def test_vendored_dependencies_resolve(tmp_path: Path, go_bin: str) -> None:
    """A module that vendors its dependencies is checked offline with them (the module's own mode)."""
    (tmp_path / "vendor" / "example.com" / "dep").mkdir(parents=True)
    (tmp_path / "vendor" / "modules.txt").write_text(
        "# example.com/dep v1.0.0\n## explicit\nexample.com/dep\n"
    )
    (tmp_path / "vendor" / "example.com" / "dep" / "dep.go").write_text(
        "package dep\n\ntype Key struct {\n\tA, B int64\n\tC string\n}\n"
    )
    main = 'package main\n\nimport "example.com/dep"\n\nvar m = map[dep.Key][]byte{}\n\nfunc main() {}\n'
    for name, text in {
        "main.go": main,
        "go.mod": "module vend\n\ngo 1.22\n\nrequire example.com/dep v1.0.0\n",
    }.items():
        (tmp_path / name).write_text(text)
    found = SourceTree(tmp_path, go_bin=go_bin).file("vend/main.go")
    assert found is not None and (found.resolver, found.note) == (Resolver.GO_TYPES, "")
    (literal,) = found.expressions
    assert literal.go_type == "map[dep.Key][]byte"
    layout = gotype_source.parse_map_type(literal.map_type or "", found.declarations)
    assert layout.key.size == literal.key_size  # go/types, with the gc compiler's sizes


def test_a_go_reached_through_a_link_finds_its_goroot(tmp_path: Path, go_bin: str) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "go").symlink_to(go_bin)
    package = tmp_path / "pkg"
    package.mkdir()
    uses_std = MAIN.replace("var m", 'import "strings"\n\nvar m').replace(
        "map[string]int", "map[string]strings.Builder"
    )
    found = _read(
        package,
        {"main.go": uses_std.replace(" = 1", " = strings.Builder{}")},
        go_bin=str(tmp_path / "bin" / "go"),
    )
    assert (found.resolver, found.note) == (Resolver.GO_TYPES, "")
    assert _store_type(found) == "map[string]strings_Builder"  # strings found in the linked toolchain
