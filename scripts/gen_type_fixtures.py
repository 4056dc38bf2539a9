"""Measure Go type layouts with the real compiler and write tests/fixtures/types/layouts.json.

The generated program (standard library only) prints, for each type expression, unsafe.Sizeof,
unsafe.Alignof, the runtime type's PtrBytes (read through a local mirror of the first two fields of
internal/abi.Type) and, for structs, the field offsets. It runs once per release in RELEASES.

Run from the repository root: .venv/bin/python scripts/gen_type_fixtures.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from mapscope import gotoolchain
from mapscope.gotoolchain import Toolchain

RELEASES = ("1.22.10", "1.27.3")
OUTPUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "types" / "layouts.json"

# Package-level declarations shared by every case (a case opts in with uses_declarations).
DECLARATIONS = """\
const Width = 1 << 4

const (
	Zero = iota
	One
	Two
)

const Four, Twelve = 1 << Two, Four * 3

type (
	Ring struct {
		link Link
		n    int8
	}
	Link struct {
		p *struct {
			r Ring
			x int
		}
		q []Ring
	}
)

type Order struct {
	ID    int64
	Items []Item
	Note  string
}

type Item struct {
	SKU [16]byte
	Qty int32
}

type Node struct {
	Next *Node
	V    int
}

type (
	Tree struct {
		Left, Right *Tree
		Kids        []Tree
		Val         int32
	}
	MyInt   int
	Label   = string
	Padded  struct{ A bool; B int64; C bool }
	Tail    struct{ N int64; End struct{} }
	Header  struct{ Kind uint8; Meta map[string]string; Pad [5]byte }
	Wrapped struct {
		Item
		*Order
		flag bool
	}
	Reader interface{ Read(p []byte) (n int, err error) }
)
"""

# (type expression, uses DECLARATIONS)
CASES: tuple[tuple[str, bool], ...] = (
    ("bool", False),
    ("int8", False),
    ("uint16", False),
    ("int32", False),
    ("int", False),
    ("uint64", False),
    ("uintptr", False),
    ("float32", False),
    ("float64", False),
    ("complex64", False),
    ("complex128", False),
    ("byte", False),
    ("rune", False),
    ("string", False),
    ("unsafe.Pointer", False),
    ("*int", False),
    ("[]int", False),
    ("map[string]int", False),
    ("chan int", False),
    ("<-chan string", False),
    ("func()", False),
    ("func(int, ...string) (bool, error)", False),
    ("any", False),
    ("interface{}", False),
    ("error", False),
    ("interface{ M() }", False),
    ("[16]byte", False),
    ("[128]byte", False),
    ("[129]byte", False),
    ("[1024]byte", False),
    ("[1 << 10]byte", False),
    ("[0x10]int8", False),
    ("[0x10 + 0o10 + 0b10 + 010 + 1_0]byte", False),
    ("[-7 / 2 + 5]byte", False),
    ("[-7 % 4 + 4]byte", False),
    ("[^-5 &^ 1 | 8]byte", False),
    ("[0]int64", False),
    ("[0]*int", False),
    ("[8]struct{}", False),
    ("[3]*int", False),
    ("[4]string", False),
    ("[2][3]int32", False),
    ("[3]struct{ a int64; p *int; b bool }", False),
    ("[2]struct{ b byte; c complex64 }", False),
    ("struct{}", False),
    ("struct{ a int32; b bool }", False),
    ("struct{ a bool; b int64; c bool }", False),
    ("struct{ a int64; z struct{} }", False),
    ("struct{ a int32; z [0]int64 }", False),
    ("struct{ a byte; z [0]*int }", False),
    ("struct{ z struct{}; a int32 }", False),
    ("struct{ s struct{}; t [0]int }", False),
    ("struct{ a byte; p *int; b byte; s string; c byte }", False),
    ("struct{ p *int; x [100]byte }", False),
    ("struct{ c complex64; b byte }", False),
    ("struct{ a [0]*int; b int }", False),
    ("struct{ e any; i error; u uint16 }", False),
    ("map[int][1024]byte", False),
    ("map[any]any", False),
    ("map[interface{}]interface{}", False),
    ("map[string][]int", False),
    ("map[uint64]chan int", False),
    ("map[[16]byte]struct{ a int32; b bool }", False),
    ("Order", True),
    ("Item", True),
    ("Node", True),
    ("Tree", True),
    ("MyInt", True),
    ("Label", True),
    ("Padded", True),
    ("Tail", True),
    ("Header", True),
    ("Wrapped", True),
    ("Reader", True),
    ("[Width]Item", True),
    ("[4]Tail", True),
    ("struct{ o Order; t Tail }", True),
    ("map[string]*Order", True),
    ("map[Item][]*Node", True),
    ("Ring", True),
    ("Link", True),
    ("struct{ r Ring; x int }", True),
    ("[Two]byte", True),
    ("[Twelve]Padded", True),
    ("interface{ any }", False),
)

_PROGRAM_HEAD = """\
package main

import (
	"os"
	"reflect"
	"strconv"
	"unsafe"
)

// mapscopeRType mirrors the first two fields of internal/abi.Type.
type mapscopeRType struct {
	Size_    uintptr
	PtrBytes uintptr
}

// mapscopeIface is a non-empty interface value; reflect.Type's data word points at the abi.Type.
type mapscopeIface struct {
	tab  unsafe.Pointer
	data *mapscopeRType
}

// mapscopeMeasure prints "size align ptrdata abi-size offsets", offsets being "-" unless t is a struct.
func mapscopeMeasure(size, align uintptr, t reflect.Type) {
	rt := (*mapscopeIface)(unsafe.Pointer(&t)).data
	line := ""
	for _, n := range []uintptr{size, align, rt.PtrBytes, rt.Size_} {
		line += strconv.FormatUint(uint64(n), 10) + " "
	}
	offsets := "-"
	if t.Kind() == reflect.Struct {
		offsets = "["
		for i := 0; i < t.NumField(); i++ {
			offsets += strconv.FormatUint(uint64(t.Field(i).Offset), 10) + ","
		}
		offsets += "]"
	}
	os.Stdout.WriteString(line + offsets + "\\n")
}
"""


def go_program(exprs: list[str], declarations: str) -> str:
    """A main package measuring every expression in `exprs`, one output line each, in order."""
    lines = [_PROGRAM_HEAD, declarations, "func main() {"]
    for expr in exprs:
        lines.append(
            f"\tmapscopeMeasure(unsafe.Sizeof(*new({expr})), unsafe.Alignof(*new({expr})), "
            f"reflect.TypeOf((*{expr})(nil)).Elem())"
        )
    lines += ["}", ""]
    return "\n".join(lines)


def measure(toolchain: Toolchain, exprs: list[str], declarations: str) -> list[dict[str, Any]]:
    """Build and run the program with `toolchain`; one layout record per expression, in order."""
    with tempfile.TemporaryDirectory(prefix="mapscope-types-") as folder:
        root = Path(folder)
        (root / "go.mod").write_text("module mapscopetypes\n\ngo 1.22\n")
        (root / "main.go").write_text(go_program(exprs, declarations))
        done = subprocess.run(
            [str(toolchain.go), "run", "."],
            cwd=root,
            env=toolchain.env(GOARCH="amd64"),
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
    if done.returncode != 0:
        raise RuntimeError(f"go {toolchain.release} failed:\n{done.stderr}")
    records = []
    for expr, line in zip(exprs, done.stdout.splitlines(), strict=True):
        size, align, ptrdata, abi_size, offsets = line.split()
        if abi_size != size:
            raise RuntimeError(f"abi.Type mirror is wrong for {expr}: {line}")
        record: dict[str, Any] = {
            "size": int(size),
            "align": int(align),
            "ptrdata": int(ptrdata),
            "offsets": None,
        }
        if offsets != "-":
            record["offsets"] = [int(offset) for offset in offsets.strip("[]").split(",") if offset]
        records.append(record)
    return records


def main() -> None:
    exprs = [expr for expr, _ in CASES]
    by_release = {release: measure(gotoolchain.ensure(release), exprs, DECLARATIONS) for release in RELEASES}
    cases = []
    for index, (expr, uses_declarations) in enumerate(CASES):
        case: dict[str, Any] = {"expr": expr, "uses_declarations": uses_declarations, "layouts": {}}
        for release, records in by_release.items():
            case["layouts"][release] = records[index]
        cases.append(case)
    document = {
        "generator": "scripts/gen_type_fixtures.py",
        "goarch": "amd64",
        "releases": list(RELEASES),
        "declarations": DECLARATIONS,
        "cases": cases,
    }
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    temporary = OUTPUT.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(document, indent=1) + "\n")
    os.replace(temporary, OUTPUT)
    print(f"wrote {len(cases)} cases x {len(RELEASES)} releases to {OUTPUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
