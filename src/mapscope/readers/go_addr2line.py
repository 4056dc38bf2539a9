"""Symbolizing raw PCs with a Go binary's own symbol table (pclntab), through `go tool addr2line`.

Why addr2line rather than decoding .gopclntab here: it is the very lookup `go tool pprof BINARY PROFILE`
does (cmd/internal/objfile's PCToLine), so names come out exactly as pprof shows them, and it follows
every pclntab revision Go has made (1.2, 1.16, 1.18, 1.20) without mapscope re-implementing them. Like
pprof it gives one frame per PC: the physical function, with the file:line of the innermost inlined call.
The newest installed toolchain is used, since newer ones read older binaries' tables.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mapscope import gotoolchain
from mapscope.errors import MapscopeError

_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class Frame:
    function: str
    file: str
    line: int


def symbolize(binary: Path, addresses: Iterable[int], go_bin: str | None = None) -> dict[int, Frame]:
    """PC -> frame for every address the binary's symbol table knows (unknown ones are left out)."""
    wanted = sorted(set(addresses))
    if not binary.is_file():
        raise MapscopeError(str(binary), "no such binary")
    if not wanted:
        return {}
    toolchain = gotoolchain.find(go_bin=go_bin)
    query = "".join(f"{address:#x}\n" for address in wanted)
    try:
        done = subprocess.run(
            [str(toolchain.go), "tool", "addr2line", str(binary)],
            input=query,
            capture_output=True,
            text=True,
            check=False,
            timeout=_TIMEOUT_SECONDS,
            env=toolchain.env(),
        )
    except subprocess.TimeoutExpired:
        raise MapscopeError(str(binary), f"go tool addr2line took more than {_TIMEOUT_SECONDS}s") from None
    except OSError as error:
        raise MapscopeError(str(toolchain.go), f"cannot run: {error.strerror}") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["failed"])[-1]
        raise MapscopeError(str(binary), f"go tool addr2line: {last.removeprefix('addr2line: ')}")
    lines = done.stdout.splitlines()
    if len(lines) != 2 * len(wanted):
        raise MapscopeError(str(binary), "go tool addr2line gave an answer of unexpected length")
    frames: dict[int, Frame] = {}
    for i, address in enumerate(wanted):
        name, position = lines[2 * i], lines[2 * i + 1]
        if name == "?":
            continue
        file, _, line = position.rpartition(":")
        frames[address] = Frame(name, file, int(line) if line.isdigit() else 0)
    return frames
